//! Evaluation on held-out tasks: adapt on each task's support set without
//! building a graph, score its query set, and report the mean with a 95 %
//! confidence interval `1.96 · s / √n` (`s` the sample standard deviation
//! over tasks), as the few-shot literature reports accuracies.

use crate::algorithm::{Algorithm, Hyper};
use crate::error::Result;
use crate::functional::Functional;
use crate::learner::GraphMode;
use crate::loss::accuracy_per_task;
use crate::maml::MetaLoss;
use crate::sampler::{task_batch, TaskSampler};
use crate::task::TaskBatch;
use huashi_net::ParamSet;
use serde::{Deserialize, Serialize};

/// A mean with its 95 % confidence half-width.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Estimate {
    /// The mean over tasks.
    pub mean: f64,
    /// The half-width of the 95 % confidence interval.
    pub ci95: f64,
}

impl Estimate {
    /// The estimate from per-task values.
    pub fn from_values(values: &[f64]) -> Estimate {
        let n = values.len() as f64;
        let mean = values.iter().sum::<f64>() / n;
        let var = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0).max(1.0);
        Estimate {
            mean,
            ci95: 1.96 * (var / n).sqrt(),
        }
    }
}

/// The result of an evaluation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EvalReport {
    /// Tasks evaluated.
    pub tasks: usize,
    /// Inner steps used to adapt.
    pub inner_steps: usize,
    /// Query loss after adaptation.
    pub loss: Estimate,
    /// Query accuracy after adaptation (classification).
    pub accuracy: Option<Estimate>,
}

/// Query losses (and predictions) of `params` on `batch` after `steps`
/// detached inner steps (no adaptation for Prototypical Networks).
///
/// # Shapes
/// `batch.support.x (T, S, …)`, `batch.query.x (T, Q, …)` → `loss ()`,
/// `per_task (T)`, `prediction (T, Q, …)`.
///
/// # Errors
/// The errors of the adaptation ([`crate::Maml::adapt`]) or of
/// [`crate::ProtoNet::loss`].
pub fn adapted_query<M: Functional>(
    hyper: &Hyper,
    model: &M,
    head: &[String],
    params: &ParamSet,
    batch: &TaskBatch,
    steps: usize,
) -> Result<MetaLoss> {
    let params = params.map(|_, t| Ok(t.detach()))?;
    if hyper.algorithm == Algorithm::Protonet {
        if let Some(protonet) = hyper.protonet() {
            return protonet.loss(model, &params, batch);
        }
    }
    let maml = match hyper.algorithm {
        Algorithm::Reptile => hyper.reptile().inner(),
        _ => hyper.maml(steps, head),
    };
    let maml = crate::maml::Maml {
        inner_steps: steps,
        ..maml
    };
    let adapted = maml.adapt_tasks(model, &params, &batch.support, GraphMode::Detached)?;
    maml.query_loss(model, &adapted, &batch.query)
}

/// Evaluates on tasks `0 .. tasks` of `sampler` (the same held-out tasks on
/// every call), a meta-batch at a time, after `steps` inner steps.
///
/// # Errors
/// Unreadable task data or a failed adaptation.
pub fn evaluate<M: Functional>(
    hyper: &Hyper,
    model: &M,
    head: &[String],
    params: &ParamSet,
    sampler: &dyn TaskSampler,
    tasks: usize,
    steps: usize,
) -> Result<EvalReport> {
    let steps = hyper.eval_steps(steps);
    let chunk = hyper.meta_batch.max(1);
    let (mut losses, mut accuracies) = (Vec::new(), Vec::new());
    let mut start = 0;
    while start < tasks {
        let count = chunk.min(tasks - start);
        let batch = task_batch(sampler, start as u64, count)?;
        let out = adapted_query(hyper, model, head, params, &batch, steps)?;
        losses.extend(
            out.per_task
                .to_dtype(candle_core::DType::F64)?
                .to_vec1::<f64>()?,
        );
        if hyper.is_classification() {
            accuracies.extend(accuracy_per_task(&out.prediction, &batch.query.y)?);
        }
        start += count;
    }
    Ok(EvalReport {
        tasks,
        inner_steps: steps,
        loss: Estimate::from_values(&losses),
        accuracy: (!accuracies.is_empty()).then(|| Estimate::from_values(&accuracies)),
    })
}

/// Per-task query losses and (for classification) accuracies on `tasks`,
/// run as one task batch, after `steps` inner steps.
///
/// # Errors
/// As [`adapted_query`], and [`crate::Error::EmptyMetaBatch`] or
/// [`crate::Error::InvalidConfig`] from [`TaskBatch::stack`].
pub fn score_tasks<M: Functional>(
    hyper: &Hyper,
    model: &M,
    head: &[String],
    params: &ParamSet,
    tasks: &[crate::Task],
    steps: usize,
) -> Result<(Vec<f64>, Option<Vec<f64>>)> {
    let batch = TaskBatch::stack(tasks)?;
    let out = adapted_query(hyper, model, head, params, &batch, steps)?;
    let losses = out
        .per_task
        .to_dtype(candle_core::DType::F64)?
        .to_vec1::<f64>()?;
    let accuracies = if hyper.is_classification() {
        Some(accuracy_per_task(&out.prediction, &batch.query.y)?)
    } else {
        None
    };
    Ok((losses, accuracies))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn confidence_interval_of_known_values() {
        let e = Estimate::from_values(&[1.0, 2.0, 3.0, 4.0]);
        assert_eq!(e.mean, 2.5);
        let s = (5.0f64 / 3.0).sqrt();
        assert!((e.ci95 - 1.96 * s / 2.0).abs() < 1e-12);
    }
}
