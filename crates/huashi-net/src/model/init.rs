//! Initial parameters of a [`Model`], by scheme:
//!
//! - [`InitScheme::PyTorch`] (PyTorch's defaults): conv and linear weights
//!   and biases uniform in `±1/√fan_in`;
//! - [`InitScheme::XavierUniform`] (learn2learn's `maml_init_`, the MAML
//!   papers' networks): weights uniform in `±√(6/(fan_in + fan_out))` with
//!   `fan_in = d₁·kh·kw`, `fan_out = d₀·kh·kw` for a weight `(d₀, d₁, kh, kw)`
//!   (PyTorch's `xavier_uniform_`), biases 0.
//!
//! Batch norm: `γ = 1`, `β = 0`, running mean 0, running variance 1. Every
//! tensor draws from its own stream `Rng::indexed(seed, "init", i)`.

use super::Model;
use crate::error::Result;
use crate::params::ParamSet;
use candle_core::{Device, Tensor};
use huashi_rng::Rng;

/// How one parameter tensor is initialised by default.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum Init {
    /// Uniform in `±bound`.
    Uniform(f32),
    /// All `value`.
    Constant(f32),
}

/// A weight initialisation scheme (see the module docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InitScheme {
    /// PyTorch's defaults for `nn.Conv2d` / `nn.Linear`.
    #[default]
    PyTorch,
    /// Xavier-uniform weights and zero biases (learn2learn's `maml_init_`).
    XavierUniform,
}

impl Model {
    /// Fresh parameters from `seed` on `device` with PyTorch's defaults.
    ///
    /// # Errors
    /// As [`Model::init_with`].
    pub fn init(&self, seed: u64, device: &Device) -> Result<ParamSet> {
        self.init_with(seed, device, InitScheme::PyTorch)
    }

    /// Fresh f32 parameters from `seed` on `device` with `scheme`.
    ///
    /// # Errors
    /// [`crate::Error::File`] with [`huashi_io::Error::TooMuchMemory`] when
    /// the f32 parameters (and their moving statistics) would need more than
    /// the memory limit ([`huashi_io::check_memory`]), checked before any is
    /// allocated; tensor errors.
    pub fn init_with(&self, seed: u64, device: &Device, scheme: InitScheme) -> Result<ParamSet> {
        let t = &self.analysis.totals;
        let values = t.params.saturating_add(t.moving_stats);
        huashi_io::check_memory("the model's parameters", values.saturating_mul(4))?;
        let mut params = ParamSet::new();
        for (i, spec) in self.specs.iter().enumerate() {
            let n: usize = spec.shape.iter().product();
            let init = match (scheme, spec.init) {
                (InitScheme::XavierUniform, Init::Uniform(_)) if spec.name.ends_with("bias") => {
                    Init::Constant(0.0)
                }
                (InitScheme::XavierUniform, Init::Uniform(_)) => {
                    Init::Uniform(xavier_bound(&spec.shape))
                }
                (_, init) => init,
            };
            let values = match init {
                Init::Uniform(b) => uniform_f32(Rng::indexed(seed, "init", i as u64), n, b),
                Init::Constant(v) => vec![v; n],
            };
            params.insert(
                &spec.name,
                Tensor::from_vec(values, spec.shape.as_slice(), device)?,
            );
        }
        Ok(params)
    }

    /// Whether parameter `name` is a statistic (batch norm's running mean
    /// and variance), not learned by gradient.
    pub fn is_statistic(name: &str) -> bool {
        name.ends_with(".running_mean") || name.ends_with(".running_var")
    }
}

/// `√(6/(fan_in + fan_out))` for a weight `(d₀, d₁, …)`.
fn xavier_bound(shape: &[usize]) -> f32 {
    let receptive: usize = shape.iter().skip(2).product();
    let fan_out = shape.first().copied().unwrap_or(1) * receptive;
    let fan_in = shape.get(1).copied().unwrap_or(1) * receptive;
    (6.0 / (fan_in + fan_out).max(1) as f64).sqrt() as f32
}

/// `n` values uniform in `[−bound, bound)` as f32.
fn uniform_f32(mut rng: Rng, n: usize, bound: f32) -> Vec<f32> {
    let bound = f64::from(bound);
    (0..n)
        .map(|_| rng.uniform_in(-bound, bound) as f32)
        .collect()
}
