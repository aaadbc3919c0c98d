//! The meta-training loop: meta-batches of tasks, the algorithm's outer
//! update (Adam on the meta-gradient; annealed SGD towards the adapted
//! parameters for Reptile), validation every `n` iterations, NaN/Inf
//! detection, and atomic checkpoints from which `--resume` continues exactly
//! as if never stopped (task `i` of iteration `k` is a function of the seed,
//! and the optimiser's moments are saved).

use crate::adam::Adam;
use crate::algorithm::{Algorithm, Hyper};
use crate::error::{Error, Result};
use crate::eval::{evaluate, EvalReport};
use crate::functional::Functional;
use crate::loss::accuracy_per_task;
use crate::model::ModelSpec;
use crate::params::{gradients, to_vars};
use crate::sampler::{task_batch, TaskSampler};
use crate::tasks::TaskSpec;
use huashi_net::ParamSet;
use serde::{Deserialize, Serialize};

/// Where the loop is: the iteration to run next, the parameters, the
/// optimiser and the validation history.
#[derive(Debug, Clone)]
pub struct TrainState {
    /// The next iteration (0-based).
    pub iteration: u64,
    /// The meta-parameters.
    pub params: ParamSet,
    /// The meta-optimiser (unused by Reptile).
    pub adam: Adam,
    /// Validation results so far.
    pub history: Vec<Record>,
}

/// One validation point.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Record {
    /// Iterations done.
    pub iteration: u64,
    /// Mean meta-training loss since the last record.
    pub train_loss: f64,
    /// Validation result.
    pub validation: EvalReport,
}

/// What one iteration produced.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StepReport {
    /// The iteration (0-based).
    pub iteration: u64,
    /// The mean query loss of the meta-batch (Reptile: the support loss
    /// after adaptation).
    pub loss: f64,
    /// The mean query accuracy (classification).
    pub accuracy: Option<f64>,
}

/// A model, its algorithm and its task samplers.
pub struct Trainer<'a, M: Functional> {
    /// Hyper-parameters.
    pub hyper: Hyper,
    /// The model.
    pub model: &'a M,
    /// The names ANIL adapts.
    pub head: Vec<String>,
    /// Meta-training tasks.
    pub train: &'a dyn TaskSampler,
    /// Validation tasks.
    pub validation: &'a dyn TaskSampler,
    /// Tasks per validation.
    pub validation_tasks: usize,
}

impl<'a> Trainer<'a, crate::model::MetaModel> {
    /// The trainer of a run: its hyper-parameters, `model` (built from
    /// `spec.model`) with its head, and the samplers of `sources`.
    pub fn for_run(
        spec: &RunSpec,
        model: &'a crate::model::MetaModel,
        sources: &'a crate::tasks::TaskSources,
    ) -> Self {
        Trainer {
            hyper: spec.hyper.clone(),
            model,
            head: model.head_names(),
            train: sources.train.as_ref(),
            validation: sources.validation.as_ref(),
            validation_tasks: spec.validation_tasks,
        }
    }
}

impl<M: Functional> Trainer<'_, M> {
    /// The state before the first iteration.
    ///
    /// # Errors
    /// The errors of [`Hyper::check`], [`Hyper::initial_params`] and [`Adam::new`]
    /// ([`Error::InvalidConfig`] for out-of-range settings).
    pub fn start(&self, model_params: ParamSet) -> Result<TrainState> {
        self.hyper.check()?;
        let params = self.hyper.initial_params(model_params)?;
        Ok(TrainState {
            iteration: 0,
            adam: Adam::new(self.hyper.meta_lr, &params)?,
            params,
            history: Vec::new(),
        })
    }

    /// Runs iteration `state.iteration` and advances the state.
    ///
    /// # Errors
    /// Task sampling and model errors; [`Error::NonFinite`] when the meta-loss or the
    /// meta-gradient is NaN or Inf (the parameters and iteration are then not
    /// advanced).
    pub fn step(&self, state: &mut TrainState) -> Result<StepReport> {
        let iteration = state.iteration;
        let hyper = &self.hyper;
        let batch = task_batch(
            self.train,
            iteration * hyper.meta_batch as u64,
            hyper.meta_batch,
        )?;
        let (loss, accuracy, next) = if hyper.algorithm == Algorithm::Reptile {
            let reptile = hyper.reptile();
            let epsilon = reptile.step_size(iteration, hyper.iterations);
            let (next, adapted) = reptile.update(self.model, &state.params, &batch, epsilon)?;
            let out = reptile
                .inner()
                .query_loss(self.model, &adapted, &batch.query)?;
            (out.loss, self.accuracy(&out.prediction, &batch)?, next)
        } else {
            let (_vars, params) = to_vars(&state.params)?;
            let out = match hyper.algorithm {
                Algorithm::Protonet => hyper
                    .protonet()
                    .ok_or(Error::InvalidConfig {
                        what: "Prototypical Networks task (classification only)",
                        value: "regression".into(),
                    })?
                    .loss(self.model, &params, &batch)?,
                _ => hyper
                    .maml(hyper.train_steps(), &self.head)
                    .meta_loss_batch(self.model, &params, &batch)?,
            };
            let grads = gradients(&params, &out.loss.backward()?)?;
            check_gradients(iteration, &grads)?;
            let next = state.adam.update(&state.params, &grads)?;
            (out.loss, self.accuracy(&out.prediction, &batch)?, next)
        };
        let loss = loss.to_dtype(candle_core::DType::F64)?.to_scalar::<f64>()?;
        if !loss.is_finite() {
            return Err(Error::NonFinite {
                iteration,
                what: "meta-loss",
                value: loss,
            });
        }
        state.params = next;
        state.iteration += 1;
        Ok(StepReport {
            iteration,
            loss,
            accuracy,
        })
    }

    fn accuracy(
        &self,
        prediction: &candle_core::Tensor,
        batch: &crate::TaskBatch,
    ) -> Result<Option<f64>> {
        if !self.hyper.is_classification() {
            return Ok(None);
        }
        let per_task = accuracy_per_task(prediction, &batch.query.y)?;
        Ok(Some(per_task.iter().sum::<f64>() / per_task.len() as f64))
    }

    /// Evaluates `params` on the validation tasks (always the same ones).
    ///
    /// # Errors
    /// As [`evaluate`].
    pub fn validate(&self, params: &ParamSet) -> Result<EvalReport> {
        evaluate(
            &self.hyper,
            self.model,
            &self.head,
            params,
            self.validation,
            self.validation_tasks,
            self.hyper.eval_inner_steps,
        )
    }
}

/// A NaN or Inf anywhere in the meta-gradient is an error naming the
/// iteration.
fn check_gradients(iteration: u64, grads: &ParamSet) -> Result<()> {
    for (_, g) in grads.iter() {
        let sum = g
            .sum_all()?
            .to_dtype(candle_core::DType::F64)?
            .to_scalar::<f64>()?;
        if !sum.is_finite() {
            return Err(Error::NonFinite {
                iteration,
                what: "meta-gradient",
                value: sum,
            });
        }
    }
    Ok(())
}

/// Everything that defines a run (what `--resume` and `meta eval` rebuild).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunSpec {
    /// Algorithm and hyper-parameters.
    pub hyper: Hyper,
    /// The model.
    pub model: ModelSpec,
    /// The tasks.
    pub task: TaskSpec,
    /// The run's seed (initialisation and tasks).
    pub seed: u64,
    /// Validate every this many iterations (0: never).
    pub validate_every: u64,
    /// Tasks per validation.
    pub validation_tasks: usize,
}

/// How often [`Trainer::run`] checkpoints, and how (e.g.
/// [`crate::checkpoint::saver`]).
pub struct CheckpointPolicy<'a> {
    /// Checkpoint every this many iterations (and always at the end).
    pub every: u64,
    /// Writes the state.
    pub save: &'a dyn Fn(&TrainState) -> Result<()>,
}

impl<M: Functional> Trainer<'_, M> {
    /// Runs from `state.iteration` to the configured number of iterations,
    /// validating every `spec.validate_every` iterations and checkpointing
    /// per `checkpoint`; `on_step` sees every iteration and every new record.
    ///
    /// # Errors
    /// The first error of [`Self::step`], [`Self::validate`] or the checkpoint's
    /// `save`; the iterations done before it stay in `state`.
    pub fn run(
        &self,
        spec: &RunSpec,
        state: &mut TrainState,
        checkpoint: Option<&CheckpointPolicy>,
        on_step: &mut dyn FnMut(&StepReport, Option<&Record>),
    ) -> Result<()> {
        let (mut loss_sum, mut steps) = (0.0, 0u64);
        while state.iteration < self.hyper.iterations {
            let report = self.step(state)?;
            (loss_sum, steps) = (loss_sum + report.loss, steps + 1);
            let done = state.iteration;
            let last = done == self.hyper.iterations;
            let mut record = None;
            if spec.validate_every > 0 && (done.is_multiple_of(spec.validate_every) || last) {
                let validation = self.validate(&state.params)?;
                state.history.push(Record {
                    iteration: done,
                    train_loss: loss_sum / steps as f64,
                    validation,
                });
                (loss_sum, steps) = (0.0, 0);
                record = state.history.last();
            }
            if let Some(policy) = checkpoint {
                if last || (policy.every > 0 && done.is_multiple_of(policy.every)) {
                    (policy.save)(state)?;
                }
            }
            on_step(&report, record);
        }
        Ok(())
    }
}
