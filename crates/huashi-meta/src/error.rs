//! The error type of this crate.

/// Errors of `huashi-meta`.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Second-order meta-gradients were requested but candle detaches
    /// gradients on this thread.
    #[error("second-order MAML needs candle to keep the graph of gradients: set the environment variable CANDLE_GRAD_DO_NOT_DETACH=1 before the first backward pass of this thread (or use first-order MAML); otherwise the meta-gradient would silently be first order")]
    SecondOrderDisabled,
    /// A configuration value is out of range.
    #[error("invalid {what}: {value}")]
    InvalidConfig {
        /// The field.
        what: &'static str,
        /// The offending value, as text.
        value: String,
    },
    /// A tensor of the wrong shape or dtype.
    #[error("{what}: expected {expected}, got shape {got:?}")]
    ShapeMismatch {
        /// The operand.
        what: &'static str,
        /// The expected shape (and dtype), as text.
        expected: String,
        /// The shape given.
        got: Vec<usize>,
    },
    /// The model's output node does not fit the tasks.
    #[error("the model's output node `{node}` gives {found}, but {needed}; {hint}")]
    OutputShape {
        /// The node.
        node: String,
        /// Its output shape.
        found: String,
        /// What the tasks need.
        needed: String,
        /// How to fix it.
        hint: &'static str,
    },
    /// A meta-batch without tasks.
    #[error("the meta-batch is empty")]
    EmptyMetaBatch,
    /// Two parameter sets do not have the same names in the same order.
    #[error("parameter sets differ: expected {expected:?}, got {got:?}")]
    ParamMismatch {
        /// The names of the reference set.
        expected: Vec<String>,
        /// The names of the other set.
        got: Vec<String>,
    },
    /// A checkpoint's parameters do not fit the model.
    #[error(
        "checkpoint does not fit the model: parameter {name} expected {expected}, found {found}"
    )]
    CheckpointMismatch {
        /// The parameter.
        name: String,
        /// What the model expects (a shape, or "absent").
        expected: String,
        /// What the checkpoint holds (a shape, or "missing").
        found: String,
    },
    /// A malformed, foreign or unreadable checkpoint.
    #[error("bad checkpoint {path}: {reason}")]
    Checkpoint {
        /// The file.
        path: String,
        /// What is wrong.
        reason: String,
    },
    /// A folder cannot be used as a new run's folder.
    #[error("cannot use {path} as the run folder: {reason}")]
    RunFolder {
        /// The folder.
        path: String,
        /// Why not.
        reason: String,
    },
    /// Training produced NaN or Inf.
    #[error("training diverged at iteration {iteration}: the {what} is {value} (try a smaller learning rate)")]
    NonFinite {
        /// The iteration (0-based).
        iteration: u64,
        /// What was not finite.
        what: &'static str,
        /// Its value.
        value: f64,
    },
    /// Writing, reading or locking a file failed (the error names it).
    #[error(transparent)]
    File(#[from] huashi_io::Error),
    /// An error of the few-shot data layer (loading, sampling, fetching).
    #[error(transparent)]
    #[cfg(feature = "fewshot")]
    Data(#[from] crate::fewshot::DataError),
    /// An error from `huashi-conv` (convolution geometry or kernels).
    #[error(transparent)]
    Conv(#[from] huashi_conv::Error),
    /// An error from `huashi-net` (boxed: it is large).
    #[error(transparent)]
    Net(Box<huashi_net::Error>),
    /// An error from candle.
    #[error(transparent)]
    Candle(#[from] candle_core::Error),
}

impl From<huashi_net::Error> for Error {
    fn from(error: huashi_net::Error) -> Self {
        Error::Net(Box::new(error))
    }
}

/// `Result` with [`Error`].
pub type Result<T> = std::result::Result<T, Error>;
