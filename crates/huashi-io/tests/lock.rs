//! The folder lock, in a test binary of its own.
//!
//! `flock` belongs to the open file description, and a child process forked
//! by another thread shares that description until it calls `exec`. The
//! tmpfs test in `faults.rs` spawns `mount`, so beside it a released lock
//! could still be held for a moment by that child; here no test spawns one.

use huashi_io::{Error, FolderLock};

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
