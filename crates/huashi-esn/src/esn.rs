//! The echo state network: reservoir stack + linear readout.
//!
//! At each step (Jaeger 2001, "The echo state approach to analysing and
//! training recurrent neural networks", GMD Report 148):
//!
//! ```text
//! x(t) = F(x(t−1), u(t), y(t−1))          (reservoir stack, see crate::stack)
//! y(t) = W_outᵀ [1; u(t); x(t)]            (readout, see crate::readout)
//! ```
//!
//! `y(t−1)` is the output feedback (only with [`EsnConfig::feedback`]): the
//! teacher's value during training (teacher forcing) and when a teacher is
//! given to [`Esn::run`], otherwise the network's own previous output.
//! [`Esn::generate`] runs closed-loop: the output is fed back as the next
//! input (`inputs == outputs`, one-step-ahead predictors) or, for pure pattern
//! generators without inputs, through the feedback weights only.

use faer::{Mat, MatRef};
use serde::{Deserialize, Serialize};

use crate::config::{FeedbackConfig, ReservoirConfig};
use crate::error::{invalid, Error, Result};
use crate::readout::{FeatureLayout, LinearReadout};
use crate::run::run_rows;
use crate::stack::ReservoirStack;
use crate::util::{check_matrix, copy_row, mismatch};

/// Hyper-parameters of a whole ESN.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EsnConfig {
    /// One config per reservoir layer: one layer is a classic ESN, more make
    /// a deep ESN whose readout sees all layers.
    pub layers: Vec<ReservoirConfig>,
    /// Output feedback into the first layer (`None` = no feedback).
    pub feedback: Option<FeedbackConfig>,
    /// Ridge parameter `λ ≥ 0` of the readout.
    pub ridge: f64,
    /// Whether the readout has a bias (not penalised by the ridge).
    pub readout_bias: bool,
    /// Whether the inputs are also fed directly to the readout.
    pub input_to_readout: bool,
    /// Initial steps of every training sequence left out of the regression.
    pub washout: usize,
    /// The seed all random streams derive from.
    pub seed: u64,
}

impl Default for EsnConfig {
    /// [`EsnConfig::new`] with the default reservoir.
    fn default() -> Self {
        Self::new(ReservoirConfig::default())
    }
}

impl EsnConfig {
    /// A single-reservoir ESN with ridge `1e-6` (ReservoirPy's `Ridge`
    /// defaults to 0, which can make the system singular), readout bias, no
    /// feedback, no direct input connections, no washout and seed 0.
    pub fn new(reservoir: ReservoirConfig) -> Self {
        Self::deep(vec![reservoir])
    }

    /// A deep ESN with the given layers (bottom first), other fields as in
    /// [`EsnConfig::new`].
    pub fn deep(layers: Vec<ReservoirConfig>) -> Self {
        Self {
            layers,
            feedback: None,
            ridge: 1e-6,
            readout_bias: true,
            input_to_readout: false,
            washout: 0,
            seed: 0,
        }
    }

    /// Checks every hyper-parameter.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] naming the first value out of range, or an
    /// empty layer list.
    pub fn check(&self) -> Result<()> {
        if self.layers.is_empty() {
            return Err(Error::EmptySeries {
                what: "reservoir layer list",
            });
        }
        self.layers.iter().try_for_each(ReservoirConfig::check)?;
        if let Some(fb) = &self.feedback {
            fb.check()?;
        }
        crate::config::non_negative("ridge", self.ridge)
    }

    /// The readout's feature layout for `inputs` input features.
    pub fn layout(&self, inputs: usize) -> FeatureLayout {
        FeatureLayout {
            bias: self.readout_bias,
            inputs: if self.input_to_readout { inputs } else { 0 },
            states: self.layers.iter().map(|l| l.units).sum(),
        }
    }
}

/// The running state of an ESN between calls.
#[derive(Clone, Debug, PartialEq)]
pub struct EsnState {
    /// Concatenated reservoir states of all layers.
    pub reservoir: Vec<f64>,
    /// The last input `u(t)`.
    pub input: Vec<f64>,
    /// The last output `y(t)` (teacher or predicted): the next feedback and,
    /// in closed loop, the next input.
    pub output: Vec<f64>,
}

/// A trained echo state network.
#[derive(Clone, Debug, PartialEq)]
pub struct Esn {
    config: EsnConfig,
    stack: ReservoirStack,
    readout: LinearReadout,
}

/// Per-step scratch buffers.
struct Work {
    next: Vec<f64>,
    phi: Vec<f64>,
    y: Vec<f64>,
}

impl Esn {
    /// Assembles an ESN from its parts, checking that they fit together.
    ///
    /// # Errors
    /// An invalid config, or parts whose sizes do not fit it.
    pub fn from_parts(
        config: EsnConfig,
        stack: ReservoirStack,
        readout: LinearReadout,
    ) -> Result<Self> {
        config.check()?;
        mismatch("layers", config.layers.len(), stack.layers().len())?;
        let layout = config.layout(stack.inputs());
        if readout.layout() != layout {
            return Err(Error::Format {
                reason: format!(
                    "readout layout {:?} does not match config {layout:?}",
                    readout.layout()
                ),
            });
        }
        mismatch(
            "feedback outputs",
            stack.feedback_len(),
            if config.feedback.is_some() {
                readout.outputs()
            } else {
                0
            },
        )?;
        Ok(Self {
            config,
            stack,
            readout,
        })
    }

    /// The hyper-parameters.
    pub fn config(&self) -> &EsnConfig {
        &self.config
    }

    /// The reservoir stack.
    pub fn reservoir(&self) -> &ReservoirStack {
        &self.stack
    }

    /// The trained readout.
    pub fn readout(&self) -> &LinearReadout {
        &self.readout
    }

    /// Number of input features.
    pub fn inputs(&self) -> usize {
        self.stack.inputs()
    }

    /// Number of outputs.
    pub fn outputs(&self) -> usize {
        self.readout.outputs()
    }

    /// The all-zero state (reset).
    pub fn initial_state(&self) -> EsnState {
        EsnState {
            reservoir: self.stack.zero_state(),
            input: vec![0.0; self.inputs()],
            output: vec![0.0; self.outputs()],
        }
    }

    fn work(&self) -> Work {
        Work {
            next: self.stack.zero_state(),
            phi: vec![0.0; self.readout.layout().len()],
            y: vec![0.0; self.outputs()],
        }
    }

    fn check_state(&self, state: &EsnState) -> Result<()> {
        mismatch(
            "state reservoir length",
            self.stack.state_len(),
            state.reservoir.len(),
        )?;
        mismatch("state input length", self.inputs(), state.input.len())?;
        mismatch("state output length", self.outputs(), state.output.len())
    }

    /// One step: advances the reservoir with input `u` and feedback
    /// `state.output`, and leaves the readout's output in `w.y`.
    fn advance(&self, state: &mut EsnState, u: &[f64], w: &mut Work) {
        self.stack
            .step_into(&state.reservoir, u, &state.output, &mut w.next, None);
        std::mem::swap(&mut state.reservoir, &mut w.next);
        state.input.copy_from_slice(u);
        self.readout.layout().fill(u, &state.reservoir, &mut w.phi);
        self.readout.apply(&w.phi, &mut w.y);
    }

    /// Runs over `inputs` from `state`; returns the outputs. With a
    /// `teacher`, the feedback and `state.output` take the teacher's values
    /// (teacher forcing).
    ///
    /// # Shapes
    /// `inputs`: `T × d`; `teacher`: `T × m`; returns `T × m`.
    ///
    /// # Errors
    /// A state, input or teacher of the wrong size, or a non-finite value.
    pub fn run(
        &self,
        state: &mut EsnState,
        inputs: MatRef<'_, f64>,
        teacher: Option<MatRef<'_, f64>>,
    ) -> Result<Mat<f64>> {
        self.check_state(state)?;
        mismatch("input columns", self.inputs(), inputs.ncols())?;
        check_matrix("inputs", inputs)?;
        if let Some(y) = teacher {
            mismatch("teacher columns", self.outputs(), y.ncols())?;
            mismatch("teacher rows", inputs.nrows(), y.nrows())?;
            check_matrix("teacher", y)?;
        }
        let (layout, readout) = (self.readout.layout(), &self.readout);
        let mut w = self.work();
        let mut out = Mat::zeros(inputs.nrows(), self.outputs());
        let step = |x: &[f64], u: &[f64], y: &[f64], next: &mut [f64]| {
            self.stack.step_into(x, u, y, next, None);
        };
        let visit = |t: usize, u: &[f64], x: &[f64], output: &mut [f64]| {
            layout.fill(u, x, &mut w.phi);
            readout.apply(&w.phi, &mut w.y);
            w.y.iter().enumerate().for_each(|(k, v)| out[(t, k)] = *v);
            match teacher {
                Some(y) => copy_row(y, t, output),
                None => output.copy_from_slice(&w.y),
            }
        };
        run_rows(inputs, &mut state.reservoir, &mut state.output, step, visit);
        if let Some(last) = inputs.nrows().checked_sub(1) {
            copy_row(inputs, last, &mut state.input);
        }
        Ok(out)
    }

    /// Open-loop predictions for `inputs` from the zero state.
    ///
    /// # Shapes
    /// `inputs`: `T × d`; returns `T × m`.
    ///
    /// # Errors
    /// As [`Esn::run`].
    pub fn predict(&self, inputs: MatRef<'_, f64>) -> Result<Mat<f64>> {
        self.run(&mut self.initial_state(), inputs, None)
    }

    /// Closed-loop generation of `steps` outputs from a warmed-up `state`.
    ///
    /// Each step feeds `state.output` back as the input (when
    /// `inputs == outputs`) and as feedback, then reads out the next output.
    /// ESNs without inputs generate through the feedback weights alone.
    ///
    /// # Shapes
    /// Returns `steps × m`.
    ///
    /// # Errors
    /// A state of the wrong size, `inputs != outputs` (with inputs), too many
    /// steps for memory, or [`Error::Diverged`].
    pub fn generate(&self, state: &mut EsnState, steps: usize) -> Result<Mat<f64>> {
        self.check_state(state)?;
        let (d, m) = (self.inputs(), self.outputs());
        if d != 0 && d != m {
            return Err(Error::DimensionMismatch {
                what: "closed loop needs inputs == outputs",
                expected: m,
                found: d,
            });
        }
        crate::error::check_finite("state output", &state.output)?;
        crate::budget::check_matrix("the generated outputs", steps, m)?;
        let mut w = self.work();
        let mut out = Mat::zeros(steps, m);
        for t in 0..steps {
            let u = if d == 0 {
                Vec::new()
            } else {
                state.output.clone()
            };
            self.advance(state, &u, &mut w);
            w.y.iter().enumerate().for_each(|(k, v)| out[(t, k)] = *v);
            state.output.copy_from_slice(&w.y);
            if let Some(step) = w.y.iter().position(|v| !v.is_finite()).map(|_| t) {
                return Err(Error::Diverged {
                    what: "closed-loop generation",
                    step,
                });
            }
        }
        Ok(out)
    }

    /// Multi-step forecast: warms up on `history` (`T × d`, rows in time
    /// order, from the zero state) and returns the next `horizon` values of
    /// the series, `ŷ(T), …, ŷ(T + horizon − 1)`, the first by one-step
    /// prediction and the rest in closed loop. Needs `inputs == outputs`.
    ///
    /// # Shapes
    /// `history`: `T × d`; returns `horizon × m`.
    ///
    /// # Errors
    /// `horizon` 0, an empty history, `inputs != outputs`, or as [`Esn::run`]
    /// and [`Esn::generate`].
    pub fn forecast(&self, history: MatRef<'_, f64>, horizon: usize) -> Result<Mat<f64>> {
        if horizon == 0 {
            return Err(invalid("horizon", 0.0, "must be at least 1"));
        }
        if history.nrows() == 0 {
            return Err(Error::EmptySeries {
                what: "forecast history",
            });
        }
        mismatch(
            "forecast needs inputs == outputs",
            self.outputs(),
            self.inputs(),
        )?;
        crate::budget::check_matrix("the forecast", horizon, self.outputs())?;
        let mut state = self.initial_state();
        let warm = self.run(&mut state, history, None)?;
        let rest = self.generate(&mut state, horizon - 1)?;
        let last = warm.nrows() - 1;
        Ok(Mat::from_fn(horizon, self.outputs(), |i, k| {
            if i == 0 {
                warm[(last, k)]
            } else {
                rest[(i - 1, k)]
            }
        }))
    }
}
