//! A single leaky-integrator reservoir.
//!
//! The update (Jaeger et al. 2007, "Optimization and applications of echo
//! state networks with leaky-integrator neurons", *Neural Networks* 20(3)):
//!
//! ```text
//! x(t) = (1 − a) x(t−1) + a f(W_in u(t) + W x(t−1) + b + W_fb y(t−1)) + σ ξ(t)
//! ```
//!
//! [`Reservoir::step`] is pure (no noise). [`Reservoir::run`] folds it over a
//! sequence whose rows are time steps and returns the states as a
//! `T × N` matrix; [`Reservoir::run_many`] does so for many sequences in
//! parallel (rayon). Washout is left to the caller (drop the first rows) or
//! handled by [`crate::Esn`] training.

use faer::{Mat, MatRef};
use rayon::prelude::*;

use crate::config::{Activation, FeedbackConfig, ReservoirConfig};
use crate::error::{Error, Result};
use crate::kernel::Ell;
use crate::rng::Rng;
use crate::run::{self, Dynamics};
use crate::sparse::CsrMatrix;
use crate::util::mismatch;
use crate::{init, spectral};

/// A reservoir with fixed random weights.
#[derive(Clone, Debug, PartialEq)]
pub struct Reservoir {
    config: ReservoirConfig,
    w: CsrMatrix,
    w_in: CsrMatrix,
    bias: Vec<f64>,
    w_fb: Option<CsrMatrix>,
    /// `w` and `w_in` in the SIMD layout, when their rows are all the same
    /// length (derived from them, so equal whenever they are).
    w_ell: Option<Ell>,
    w_in_ell: Option<Ell>,
}

impl Reservoir {
    /// Draws a reservoir for `inputs` input features from `seed` (streams
    /// named `layer0/...`, the same as the first layer of an [`crate::Esn`]).
    ///
    /// # Errors
    /// An invalid config, too many units for memory, or a recurrent matrix that
    /// cannot be rescaled.
    pub fn new(config: &ReservoirConfig, inputs: usize, seed: u64) -> Result<Self> {
        Self::build(config, inputs, None, seed, "layer0")
    }

    /// Draws a reservoir; `feedback` gives the feedback config and the number
    /// of outputs fed back; `name` prefixes the random streams.
    ///
    /// # Errors
    /// As [`Reservoir::new`], and an invalid feedback config.
    pub fn build(
        config: &ReservoirConfig,
        inputs: usize,
        feedback: Option<(&FeedbackConfig, usize)>,
        seed: u64,
        name: &str,
    ) -> Result<Self> {
        config.check()?;
        let fb_len = feedback.map_or(0, |(_, outputs)| outputs);
        crate::budget::check_reservoir(config, inputs, fb_len)?;
        let n = config.units;
        let scaling = config.input_scaling.resolve(inputs)?;
        let w = scaled_recurrent(config, seed, name)?;
        let (c_in, d_in) = (config.input_connectivity, config.input_weights);
        let w_in = init::input_like(n, &scaling, c_in, d_in, seed, &format!("{name}/w_in"));
        let bias = init::bias(n, config.bias_scaling, d_in, seed, &format!("{name}/bias"));
        let w_fb = match feedback {
            Some((fb, outputs)) => {
                fb.check()?;
                let s = vec![fb.scaling; outputs];
                let (c, d) = (fb.connectivity, fb.distribution);
                Some(init::input_like(n, &s, c, d, seed, &format!("{name}/w_fb")))
            }
            None => None,
        };
        Ok(Self {
            config: config.clone(),
            w_ell: Ell::from_csr(&w),
            w_in_ell: Ell::from_csr(&w_in),
            w,
            w_in,
            bias,
            w_fb,
        })
    }

    /// Assembles a reservoir from stored weights, checking their shapes.
    ///
    /// # Errors
    /// An invalid config, or weights whose sizes do not fit it.
    pub fn from_parts(
        config: ReservoirConfig,
        w: CsrMatrix,
        w_in: CsrMatrix,
        bias: Vec<f64>,
        w_fb: Option<CsrMatrix>,
    ) -> Result<Self> {
        config.check()?;
        let n = config.units;
        mismatch("recurrent matrix rows", n, w.nrows())?;
        mismatch("recurrent matrix columns", n, w.ncols())?;
        mismatch("input matrix rows", n, w_in.nrows())?;
        mismatch("bias length", n, bias.len())?;
        crate::error::check_finite("bias", &bias)?;
        if let Some(fb) = &w_fb {
            mismatch("feedback matrix rows", n, fb.nrows())?;
        }
        Ok(Self {
            config,
            w_ell: Ell::from_csr(&w),
            w_in_ell: Ell::from_csr(&w_in),
            w,
            w_in,
            bias,
            w_fb,
        })
    }

    /// The hyper-parameters.
    pub fn config(&self) -> &ReservoirConfig {
        &self.config
    }

    /// Number of units `N`.
    pub fn units(&self) -> usize {
        self.config.units
    }

    /// Number of input features `d`.
    pub fn inputs(&self) -> usize {
        self.w_in.ncols()
    }

    /// Number of fed-back outputs (0 without feedback).
    pub fn feedback_len(&self) -> usize {
        self.w_fb.as_ref().map_or(0, CsrMatrix::ncols)
    }

    /// Recurrent matrix `W` (`N × N`, rescaled).
    pub fn w(&self) -> &CsrMatrix {
        &self.w
    }

    /// Input matrix `W_in` (`N × d`).
    pub fn w_in(&self) -> &CsrMatrix {
        &self.w_in
    }

    /// Bias `b` (length `N`).
    pub fn bias(&self) -> &[f64] {
        &self.bias
    }

    /// Feedback matrix `W_fb` (`N × m`), if any.
    pub fn w_fb(&self) -> Option<&CsrMatrix> {
        self.w_fb.as_ref()
    }

    /// The all-zero initial state (the state after a reset).
    pub fn zero_state(&self) -> Vec<f64> {
        vec![0.0; self.units()]
    }

    /// One noise-free update `x(t) = F(x(t−1), u(t))` (feedback, if any, is 0).
    ///
    /// # Shapes
    /// `state`: `N`; `input`: `d`; returns `N`.
    ///
    /// # Errors
    /// A state or input of the wrong size, or a non-finite input.
    pub fn step(&self, state: &[f64], input: &[f64]) -> Result<Vec<f64>> {
        let fb = vec![0.0; self.feedback_len()];
        self.step_with_feedback(state, input, &fb)
    }

    /// One noise-free update `x(t) = F(x(t−1), u(t), y(t−1))`.
    ///
    /// # Shapes
    /// `state`: `N`; `input`: `d`; `feedback`: `m`; returns `N`.
    ///
    /// # Errors
    /// As [`Reservoir::step`], and feedback of the wrong size or non-finite.
    pub fn step_with_feedback(
        &self,
        state: &[f64],
        input: &[f64],
        feedback: &[f64],
    ) -> Result<Vec<f64>> {
        mismatch("state length", self.units(), state.len())?;
        mismatch("input length", self.inputs(), input.len())?;
        mismatch("feedback length", self.feedback_len(), feedback.len())?;
        crate::error::check_finite("input", input)?;
        crate::error::check_finite("feedback", feedback)?;
        let mut out = vec![0.0; self.units()];
        self.step_into(state, input, Some(feedback), &mut out, None);
        Ok(out)
    }

    /// The update written into `out` (which must not alias `x`); adds noise
    /// when `noise` is given and the config's `noise > 0`.
    pub(crate) fn step_into(
        &self,
        x: &[f64],
        u: &[f64],
        fb: Option<&[f64]>,
        out: &mut [f64],
        noise: Option<&mut Rng>,
    ) {
        match (&self.w_ell, &self.w_in_ell) {
            (Some(w), Some(w_in)) if w_in.is_single_column() => {
                w.bias_mul_add_input(x, &self.bias, w_in, u[0], out);
            }
            _ => {
                out.copy_from_slice(&self.bias);
                match &self.w_ell {
                    Some(ell) => ell.mul_add(x, out),
                    None => self.w.mul_add(x, out),
                }
                match &self.w_in_ell {
                    Some(ell) => ell.mul_add(u, out),
                    None => self.w_in.mul_add(u, out),
                }
            }
        }
        if let (Some(w_fb), Some(y)) = (&self.w_fb, fb) {
            w_fb.mul_add(y, out);
        }
        let a = self.config.leak_rate;
        match self.config.activation {
            Activation::Tanh => crate::kernel::leaky_tanh(x, out, a),
            Activation::Identity => leaky(x, out, a, |z| z),
            Activation::Sigmoid => leaky(x, out, a, |z| 1.0 / (1.0 + (-z).exp())),
            Activation::Relu => leaky(x, out, a, |z| z.max(0.0)),
        }
        if let Some(rng) = noise {
            let sigma = self.config.noise;
            if sigma > 0.0 {
                out.iter_mut().for_each(|v| *v += sigma * rng.normal());
            }
        }
    }

    /// Runs over `inputs` (one row per step) from `state`, which ends as
    /// the last state; returns the states. No noise.
    ///
    /// # Shapes
    /// `inputs`: `T × d`; `state`: `N`; returns `T × N`.
    ///
    /// # Errors
    /// A state or input of the wrong size, or a non-finite input.
    pub fn run(&self, inputs: MatRef<'_, f64>, state: &mut [f64]) -> Result<Mat<f64>> {
        self.run_with(inputs, None, state, None)
    }

    /// Like [`Reservoir::run`] with teacher-forced feedback (`feedback` row
    /// `t` is `y(t−1)`) and optional state noise drawn from `noise`.
    ///
    /// # Shapes
    /// `inputs`: `T × d`; `feedback`: `T × m`; `state`: `N`; returns `T × N`.
    ///
    /// # Errors
    /// As [`Reservoir::run`], and feedback of the wrong shape or with a
    /// non-finite value.
    pub fn run_with(
        &self,
        inputs: MatRef<'_, f64>,
        feedback: Option<MatRef<'_, f64>>,
        state: &mut [f64],
        noise: Option<&mut Rng>,
    ) -> Result<Mat<f64>> {
        run::teacher_forced(self, inputs, feedback, state, noise)
    }

    /// Runs every sequence from the zero state, in parallel; returns their
    /// state matrices in order.
    ///
    /// # Shapes
    /// Each sequence `T_i × d`; returns `T_i × N` each.
    ///
    /// # Errors
    /// As [`Reservoir::run`], for the first sequence that fails.
    pub fn run_many(&self, sequences: &[MatRef<'_, f64>]) -> Result<Vec<Mat<f64>>> {
        sequences
            .par_iter()
            .map(|seq| self.run(*seq, &mut self.zero_state()))
            .collect()
    }
}

impl Dynamics for Reservoir {
    fn sizes(&self) -> (usize, usize, usize) {
        (self.units(), self.inputs(), self.feedback_len())
    }

    fn step(&self, x: &[f64], u: &[f64], y: &[f64], out: &mut [f64], noise: Option<&mut Rng>) {
        self.step_into(x, u, Some(y), out, noise);
    }
}

/// The recurrent matrix drawn from its streams and rescaled to the
/// configured spectral radius.
fn scaled_recurrent(config: &ReservoirConfig, seed: u64, name: &str) -> Result<CsrMatrix> {
    let (n, c) = (config.units, config.connectivity);
    let mut w = init::recurrent(n, c, config.weights, seed, &format!("{name}/w"));
    let start = crate::rng::stream_seed(seed, &format!("{name}/arnoldi"));
    let rho = spectral::spectral_radius(&w, config.spectral_method, start)?;
    if rho <= f64::MIN_POSITIVE * 1e6 {
        return Err(Error::ZeroSpectralRadius { units: n });
    }
    w.scale(config.spectral_radius / rho);
    Ok(w)
}

/// `out[i] ← (1 − a) x[i] + a f(out[i])`.
#[inline]
fn leaky(x: &[f64], out: &mut [f64], a: f64, f: impl Fn(f64) -> f64) {
    for (o, &xi) in out.iter_mut().zip(x) {
        *o = (1.0 - a) * xi + a * f(*o);
    }
}
