//! [`ParamSet`] helpers for meta-learning: trainable copies, gradients read
//! back by name, and Reptile's outer update.

use crate::error::{Error, Result};
use candle_core::backprop::GradStore;
use candle_core::Var;
use huashi_net::ParamSet;

/// Trainable copies of `params`: the [`Var`]s (for an optimiser) in the
/// set's order, and a set holding their tensors (for forward passes).
///
/// # Errors
/// Only candle's, when a [`Var`] cannot be made.
pub fn to_vars(params: &ParamSet) -> Result<(Vec<Var>, ParamSet)> {
    let mut vars = Vec::with_capacity(params.len());
    let mut set = ParamSet::new();
    for (name, t) in params.iter() {
        let var = Var::from_tensor(&t.detach())?;
        set.insert(name, var.as_tensor().clone());
        vars.push(var);
    }
    Ok((vars, set))
}

/// The gradients of `params` in `grads` as a set with the same names and
/// order; a parameter the loss does not depend on gets zeros.
///
/// # Errors
/// Only candle's, as [`Error::Net`].
pub fn gradients(params: &ParamSet, grads: &GradStore) -> Result<ParamSet> {
    Ok(params.map(|_, t| match grads.get(t) {
        Some(g) => Ok(g.clone()),
        None => t.zeros_like(),
    })?)
}

fn check_names(reference: &ParamSet, other: &ParamSet) -> Result<()> {
    if reference.names().ne(other.names()) {
        return Err(Error::ParamMismatch {
            expected: reference.names().map(String::from).collect(),
            got: other.names().map(String::from).collect(),
        });
    }
    Ok(())
}

/// Reptile's outer step (Nichol, Achiam & Schulman, *On First-Order
/// Meta-Learning Algorithms*, 2018, Algorithm 2):
/// `θ ← θ + ε · (1/n · Σᵢ θ̃ᵢ − θ)`, where `θ̃ᵢ` are the parameters after
/// adapting to task `i` with plain SGD and `ε` is the outer step size
/// (annealed linearly to 0 in the paper). The result carries no graph.
///
/// # Errors
/// [`Error::EmptyMetaBatch`] without adapted sets, [`Error::InvalidConfig`] for a
/// non-finite `epsilon`, [`Error::ParamMismatch`] when a set's names differ.
pub fn reptile_update(params: &ParamSet, adapted: &[ParamSet], epsilon: f64) -> Result<ParamSet> {
    if adapted.is_empty() {
        return Err(Error::EmptyMetaBatch);
    }
    if !epsilon.is_finite() {
        return Err(Error::InvalidConfig {
            what: "Reptile step size",
            value: epsilon.to_string(),
        });
    }
    for set in adapted {
        check_names(params, set)?;
    }
    let n = adapted.len() as f64;
    let mut out = ParamSet::new();
    for (name, theta) in params.iter() {
        let theta = theta.detach();
        let mut sum = theta.zeros_like()?;
        for set in adapted {
            sum = (sum + set.require(name)?.detach())?;
        }
        let step = (sum.affine(1.0 / n, 0.0)? - &theta)?.affine(epsilon, 0.0)?;
        out.insert(name, (theta + step)?);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::{Device, Tensor};

    fn set(values: &[f64]) -> ParamSet {
        let mut p = ParamSet::new();
        p.insert("w", Tensor::new(values, &Device::Cpu).unwrap());
        p
    }

    #[test]
    fn reptile_moves_towards_the_mean() {
        let theta = set(&[0.0, 1.0]);
        let adapted = [set(&[2.0, 1.0]), set(&[4.0, 3.0])];
        let out = reptile_update(&theta, &adapted, 0.5).unwrap();
        let w = out.get("w").unwrap().to_vec1::<f64>().unwrap();
        assert_eq!(w, vec![1.5, 1.5]);
        assert!(matches!(
            reptile_update(&theta, &[], 0.5),
            Err(Error::EmptyMetaBatch)
        ));
        let mut other = ParamSet::new();
        other.insert("v", Tensor::new(&[0.0f64, 0.0], &Device::Cpu).unwrap());
        assert!(matches!(
            reptile_update(&theta, &[other], 0.5),
            Err(Error::ParamMismatch { .. })
        ));
    }

    #[test]
    fn vars_and_gradients() {
        let (vars, p) = to_vars(&set(&[1.0, 2.0])).unwrap();
        let loss = p.get("w").unwrap().sqr().unwrap().sum_all().unwrap();
        let grads = loss.backward().unwrap();
        let g = gradients(&p, &grads).unwrap();
        assert_eq!(
            g.get("w").unwrap().to_vec1::<f64>().unwrap(),
            vec![2.0, 4.0]
        );
        assert_eq!(vars.len(), 1);
    }
}
