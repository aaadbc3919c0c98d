//! Faults provoked on purpose: a writer that fails after N bytes, a full
//! file system (a 64 kB tmpfs, when this process may mount one) and inputs
//! larger than the read limit. The folder lock has its own test binary
//! (`lock.rs`).

use huashi_io::Error;
use huashi_io::{ensure_not_input, read_capped, write_bytes, write_through_path, write_with};
use std::io::Write;
use std::path::Path;

/// The names in `dir`, sorted.
fn names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .collect();
    names.sort();
    names
}

/// A writer that accepts `left` bytes and then fails as a full disk does.
struct FailsAfter<'a> {
    inner: &'a mut dyn Write,
    left: usize,
}

impl Write for FailsAfter<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if self.left == 0 {
            return Err(std::io::Error::from_raw_os_error(libc_enospc()));
        }
        let n = buf.len().min(self.left);
        self.left -= n;
        self.inner.write(&buf[..n])
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

fn libc_enospc() -> i32 {
    28
}

#[test]
fn a_write_failing_after_n_bytes_leaves_the_old_file_and_no_temporary() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.json");
    write_bytes(&path, b"old content").unwrap();
    for fail_after in [0, 1, 5, 100_000] {
        let err = write_with(&path, |out| {
            let mut failing = FailsAfter {
                inner: out,
                left: fail_after,
            };
            failing.write_all(&vec![b'x'; 200_000])
        })
        .unwrap_err();
        let message = err.to_string();
        assert!(message.contains("state.json"), "{message}");
        assert!(message.contains("No space left"), "{message}");
        assert!(!message.contains('\n'));
        assert_eq!(std::fs::read(&path).unwrap(), b"old content");
        assert_eq!(names(dir.path()), ["state.json"]);
    }
}

#[test]
fn a_failing_path_writer_is_cleaned_up_and_named() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("params.safetensors");
    let err = write_through_path(&path, |temporary| {
        std::fs::write(temporary, b"half")?;
        Err::<(), _>(std::io::Error::other("the encoder gave up"))
    })
    .unwrap_err();
    assert!(matches!(err, Error::Write { .. }));
    assert!(
        err.to_string()
            .contains("params.safetensors: the encoder gave up"),
        "{err}"
    );
    assert!(names(dir.path()).is_empty());
}

#[test]
fn a_successful_write_replaces_the_file_whole() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("report.json");
    write_bytes(&path, b"first").unwrap();
    write_bytes(&path, b"second, longer").unwrap();
    assert_eq!(std::fs::read(&path).unwrap(), b"second, longer");
    assert_eq!(names(dir.path()), ["report.json"]);
}

#[test]
fn a_missing_folder_is_an_error_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("no-such-folder").join("plot.png");
    let err = write_bytes(&path, b"png").unwrap_err().to_string();
    assert!(err.contains("no-such-folder/plot.png"), "{err}");
    assert!(err.contains("No such file"), "{err}");
}

#[test]
fn a_full_disk_keeps_the_old_file_and_names_the_new_one() {
    let Some(dir) = huashi_io::testing::SmallFileSystem::mount(64) else {
        return;
    };
    let path = dir.path().join("sinusoid.png");
    write_bytes(&path, &[7u8; 20_000]).unwrap();
    let err = write_bytes(&path, &[9u8; 200_000]).unwrap_err().to_string();
    assert!(
        err.contains("sinusoid.png") && err.contains("No space left"),
        "{err}"
    );
    assert_eq!(std::fs::read(&path).unwrap(), vec![7u8; 20_000]);
    assert_eq!(names(dir.path()), ["sinusoid.png"]);
}

#[test]
fn an_endless_input_stops_at_the_limit() {
    // The default limit (512 MiB) bounds the memory; a regular file larger
    // than the limit is refused from its size alone.
    let err = read_capped("/dev/zero", "a CSV file")
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("/dev/zero") && err.contains("limit for a CSV file"),
        "{err}"
    );
    assert!(err.contains("HUASHI_MAX_INPUT_BYTES"), "{err}");
}

#[test]
fn a_folder_is_not_read_as_a_file() {
    let dir = tempfile::tempdir().unwrap();
    let err = read_capped(dir.path(), "a model").unwrap_err().to_string();
    assert!(err.contains("folder"), "{err}");
}

#[test]
fn an_output_that_is_an_input_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("weights.safetensors");
    std::fs::write(&input, b"w").unwrap();
    let dotted = dir.path().join(".").join("weights.safetensors");
    let err = ensure_not_input(&dotted, &[&input])
        .unwrap_err()
        .to_string();
    assert!(err.contains("is the input"), "{err}");
    let other = dir.path().join("bank.safetensors");
    ensure_not_input(&other, &[&input]).unwrap();
}

#[test]
fn a_staged_folder_is_moved_into_place_whole() {
    let dir = tempfile::tempdir().unwrap();
    let staging = dir.path().join(".staging");
    std::fs::create_dir_all(staging.join("alphabet/character")).unwrap();
    std::fs::write(staging.join("alphabet/character/01.png"), b"png").unwrap();
    let target = dir.path().join("images_background");
    huashi_io::commit_folder(&staging, &target).unwrap();
    assert_eq!(
        std::fs::read(target.join("alphabet/character/01.png")).unwrap(),
        b"png"
    );
    assert_eq!(names(dir.path()), ["images_background"]);
    // A target that holds files is never replaced.
    std::fs::create_dir_all(staging.join("other")).unwrap();
    let err = huashi_io::commit_folder(&staging, &target)
        .unwrap_err()
        .to_string();
    assert!(err.contains("images_background"), "{err}");
    assert!(target.join("alphabet/character/01.png").exists());
}
