//! The papers' protocols: default hyper-parameters per algorithm and task
//! family, and the final test of a trained run.
//!
//! Defaults (Finn, Abbeel & Levine 2017, §5; Nichol et al. 2018 for Reptile):
//!
//! | | sinusoid | Omniglot | Reptile |
//! |---|---|---|---|
//! | shots K / queries | 10 / 10 | 1 / = shots | as the family |
//! | inner rate α | 0.01 | 0.4 | 0.1 |
//! | inner steps (train / test) | 1 / 10 | 1 / 3 | 5 / 10 |
//! | meta rate (Adam; Reptile ε₀) | 1e-3 | 1e-3 | 1.0 |
//! | meta-batch | 25 | 32 | as the family |
//! | iterations | 70 000 | 60 000 | as the family |
//!
//! An image folder (`images`) takes Omniglot's protocol, its images as they
//! are (or resized, `image_size`) without rotations; Omniglot's drawings are
//! 28×28 with rotations unless told otherwise (see [`crate::images`]).
//!
//! Omniglot's network is [`crate::ConvNet`] with 64 filters, 5-way. The
//! final test reports mean ± 95 % CI over held-out tasks (≥ 600 in the
//! literature) for each support size and number of inner steps.
//!
//! ```
//! use huashi_meta::protocol::{RunOptions, TaskFamily};
//! use huashi_meta::Algorithm;
//!
//! let spec = RunOptions::new(Algorithm::Reptile, TaskFamily::Omniglot).spec()?;
//! assert_eq!((spec.hyper.inner_lr, spec.hyper.inner_steps, spec.hyper.meta_lr), (0.1, 5, 1.0));
//! let short = RunOptions { iterations: Some(100), ..RunOptions::new(Algorithm::Maml, TaskFamily::Sinusoid) };
//! assert_eq!((short.spec()?.hyper.inner_lr, short.spec()?.hyper.iterations), (0.01, 100));
//! // An Omniglot option given for sinusoids is an error, not ignored.
//! let wrong = RunOptions { ways: Some(20), ..RunOptions::new(Algorithm::Maml, TaskFamily::Sinusoid) };
//! assert!(wrong.spec().is_err());
//! # Ok::<(), huashi_meta::Error>(())
//! ```

use crate::algorithm::{Algorithm, Hyper};
use crate::checkpoint::{self, RunSpec};
use crate::error::{Error, Result};
use crate::eval::{evaluate, EvalReport};
#[cfg(feature = "fewshot")]
use crate::fewshot::LakeRuns;
use crate::image_options::ImageOptions;
use crate::model::MetaModel;
use crate::tasks::TaskSpec;
use huashi_net::{InitScheme, ParamSet};
use serde::Serialize;
use std::path::{Path, PathBuf};

mod network;
pub use network::ADDED_HEAD;

/// The task families with a protocol.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TaskFamily {
    /// Sinusoid regression (Finn et al. 2017).
    Sinusoid,
    /// N-way K-shot Omniglot.
    Omniglot,
    /// N-way K-shot classification of an image folder (`data_dir`).
    Images,
}

/// A training run as a user describes it: every `None` takes the paper's
/// default for the algorithm and task family (see the module docs).
#[derive(Debug, Clone, PartialEq)]
pub struct RunOptions {
    /// The algorithm.
    pub algorithm: Algorithm,
    /// The task family.
    pub family: TaskFamily,
    /// Classes per task (Omniglot only).
    pub ways: Option<usize>,
    /// Support examples per class (Omniglot) or support points (sinusoid).
    pub shots: Option<usize>,
    /// Query examples per class (Omniglot) or query points (sinusoid).
    pub queries: Option<usize>,
    /// Inner steps during meta-training.
    pub inner_steps: Option<usize>,
    /// Inner steps at evaluation.
    pub eval_inner_steps: Option<usize>,
    /// Inner learning rate α.
    pub inner_lr: Option<f64>,
    /// Adam's meta learning rate (Reptile: the initial outer step ε₀).
    pub meta_lr: Option<f64>,
    /// Tasks per meta-batch.
    pub meta_batch: Option<usize>,
    /// Meta-iterations.
    pub iterations: Option<u64>,
    /// Filters per block of the Omniglot CNN (Omniglot only).
    pub hidden: Option<usize>,
    /// Folder with the official Omniglot files, or the image folder (not
    /// for sinusoids; needed for image folders).
    pub data_dir: Option<PathBuf>,
    /// The network: a zoo name or a TOML/JSON description file (`None`:
    /// the papers' network for the family).
    pub model: Option<String>,
    /// Prototypical Networks' embedding end point (`None`: the output).
    pub embedding: Option<String>,
    /// The nodes ANIL adapts (empty: the last node with parameters).
    pub adapt_only: Vec<String>,
    /// Add a linear head of the tasks' width to `model`'s last node.
    pub head: bool,
    /// Weight initialisation (`None`: Xavier-uniform for the papers' CNN,
    /// as learn2learn; PyTorch's defaults for the MLP and for a `model`).
    pub init: Option<InitScheme>,
    /// Image size, filter, channels, normalisation and rotations (not for
    /// sinusoids; channels and normalisation for image folders only).
    pub images: ImageOptions,
    /// Seed of initialisation and task sampling.
    pub seed: u64,
    /// Validate every this many iterations (0: never).
    pub validate_every: u64,
    /// Tasks per validation.
    pub validation_tasks: usize,
}

impl RunOptions {
    /// The paper's protocol for `algorithm` on `family`: seed 0, validation
    /// every 500 iterations on 100 tasks.
    pub fn new(algorithm: Algorithm, family: TaskFamily) -> Self {
        RunOptions {
            algorithm,
            family,
            ways: None,
            shots: None,
            queries: None,
            inner_steps: None,
            eval_inner_steps: None,
            inner_lr: None,
            meta_lr: None,
            meta_batch: None,
            iterations: None,
            hidden: None,
            data_dir: None,
            model: None,
            embedding: None,
            adapt_only: Vec::new(),
            head: false,
            init: None,
            images: ImageOptions::default(),
            seed: 0,
            validate_every: 500,
            validation_tasks: 100,
        }
    }

    /// The run specification with the defaults filled in.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] when an image option (`ways`, `hidden`,
    /// `data_dir`, the image settings) is given for sinusoids, or an image
    /// folder's option (`channels`, `normalize`) for Omniglot, where it
    /// would be ignored, or no `data_dir` for image folders; for image
    /// folders without `image_size` or `channels`, the errors of reading
    /// the first image ([`crate::fewshot::probe`]).
    pub fn spec(&self) -> Result<RunSpec> {
        self.check_given()?;
        let task = self.task()?;
        task.check()?;
        Ok(RunSpec {
            model: self.model_spec(&task)?,
            hyper: self.hyper(&task),
            task,
            seed: self.seed,
            validate_every: self.validate_every,
            validation_tasks: self.validation_tasks,
        })
    }

    /// Fails on an option the family would ignore.
    fn check_given(&self) -> Result<()> {
        let mut image = vec![
            ("ways", self.ways.is_some()),
            ("hidden", self.hidden.is_some()),
            ("data_dir", self.data_dir.is_some()),
        ];
        image.extend(self.images.given(false));
        let (what, ignored) = match self.family {
            TaskFamily::Sinusoid => (
                "an image-folder or Omniglot option given for sinusoids (the model is the 1-40-40-1 MLP)",
                image,
            ),
            TaskFamily::Omniglot => (
                "an image-folder option given for Omniglot (1 channel, ink = 1)",
                self.images.given(true),
            ),
            TaskFamily::Images if self.data_dir.is_none() => {
                return Err(Error::InvalidConfig {
                    what: "image-folder task without a data folder (give data_dir, --data-dir)",
                    value: "images".into(),
                })
            }
            TaskFamily::Images => return Ok(()),
        };
        match ignored.iter().find(|(_, given)| *given) {
            Some((name, _)) => Err(Error::InvalidConfig {
                what,
                value: (*name).to_string(),
            }),
            None => Ok(()),
        }
    }

    /// `sinusoid` or `omniglot`, whichever is this family's (image folders
    /// take Omniglot's).
    fn pick<T>(&self, given: Option<T>, sinusoid: T, omniglot: T) -> T {
        given.unwrap_or(match self.family {
            TaskFamily::Sinusoid => sinusoid,
            TaskFamily::Omniglot | TaskFamily::Images => omniglot,
        })
    }

    fn task(&self) -> Result<TaskSpec> {
        let shots = self.pick(self.shots, 10, 1);
        let (ways, queries) = (self.ways.unwrap_or(5), self.queries.unwrap_or(shots));
        Ok(match self.family {
            TaskFamily::Sinusoid => TaskSpec::Sinusoid {
                shots,
                queries: self.queries.unwrap_or(10),
            },
            TaskFamily::Omniglot => TaskSpec::Omniglot {
                ways,
                shots,
                queries,
                data_dir: self.data_dir.clone(),
                images: self.images.omniglot(),
            },
            TaskFamily::Images => TaskSpec::Images {
                ways,
                shots,
                queries,
                data: self
                    .images
                    .folder(self.data_dir.clone().unwrap_or_default())?,
            },
        })
    }

    fn hyper(&self, task: &TaskSpec) -> Hyper {
        let reptile = self.algorithm == Algorithm::Reptile;
        let if_reptile =
            |given: Option<f64>, yes: f64, no: f64| given.unwrap_or(if reptile { yes } else { no });
        let eval_steps = if reptile { 10 } else { self.pick(None, 10, 3) };
        Hyper {
            algorithm: self.algorithm,
            loss: task.loss(),
            inner_lr: if_reptile(self.inner_lr, 0.1, self.pick(None, 0.01, 0.4)),
            inner_steps: self.inner_steps.unwrap_or(if reptile { 5 } else { 1 }),
            eval_inner_steps: self.eval_inner_steps.unwrap_or(eval_steps),
            meta_lr: if_reptile(self.meta_lr, 1.0, 1e-3),
            meta_batch: self.pick(self.meta_batch, 25, 32),
            iterations: self.pick(self.iterations, 70_000, 60_000),
        }
    }
}

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
