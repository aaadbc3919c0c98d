//! End-to-end tests of `huashi data fetch omniglot` against a loopback HTTP
//! server (127.0.0.1) serving generated fixture zips.

use huashi_meta::fewshot::testing::{md5_hex, omniglot_files, zip_bytes, LoopbackServer};
use huashi_meta::fewshot::Omniglot;
use std::process::{Command, Output};

fn huashi(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_huashi"))
        .args(args)
        .output()
        .expect("the huashi binary runs")
}

/// A server with fixture zips and their MD5 digests.
fn server() -> (LoopbackServer, String, String) {
    let background = zip_bytes(&omniglot_files("images_background", 2, 2, 3));
    let evaluation = zip_bytes(&omniglot_files("images_evaluation", 1, 3, 3));
    let (md5_b, md5_e) = (md5_hex(&background), md5_hex(&evaluation));
    let files = vec![
        ("images_background.zip".to_string(), background),
        ("images_evaluation.zip".to_string(), evaluation),
    ];
    (LoopbackServer::start(files).unwrap(), md5_b, md5_e)
}

#[test]
fn fetches_from_a_loopback_server_and_the_folder_loads() {
    let (server, md5_b, md5_e) = server();
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("omniglot");
    let url = server.base_url();
    let args = [
        "data",
        "fetch",
        "omniglot",
        "--url",
        &url,
        "--dir",
        target.to_str().unwrap(),
    ];
    let out = huashi(
        &[
            &args[..],
            &["--md5-background", &md5_b, "--md5-evaluation", &md5_e],
        ]
        .concat(),
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("images_background") && stdout.contains("images_evaluation"),
        "{stdout}"
    );
    let omniglot = Omniglot::load(&target).unwrap();
    assert_eq!(omniglot.len(), 7);
}

#[test]
fn default_checksums_reject_fixture_data_with_a_clear_error() {
    let (server, _, _) = server();
    let dir = tempfile::tempdir().unwrap();
    let url = server.base_url();
    let out = huashi(&[
        "data",
        "fetch",
        "omniglot",
        "--url",
        &url,
        "--dir",
        dir.path().to_str().unwrap(),
    ]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("checksum mismatch for images_background.zip"),
        "{stderr}"
    );
    assert!(
        stderr.contains("68d2efa1b9178cc56df9314c21c6e718"),
        "{stderr}"
    );
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}

#[test]
fn help_explains_the_command() {
    let out = huashi(&["data", "fetch", "omniglot", "--help"]);
    let help = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success());
    for needle in [
        "--url",
        "--dir",
        "--md5-background",
        "--md5-evaluation",
        "brendenlake/omniglot",
    ] {
        assert!(help.contains(needle), "missing {needle} in:\n{help}");
    }
}

/// Runs `data fetch omniglot` from `url` into `dir` (with the fetch
/// timeout set to `timeout` seconds, if given), which must fail; returns
/// its stderr and how long it took in seconds.
fn failed_fetch(url: &str, dir: &std::path::Path, timeout: Option<&str>) -> (String, u64) {
    let started = std::time::Instant::now();
    let mut command = Command::new(env!("CARGO_BIN_EXE_huashi"));
    command
        .args(["data", "fetch", "omniglot", "--url", url, "--dir"])
        .arg(dir);
    if let Some(timeout) = timeout {
        command.env("HUASHI_FETCH_TIMEOUT_SECS", timeout);
    }
    let output = command.output().expect("the huashi binary runs");
    assert!(!output.status.success(), "should have failed");
    let stderr = String::from_utf8_lossy(&output.stderr).to_string();
    (stderr, started.elapsed().as_secs())
}

#[test]
fn a_server_that_never_answers_times_out_with_a_clear_error() {
    let server = LoopbackServer::silent().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let url = server.base_url();
    let (stderr, seconds) = failed_fetch(&url, &dir.path().join("omniglot"), Some("1"));
    assert!(seconds < 15, "took too long");
    assert!(stderr.contains(&url), "{stderr}");
    assert!(stderr.to_lowercase().contains("timeout"), "{stderr}");
}

#[test]
fn a_server_that_streams_forever_is_cut_at_the_cap() {
    let server = LoopbackServer::endless().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let url = server.base_url();
    let (stderr, seconds) = failed_fetch(&url, &dir.path().join("omniglot"), None);
    assert!(seconds < 60, "took too long");
    assert!(stderr.contains("cap of 104857600 bytes"), "{stderr}");
    let left = std::fs::read_dir(dir.path().join("omniglot"))
        .unwrap()
        .count();
    assert_eq!(left, 0, "the staging folder is removed");
}
