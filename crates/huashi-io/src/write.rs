//! The one way to write an output file.
//!
//! 1. the content goes to a temporary sibling `.<name>.huashi-tmp-<pid>-<n>`
//!    in the same folder (so the rename below never crosses file systems),
//!    or, for a library that creates the file by name, to `<name>` inside a
//!    temporary sibling folder of that name;
//! 2. the temporary file is flushed and `fsync`ed;
//! 3. it is renamed over the final name (atomic on POSIX file systems);
//! 4. the folder is `fsync`ed, so the rename itself survives a power loss.
//!
//! On any error the temporary file (or folder) is removed and [`Error::Write`] names the
//! final path and the cause. A failed write therefore never leaves a partial
//! file under the final name, and an existing file there stays as it was.

use crate::error::{Cause, Error, Result};
use crate::interrupt;
use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// Writes `bytes` to `path` atomically (see the module docs).
///
/// # Errors
/// [`Error::Write`] naming `path` when any step fails.
pub fn write_bytes(path: impl AsRef<Path>, bytes: &[u8]) -> Result<()> {
    write_with(path, |out| out.write_all(bytes))
}

/// Writes `path` atomically with the content `write` produces into a
/// buffered writer (see the module docs). The temporary file is written
/// through the handle that created it, never reopened by name, so an
/// interrupt that removes it cannot be undone by a later write.
///
/// # Errors
/// [`Error::Write`] naming `path` when `write` or any step fails.
pub fn write_with(
    path: impl AsRef<Path>,
    write: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> Result<()> {
    let path = path.as_ref();
    let (temporary, _registered) =
        interrupt::create_registered(|| temporary_sibling(path)).map_err(|e| failed(path, e))?;
    let result = (|| {
        let mut out = BufWriter::new(temporary.file.try_clone()?);
        write(&mut out)?;
        out.flush()?;
        temporary.file.sync_all()?;
        std::fs::rename(&temporary.path, path)?;
        sync_folder(path)
    })();
    result.map_err(|e| {
        let _ = std::fs::remove_file(&temporary.path);
        failed(path, e)
    })
}

/// Writes `path` atomically through a library that insists on creating
/// the file by name itself (candle's safetensors writer): `write` is given
/// `<folder>/.<name>.huashi-tmp-<pid>-<n>/<name>` inside a temporary
/// folder of its own; syncing, renaming and clean-up are done here. (A
/// folder, because an interrupt that removes it makes a later create by
/// that name fail instead of leaving a new file behind.)
///
/// # Errors
/// [`Error::Write`] naming `path` when `write` or any step fails.
pub fn write_through_path<E: Into<Cause>>(
    path: impl AsRef<Path>,
    write: impl FnOnce(&Path) -> std::result::Result<(), E>,
) -> Result<()> {
    let path = path.as_ref();
    let (folder, _registered) = interrupt::create_registered(|| {
        let folder = temporary_name(path)?;
        std::fs::create_dir(&folder)?;
        Ok(folder)
    })
    .map_err(|e| failed(path, e))?;
    let inner = folder.join(path.file_name().unwrap_or_default());
    let result = write(&inner).map_err(Into::into).and_then(|()| {
        File::open(&inner)?.sync_all()?;
        std::fs::rename(&inner, path)?;
        sync_folder(path).map_err(Into::into)
    });
    let _ = std::fs::remove_dir_all(&folder);
    result.map_err(|cause| Error::Write {
        path: path.to_path_buf(),
        cause,
    })
}

fn failed(path: &Path, cause: std::io::Error) -> Error {
    Error::Write {
        path: path.to_path_buf(),
        cause: cause.into(),
    }
}

/// Moves a folder that was filled under a temporary name (a download's
/// staging folder) to its final name the same way: every file and folder
/// in it is synced, it is renamed to `to` (which must not exist), and the
/// folder holding `to` is synced.
///
/// # Errors
/// [`Error::Write`] naming `to` when any step fails; `from` is left for the
/// caller to remove.
pub fn commit_folder(from: &Path, to: &Path) -> Result<()> {
    let moved = sync_tree(from)
        .and_then(|()| std::fs::rename(from, to))
        .and_then(|()| sync_folder(to));
    moved.map_err(|cause| Error::Write {
        path: to.to_path_buf(),
        cause: cause.into(),
    })
}

/// Syncs every file and folder under `dir`, and `dir` itself.
fn sync_tree(dir: &Path) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        if entry.file_type()?.is_dir() {
            sync_tree(&entry.path())?;
        } else {
            File::open(entry.path())?.sync_all()?;
        }
    }
    if cfg!(unix) {
        File::open(dir)?.sync_all()?;
    }
    Ok(())
}

/// The marker in every temporary file name this module writes.
const TEMPORARY_MARKER: &str = ".huashi-tmp-";

/// Whether `name` is a temporary file name of this module.
pub fn is_temporary(name: &str) -> bool {
    name.starts_with('.') && name.contains(TEMPORARY_MARKER)
}

/// `.<name>.huashi-tmp-<pid>-<n>` beside `path` (a name not yet used).
fn temporary_name(path: &Path) -> std::io::Result<PathBuf> {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let name = path.file_name().ok_or_else(|| {
        std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "the path has no file name",
        )
    })?;
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let temporary = format!(
        ".{}{TEMPORARY_MARKER}{}-{n}",
        name.to_string_lossy(),
        std::process::id()
    );
    Ok(path.with_file_name(temporary))
}

/// A temporary file beside its final name, created and open for writing.
struct Temporary {
    path: PathBuf,
    file: File,
}

impl AsRef<Path> for Temporary {
    fn as_ref(&self) -> &Path {
        &self.path
    }
}

/// Creates the temporary sibling of `path` (it must not exist yet).
fn temporary_sibling(path: &Path) -> std::io::Result<Temporary> {
    let path = temporary_name(path)?;
    let file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&path)?;
    Ok(Temporary { path, file })
}

/// Syncs the folder holding `path`, so that a rename into it is durable.
fn sync_folder(path: &Path) -> std::io::Result<()> {
    let folder = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    if cfg!(unix) {
        File::open(folder)?.sync_all()?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn temporary_is_a_hidden_sibling() {
        let t = temporary_name(Path::new("run/state.json")).unwrap();
        assert_eq!(t.parent(), Some(Path::new("run")));
        let name = t.file_name().unwrap().to_string_lossy().to_string();
        assert!(name.starts_with(".state.json.huashi-tmp-"), "{name}");
        assert!(is_temporary(&name));
        assert!(!is_temporary("state.json"));
        assert!(temporary_name(Path::new("/")).is_err());
    }
}
