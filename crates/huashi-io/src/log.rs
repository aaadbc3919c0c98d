//! An append-only log of text lines that a later run continues.
//!
//! A long job (a hyper-parameter search) records each finished unit of work
//! as one line, so that a run that is stopped, killed or loses power can be
//! resumed without redoing the work:
//!
//! - [`LineLog::create`] writes the first line (a header describing the job)
//!   atomically through [`crate::write_bytes`]; it refuses a path that
//!   exists ([`Error::Exists`]), so a new run never replaces a log.
//! - [`LineLog::resume`] reads the lines back. A last line without its
//!   newline is a write that a killed run left half done: it is dropped
//!   (the file is cut back to the last whole line) and its work is redone.
//! - [`LineLog::append`] writes one line with one `write` call, then
//!   `fdatasync`s, so every line before a crash is whole.
//!
//! While a `LineLog` is open it holds an exclusive `flock` on the file
//! ([`Error::Locked`] for a second process).

use crate::error::{Error, Result};
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// An open log; lines are appended through [`LineLog::append`].
#[derive(Debug)]
pub struct LineLog {
    path: PathBuf,
    file: Mutex<File>,
}

impl LineLog {
    /// Creates the log at `path` with `header` as its first line.
    ///
    /// # Errors
    /// [`Error::Exists`] when `path` exists; [`Error::Write`] when it cannot
    /// be written; [`Error::Locked`] when another process holds it.
    pub fn create(path: impl AsRef<Path>, header: &str) -> Result<Self> {
        let path = path.as_ref();
        if path.exists() {
            return Err(Error::Exists {
                path: path.to_path_buf(),
            });
        }
        crate::write_bytes(path, line(header).as_bytes())?;
        open(path)
    }

    /// Opens the log at `path` and returns its whole lines (the header
    /// first), without their newlines.
    ///
    /// # Errors
    /// [`Error::Read`] or [`Error::TooLarge`] when it cannot be read,
    /// [`Error::Locked`] when another process holds it, [`Error::Write`]
    /// when a torn last line cannot be cut off.
    pub fn resume(path: impl AsRef<Path>) -> Result<(Self, Vec<String>)> {
        let path = path.as_ref();
        let log = open(path)?;
        let text = crate::read_to_string_capped(path, "a log file")?;
        let whole = text.rfind('\n').map_or(0, |i| i + 1);
        if whole < text.len() {
            let file = log.file.lock().unwrap_or_else(|e| e.into_inner());
            file.set_len(whole as u64)
                .and_then(|()| file.sync_data())
                .map_err(|cause| write_failed(path, cause))?;
        }
        let lines = text[..whole].lines().map(str::to_owned).collect();
        Ok((log, lines))
    }

    /// Appends `text` as one line and syncs it to the disk.
    ///
    /// # Errors
    /// [`Error::Write`] naming the log.
    pub fn append(&self, text: &str) -> Result<()> {
        let mut file = self.file.lock().unwrap_or_else(|e| e.into_inner());
        file.write_all(line(text).as_bytes())
            .and_then(|()| file.sync_data())
            .map_err(|cause| write_failed(&self.path, cause))
    }

    /// The log's path.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// `text` with its newline; a newline inside it would split the record, so
/// it is escaped as the two characters `\n`.
fn line(text: &str) -> String {
    format!("{}\n", text.replace('\n', "\\n"))
}

/// Opens `path` for appending and takes its lock.
fn open(path: &Path) -> Result<LineLog> {
    let file = OpenOptions::new()
        .read(true)
        .append(true)
        .open(path)
        .map_err(|cause| Error::Read {
            path: path.to_path_buf(),
            cause,
        })?;
    if let Err(cause) = crate::lock::try_lock(&file) {
        if cause.kind() == std::io::ErrorKind::WouldBlock {
            return Err(Error::Locked {
                path: path.to_path_buf(),
                holder: None,
            });
        }
        return Err(Error::Lock {
            path: path.to_path_buf(),
            cause,
        });
    }
    Ok(LineLog {
        path: path.to_path_buf(),
        file: Mutex::new(file),
    })
}

fn write_failed(path: &Path, cause: std::io::Error) -> Error {
    Error::Write {
        path: path.to_path_buf(),
        cause: cause.into(),
    }
}
