//! Sizes of a run checked before anything is built: every count is in
//! range, every product is checked ([`huashi_io::checked_product`]), and
//! the memory a meta-batch needs is estimated and compared with the limit
//! ([`huashi_io::check_memory`]).
//!
//! The memory estimate is [`crate::cost::IterationCost`]'s, from the
//! network description and the algorithm.

use crate::algorithm::Algorithm;
use crate::checkpoint::RunSpec;
use crate::cost::IterationCost;
use crate::error::{Error, Result};
use crate::model::{ModelSpec, NetworkSpec};
use crate::tasks::TaskSpec;
use huashi_io::{check_memory, checked_product, checked_sum};

fn invalid(what: &'static str, value: impl ToString) -> Error {
    Error::InvalidConfig {
        what,
        value: value.to_string(),
    }
}

impl TaskSpec {
    /// Checks the sizes: at least one way, shot and query point,
    /// `shots + queries` without overflow, and the image settings
    /// ([`crate::images::ImageSettings::check`]; Omniglot: 1 channel, no
    /// normalisation).
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] naming the option and the value.
    pub fn check(&self) -> Result<()> {
        self.check_images()?;
        let (ways, shots, queries) = self.sizes();
        if ways == Some(0) {
            return Err(invalid("ways (must be at least 1)", 0));
        }
        if shots == 0 {
            return Err(invalid("shots (must be at least 1)", shots));
        }
        if queries == 0 {
            return Err(invalid("queries (must be at least 1)", queries));
        }
        self.examples().map(|_| ())
    }

    /// Checks the image settings ([`crate::images::ImageSettings::check`];
    /// Omniglot: 1 channel, resized, no normalisation).
    fn check_images(&self) -> Result<()> {
        if let TaskSpec::Omniglot { images, .. } = self {
            if images.channels != 1 || images.normalize.is_some() || !images.resize {
                return Err(invalid(
                    "Omniglot image settings (1 channel, resized, ink = 1 without normalisation)",
                    format!(
                        "{} channels, resize {}, normalisation {}",
                        images.channels,
                        images.resize,
                        images.normalize.is_some()
                    ),
                ));
            }
        }
        self.image_settings()
            .map_or(Ok(()), |images| images.check())
    }

    /// Examples (support and query) of one task.
    ///
    /// # Errors
    /// An overflow error when the count does not fit 64 bits.
    pub fn examples(&self) -> Result<u64> {
        let (support, query) = self.support_query()?;
        let what = "the examples of one task (ways × (shots + queries))";
        Ok(checked_sum(what, &[support, query])?)
    }

    /// Support and query examples of one task (`ways × shots`,
    /// `ways × queries`; shots and queries for regression).
    ///
    /// # Errors
    /// An overflow error when a count does not fit 64 bits.
    pub fn support_query(&self) -> Result<(u64, u64)> {
        let (ways, shots, queries) = self.sizes();
        let what = "the examples of one task (ways × (shots + queries))";
        let ways = ways.unwrap_or(1) as u64;
        Ok((
            checked_product(what, &[ways, shots as u64])?,
            checked_product(what, &[ways, queries as u64])?,
        ))
    }

    /// "5 ways × (1 shots + 15 queries)" or "10 shots + 10 queries".
    fn describe(&self) -> String {
        match self.sizes() {
            (Some(ways), shots, queries) => {
                format!("{ways} ways × ({shots} shots + {queries} queries)")
            }
            (None, shots, queries) => format!("{shots} shots + {queries} queries"),
        }
    }
}

impl ModelSpec {
    /// Checks the sizes of the papers' networks: every layer, filter count,
    /// block and output at least 1 (a description is checked by its
    /// analysis).
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] naming the size and the value.
    pub fn check(&self) -> Result<()> {
        match &self.network {
            NetworkSpec::Mlp { sizes } if sizes.len() < 2 || sizes.contains(&0) => Err(invalid(
                "MLP layer sizes (at least 2, each ≥ 1)",
                format!("{sizes:?}"),
            )),
            NetworkSpec::ConvNet { in_channels: 0, .. } => Err(invalid("input channels", 0)),
            NetworkSpec::ConvNet { hidden: 0, .. } => {
                Err(invalid("hidden filters (must be at least 1)", 0))
            }
            NetworkSpec::ConvNet { blocks: 0, .. } => {
                Err(invalid("CNN blocks (must be at least 1)", 0))
            }
            NetworkSpec::ConvNet {
                outputs: Some(0), ..
            } => Err(invalid("ways (must be at least 1)", 0)),
            _ if self.input.contains(&0) => Err(invalid(
                "input shape (every size at least 1)",
                format!("{:?}", self.input),
            )),
            _ => Ok(()),
        }
    }
}

/// Checks the sizes of `task` and `model` and that `tasks` tasks at once
/// with `steps` inner steps of `algorithm` fit the memory limit
/// ([`IterationCost::estimate`]).
///
/// # Errors
/// [`Error::InvalidConfig`] for a size out of range; [`Error::File`] for an
/// overflow or an estimate above the limit; the network's analysis errors.
pub fn check_batch(
    task: &TaskSpec,
    model: &ModelSpec,
    algorithm: Algorithm,
    tasks: usize,
    steps: usize,
) -> Result<()> {
    task.check()?;
    model.check()?;
    let cost = IterationCost::estimate(model, task, algorithm, tasks, steps)?;
    let what = format!("{tasks} tasks of {}", task.describe());
    Ok(check_memory(&what, cost.peak_bytes)?)
}

/// Checks a whole run (from options or from `state.json`): the
/// hyper-parameters, the task and model sizes, the validation tasks, and
/// the memory of a training meta-batch.
///
/// # Errors
/// The first rule broken, naming the value.
pub fn check_run(spec: &RunSpec) -> Result<()> {
    spec.task.check()?;
    spec.model.check()?;
    spec.hyper.check()?;
    if spec.validate_every > 0 && spec.validation_tasks == 0 {
        return Err(invalid("validation tasks (must be at least 1)", 0));
    }
    let hyper = &spec.hyper;
    let (batch, steps) = (hyper.meta_batch, hyper.train_steps());
    check_batch(&spec.task, &spec.model, hyper.algorithm, batch, steps)
}
