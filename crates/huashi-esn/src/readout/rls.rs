//! Online recursive least squares (RLS), the learning rule of FORCE
//! (Sussillo & Abbott 2009, "Generating coherent patterns of activity from
//! chaotic neural networks", *Neuron* 63(4)).
//!
//! With forgetting factor `λ ∈ (0, 1]` and `P(0) = I / δ`, each sample
//! `(φ, y)` updates
//!
//! ```text
//! g = P φ,   k = g / (λ + φᵀ g),   e = y − W_outᵀ φ,
//! W_out ← W_out + k eᵀ,   P ← (P − k gᵀ) / λ
//! ```
//!
//! `e` is the a-priori error (before the update), returned by
//! [`Rls::update`].

use faer::{Mat, MatRef};
use serde::{Deserialize, Serialize};

use crate::config::{fraction, positive};
use crate::error::Result;
use crate::util::mismatch;

/// Hyper-parameters of the RLS readout.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RlsConfig {
    /// Regulariser `δ` of the initial inverse correlation `P(0) = I / δ`
    /// (FORCE's `α`); larger means slower, more regularised learning.
    pub delta: f64,
    /// Forgetting factor `λ ∈ (0, 1]` (1 = remember everything).
    pub forgetting: f64,
}

impl Default for RlsConfig {
    fn default() -> Self {
        Self {
            delta: 1.0,
            forgetting: 1.0,
        }
    }
}

impl RlsConfig {
    /// Checks the hyper-parameters.
    ///
    /// # Errors
    /// [`crate::Error::InvalidParameter`] naming the value out of range.
    pub fn check(&self) -> Result<()> {
        positive("rls.delta", self.delta)?;
        fraction("rls.forgetting", self.forgetting)
    }
}

/// An RLS readout being trained.
#[derive(Clone, Debug)]
pub struct Rls {
    p: Mat<f64>,
    w: Mat<f64>,
    forgetting: f64,
    g: Vec<f64>,
    updates: usize,
}

impl Rls {
    /// A fresh learner for `features` features and `outputs` outputs.
    ///
    /// # Errors
    /// As [`RlsConfig::check`], or 0 features or outputs.
    pub fn new(features: usize, outputs: usize, config: &RlsConfig) -> Result<Self> {
        config.check()?;
        let mut p = Mat::zeros(features, features);
        for i in 0..features {
            p[(i, i)] = 1.0 / config.delta;
        }
        Ok(Self {
            p,
            w: Mat::zeros(features, outputs),
            forgetting: config.forgetting,
            g: vec![0.0; features],
            updates: 0,
        })
    }

    /// The current `F × m` weights.
    pub fn weights(&self) -> MatRef<'_, f64> {
        self.w.as_ref()
    }

    /// Number of updates done.
    pub fn updates(&self) -> usize {
        self.updates
    }

    /// The current prediction `W_outᵀ φ`.
    pub fn predict(&self, phi: &[f64], out: &mut [f64]) {
        for (k, o) in out.iter_mut().enumerate() {
            *o = self
                .w
                .col_as_slice(k)
                .iter()
                .zip(phi)
                .map(|(a, b)| a * b)
                .sum();
        }
    }

    /// One RLS update with features `phi` and target `y`; returns the
    /// a-priori error `e = y − W_outᵀ φ`.
    ///
    /// # Errors
    /// Vectors of the wrong length, or a non-finite value.
    pub fn update(&mut self, phi: &[f64], y: &[f64]) -> Result<Vec<f64>> {
        mismatch("RLS features", self.p.nrows(), phi.len())?;
        mismatch("RLS targets", self.w.ncols(), y.len())?;
        crate::error::check_finite("RLS features", phi)?;
        crate::error::check_finite("RLS targets", y)?;
        let mut e = vec![0.0; y.len()];
        self.predict(phi, &mut e);
        e.iter_mut().zip(y).for_each(|(e, t)| *e = t - *e);
        let f = phi.len();
        for i in 0..f {
            // P is symmetric: (P φ)_i = P[:, i] · φ, a contiguous column.
            self.g[i] = self
                .p
                .col_as_slice(i)
                .iter()
                .zip(phi)
                .map(|(a, b)| a * b)
                .sum();
        }
        let denom = self.forgetting + self.g.iter().zip(phi).map(|(a, b)| a * b).sum::<f64>();
        for (k, ek) in e.iter().enumerate() {
            let col = self.w.col_as_slice_mut(k);
            col.iter_mut()
                .zip(&self.g)
                .for_each(|(w, g)| *w += g / denom * ek);
        }
        let inv = 1.0 / self.forgetting;
        for j in 0..f {
            let col = self.p.col_as_slice_mut(j);
            let gj = self.g[j] / denom;
            col.iter_mut()
                .zip(&self.g)
                .for_each(|(p, gi)| *p = (*p - gi * gj) * inv);
        }
        self.updates += 1;
        Ok(e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rls_learns_a_linear_map() {
        let mut rls = Rls::new(
            2,
            1,
            &RlsConfig {
                delta: 1e-3,
                forgetting: 1.0,
            },
        )
        .unwrap();
        for i in 0..200 {
            let x = (i as f64 * 0.37).sin();
            rls.update(&[1.0, x], &[0.5 - 2.0 * x]).unwrap();
        }
        let w = rls.weights();
        assert!((w[(0, 0)] - 0.5).abs() < 1e-4 && (w[(1, 0)] + 2.0).abs() < 1e-4);
    }
}
