//! [`TaskSpec`]: the task family of a run, serialisable (kept in
//! checkpoints), and the train / validation / test samplers it builds.
//!
//! Seeds: the training sampler uses the run's seed, validation and test use
//! independent streams of it, so the three never share a task. Omniglot's
//! validation and test tasks come from held-out characters (see
//! [`crate::fewshot::Omniglot::split`]); an image folder's from its `val`
//! and `test` classes (`crate::fewshot::folder`, loaded once here). With
//! rotations (Omniglot's default, off for image folders) every pool is
//! augmented with rotations by multiples of 90° as new classes.

use crate::algorithm::LossKind;
use crate::error::Result;
use crate::images::{ImageData, ImageSettings};
use crate::model::ModelSpec;
use crate::sampler::{SinusoidSampler, TaskSampler};
use crate::sinusoid::Sinusoid;
use huashi_rng::splitmix64 as mix;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// A task family.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum TaskSpec {
    /// Sinusoid regression (Finn et al. 2017).
    Sinusoid {
        /// Support points (K).
        shots: usize,
        /// Query points.
        queries: usize,
    },
    /// N-way K-shot Omniglot.
    Omniglot {
        /// Classes per task.
        ways: usize,
        /// Support drawings per class.
        shots: usize,
        /// Query drawings per class.
        queries: usize,
        /// A folder with the official files; `None`: the embedded subsets.
        data_dir: Option<PathBuf>,
        /// Size, filter and rotations of the drawings (1 channel, ink = 1;
        /// absent from older checkpoints: 28×28, Lanczos3, rotations).
        #[serde(default = "ImageSettings::omniglot")]
        images: ImageSettings,
    },
    /// N-way K-shot classification of an image folder.
    Images {
        /// Classes per task.
        ways: usize,
        /// Support images per class.
        shots: usize,
        /// Query images per class.
        queries: usize,
        /// The folder and how its images become examples.
        data: ImageData,
    },
}

/// The samplers of a run.
pub struct TaskSources {
    /// Meta-training tasks.
    pub train: Box<dyn TaskSampler>,
    /// Validation tasks.
    pub validation: Box<dyn TaskSampler>,
    /// Test tasks.
    pub test: Box<dyn TaskSampler>,
}

impl TaskSpec {
    /// The loss of the family.
    pub fn loss(&self) -> LossKind {
        match self {
            TaskSpec::Sinusoid { .. } => LossKind::Mse,
            TaskSpec::Omniglot { ways, .. } | TaskSpec::Images { ways, .. } => {
                LossKind::CrossEntropy { ways: *ways }
            }
        }
    }

    /// Ways (`None` for regression), shots and queries of one task.
    pub fn sizes(&self) -> (Option<usize>, usize, usize) {
        match *self {
            TaskSpec::Sinusoid { shots, queries } => (None, shots, queries),
            TaskSpec::Omniglot {
                ways,
                shots,
                queries,
                ..
            }
            | TaskSpec::Images {
                ways,
                shots,
                queries,
                ..
            } => (Some(ways), shots, queries),
        }
    }

    /// The shape `[C, H, W]` of one example's input: `[1, 1, 1]` for
    /// sinusoids, `[1, 28, 28]` for Omniglot by default, the settings'
    /// channels and size for an image folder.
    pub fn input_shape(&self) -> [usize; 3] {
        match self {
            TaskSpec::Sinusoid { .. } => [1, 1, 1],
            TaskSpec::Omniglot { images, .. } => [1, images.size[0], images.size[1]],
            TaskSpec::Images { data, .. } => data.images.shape(),
        }
    }

    /// The image settings of an image family (`None` for sinusoids).
    pub fn image_settings(&self) -> Option<&ImageSettings> {
        match self {
            TaskSpec::Sinusoid { .. } => None,
            TaskSpec::Omniglot { images, .. } => Some(images),
            TaskSpec::Images { data, .. } => Some(&data.images),
        }
    }

    /// The papers' model: the 1-40-40-1 ReLU MLP for sinusoids, the 4-block
    /// CNN with `hidden` filters for Omniglot and image folders, taking the
    /// input's channels (no head for an embedding).
    pub fn model(&self, hidden: usize, embedding: bool) -> ModelSpec {
        match self {
            TaskSpec::Sinusoid { .. } => ModelSpec::mlp(&[1, 40, 40, 1]),
            TaskSpec::Omniglot { ways, .. } | TaskSpec::Images { ways, .. } => {
                let outputs = (!embedding).then_some(*ways);
                ModelSpec::conv_net(self.input_shape(), hidden, 4, outputs)
            }
        }
    }

    /// The train, validation and test samplers for `seed`.
    ///
    /// # Errors
    /// A size out of range ([`TaskSpec::check`]), or data that cannot be
    /// loaded or does not hold enough classes and drawings.
    pub fn sources(&self, seed: u64) -> Result<TaskSources> {
        self.check()?;
        match self {
            TaskSpec::Sinusoid { shots, queries } => {
                let make = |stream: u64| -> Box<dyn TaskSampler> {
                    Box::new(SinusoidSampler {
                        sinusoid: Sinusoid::new(stream_seed(seed, stream)),
                        support: *shots,
                        query: *queries,
                    })
                };
                Ok(TaskSources {
                    train: make(0),
                    validation: make(1),
                    test: make(2),
                })
            }
            TaskSpec::Omniglot {
                ways,
                shots,
                queries,
                data_dir,
                images,
            } => {
                let sizes = [*ways, *shots, *queries];
                omniglot_sources(seed, sizes, data_dir.as_deref(), images)
            }
            TaskSpec::Images {
                ways,
                shots,
                queries,
                data,
            } => folder_sources(seed, [*ways, *shots, *queries], data),
        }
    }
}

/// The Omniglot samplers of a run: the background split into training,
/// validation and test classes.
#[cfg(feature = "fewshot")]
fn omniglot_sources(
    seed: u64,
    sizes: [usize; 3],
    data_dir: Option<&std::path::Path>,
    images: &ImageSettings,
) -> Result<TaskSources> {
    use crate::fewshot::{Omniglot, SplitConfig};

    let omniglot = match data_dir {
        Some(dir) => Omniglot::load_with(dir, images)?,
        None => Omniglot::embedded_with(images)?,
    };
    let split = omniglot.split(&SplitConfig::default())?;
    let pools = [split.train, split.validation, split.test];
    pool_sources(seed, sizes, pools, images.rotations)
}

/// The samplers of an image folder: its `train`, `val` and `test` classes.
#[cfg(feature = "fewshot")]
fn folder_sources(seed: u64, sizes: [usize; 3], data: &ImageData) -> Result<TaskSources> {
    let splits = crate::fewshot::load_folder(&data.root, &data.images)?;
    let pools = [splits.train, splits.validation, splits.test];
    pool_sources(seed, sizes, pools, data.images.rotations)
}

/// Samplers of the train, validation and test pools (rotated if asked),
/// each checked to hold enough classes and images (naming the split).
#[cfg(feature = "fewshot")]
fn pool_sources(
    seed: u64,
    [ways, shots, queries]: [usize; 3],
    pools: [crate::fewshot::ClassPool; 3],
    rotations: bool,
) -> Result<TaskSources> {
    use crate::fewshot::{folder::SPLITS, ClassPool, DataError, FewShotSampler, PoolSampler};

    let make = |pool: ClassPool, stream: u64| -> Result<Box<dyn TaskSampler>> {
        let pool = if rotations {
            pool.with_rotations()?
        } else {
            pool
        };
        if pool.len() < ways {
            let split = SPLITS[stream as usize].to_string();
            let classes = pool.len();
            return Err(DataError::SplitTooSmall {
                split,
                ways,
                classes,
            }
            .into());
        }
        let sampler = FewShotSampler {
            ways,
            shots,
            queries,
            seed: stream_seed(seed, stream),
        };
        sampler.check(&pool)?;
        Ok(Box::new(PoolSampler { sampler, pool }))
    };
    let [train, validation, test] = pools;
    Ok(TaskSources {
        train: make(train, 0)?,
        validation: make(validation, 1)?,
        test: make(test, 2)?,
    })
}

/// Without the `fewshot` feature there are no Omniglot tasks.
#[cfg(not(feature = "fewshot"))]
fn omniglot_sources(
    _seed: u64,
    _sizes: [usize; 3],
    _data_dir: Option<&std::path::Path>,
    _images: &ImageSettings,
) -> Result<TaskSources> {
    Err(crate::error::Error::InvalidConfig {
        what: "task family (Omniglot needs huashi-meta's `fewshot` feature)",
        value: "omniglot".into(),
    })
}

/// Without the `fewshot` feature there are no image-folder tasks.
#[cfg(not(feature = "fewshot"))]
fn folder_sources(_seed: u64, _sizes: [usize; 3], data: &ImageData) -> Result<TaskSources> {
    Err(crate::error::Error::InvalidConfig {
        what: "task family (image folders need huashi-meta's `fewshot` feature)",
        value: data.root.display().to_string(),
    })
}

/// The seed of stream `stream` of a run (stream 0 is the seed itself; 1 is
/// validation, 2 is test).
pub fn stream_seed(seed: u64, stream: u64) -> u64 {
    if stream == 0 {
        seed
    } else {
        mix(seed ^ mix(stream))
    }
}

/// "sinusoids, 10 shots + 10 queries", "Omniglot 5-way 1-shot, 1 query per
/// class, 1×28×28", "images in DIR 5-way 1-shot, …".
impl std::fmt::Display for TaskSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let [c, h, w] = self.input_shape();
        match (self, self.sizes()) {
            (TaskSpec::Sinusoid { .. }, (_, shots, queries)) => {
                write!(f, "sinusoids, {shots} shots + {queries} queries")
            }
            (_, (ways, shots, queries)) => {
                let ways = ways.unwrap_or(0);
                match self {
                    TaskSpec::Images { data, .. } => {
                        write!(f, "images in {}", data.root.display())?
                    }
                    _ => write!(f, "Omniglot")?,
                }
                write!(
                    f,
                    " {ways}-way {shots}-shot, {queries} queries per class, {c}×{h}×{w}"
                )
            }
        }
    }
}
