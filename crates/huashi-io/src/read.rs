//! Bounded reads, and the check that an output is not an input.
//!
//! [`read_capped`] reads at most `limit + 1` bytes, so a huge file, a
//! device such as `/dev/zero` or a named pipe that never ends costs at most
//! the limit in memory before it is refused. The limit is
//! [`MAX_INPUT_BYTES_DEFAULT`] unless the environment variable
//! [`MAX_INPUT_BYTES_VARIABLE`] sets another number of bytes.

use crate::error::{Error, Result};
use std::io::Read;
use std::path::Path;

/// The environment variable that sets the read limit, in bytes.
pub const MAX_INPUT_BYTES_VARIABLE: &str = "HUASHI_MAX_INPUT_BYTES";
/// The default read limit: 512 MiB.
pub const MAX_INPUT_BYTES_DEFAULT: u64 = 512 << 20;

/// The read limit in force (see the module docs).
pub fn max_input_bytes() -> u64 {
    crate::budget::limit_from_env(MAX_INPUT_BYTES_VARIABLE, MAX_INPUT_BYTES_DEFAULT)
}

/// Reads the whole of `path` if it holds at most [`max_input_bytes`] bytes.
///
/// # Errors
/// [`Error::Read`] naming the path when it cannot be read;
/// [`Error::TooLarge`] naming it, `what` it is and the limit when it is
/// larger.
pub fn read_capped(path: impl AsRef<Path>, what: &'static str) -> Result<Vec<u8>> {
    let path = path.as_ref();
    let limit = max_input_bytes();
    let failed = |cause| Error::Read {
        path: path.to_path_buf(),
        cause,
    };
    let too_large = || Error::TooLarge {
        path: path.to_path_buf(),
        what,
        limit,
        variable: MAX_INPUT_BYTES_VARIABLE,
    };
    let file = std::fs::File::open(path).map_err(failed)?;
    let metadata = file.metadata().map_err(failed)?;
    if metadata.is_dir() {
        return Err(failed(std::io::Error::other("it is a folder, not a file")));
    }
    if metadata.len() > limit {
        return Err(too_large());
    }
    let mut bytes = Vec::with_capacity(metadata.len() as usize);
    file.take(limit.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(failed)?;
    if bytes.len() as u64 > limit {
        return Err(too_large());
    }
    Ok(bytes)
}

/// [`read_capped`] as UTF-8 text.
///
/// # Errors
/// As [`read_capped`], and [`Error::Read`] when the file is not UTF-8.
pub fn read_to_string_capped(path: impl AsRef<Path>, what: &'static str) -> Result<String> {
    let path = path.as_ref();
    String::from_utf8(read_capped(path, what)?).map_err(|e| Error::Read {
        path: path.to_path_buf(),
        cause: std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!("not UTF-8 text (byte {})", e.utf8_error().valid_up_to()),
        ),
    })
}

/// Fails when `output` is the same file as one of `inputs` (same device and
/// inode, so links and `./a` vs `a` are caught). Paths that do not exist
/// yet cannot be an input.
///
/// # Errors
/// [`Error::OutputIsInput`] naming both paths.
pub fn ensure_not_input(output: &Path, inputs: &[&Path]) -> Result<()> {
    for input in inputs {
        if same_file(output, input) {
            return Err(Error::OutputIsInput {
                output: output.to_path_buf(),
                input: input.to_path_buf(),
            });
        }
    }
    Ok(())
}

#[cfg(unix)]
fn same_file(a: &Path, b: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (std::fs::metadata(a), std::fs::metadata(b)) {
        (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
        _ => false,
    }
}

#[cfg(not(unix))]
fn same_file(a: &Path, b: &Path) -> bool {
    match (std::fs::canonicalize(a), std::fs::canonicalize(b)) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}
