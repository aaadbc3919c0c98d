//! Stacked reservoirs: the deep ESN of Gallicchio, Micheli & Pedrelli (2017),
//! "Deep reservoir computing: a critical experimental analysis",
//! *Neurocomputing* 268.
//!
//! Layer 0 is driven by the input `u(t)` (and the output feedback, if any);
//! layer `l > 0` is driven by the new state `x⁽ˡ⁻¹⁾(t)` of the layer below at
//! the same time step:
//!
//! ```text
//! x⁽⁰⁾(t) = F₀(x⁽⁰⁾(t−1), u(t), y(t−1)),   x⁽ˡ⁾(t) = F_l(x⁽ˡ⁾(t−1), x⁽ˡ⁻¹⁾(t))
//! ```
//!
//! The stack's state is the concatenation `[x⁽⁰⁾; …; x⁽ᴸ⁻¹⁾]`, so a readout on
//! it reads from all layers. A one-layer stack is an ordinary ESN reservoir.

use faer::{Mat, MatRef};

use crate::config::{FeedbackConfig, ReservoirConfig};
use crate::error::{Error, Result};
use crate::reservoir::Reservoir;
use crate::rng::Rng;
use crate::run::{self, Dynamics};
use crate::util::mismatch;

/// One or more reservoirs in series.
#[derive(Clone, Debug, PartialEq)]
pub struct ReservoirStack {
    layers: Vec<Reservoir>,
}

impl ReservoirStack {
    /// Draws the layers from `seed` (layer `l` uses the streams `layer{l}/…`).
    ///
    /// # Errors
    /// An empty layer list, or as [`Reservoir::build`] for a layer.
    pub fn new(
        configs: &[ReservoirConfig],
        inputs: usize,
        feedback: Option<(&FeedbackConfig, usize)>,
        seed: u64,
    ) -> Result<Self> {
        if configs.is_empty() {
            return Err(Error::EmptySeries {
                what: "reservoir layer list",
            });
        }
        let mut layers: Vec<Reservoir> = Vec::with_capacity(configs.len());
        for (l, cfg) in configs.iter().enumerate() {
            let (d, fb) = match layers.last() {
                None => (inputs, feedback),
                Some(prev) => (prev.units(), None),
            };
            layers.push(Reservoir::build(cfg, d, fb, seed, &format!("layer{l}"))?);
        }
        Ok(Self { layers })
    }

    /// Assembles a stack from existing layers, checking that they chain.
    ///
    /// # Errors
    /// An empty list, or layers that do not chain.
    pub fn from_layers(layers: Vec<Reservoir>) -> Result<Self> {
        if layers.is_empty() {
            return Err(Error::EmptySeries {
                what: "reservoir layer list",
            });
        }
        for pair in layers.windows(2) {
            mismatch("deep layer inputs", pair[0].units(), pair[1].inputs())?;
            mismatch("deep layer feedback", 0, pair[1].feedback_len())?;
        }
        Ok(Self { layers })
    }

    /// The layers, bottom first.
    pub fn layers(&self) -> &[Reservoir] {
        &self.layers
    }

    /// Number of input features of the first layer.
    pub fn inputs(&self) -> usize {
        self.layers[0].inputs()
    }

    /// Number of fed-back outputs.
    pub fn feedback_len(&self) -> usize {
        self.layers[0].feedback_len()
    }

    /// Length of the concatenated state (`Σ_l N_l`).
    pub fn state_len(&self) -> usize {
        self.layers.iter().map(Reservoir::units).sum()
    }

    /// The all-zero state.
    pub fn zero_state(&self) -> Vec<f64> {
        vec![0.0; self.state_len()]
    }

    /// One pure, noise-free step of the whole stack.
    ///
    /// # Shapes
    /// `state`: `Σ N_l`; `input`: `d`; `feedback`: `m`; returns `Σ N_l`.
    ///
    /// # Errors
    /// A state, input or feedback of the wrong size, or a non-finite value.
    pub fn step(&self, state: &[f64], input: &[f64], feedback: &[f64]) -> Result<Vec<f64>> {
        mismatch("state length", self.state_len(), state.len())?;
        mismatch("input length", self.inputs(), input.len())?;
        mismatch("feedback length", self.feedback_len(), feedback.len())?;
        crate::error::check_finite("input", input)?;
        crate::error::check_finite("feedback", feedback)?;
        let mut out = self.zero_state();
        self.step_into(state, input, feedback, &mut out, None);
        Ok(out)
    }

    /// The step written into `out` (not aliasing `x`).
    pub(crate) fn step_into(
        &self,
        x: &[f64],
        u: &[f64],
        fb: &[f64],
        out: &mut [f64],
        mut noise: Option<&mut Rng>,
    ) {
        let mut offset = 0;
        for (l, layer) in self.layers.iter().enumerate() {
            let n = layer.units();
            let (below, rest) = out.split_at_mut(offset);
            let input = if l == 0 {
                u
            } else {
                &below[offset - self.layers[l - 1].units()..]
            };
            let feedback = if l == 0 { Some(fb) } else { None };
            let xl = &x[offset..offset + n];
            layer.step_into(xl, input, feedback, &mut rest[..n], noise.as_deref_mut());
            offset += n;
        }
    }

    /// Runs over `inputs` from `state` (updated to the last state) with
    /// optional teacher-forced feedback rows (`y(t−1)` in row `t`) and
    /// optional noise; returns the states of all layers.
    ///
    /// # Shapes
    /// `inputs`: `T × d`; `feedback`: `T × m`; `state`: `Σ N_l`; returns
    /// `T × Σ N_l`.
    ///
    /// # Errors
    /// A state, input or feedback of the wrong size, or a non-finite value.
    pub fn run(
        &self,
        inputs: MatRef<'_, f64>,
        feedback: Option<MatRef<'_, f64>>,
        state: &mut [f64],
        noise: Option<&mut Rng>,
    ) -> Result<Mat<f64>> {
        run::teacher_forced(self, inputs, feedback, state, noise)
    }
}

impl Dynamics for ReservoirStack {
    fn sizes(&self) -> (usize, usize, usize) {
        (self.state_len(), self.inputs(), self.feedback_len())
    }

    fn step(&self, x: &[f64], u: &[f64], y: &[f64], out: &mut [f64], noise: Option<&mut Rng>) {
        self.step_into(x, u, y, out, noise);
    }
}
