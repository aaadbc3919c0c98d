//! Reptile (Nichol, Achiam & Schulman, *On First-Order Meta-Learning
//! Algorithms*, 2018, Algorithm 2, batched version): for each task of a
//! meta-batch, `k` steps of plain SGD from `θ` on the task's support set
//! give `θ̃ᵢ`; then `θ ← θ + ε · (1/n Σᵢ θ̃ᵢ − θ)`, with the outer step size
//! `ε` annealed linearly from `ε₀` to 0 over training, as in the paper.
//!
//! The inner loops of the meta-batch run as one task-batched computation,
//! with no graph kept (Reptile needs no second derivatives).

use crate::error::{Error, Result};
use crate::functional::{task_slice, Functional};
use crate::learner::GraphMode;
use crate::loss::Loss;
use crate::maml::Maml;
use crate::params::reptile_update;
use crate::task::TaskBatch;
use huashi_net::ParamSet;

/// Reptile's configuration.
#[derive(Debug, Clone, PartialEq)]
pub struct Reptile {
    /// Inner SGD learning rate.
    pub inner_lr: f64,
    /// Inner SGD steps per task.
    pub inner_steps: usize,
    /// Initial outer step size `ε₀` (1.0 in the paper's Omniglot runs).
    pub outer_step: f64,
    /// The task loss.
    pub loss: Loss,
}

impl Reptile {
    /// The outer step size at `iteration` of `iterations`: `ε₀ (1 − i/n)`.
    pub fn step_size(&self, iteration: u64, iterations: u64) -> f64 {
        let done = iteration as f64 / iterations.max(1) as f64;
        self.outer_step * (1.0 - done).max(0.0)
    }

    /// The inner loop as a (detached) [`Maml`] configuration.
    pub fn inner(&self) -> Maml {
        Maml {
            inner_lr: self.inner_lr,
            inner_steps: self.inner_steps,
            first_order: true,
            loss: self.loss,
            ..Maml::default()
        }
    }

    /// One meta-iteration: the new parameters after adapting to every task
    /// of `batch` and moving `θ` towards their mean with step size
    /// `epsilon`, and the task-batched adapted parameters.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] for zero inner steps or a non-finite `epsilon`; the
    /// errors of the adaptation (as [`Maml::adapt_detached`]).
    pub fn update<M: Functional>(
        &self,
        model: &M,
        params: &ParamSet,
        batch: &TaskBatch,
        epsilon: f64,
    ) -> Result<(ParamSet, ParamSet)> {
        if self.inner_steps == 0 {
            return Err(Error::InvalidConfig {
                what: "Reptile inner steps (must be positive)",
                value: "0".into(),
            });
        }
        let adapted =
            self.inner()
                .adapt_tasks(model, params, &batch.support, GraphMode::Detached)?;
        let per_task = (0..batch.tasks())
            .map(|i| task_slice(&adapted, i))
            .collect::<Result<Vec<_>>>()?;
        Ok((reptile_update(params, &per_task, epsilon)?, adapted))
    }
}
