//! A trained run read back from its folder, its final test on held-out
//! tasks, and Lake et al.'s one-shot runs.

use crate::algorithm::Algorithm;
use crate::checkpoint::{self, RunSpec};
#[cfg(feature = "fewshot")]
use crate::error::Error;
use crate::error::Result;
use crate::eval::{evaluate, EvalReport};
#[cfg(feature = "fewshot")]
use crate::fewshot::LakeRuns;
use crate::model::MetaModel;
use crate::tasks::TaskSpec;
use huashi_net::ParamSet;
use serde::Serialize;
use std::path::Path;

/// A trained run read back from its folder: specification, model and the
/// meta-learned parameters.
pub struct TrainedRun {
    /// The run's specification.
    pub spec: RunSpec,
    /// The model.
    pub model: MetaModel,
    /// The meta-learned parameters.
    pub params: ParamSet,
}

/// One line of a test report: the support size and the estimate.
#[derive(Debug, Clone, Serialize)]
pub struct TestRow {
    /// Support size K.
    pub shots: usize,
    /// Mean ± 95 % CI over the test tasks.
    pub report: EvalReport,
}

impl TrainedRun {
    /// Reads the run in `dir` (a folder written by the trainer), checking the
    /// run's budget before building its model.
    ///
    /// # Errors
    /// A missing, malformed or inconsistent checkpoint, or a run over the
    /// budget.
    pub fn load(dir: &Path) -> Result<Self> {
        let (state, (model, params)) = checkpoint::read_consistent(dir, |state| {
            crate::budget::check_run(&state.spec)?;
            let (model, fresh) = state.spec.model.build(state.spec.seed)?;
            let fresh = state.spec.hyper.initial_params(fresh)?;
            let params = checkpoint::load_params(dir, state, &fresh)?;
            Ok((model, params))
        })?;
        Ok(TrainedRun {
            spec: state.spec,
            model,
            params,
        })
    }

    /// The default support sizes and inner steps of the final test: the
    /// run's (sinusoids: K = 5, 10 after 1 and 10 steps); Prototypical
    /// Networks take no steps.
    pub fn test_defaults(&self) -> (Vec<usize>, Vec<usize>) {
        let spec = &self.spec;
        let shots = match spec.task {
            TaskSpec::Omniglot { shots, .. }
            | TaskSpec::Images { shots, .. }
            | TaskSpec::Sinusoid { shots, .. } => shots,
        };
        if spec.hyper.algorithm == Algorithm::Protonet {
            return (vec![shots], vec![0]);
        }
        match spec.task {
            TaskSpec::Sinusoid { .. } => (vec![5, 10], vec![1, 10]),
            TaskSpec::Omniglot { .. } | TaskSpec::Images { .. } => {
                (vec![shots], vec![spec.hyper.eval_inner_steps])
            }
        }
    }

    /// The test family with `shots` support examples (sinusoids: 100 query
    /// points, to draw and score the whole curve).
    pub fn test_task(&self, shots: usize) -> TaskSpec {
        match &self.spec.task {
            TaskSpec::Sinusoid { .. } => TaskSpec::Sinusoid {
                shots,
                queries: 100,
            },
            TaskSpec::Omniglot {
                ways,
                queries,
                data_dir,
                images,
                ..
            } => TaskSpec::Omniglot {
                ways: *ways,
                shots,
                queries: *queries,
                data_dir: data_dir.clone(),
                images: images.clone(),
            },
            TaskSpec::Images {
                ways,
                queries,
                data,
                ..
            } => TaskSpec::Images {
                ways: *ways,
                shots,
                queries: *queries,
                data: data.clone(),
            },
        }
    }

    /// Test reports for each support size in `shots` and each number of
    /// inner steps in `steps`, on `tasks` held-out tasks.
    ///
    /// # Errors
    /// A test batch over the budget, unreadable task data, or a failed
    /// adaptation.
    pub fn test(&self, shots: &[usize], steps: &[usize], tasks: usize) -> Result<Vec<TestRow>> {
        let mut rows = Vec::new();
        let head = self.model.head_names();
        let spec = &self.spec;
        for &k in shots {
            let task = self.test_task(k);
            // Evaluation keeps no meta-gradient graph: first order's cost.
            let algorithm = match spec.hyper.algorithm {
                Algorithm::Protonet => Algorithm::Protonet,
                _ => Algorithm::Fomaml,
            };
            let batch = spec.hyper.meta_batch;
            crate::budget::check_batch(&task, &spec.model, algorithm, batch, 1)?;
            let sources = task.sources(spec.seed)?;
            for &s in steps {
                let test = sources.test.as_ref();
                let report = evaluate(
                    &spec.hyper,
                    &self.model,
                    &head,
                    &self.params,
                    test,
                    tasks,
                    s,
                )?;
                rows.push(TestRow { shots: k, report });
            }
        }
        Ok(rows)
    }

    #[cfg(feature = "fewshot")]
    /// The 20 one-shot runs of Lake et al. (Science 2015), each a 20-way
    /// task: the error rate per run and over all runs after `steps` inner
    /// steps (Prototypical Networks take any number of ways; the other
    /// algorithms need a model trained with as many ways as the runs).
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] for a sinusoid run or a head with another
    /// number of ways; a failed adaptation.
    pub fn lake_runs(&self, runs: &LakeRuns, steps: usize) -> Result<LakeReport> {
        use crate::algorithm::LossKind;
        use crate::eval::score_tasks;
        let tasks = runs.tasks(&candle_core::Device::Cpu)?;
        let first = tasks.first().map(|t| t.support.y.dim(0)).transpose()?;
        let ways = first.unwrap_or(0);
        let lake_size = crate::images::ImageSettings::omniglot().size;
        let trained = match &self.spec.task {
            TaskSpec::Omniglot { ways, images, .. } if images.size == lake_size => *ways,
            other => return Err(Error::InvalidConfig {
                what: "checkpoint for the one-shot runs (needs Omniglot with 28×28 drawings, not sinusoid regression or an image folder)",
                value: format!("input shape {:?}", other.input_shape()),
            }),
        };
        if self.spec.hyper.algorithm != Algorithm::Protonet && trained != ways {
            return Err(Error::InvalidConfig {
                what: "ways of the head (the one-shot runs are 20-way: train with ways = 20, or use Prototypical Networks)",
                value: trained.to_string(),
            });
        }
        let mut hyper = self.spec.hyper.clone();
        hyper.loss = LossKind::CrossEntropy { ways };
        let steps = hyper.eval_steps(steps);
        let head = self.model.head_names();
        let (_, accuracies) = score_tasks(&hyper, &self.model, &head, &self.params, &tasks, steps)?;
        let per_run: Vec<f64> = accuracies
            .unwrap_or_default()
            .iter()
            .map(|a| 1.0 - a)
            .collect();
        let items = tasks
            .iter()
            .map(|t| t.query.y.dim(0))
            .sum::<candle_core::Result<usize>>()?;
        Ok(LakeReport {
            runs: tasks.len(),
            items,
            inner_steps: steps,
            error_rate: per_run.iter().sum::<f64>() / per_run.len().max(1) as f64,
            error_rate_per_run: per_run,
        })
    }
}

#[cfg(feature = "fewshot")]
/// The one-shot runs of Lake et al.: error rates per run and overall.
#[derive(Debug, Clone, Serialize)]
pub struct LakeReport {
    /// Runs scored.
    pub runs: usize,
    /// Test items over all runs.
    pub items: usize,
    /// Inner steps taken.
    pub inner_steps: usize,
    /// The error rate of each run.
    pub error_rate_per_run: Vec<f64>,
    /// The mean error rate.
    pub error_rate: f64,
}
