//! [`TaskSampler`]: a reproducible source of tasks (task `i` depends only on
//! the sampler's seed and `i`), and meta-batches stacked from it.

use crate::error::Result;
use crate::sinusoid::Sinusoid;
use crate::task::{Task, TaskBatch};
use candle_core::{DType, Device};

/// A reproducible source of tasks.
pub trait TaskSampler: Sync {
    /// Task `index`.
    fn task(&self, index: u64) -> Result<Task>;
}

/// Sinusoid tasks with `support` and `query` points (f32, CPU).
#[derive(Debug, Clone)]
pub struct SinusoidSampler {
    /// The task family and seed.
    pub sinusoid: Sinusoid,
    /// Support points per task (K).
    pub support: usize,
    /// Query points per task.
    pub query: usize,
}

impl TaskSampler for SinusoidSampler {
    fn task(&self, index: u64) -> Result<Task> {
        let (_, task) =
            self.sinusoid
                .task(index, self.support, self.query, DType::F32, &Device::Cpu)?;
        Ok(task)
    }
}

/// Tasks `first .. first + count` of `sampler`, drawn in parallel and
/// stacked along the task dimension.
///
/// # Errors
/// The first error of [`TaskSampler::task`], and [`crate::Error::EmptyMetaBatch`]
/// or [`crate::Error::InvalidConfig`] from [`TaskBatch::stack`] (no tasks, unequal shapes).
pub fn task_batch(sampler: &dyn TaskSampler, first: u64, count: usize) -> Result<TaskBatch> {
    use rayon::prelude::*;
    let tasks = (first..first + count as u64)
        .into_par_iter()
        .map(|i| sampler.task(i))
        .collect::<Result<Vec<_>>>()?;
    TaskBatch::stack(&tasks)
}
