//! The Adam meta-optimiser (Kingma & Ba, ICLR 2015), as PyTorch's
//! `torch.optim.Adam` without weight decay:
//! `m ← β₁m + (1−β₁)g`, `v ← β₂v + (1−β₂)g²`,
//! `θ ← θ − lr · (m / (1−β₁ᵗ)) / (√(v / (1−β₂ᵗ)) + ε)`.
//!
//! Its moments are a [`ParamSet`] (`m.<name>`, `v.<name>`) so a checkpoint
//! holds them and `--resume` continues exactly.

use crate::error::{Error, Result};
use huashi_net::ParamSet;

/// Adam's state and hyper-parameters.
#[derive(Debug, Clone)]
pub struct Adam {
    /// Learning rate.
    pub lr: f64,
    /// `β₁` (0.9).
    pub beta1: f64,
    /// `β₂` (0.999).
    pub beta2: f64,
    /// `ε` (1e-8).
    pub eps: f64,
    /// Steps taken.
    pub step: u64,
    moments: ParamSet,
}

impl Adam {
    /// A fresh optimiser for parameters shaped like `params`.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] when `lr` is not finite and positive.
    pub fn new(lr: f64, params: &ParamSet) -> Result<Adam> {
        if !lr.is_finite() || lr <= 0.0 {
            return Err(Error::InvalidConfig {
                what: "meta learning rate (must be positive)",
                value: lr.to_string(),
            });
        }
        let mut moments = ParamSet::new();
        for (name, t) in params.iter() {
            moments.insert(format!("m.{name}"), t.zeros_like()?);
            moments.insert(format!("v.{name}"), t.zeros_like()?);
        }
        Ok(Adam {
            lr,
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
            step: 0,
            moments,
        })
    }

    /// The moments, for a checkpoint.
    pub fn moments(&self) -> &ParamSet {
        &self.moments
    }

    /// Restores moments saved by a checkpoint taken after `step` steps.
    ///
    /// # Errors
    /// [`Error::Net`] when `moments` lacks one of the optimiser's tensors,
    /// [`Error::InvalidConfig`] when one has another shape.
    pub fn restore(&mut self, moments: ParamSet, step: u64) -> Result<()> {
        for (name, t) in self.moments.iter() {
            let saved = moments.require(name)?;
            if saved.dims() != t.dims() {
                return Err(Error::InvalidConfig {
                    what: "optimiser state shape (checkpoint from another model)",
                    value: format!("{name}: {:?} vs {:?}", saved.dims(), t.dims()),
                });
            }
        }
        self.moments = moments;
        self.step = step;
        Ok(())
    }

    /// One step: the new parameter values (detached) from `params` and
    /// their gradients `grads` (looked up by name).
    ///
    /// # Errors
    /// [`Error::Net`] when `grads` or the moments lack a parameter of `params`;
    /// candle's for mismatched shapes.
    pub fn update(&mut self, params: &ParamSet, grads: &ParamSet) -> Result<ParamSet> {
        self.step += 1;
        let t = self.step as i32;
        let (c1, c2) = (1.0 - self.beta1.powi(t), 1.0 - self.beta2.powi(t));
        let mut next = ParamSet::new();
        let mut moments = ParamSet::new();
        for (name, theta) in params.iter() {
            let g = grads.require(name)?.detach();
            let m = self.moments.require(&format!("m.{name}"))?;
            let v = self.moments.require(&format!("v.{name}"))?;
            let m = ((m * self.beta1)? + (&g * (1.0 - self.beta1))?)?;
            let v = ((v * self.beta2)? + (g.sqr()? * (1.0 - self.beta2))?)?;
            let denominator = ((&v / c2)?.sqrt()? + self.eps)?;
            let step = ((&m / c1)? / denominator)?.affine(self.lr, 0.0)?;
            next.insert(name, (theta.detach() - step)?);
            moments.insert(format!("m.{name}"), m);
            moments.insert(format!("v.{name}"), v);
        }
        self.moments = moments;
        Ok(next)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::{Device, Tensor};

    #[test]
    fn first_step_moves_by_lr_against_the_gradient_sign() {
        let mut p = ParamSet::new();
        p.insert("w", Tensor::new(&[1.0f64, -1.0], &Device::Cpu).unwrap());
        let mut g = ParamSet::new();
        g.insert("w", Tensor::new(&[0.3f64, -7.0], &Device::Cpu).unwrap());
        let mut adam = Adam::new(0.1, &p).unwrap();
        let next = adam.update(&p, &g).unwrap();
        let w = next.get("w").unwrap().to_vec1::<f64>().unwrap();
        assert!(
            (w[0] - 0.9).abs() < 1e-6 && (w[1] + 0.9).abs() < 1e-6,
            "{w:?}"
        );
        assert!(Adam::new(-1.0, &p).is_err());
    }
}
