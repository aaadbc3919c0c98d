//! Temporary files and folders that must not outlive an interrupted run.
//!
//! Each temporary path is registered while it exists ([`register`] returns
//! a guard that unregisters it when dropped). [`remove_on_interrupt`]
//! installs a Ctrl-C / SIGTERM handler that removes every registered path
//! and exits with status 130, the shell's code for an interrupted command.

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

/// Registers `path` (a file or a folder) for removal on interrupt.
pub fn register(path: &Path) -> Registered {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let id = NEXT.fetch_add(1, Ordering::Relaxed);
    live().push((id, path.to_path_buf()));
    Registered { id }
}

impl Drop for Registered {
    fn drop(&mut self) {
        live().retain(|(id, _)| *id != self.id);
    }
}

fn live() -> std::sync::MutexGuard<'static, Vec<(u64, PathBuf)>> {
    LIVE.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Removes every registered path (what the interrupt handler does).
pub fn remove_registered() {
    for (_, path) in live().drain(..) {
        let removed = if path.is_dir() {
            std::fs::remove_dir_all(&path)
        } else {
            std::fs::remove_file(&path)
        };
        if let Err(e) = removed {
            if e.kind() != std::io::ErrorKind::NotFound {
                eprintln!("could not remove {}: {e}", path.display());
            }
        }
    }
}

/// Installs the Ctrl-C / SIGTERM handler: remove the registered paths, say
/// so on stderr, exit with status 130.
///
/// # Errors
/// When a handler is already installed or the signal cannot be caught.
pub fn remove_on_interrupt() -> Result<(), ctrlc::Error> {
    ctrlc::set_handler(|| {
        remove_registered();
        eprintln!("interrupted; temporary files removed");
        std::process::exit(130);
    })
}
