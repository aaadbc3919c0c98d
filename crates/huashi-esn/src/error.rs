//! The crate's error type.
//!
//! Every fallible function returns [`Result`]; each [`Error`] variant carries
//! the offending values so that a message can be shown to a user as is.

/// Everything that can go wrong in `huashi-esn`.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A series or a sequence had no elements.
    #[error("{what} is empty")]
    EmptySeries {
        /// What was empty (e.g. "series", "training data").
        what: &'static str,
    },

    /// A value was NaN or infinite.
    #[error("{what} has a non-finite value {value} at index {index}")]
    NonFinite {
        /// Which data held the value.
        what: &'static str,
        /// Position of the value (row-major for matrices: `row * cols + col`).
        index: usize,
        /// The value itself.
        value: f64,
    },

    /// A value was outside the domain of a transform (e.g. `log` of 0).
    #[error("{what} needs positive values, found {value} at index {index}")]
    NonPositive {
        /// The transform that failed.
        what: &'static str,
        /// Position of the value.
        index: usize,
        /// The value itself.
        value: f64,
    },

    /// A hyper-parameter was out of range.
    #[error("invalid {name} = {value}: {reason}")]
    InvalidParameter {
        /// Name of the parameter, as spelled in the config struct.
        name: &'static str,
        /// The value given.
        value: f64,
        /// What the value must satisfy.
        reason: &'static str,
    },

    /// Two sizes that must agree did not.
    #[error("dimension mismatch for {what}: expected {expected}, found {found}")]
    DimensionMismatch {
        /// What was being checked.
        what: &'static str,
        /// The size required.
        expected: usize,
        /// The size given.
        found: usize,
    },

    /// A forecast horizon was not shorter than the data.
    #[error("horizon {horizon} is too long for data of length {len}")]
    HorizonTooLong {
        /// The horizon asked for.
        horizon: usize,
        /// The number of data points available.
        len: usize,
    },

    /// The washout swallowed a whole training sequence.
    #[error("washout {washout} leaves nothing of sequence {sequence} (length {len})")]
    WashoutTooLong {
        /// The washout length.
        washout: usize,
        /// Index of the sequence.
        sequence: usize,
        /// Its length.
        len: usize,
    },

    /// The readout's linear system could not be solved.
    #[error("singular {size}x{size} system (ridge = {ridge}): {reason}")]
    SingularSystem {
        /// Number of unknowns per output.
        size: usize,
        /// Ridge parameter used.
        ridge: f64,
        /// Why the solve was refused.
        reason: &'static str,
    },

    /// The recurrent matrix has spectral radius zero and cannot be rescaled.
    #[error("recurrent matrix of {units} units has spectral radius 0 (nilpotent); change seed or connectivity")]
    ZeroSpectralRadius {
        /// Reservoir size.
        units: usize,
    },

    /// The iterative eigenvalue solver did not converge.
    #[error("spectral radius did not converge after {iterations} restarts (relative residual {residual:e})")]
    NoConvergence {
        /// Number of restarts done.
        iterations: usize,
        /// Last relative residual of the dominant Ritz pair.
        residual: f64,
    },

    /// A dense eigenvalue decomposition failed.
    #[error("eigenvalue decomposition failed for a {size}x{size} matrix")]
    Eigen {
        /// Matrix size.
        size: usize,
    },

    /// A generated series diverged.
    #[error("{what} diverged at step {step}")]
    Diverged {
        /// Which generator or run diverged.
        what: &'static str,
        /// Step at which a non-finite value appeared.
        step: usize,
    },

    /// A CSV file named no such column.
    #[error("column {name:?} not found; available: {available:?}")]
    MissingColumn {
        /// The column asked for.
        name: String,
        /// The columns the header names.
        available: Vec<String>,
    },

    /// A CSV cell was empty or absent.
    #[error("missing value at line {line}, column {column:?}")]
    MissingValue {
        /// 1-based line in the file (the header is line 1).
        line: usize,
        /// Column name.
        column: String,
    },

    /// A CSV cell was not a number.
    #[error("non-numeric value {value:?} at line {line}, column {column:?}")]
    InvalidNumber {
        /// 1-based line in the file (the header is line 1).
        line: usize,
        /// Column name.
        column: String,
        /// The cell's text.
        value: String,
    },

    /// Malformed CSV structure (e.g. an unterminated quote or no header).
    #[error("malformed CSV at line {line}: {reason}")]
    Csv {
        /// 1-based line in the file.
        line: usize,
        /// What was wrong.
        reason: &'static str,
    },

    /// A series gave too few pairs for the splits asked for.
    #[error("{pairs} pairs are too few for {what}")]
    TooFewPairs {
        /// Number of pairs available.
        pairs: usize,
        /// What they were to be split into.
        what: &'static str,
    },

    /// A model file was not a valid `huashi-esn` file.
    #[error("invalid model file: {reason}")]
    Format {
        /// What was wrong.
        reason: String,
    },

    /// A line of a search log was malformed or belongs to another search.
    #[error("{} line {line}: {reason}", path.display())]
    Log {
        /// The log file.
        path: std::path::PathBuf,
        /// The line (1 is the header).
        line: usize,
        /// What was wrong.
        reason: String,
    },

    /// A name (of a benchmark system, a normalisation, …) that is not known.
    #[error("unknown {what} {name:?}; known: {known}")]
    UnknownName {
        /// What was being named.
        what: &'static str,
        /// The name given.
        name: String,
        /// The names accepted.
        known: String,
    },
    /// A file of labelled sequences was malformed (the error names it).
    #[error(transparent)]
    Data(#[from] crate::classify::DataError),

    /// Writing or reading a file failed (the error names it).
    #[error(transparent)]
    File(#[from] huashi_io::Error),
}

/// `Result` with this crate's [`Error`].
pub type Result<T> = std::result::Result<T, Error>;

/// Checks that every value is finite, naming the first offender.
///
/// # Errors
/// [`Error::NonFinite`] naming the first offender.
pub fn check_finite(what: &'static str, values: &[f64]) -> Result<()> {
    match values.iter().position(|v| !v.is_finite()) {
        Some(index) => Err(Error::NonFinite {
            what,
            index,
            value: values[index],
        }),
        None => Ok(()),
    }
}

/// Checks that a series is non-empty and finite.
///
/// # Errors
/// [`Error::EmptySeries`] or [`Error::NonFinite`].
pub fn check_series(what: &'static str, values: &[f64]) -> Result<()> {
    if values.is_empty() {
        return Err(Error::EmptySeries { what });
    }
    check_finite(what, values)
}

/// Builds an [`Error::InvalidParameter`].
pub(crate) fn invalid(name: &'static str, value: f64, reason: &'static str) -> Error {
    Error::InvalidParameter {
        name,
        value,
        reason,
    }
}
