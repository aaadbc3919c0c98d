//! Meta-SGD (Li, Zhou, Chen & Li, *Meta-SGD: Learning to Learn Quickly for
//! Few-Shot Learning*, 2017): the inner step is `θ' = θ − α ⊙ ∇L(θ)` with a
//! learned learning rate per parameter element, meta-learned with `θ`.
//!
//! The rates live in the same [`ParamSet`] as the model, as `lr.<name>` with
//! the shape of `<name>`; [`crate::Maml`] with `per_parameter_lr: true` uses
//! them, and the outer optimiser updates them like any other parameter.

use crate::error::{Error, Result};
use crate::functional::LR_PREFIX;
use huashi_net::ParamSet;

/// `params` followed by a rate `lr.<name>` for each parameter, every element
/// set to `initial` (learn2learn's `MetaSGD(lr=…)` initialisation).
///
/// # Errors
/// [`Error::InvalidConfig`] when `initial` is not finite and positive, or when
/// `params` already holds an `lr.*` entry.
pub fn with_learning_rates(params: &ParamSet, initial: f64) -> Result<ParamSet> {
    if !initial.is_finite() || initial <= 0.0 {
        return Err(Error::InvalidConfig {
            what: "Meta-SGD initial learning rate (must be positive)",
            value: initial.to_string(),
        });
    }
    let mut out = params.clone();
    for (name, t) in params.iter() {
        if name.starts_with(LR_PREFIX) {
            return Err(Error::InvalidConfig {
                what: "parameter set (already holds Meta-SGD rates)",
                value: name.to_string(),
            });
        }
        out.insert(
            format!("{LR_PREFIX}{name}"),
            t.ones_like()?.affine(initial, 0.0)?,
        );
    }
    Ok(out)
}
