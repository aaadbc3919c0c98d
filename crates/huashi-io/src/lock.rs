//! One process at a time in a run folder.
//!
//! [`FolderLock::acquire`] takes an exclusive, non-blocking advisory lock
//! (`flock(LOCK_EX | LOCK_NB)`) on `<dir>/.huashi.lock` and writes its
//! process id into that file. The kernel drops the lock when the holder
//! exits, however it exits, so a lock left by a killed process never
//! blocks the next run; the file itself stays and is reused.

use crate::error::{Error, Result};
use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, Write};
use std::path::{Path, PathBuf};

/// The lock file's name inside a run folder.
pub const LOCK_FILE: &str = ".huashi.lock";

/// Exclusive ownership of a folder; released when dropped.
#[derive(Debug)]
pub struct FolderLock {
    folder: PathBuf,
    _file: File,
}

impl FolderLock {
    /// Creates `folder` if needed and takes its lock without waiting.
    ///
    /// # Errors
    /// [`Error::Locked`] naming the folder and the holder's process id when
    /// another process holds it; [`Error::Lock`] when the folder or the lock
    /// file cannot be created.
    pub fn acquire(folder: impl AsRef<Path>) -> Result<Self> {
        let folder = folder.as_ref().to_path_buf();
        let path = folder.join(LOCK_FILE);
        let failed = |cause| Error::Lock {
            path: path.clone(),
            cause,
        };
        std::fs::create_dir_all(&folder).map_err(failed)?;
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(failed)?;
        if let Err(e) = try_lock(&file) {
            if e.kind() == std::io::ErrorKind::WouldBlock {
                let holder = holder(&mut file);
                return Err(Error::Locked {
                    path: folder,
                    holder,
                });
            }
            return Err(failed(e));
        }
        // One fixed-width write in place (no truncation first), so a
        // process reading the holder sees a whole process id.
        file.rewind().map_err(failed)?;
        let record = format!("{:<PID_WIDTH$}\n", std::process::id());
        file.write_all(record.as_bytes()).map_err(failed)?;
        file.set_len(record.len() as u64).map_err(failed)?;
        Ok(FolderLock {
            folder,
            _file: file,
        })
    }

    /// Removes the temporary files of [`crate::write`] that a killed writer
    /// left in the folder (no other process writes there while the lock is
    /// held); returns how many.
    ///
    /// # Errors
    /// [`Error::Write`] naming a temporary file that cannot be removed.
    pub fn remove_stale_temporaries(&self) -> Result<usize> {
        let entries = std::fs::read_dir(&self.folder).map_err(|cause| Error::Read {
            path: self.folder.clone(),
            cause,
        })?;
        let mut removed = 0;
        for entry in entries.flatten() {
            if crate::write::is_temporary(&entry.file_name().to_string_lossy()) {
                crate::interrupt::remove(&entry.path()).map_err(|cause| Error::Write {
                    path: entry.path(),
                    cause: cause.into(),
                })?;
                removed += 1;
            }
        }
        Ok(removed)
    }

    /// The folder this lock owns.
    pub fn folder(&self) -> &Path {
        &self.folder
    }
}

/// The width of the process id record in the lock file.
const PID_WIDTH: usize = 10;

/// The process id written by the holder. A holder that has just taken the
/// lock may not have written it yet, so this looks again for up to 50 ms.
fn holder(file: &mut File) -> Option<u32> {
    for _ in 0..10 {
        let mut text = String::new();
        let read = file.rewind().and_then(|()| file.read_to_string(&mut text));
        if let Some(pid) = read.ok().and_then(|_| text.trim().parse().ok()) {
            return Some(pid);
        }
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    None
}

/// Takes `file`'s exclusive advisory lock without waiting.
#[cfg(unix)]
pub(crate) fn try_lock(file: &File) -> std::io::Result<()> {
    use std::os::unix::io::AsRawFd;
    // SAFETY: flock only reads the descriptor, which `file` keeps open.
    let status = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
    if status == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

#[cfg(not(unix))]
pub(crate) fn try_lock(_file: &File) -> std::io::Result<()> {
    Ok(())
}
