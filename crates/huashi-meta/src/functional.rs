//! Functional models: the forward pass takes its parameters explicitly, with
//! a leading **task dimension** `T` on every parameter and on the input, so a
//! meta-batch of tasks — each with its own adapted parameters — runs as one
//! computation (batched matmuls, grouped convolutions) instead of one tiny
//! op per task.

use crate::error::Result;
use candle_core::Tensor;
use huashi_net::ParamSet;

/// The prefix of Meta-SGD's per-parameter inner learning rates in a
/// [`ParamSet`]: the rate of parameter `n` is named `lr.n`.
pub const LR_PREFIX: &str = "lr.";

/// A model whose forward pass takes its parameters explicitly.
pub trait Functional {
    /// The output `(T, B, …)` for a task-batched input `x` `(T, B, …)`;
    /// every tensor of `params` has the leading task dimension `T` (see
    /// [`tile_tasks`]). Entries the model does not use (Meta-SGD's `lr.*`)
    /// are ignored.
    fn forward(&self, params: &ParamSet, x: &Tensor) -> Result<Tensor>;

    /// The output `(B, …)` for one task: `params` and `x` without the task
    /// dimension.
    fn forward_one(&self, params: &ParamSet, x: &Tensor) -> Result<Tensor> {
        let tiled = tile_tasks(&model_params(params), 1)?;
        Ok(self.forward(&tiled, &x.unsqueeze(0)?)?.squeeze(0)?)
    }
}

/// The model's own parameters: `params` without Meta-SGD's `lr.*` entries.
pub fn model_params(params: &ParamSet) -> ParamSet {
    let mut out = ParamSet::new();
    for (name, t) in params.iter().filter(|(n, _)| !n.starts_with(LR_PREFIX)) {
        out.insert(name, t.clone());
    }
    out
}

/// Each parameter repeated along a new leading task dimension of size
/// `tasks` (the graph back to `params` is kept, and the gradient of the
/// copies sums over tasks, in one contiguous pass).
///
/// # Errors
/// Only candle's (as [`crate::Error::Net`]); none for f32/f64 tensors.
pub fn tile_tasks(params: &ParamSet, tasks: usize) -> Result<ParamSet> {
    Ok(params.map(|_, t| crate::tile::tile(t, tasks))?)
}

/// Task `index` of task-batched parameters, without the task dimension.
///
/// # Errors
/// Candle's (as [`crate::Error::Net`]) when `index` is not below a tensor's
/// leading dimension.
pub fn task_slice(params: &ParamSet, index: usize) -> Result<ParamSet> {
    Ok(params.map(|_, t| t.get(index))?)
}
