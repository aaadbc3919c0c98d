//! The error type of `huashi-io`: every variant names the path at fault.

use std::path::PathBuf;

/// A cause carried as text, so that errors of any library (candle, image,
/// safetensors) fit one variant and print on one line.
pub type Cause = Box<dyn std::error::Error + Send + Sync>;

/// Everything that can go wrong writing, locking or reading a file.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Writing an output failed; the final path is unchanged.
    #[error("writing {}: {cause}", path.display())]
    Write {
        /// The final path (not the temporary one).
        path: PathBuf,
        /// What failed.
        cause: Cause,
    },
    /// Reading an input failed.
    #[error("reading {}: {cause}", path.display())]
    Read {
        /// The path.
        path: PathBuf,
        /// What failed.
        cause: std::io::Error,
    },
    /// An input is larger than the limit for its kind.
    #[error(
        "{} is larger than the {limit}-byte limit for {what} \
         (raise it with the environment variable {variable})",
        path.display()
    )]
    TooLarge {
        /// The path.
        path: PathBuf,
        /// What the file is (e.g. "a CSV file").
        what: &'static str,
        /// The limit in bytes.
        limit: u64,
        /// The environment variable that raises the limit.
        variable: &'static str,
    },
    /// A product of sizes does not fit 64 bits.
    #[error("{what} overflows 64 bits (the {operation} of {operands:?})")]
    Overflow {
        /// What was being sized.
        what: String,
        /// "product" or "sum".
        operation: &'static str,
        /// The numbers multiplied or added.
        operands: Vec<u64>,
    },
    /// A command would need more memory than the limit.
    #[error(
        "{what} would need {}, more than the limit of {} \
         (raise it with the environment variable {variable}, in bytes)",
        crate::budget::human_bytes(*bytes),
        crate::budget::human_bytes(*limit)
    )]
    TooMuchMemory {
        /// What would need it.
        what: String,
        /// The estimate in bytes.
        bytes: u64,
        /// The limit in bytes.
        limit: u64,
        /// The environment variable that raises the limit.
        variable: &'static str,
    },
    /// Another process holds the lock of a folder or a log.
    #[error(
        "{} is in use by another huashi process{}; wait for it to finish or choose another path",
        path.display(),
        holder.map_or(String::new(), |pid| format!(" (pid {pid})"))
    )]
    Locked {
        /// The folder.
        path: PathBuf,
        /// The holder's process id, when it could be read.
        holder: Option<u32>,
    },
    /// Taking a folder's lock failed for another reason.
    #[error("locking {}: {cause}", path.display())]
    Lock {
        /// The lock file.
        path: PathBuf,
        /// What failed.
        cause: std::io::Error,
    },
    /// A new log would replace an existing file.
    #[error("{} already exists and is not replaced", path.display())]
    Exists {
        /// The path.
        path: PathBuf,
    },
    /// An output path names one of the inputs.
    #[error("the output {} is the input {}: choose another output path", output.display(), input.display())]
    OutputIsInput {
        /// The output path.
        output: PathBuf,
        /// The input it would replace.
        input: PathBuf,
    },
}

/// `Result` with [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
