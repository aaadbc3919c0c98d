//! Reservoir hyper-parameters.
//!
//! A [`ReservoirConfig`] describes one leaky-integrator reservoir (Jaeger
//! 2001; Jaeger, Lukoševičius, Popovici & Siewert 2007):
//!
//! ```text
//! x(t) = (1 − a) x(t−1) + a f(W_in u(t) + W x(t−1) + b [+ W_fb y(t−1)]) [+ σ ξ(t)]
//! ```
//!
//! with leak rate `a`, activation `f`, a sparse recurrent matrix `W` rescaled
//! to the requested spectral radius, input weights `W_in` (one scaling per
//! input feature), bias `b`, optional output feedback `W_fb` and optional
//! Gaussian state noise `σ ξ(t)` (training runs only). The defaults are
//! those of ReservoirPy 0.4's `Reservoir` node: `lr = 1`, `sr = 1`,
//! `input_scaling = 1`, `rc_connectivity = 0.1`, `input_connectivity = 0.1`,
//! normal `W`, Bernoulli `W_in`, no bias, tanh. ReservoirPy draws its
//! sparse matrices with an exact total count of non-zeros; here every row of
//! `W` (and every input column of `W_in`) gets exactly `round(c · N)`.

use serde::{Deserialize, Serialize};

use crate::error::{invalid, Error, Result};
use crate::spectral::SpectralMethod;

/// Distribution of the non-zero weights of a matrix.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Distribution {
    /// Standard normal `N(0, 1)`.
    Normal,
    /// Uniform on `[−1, 1)`.
    Uniform,
    /// `−1` or `+1` with equal probability.
    Bernoulli,
}

/// The activation `f` of the reservoir units.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Activation {
    /// Hyperbolic tangent ([`crate::math::tanh`], a few ulp from libm's).
    #[default]
    Tanh,
    /// `f(z) = z` (a linear reservoir).
    Identity,
    /// Logistic `1 / (1 + e^{−z})`.
    Sigmoid,
    /// `max(0, z)`.
    Relu,
}

impl Activation {
    /// Applies the activation to one value.
    #[inline]
    pub fn apply(self, z: f64) -> f64 {
        match self {
            Self::Tanh => crate::math::tanh(z),
            Self::Identity => z,
            Self::Sigmoid => 1.0 / (1.0 + (-z).exp()),
            Self::Relu => z.max(0.0),
        }
    }
}

/// Scaling of the input weights.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum InputScaling {
    /// The same scaling for every input feature.
    All(f64),
    /// One scaling per input feature (length = number of inputs).
    PerFeature(Vec<f64>),
}

impl InputScaling {
    /// The scaling of each of `inputs` features.
    ///
    /// # Errors
    /// A per-feature list whose length is not `inputs`, or a bad value.
    pub fn resolve(&self, inputs: usize) -> Result<Vec<f64>> {
        match self {
            Self::All(s) => Ok(vec![*s; inputs]),
            Self::PerFeature(v) if v.len() == inputs => Ok(v.clone()),
            Self::PerFeature(v) => Err(Error::DimensionMismatch {
                what: "input_scaling per feature",
                expected: inputs,
                found: v.len(),
            }),
        }
    }
}

/// Hyper-parameters of one reservoir.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ReservoirConfig {
    /// Number of units `N`.
    pub units: usize,
    /// Spectral radius `ρ(W)` the recurrent matrix is rescaled to (> 0).
    pub spectral_radius: f64,
    /// Fraction of non-zero recurrent weights, in `(0, 1]`: each unit
    /// receives exactly `max(1, round(connectivity · N))` recurrent inputs.
    pub connectivity: f64,
    /// Distribution of the recurrent weights before rescaling.
    pub weights: Distribution,
    /// Scaling of the input weights (per feature or for all).
    pub input_scaling: InputScaling,
    /// Fraction of units each input feature reaches, in `(0, 1]`: exactly
    /// `max(1, round(input_connectivity · N))` units per feature.
    pub input_connectivity: f64,
    /// Distribution of the input weights (before scaling).
    pub input_weights: Distribution,
    /// Scale of the bias `b` (every unit has one, drawn like the input weights).
    pub bias_scaling: f64,
    /// Leak rate `a` in `(0, 1]`; 1 means no leak.
    pub leak_rate: f64,
    /// Activation `f`.
    pub activation: Activation,
    /// Standard deviation `σ` of the Gaussian state noise (0 = none).
    pub noise: f64,
    /// How `ρ(W)` is computed.
    pub spectral_method: SpectralMethod,
}

impl Default for ReservoirConfig {
    fn default() -> Self {
        Self {
            units: 100,
            spectral_radius: 1.0,
            connectivity: 0.1,
            weights: Distribution::Normal,
            input_scaling: InputScaling::All(1.0),
            input_connectivity: 0.1,
            input_weights: Distribution::Bernoulli,
            bias_scaling: 0.0,
            leak_rate: 1.0,
            activation: Activation::Tanh,
            noise: 0.0,
            spectral_method: SpectralMethod::Auto,
        }
    }
}

impl ReservoirConfig {
    /// The default configuration with `units` units.
    pub fn new(units: usize) -> Self {
        Self {
            units,
            ..Self::default()
        }
    }

    /// Checks every hyper-parameter, naming the first bad one.
    ///
    /// # Errors
    /// [`crate::Error::InvalidParameter`] naming the first value out of range.
    pub fn check(&self) -> Result<()> {
        if self.units == 0 {
            return Err(invalid("units", 0.0, "must be at least 1"));
        }
        positive("spectral_radius", self.spectral_radius)?;
        fraction("connectivity", self.connectivity)?;
        fraction("input_connectivity", self.input_connectivity)?;
        fraction("leak_rate", self.leak_rate)?;
        non_negative("bias_scaling", self.bias_scaling)?;
        non_negative("noise", self.noise)?;
        match &self.input_scaling {
            InputScaling::All(s) => non_negative("input_scaling", *s),
            InputScaling::PerFeature(v) => {
                v.iter().try_for_each(|s| non_negative("input_scaling", *s))
            }
        }
    }
}

/// Output feedback `W_fb y(t−1)` into the (first) reservoir.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FeedbackConfig {
    /// Scaling of the feedback weights.
    pub scaling: f64,
    /// Fraction of units each output reaches, in `(0, 1]`.
    pub connectivity: f64,
    /// Distribution of the feedback weights.
    pub distribution: Distribution,
}

impl Default for FeedbackConfig {
    fn default() -> Self {
        Self {
            scaling: 1.0,
            connectivity: 0.1,
            distribution: Distribution::Bernoulli,
        }
    }
}

impl FeedbackConfig {
    /// Checks the feedback hyper-parameters.
    ///
    /// # Errors
    /// [`crate::Error::InvalidParameter`] naming the first value out of range.
    pub fn check(&self) -> Result<()> {
        non_negative("feedback.scaling", self.scaling)?;
        fraction("feedback.connectivity", self.connectivity)
    }
}

pub(crate) fn positive(name: &'static str, v: f64) -> Result<()> {
    if v.is_finite() && v > 0.0 {
        Ok(())
    } else {
        Err(invalid(name, v, "must be finite and > 0"))
    }
}

pub(crate) fn non_negative(name: &'static str, v: f64) -> Result<()> {
    if v.is_finite() && v >= 0.0 {
        Ok(())
    } else {
        Err(invalid(name, v, "must be finite and >= 0"))
    }
}

pub(crate) fn fraction(name: &'static str, v: f64) -> Result<()> {
    if v > 0.0 && v <= 1.0 {
        Ok(())
    } else {
        Err(invalid(name, v, "must lie in (0, 1]"))
    }
}
