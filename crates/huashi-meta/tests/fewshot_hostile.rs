//! Hostile inputs to the few-shot data layer: a server that never answers,
//! one that streams forever (both on 127.0.0.1), a zip bomb, a PNG that
//! claims a huge size, and bad sizes in a run specification.

use huashi_meta::fewshot::testing::{md5_hex, png_bytes, zip_bomb, LoopbackServer};
use huashi_meta::fewshot::{fetch_omniglot_with, image, DataError, FetchLimits, Omniglot};
use huashi_meta::fewshot::{LakeRuns, OmniglotMd5};
use std::time::{Duration, Instant};

fn fetch(server: &LoopbackServer, limits: &FetchLimits) -> String {
    let dir = tempfile::tempdir().unwrap();
    let md5 = OmniglotMd5::default();
    let started = Instant::now();
    let result = fetch_omniglot_with(&server.base_url(), dir.path(), &md5, limits, &mut |_| {});
    assert!(started.elapsed() < Duration::from_secs(20), "took too long");
    let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert!(left.is_empty(), "staging files left behind: {left:?}");
    result.unwrap_err().to_string()
}

#[test]
fn a_server_that_never_answers_times_out() {
    let server = LoopbackServer::silent().unwrap();
    let started = Instant::now();
    let err = fetch(&server, &FetchLimits::with_timeout(Duration::from_secs(1)));
    assert!(started.elapsed() < Duration::from_secs(10));
    assert!(err.contains(&server.base_url()), "{err}");
    assert!(
        err.to_lowercase().contains("timeout") || err.contains("timed out"),
        "{err}"
    );
}

#[test]
fn a_server_that_streams_forever_stops_at_the_cap() {
    let server = LoopbackServer::endless().unwrap();
    let limits = FetchLimits {
        max_bytes: 4 << 20,
        ..FetchLimits::with_timeout(Duration::from_secs(10))
    };
    let err = fetch(&server, &limits);
    assert!(err.contains(&server.base_url()), "{err}");
    assert!(err.contains(&format!("cap of {} bytes", 4 << 20)), "{err}");
}

/// A zip whose one member inflates from ~100 kB to 100 MB.
fn bomb() -> Vec<u8> {
    zip_bomb("images_background/A/character01/0001_01.png", 100 << 20)
}

#[test]
fn a_zip_bomb_is_refused_before_it_inflates() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("images_background.zip"), bomb()).unwrap();
    let err = Omniglot::load(dir.path()).unwrap_err().to_string();
    assert!(err.contains("inflates more than"), "{err}");
    assert!(err.contains("0001_01.png"), "{err}");
    let runs = tempfile::tempdir().unwrap();
    let path = runs.path().join("all_runs.zip");
    std::fs::write(&path, bomb()).unwrap();
    let err = LakeRuns::load(&path).unwrap_err().to_string();
    assert!(err.contains("refusing to unpack"), "{err}");
}

#[test]
fn a_downloaded_zip_bomb_with_the_right_digest_is_not_unpacked() {
    let zip = bomb();
    let md5 = OmniglotMd5 {
        background: md5_hex(&zip),
        evaluation: md5_hex(&zip),
    };
    let files = vec![
        ("images_background.zip".to_string(), zip.clone()),
        ("images_evaluation.zip".to_string(), zip),
    ];
    let server = LoopbackServer::start(files).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let limits = FetchLimits::default();
    let result = fetch_omniglot_with(&server.base_url(), dir.path(), &md5, &limits, &mut |_| {});
    let err = result.unwrap_err().to_string();
    assert!(err.contains("inflates more than"), "{err}");
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}

#[test]
fn a_png_that_claims_a_huge_size_is_refused_before_decoding() {
    let mut png = png_bytes(&[255u8; 105 * 105], 105, 105);
    // IHDR width and height (bytes 16..24) set to 100000 × 100000.
    png[16..20].copy_from_slice(&100_000u32.to_be_bytes());
    png[20..24].copy_from_slice(&100_000u32.to_be_bytes());
    match image::decode_drawing(&png, "huge.png") {
        Err(DataError::ImageSize { width, .. }) => assert_eq!(width, 100_000),
        Err(DataError::Image { .. }) => {} // the CRC of IHDR no longer matches
        other => panic!("expected a size error, got {other:?}"),
    }
}
