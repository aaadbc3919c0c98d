//! The folder lock and the line log (which locks its file), in a test
//! binary of their own.
//!
//! `flock` belongs to the open file description, and a child process forked
//! by another thread shares that description until it calls `exec`. The
//! tmpfs test in `faults.rs` spawns `mount`, so beside it a released lock
//! could still be held for a moment by that child; here no test spawns one.

use huashi_io::{Error, FolderLock, LineLog};

#[test]
fn a_held_folder_refuses_a_second_lock_naming_the_holder() {
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join("run");
    let first = FolderLock::acquire(&run).unwrap();
    assert_eq!(first.folder(), run.as_path());
    let err = FolderLock::acquire(&run).unwrap_err();
    match &err {
        Error::Locked { path, holder } => {
            assert_eq!(path, &run);
            assert_eq!(*holder, Some(std::process::id()));
        }
        other => panic!("expected Locked, got {other:?}"),
    }
    assert!(err
        .to_string()
        .contains(&format!("pid {}", std::process::id())));
    drop(first);
    FolderLock::acquire(&run).expect("a released lock can be taken again");
}

#[test]
fn a_log_resumes_its_whole_lines_and_drops_a_torn_one() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("trials.jsonl");
    let log = LineLog::create(&path, "header").unwrap();
    log.append("one").unwrap();
    log.append("two\nlines").unwrap();
    // A second process (or handle) is refused while the log is open.
    assert!(matches!(LineLog::resume(&path), Err(Error::Locked { .. })));
    drop(log);
    let err = LineLog::create(&path, "again").unwrap_err();
    assert!(matches!(err, Error::Exists { .. }), "{err}");
    assert!(err.to_string().contains("trials.jsonl"), "{err}");
    // A killed writer left half a line.
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open(&path)
        .unwrap();
    std::io::Write::write_all(&mut f, b"thr").unwrap();
    drop(f);
    let (log, lines) = LineLog::resume(&path).unwrap();
    assert_eq!(lines, ["header", "one", "two\\nlines"]);
    log.append("three").unwrap();
    drop(log);
    let text = std::fs::read_to_string(&path).unwrap();
    assert_eq!(text, "header\none\ntwo\\nlines\nthree\n");
}

#[test]
fn a_missing_log_cannot_be_resumed() {
    let dir = tempfile::tempdir().unwrap();
    let err = LineLog::resume(dir.path().join("none.jsonl")).unwrap_err();
    assert!(err.to_string().contains("none.jsonl"), "{err}");
}
