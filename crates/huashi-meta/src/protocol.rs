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
//! Omniglot's network is the zoo's `maml_omniglot` ([`crate::NetworkSpec::ConvNet`])
//! with 64 filters, 5-way; any other is given by `RunOptions::model`. The
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
use crate::checkpoint::RunSpec;
use crate::error::{Error, Result};
use crate::image_options::ImageOptions;
use crate::tasks::TaskSpec;
use huashi_net::InitScheme;
use std::path::PathBuf;

mod network;
mod trained;
pub use network::ADDED_HEAD;
#[cfg(feature = "fewshot")]
pub use trained::LakeReport;
pub use trained::{TestRow, TrainedRun};

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
