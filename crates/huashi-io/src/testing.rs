//! For tests only (the `testing` feature): a small file system to fill,
//! and the case count and byte mutations the fuzz targets share.

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

/// The environment variable that sets how many cases each fuzz target runs.
pub const FUZZ_CASES_VARIABLE: &str = "HUASHI_FUZZ_CASES";

/// Cases per fuzz target: [`FUZZ_CASES_VARIABLE`], or `default` (each
/// target's default is sized to take a few seconds in the test suite).
pub fn fuzz_cases(default: u32) -> u32 {
    std::env::var(FUZZ_CASES_VARIABLE)
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(default)
}

/// A mutation of a valid file for fuzzing: each `(position, byte)` of
/// `writes` overwrites the byte at `position % len`, then `cut` (modulo
/// `len + 1`) truncates it.
pub fn mutate(valid: &[u8], writes: &[(usize, u8)], cut: Option<usize>) -> Vec<u8> {
    let mut bytes = valid.to_vec();
    if !bytes.is_empty() {
        for &(at, byte) in writes {
            let n = bytes.len();
            bytes[at % n] = byte;
        }
    }
    if let Some(cut) = cut {
        bytes.truncate(cut % (valid.len() + 1));
    }
    bytes
}
