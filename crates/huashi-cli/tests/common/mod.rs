//! What the CLI tests share: running the binary and checking a refusal.
// Each test binary uses its own part of this module.
#![allow(dead_code)]

use std::process::{Command, Output};

/// The largest u64, the most hostile size a user can type.
pub const MAX: &str = "18446744073709551615";

/// Runs the `huashi` binary with `args`.
pub fn huashi(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_huashi"))
        .args(args)
        .output()
        .expect("the huashi binary runs")
}

/// Runs `args` and returns its error, checking that it was refused
/// cleanly: exit status 1 (or clap's 2; never a panic, an abort or a
/// signal), within 20 s, on one line (clap's hint to try `--help` aside),
/// with no Debug dump, and naming `needle`.
pub fn refused(args: &[&str], needle: &str) -> String {
    let started = std::time::Instant::now();
    let output = huashi(args);
    let seconds = started.elapsed().as_secs_f64();
    let err = String::from_utf8_lossy(&output.stderr)
        .trim_end()
        .to_string();
    let code = output.status.code();
    assert!(
        matches!(code, Some(1 | 2)),
        "{args:?}: exit {code:?}: {err}"
    );
    assert!(
        err.contains(needle),
        "{args:?}: expected {needle:?} in {err}"
    );
    assert_eq!(error_lines(&err), 1, "{args:?}: not one line: {err}");
    assert!(
        !err.contains("panicked") && !err.contains('{'),
        "{args:?}: {err}"
    );
    assert!(seconds < 20.0, "{args:?} took {seconds:.1} s");
    err
}

/// Lines of an error, without clap's hint to try `--help`.
fn error_lines(stderr: &str) -> usize {
    let hint = |l: &str| l.trim().is_empty() || l.starts_with("For more information");
    stderr.lines().filter(|l| !hint(l)).count()
}
