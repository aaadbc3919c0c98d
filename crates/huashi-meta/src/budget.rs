//! Sizes of a run checked before anything is built: every count is in
//! range, every product is checked ([`huashi_io::checked_product`]), and
//! the memory a meta-batch needs is estimated and compared with the limit
//! ([`huashi_io::check_memory`]).
//!
//! The estimate of one task is `examples × (input + activations × (steps +
//! 1))` f32 values: the inputs, and the activations the graph keeps for
//! every inner step (second-order MAML differentiates through all of them).
//! A CNN block keeps about [`CONV_FLOATS_PER_FILTER_PIXEL`] floats per
//! filter and input pixel; an MLP twice its layer sizes.

use crate::checkpoint::RunSpec;
use crate::error::{Error, Result};
use crate::model::ModelSpec;
use crate::tasks::TaskSpec;
use huashi_io::{check_memory, checked_product, checked_sum};

/// Floats a CNN keeps per filter and input pixel (all blocks, forward and
/// backward).
pub const CONV_FLOATS_PER_FILTER_PIXEL: u64 = 6;

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
        let (shots, queries) = match self {
            TaskSpec::Sinusoid { shots, queries } => (*shots, *queries),
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
            } => {
                if *ways == 0 {
                    return Err(invalid("ways (must be at least 1)", ways));
                }
                (*shots, *queries)
            }
        };
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
        let what = "the examples of one task (ways × (shots + queries))";
        match self {
            TaskSpec::Sinusoid { shots, queries } => {
                Ok(checked_sum(what, &[*shots as u64, *queries as u64])?)
            }
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
            } => {
                let per_class = checked_sum(what, &[*shots as u64, *queries as u64])?;
                Ok(checked_product(what, &[*ways as u64, per_class])?)
            }
        }
    }

    /// "5 ways × (1 shots + 15 queries)" or "10 shots + 10 queries".
    fn describe(&self) -> String {
        match self {
            TaskSpec::Sinusoid { shots, queries } => format!("{shots} shots + {queries} queries"),
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
            } => format!("{ways} ways × ({shots} shots + {queries} queries)"),
        }
    }

    /// Input floats of one example: the product of [`TaskSpec::input_shape`].
    ///
    /// # Errors
    /// An overflow error when it does not fit 64 bits.
    fn input_floats(&self) -> Result<u64> {
        let shape = self.input_shape().map(|s| s as u64);
        Ok(checked_product("the input of one example", &shape)?)
    }
}

impl ModelSpec {
    /// Checks the sizes: every layer, filter count, block and output at
    /// least 1.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] naming the size and the value.
    pub fn check(&self) -> Result<()> {
        match self {
            ModelSpec::Mlp { sizes } if sizes.len() < 2 || sizes.contains(&0) => Err(invalid(
                "MLP layer sizes (at least 2, each ≥ 1)",
                format!("{sizes:?}"),
            )),
            ModelSpec::ConvNet { in_channels: 0, .. } => Err(invalid("input channels", 0)),
            ModelSpec::ConvNet { hidden: 0, .. } => {
                Err(invalid("hidden filters (must be at least 1)", 0))
            }
            ModelSpec::ConvNet { blocks: 0, .. } => {
                Err(invalid("CNN blocks (must be at least 1)", 0))
            }
            ModelSpec::ConvNet {
                outputs: Some(0), ..
            } => Err(invalid("ways (must be at least 1)", 0)),
            _ => Ok(()),
        }
    }

    /// Activation floats one example of `input` floats keeps per pass.
    fn activation_floats(&self, input: u64) -> Result<u64> {
        let what = "the activations of one example";
        match self {
            ModelSpec::Mlp { sizes } => {
                let sizes: Vec<u64> = sizes.iter().map(|&s| s as u64).collect();
                let units = checked_sum(what, &sizes)?;
                Ok(checked_product(what, &[2, units])?)
            }
            ModelSpec::ConvNet { hidden, .. } => Ok(checked_product(
                what,
                &[*hidden as u64, input, CONV_FLOATS_PER_FILTER_PIXEL],
            )?),
        }
    }
}

/// Bytes `tasks` tasks of `task` need at once on `model` with `steps`
/// inner steps.
///
/// # Errors
/// An overflow error when a product does not fit 64 bits.
pub fn batch_bytes(task: &TaskSpec, model: &ModelSpec, tasks: usize, steps: usize) -> Result<u64> {
    let what = "the memory of a meta-batch";
    let input = task.input_floats()?;
    let kept = checked_product(what, &[model.activation_floats(input)?, steps as u64 + 1])?;
    let per_example = checked_sum(what, &[input, kept])?;
    Ok(checked_product(
        what,
        &[tasks as u64, task.examples()?, per_example, 4],
    )?)
}

/// Checks the sizes of `task` and `model` and that `tasks` tasks at once
/// with `steps` inner steps fit the memory limit.
///
/// # Errors
/// [`Error::InvalidConfig`] for a size out of range; [`Error::File`] for an
/// overflow or an estimate above the limit.
pub fn check_batch(task: &TaskSpec, model: &ModelSpec, tasks: usize, steps: usize) -> Result<()> {
    task.check()?;
    model.check()?;
    let bytes = batch_bytes(task, model, tasks, steps)?;
    let what = format!("{tasks} tasks of {}", task.describe());
    Ok(check_memory(&what, bytes)?)
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
    let batch = spec.hyper.meta_batch;
    let train_steps = spec.hyper.train_steps();
    // Evaluation frees each inner step's graph: one step's worth at a time.
    check_batch(&spec.task, &spec.model, batch, train_steps.max(1))
}
