//! For tests only (the `testing` feature): a small file system to fill.

use std::path::Path;
use std::process::{Command, Stdio};

/// A tmpfs of a few kilobytes mounted on a fresh temporary folder, unmounted
/// when dropped: writes into it fail with "No space left on device".
#[derive(Debug)]
pub struct SmallFileSystem {
    dir: tempfile::TempDir,
}

impl SmallFileSystem {
    /// Mounts a tmpfs of `kb` kilobytes; `None` where this process may not
    /// mount one (not root). Panics under CI (the variable `CI` is set),
    /// which runs as root, so that the fault tests never skip there.
    pub fn mount(kb: u32) -> Option<Self> {
        let dir = tempfile::tempdir().ok()?;
        let status = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={kb}k"), "tmpfs"])
            .arg(dir.path())
            .stderr(Stdio::null())
            .status();
        if matches!(status, Ok(s) if s.success()) {
            return Some(SmallFileSystem { dir });
        }
        assert!(
            std::env::var("CI").is_err(),
            "CI must be able to mount a tmpfs"
        );
        eprintln!("skipped: cannot mount a tmpfs here (not root)");
        None
    }

    /// The mount point.
    pub fn path(&self) -> &Path {
        self.dir.path()
    }
}

impl Drop for SmallFileSystem {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(self.dir.path()).status();
    }
}
