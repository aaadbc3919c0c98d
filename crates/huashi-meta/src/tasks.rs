//! [`TaskSpec`]: the task family of a run, serialisable (kept in
//! checkpoints), and the train / validation / test samplers it builds.
//!
//! Seeds: the training sampler uses the run's seed, validation and test use
//! independent streams of it, so the three never share a task. Omniglot's
//! validation and test tasks come from held-out characters (see
//! [`crate::fewshot::Omniglot::split`]); every pool is augmented with
//! rotations by multiples of 90° as new classes.

use crate::algorithm::LossKind;
use crate::error::Result;
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
            TaskSpec::Omniglot { ways, .. } => LossKind::CrossEntropy { ways: *ways },
        }
    }

    /// The input `[C, H, W]` of one example (`[1, 1, 1]` for sinusoids).
    pub fn input_shape(&self) -> [usize; 3] {
        match self {
            TaskSpec::Sinusoid { .. } => [1, 1, 1],
            TaskSpec::Omniglot { .. } => [1, crate::task::SIDE, crate::task::SIDE],
        }
    }

    /// The papers' model: the 1-40-40-1 ReLU MLP for sinusoids, the 4-block
    /// CNN with `hidden` filters for Omniglot (no head for an embedding).
    pub fn model(&self, hidden: usize, embedding: bool) -> ModelSpec {
        match self {
            TaskSpec::Sinusoid { .. } => ModelSpec::mlp(&[1, 40, 40, 1]),
            TaskSpec::Omniglot { ways, .. } => {
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
            } => omniglot_sources(seed, [*ways, *shots, *queries], data_dir.as_deref()),
        }
    }
}

/// The Omniglot samplers of a run: the background split into training,
/// validation and test classes, each pool augmented with rotations.
#[cfg(feature = "fewshot")]
fn omniglot_sources(
    seed: u64,
    [ways, shots, queries]: [usize; 3],
    data_dir: Option<&std::path::Path>,
) -> Result<TaskSources> {
    use crate::fewshot::{ClassPool, FewShotSampler, Omniglot, PoolSampler, SplitConfig};

    let omniglot = match data_dir {
        Some(dir) => Omniglot::load(dir)?,
        None => Omniglot::embedded()?,
    };
    let split = omniglot.split(&SplitConfig::default())?;
    let make = |pool: &ClassPool, stream: u64| -> Result<Box<dyn TaskSampler>> {
        let sampler = FewShotSampler {
            ways,
            shots,
            queries,
            seed: stream_seed(seed, stream),
        };
        let pool = pool.with_rotations();
        sampler.check(&pool)?;
        Ok(Box::new(PoolSampler { sampler, pool }))
    };
    Ok(TaskSources {
        train: make(&split.train, 0)?,
        validation: make(&split.validation, 1)?,
        test: make(&split.test, 2)?,
    })
}

/// Without the `fewshot` feature there are no Omniglot tasks.
#[cfg(not(feature = "fewshot"))]
fn omniglot_sources(
    _seed: u64,
    _sizes: [usize; 3],
    _data_dir: Option<&std::path::Path>,
) -> Result<TaskSources> {
    Err(crate::error::Error::InvalidConfig {
        what: "task family (Omniglot needs huashi-meta's `fewshot` feature)",
        value: "omniglot".into(),
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
