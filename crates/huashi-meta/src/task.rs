//! A few-shot task: a support set to adapt on and a query set to evaluate
//! the adapted model on.
//!
//! For regression (sinusoids) `x` is `(points, 1)` and `y` is `(points, 1)`;
//! for N-way classification `x` is `(points, channels, height, width)` and
//! `y` holds `u32` labels in `0..N`, shape `(points,)`.

use crate::error::{Error, Result};
use candle_core::Tensor;

/// Inputs and targets of one set (see the module docs for shapes).
#[derive(Debug, Clone)]
pub struct Batch {
    /// Inputs.
    pub x: Tensor,
    /// Targets.
    pub y: Tensor,
}

/// A task's support set (used to adapt) and query set (used to evaluate the
/// adapted model).
#[derive(Debug, Clone)]
pub struct Task {
    /// The K-shot support set.
    pub support: Batch,
    /// The query set.
    pub query: Batch,
}

/// Tasks stacked along a new leading task dimension `T`, so that a whole
/// meta-batch runs as one computation: support `x` is `(T, B, …)`.
#[derive(Debug, Clone)]
pub struct TaskBatch {
    /// The support sets, stacked.
    pub support: Batch,
    /// The query sets, stacked.
    pub query: Batch,
}

impl TaskBatch {
    /// Stacks `tasks`, which must all have the same shapes.
    ///
    /// # Errors
    /// [`Error::EmptyMetaBatch`] for no tasks, [`Error::InvalidConfig`] naming the
    /// first task whose shapes differ from the first task's.
    pub fn stack(tasks: &[Task]) -> Result<TaskBatch> {
        let first = tasks.first().ok_or(Error::EmptyMetaBatch)?;
        for (i, task) in tasks.iter().enumerate() {
            for (what, a, b) in [
                ("support x", &task.support.x, &first.support.x),
                ("support y", &task.support.y, &first.support.y),
                ("query x", &task.query.x, &first.query.x),
                ("query y", &task.query.y, &first.query.y),
            ] {
                if a.dims() != b.dims() {
                    return Err(Error::InvalidConfig {
                        what: "task shapes in a meta-batch (must all be equal)",
                        value: format!("task {i} {what} {:?} vs {:?}", a.dims(), b.dims()),
                    });
                }
            }
        }
        let stack = |pick: fn(&Task) -> &Tensor| -> Result<Tensor> {
            let parts: Vec<&Tensor> = tasks.iter().map(pick).collect();
            Ok(Tensor::stack(&parts, 0)?)
        };
        Ok(TaskBatch {
            support: Batch {
                x: stack(|t| &t.support.x)?,
                y: stack(|t| &t.support.y)?,
            },
            query: Batch {
                x: stack(|t| &t.query.x)?,
                y: stack(|t| &t.query.y)?,
            },
        })
    }

    /// The number of tasks `T`.
    pub fn tasks(&self) -> usize {
        self.support.x.dims()[0]
    }
}

/// The side of a resized Omniglot drawing by default, in pixels (other
/// data sets and sizes: [`crate::images::ImageSettings`]).
pub const SIDE: usize = 28;
