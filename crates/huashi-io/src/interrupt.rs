//! Temporary files and folders that must not outlive an interrupted run.
//!
//! Each temporary path is created and registered in one step under the
//! registry's lock ([`create_registered`] returns a guard that unregisters
//! it when dropped). [`remove_on_interrupt`] installs a Ctrl-C / SIGTERM
//! handler that takes the same lock, removes every registered path and
//! exits with status 130 (the shell's code for an interrupted command)
//! without releasing it. So a path is either made and registered before
//! the handler runs, and removed by it, or never made.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

static LIVE: Mutex<Vec<(u64, PathBuf)>> = Mutex::new(Vec::new());

/// Keeps a path registered until dropped.
#[derive(Debug)]
#[must_use = "the path is unregistered when the guard is dropped"]
pub struct Registered {
    id: u64,
}

/// Runs `create`, which makes a temporary file or folder and returns it
/// (its path, or a guard such as `tempfile::TempDir`), and registers that
/// path for removal on interrupt, both under the registry's lock.
///
/// # Errors
/// `create`'s error; nothing is registered then.
pub fn create_registered<T: AsRef<Path>>(
    create: impl FnOnce() -> std::io::Result<T>,
) -> std::io::Result<(T, Registered)> {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let mut live = live();
    let created = create()?;
    let id = NEXT.fetch_add(1, Ordering::Relaxed);
    live.push((id, created.as_ref().to_path_buf()));
    Ok((created, Registered { id }))
}

impl Drop for Registered {
    fn drop(&mut self) {
        live().retain(|(id, _)| *id != self.id);
    }
}

fn live() -> std::sync::MutexGuard<'static, Vec<(u64, PathBuf)>> {
    LIVE.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Removes every registered path; the lock stays taken while the caller
/// holds the returned guard.
fn remove_registered() -> std::sync::MutexGuard<'static, Vec<(u64, PathBuf)>> {
    let mut live = live();
    for (_, path) in live.drain(..) {
        if let Err(e) = remove(&path) {
            if e.kind() != std::io::ErrorKind::NotFound {
                eprintln!("could not remove {}: {e}", path.display());
            }
        }
    }
    live
}

/// Removes a temporary file, or a temporary folder and what is in it. A
/// folder is first renamed, so that a writer still creating a file in it
/// by its old name fails instead of adding one after the removal.
pub(crate) fn remove(path: &Path) -> std::io::Result<()> {
    if !path.is_dir() {
        return std::fs::remove_file(path);
    }
    let mut doomed = path.as_os_str().to_owned();
    doomed.push(".removing");
    let doomed = PathBuf::from(doomed);
    std::fs::rename(path, &doomed)?;
    let mut result = std::fs::remove_dir_all(&doomed);
    for _ in 0..10 {
        if result.is_ok() {
            break;
        }
        result = std::fs::remove_dir_all(&doomed);
    }
    result
}

/// Installs the Ctrl-C / SIGTERM handler: remove the registered paths, say
/// so on stderr, exit with status 130.
///
/// # Errors
/// When a handler is already installed or the signal cannot be caught.
pub fn remove_on_interrupt() -> Result<(), ctrlc::Error> {
    ctrlc::set_handler(|| {
        let _held_until_exit = remove_registered();
        eprintln!("interrupted; temporary files removed");
        std::process::exit(130);
    })
}
