//! Downloading Omniglot from a loopback HTTP server (127.0.0.1 only):
//! success, checksum mismatch, 404, bad digests and existing data.

use huashi_meta::fewshot::testing::{md5_hex, omniglot_files, zip_bytes, LoopbackServer};
use huashi_meta::fewshot::{fetch_omniglot, DataError, FetchProgress, Omniglot, OmniglotMd5};
use huashi_meta::Error;
use std::path::Path;

/// A server with fixture `images_background.zip` (2×3 characters) and
/// `images_evaluation.zip` (1×2), and their digests.
fn server() -> (LoopbackServer, OmniglotMd5) {
    let background = zip_bytes(&omniglot_files("images_background", 2, 3, 4));
    let evaluation = zip_bytes(&omniglot_files("images_evaluation", 1, 2, 4));
    let md5 = OmniglotMd5 {
        background: md5_hex(&background),
        evaluation: md5_hex(&evaluation),
    };
    let files = vec![
        ("images_background.zip".to_string(), background),
        ("images_evaluation.zip".to_string(), evaluation),
    ];
    (LoopbackServer::start(files).unwrap(), md5)
}

fn listing(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

fn data_error<T: std::fmt::Debug>(result: huashi_meta::Result<T>) -> DataError {
    match result.unwrap_err() {
        Error::Data(e) => e,
        other => panic!("expected a data error, got {other}"),
    }
}

#[test]
fn default_digests_are_torchvisions() {
    let md5 = OmniglotMd5::default();
    assert_eq!(md5.background, "68d2efa1b9178cc56df9314c21c6e718");
    assert_eq!(md5.evaluation, "6b91aef0f799c5bb55b94e3f2daec811");
}

#[test]
fn fetches_verifies_unpacks_and_then_loads() {
    let (server, md5) = server();
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("omniglot");
    let mut calls = Vec::new();
    let mut progress = |p: &FetchProgress| calls.push((p.file.to_string(), p.downloaded, p.total));
    let folders = fetch_omniglot(&server.base_url(), &target, &md5, &mut progress).unwrap();
    assert_eq!(
        folders,
        vec![
            target.join("images_background"),
            target.join("images_evaluation")
        ]
    );
    assert_eq!(
        listing(&target),
        vec!["images_background", "images_evaluation"]
    );
    let last = calls
        .iter()
        .rev()
        .find(|c| c.0 == "images_evaluation.zip")
        .unwrap();
    assert_eq!(
        Some(last.1),
        last.2,
        "the last report covers the whole file"
    );
    let omniglot = Omniglot::load(&target).unwrap();
    assert_eq!(omniglot.len(), 8);
    assert!(omniglot.has_evaluation());
    // Present sets are not fetched again (the server is not even needed).
    fetch_omniglot("http://127.0.0.1:9", &target, &md5, &mut |_| {}).unwrap();
}

#[test]
fn checksum_mismatch_leaves_nothing_behind() {
    let (server, mut md5) = server();
    md5.evaluation = "00000000000000000000000000000000".into();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("keep.txt"), b"existing").unwrap();
    let err = data_error(fetch_omniglot(
        &server.base_url(),
        dir.path(),
        &md5,
        &mut |_| {},
    ));
    assert!(
        matches!(err, DataError::Checksum { ref file, ref expected, .. } if file == "images_evaluation.zip" && expected.starts_with("0000")),
        "{err}"
    );
    // The background zip was fine, but nothing is installed without both.
    assert_eq!(listing(dir.path()), vec!["keep.txt"]);
    assert_eq!(
        std::fs::read(dir.path().join("keep.txt")).unwrap(),
        b"existing"
    );
}

#[test]
fn http_404_is_a_typed_error_and_leaves_nothing_behind() {
    let (server, md5) = server();
    let dir = tempfile::tempdir().unwrap();
    let base = format!("{}/missing", server.base_url());
    let err = data_error(fetch_omniglot(&base, dir.path(), &md5, &mut |_| {}));
    assert!(
        matches!(err, DataError::HttpStatus { status: 404, ref url } if url.ends_with("/missing/images_background.zip")),
        "{err}"
    );
    assert!(listing(dir.path()).is_empty());
}

#[test]
fn unreachable_server_and_bad_digest_are_typed_errors() {
    let dir = tempfile::tempdir().unwrap();
    let unused = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", unused.local_addr().unwrap());
    drop(unused);
    let err = data_error(fetch_omniglot(
        &url,
        dir.path(),
        &OmniglotMd5::default(),
        &mut |_| {},
    ));
    assert!(matches!(err, DataError::Download { .. }), "{err}");
    let md5 = OmniglotMd5 {
        background: "xyz".into(),
        ..OmniglotMd5::default()
    };
    let err = data_error(fetch_omniglot(&url, dir.path(), &md5, &mut |_| {}));
    assert!(
        matches!(err, DataError::InvalidMd5 { ref value } if value == "xyz"),
        "{err}"
    );
    assert!(listing(dir.path()).is_empty());
}

#[test]
fn archive_without_the_expected_folder_is_rejected() {
    let wrong = zip_bytes(&omniglot_files("something_else", 1, 1, 2));
    let md5 = OmniglotMd5 {
        background: md5_hex(&wrong),
        ..OmniglotMd5::default()
    };
    let server = LoopbackServer::start(vec![("images_background.zip".into(), wrong)]).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let err = data_error(fetch_omniglot(
        &server.base_url(),
        dir.path(),
        &md5,
        &mut |_| {},
    ));
    assert!(
        matches!(err, DataError::Zip { ref path, .. } if path == "images_background.zip"),
        "{err}"
    );
    assert!(listing(dir.path()).is_empty());
}

#[test]
fn a_target_that_is_a_file_is_an_io_error() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("a_file");
    std::fs::write(&file, b"x").unwrap();
    let err = data_error(fetch_omniglot(
        "http://127.0.0.1:9",
        &file,
        &OmniglotMd5::default(),
        &mut |_| {},
    ));
    assert!(
        matches!(err, DataError::Io { ref path, .. } if path.contains("a_file")),
        "{err}"
    );
}
