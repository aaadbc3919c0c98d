//! Property-based fuzzing of the few-shot readers: the Omniglot zip and
//! folder readers, the PNG decoder, the image-folder decoder (PNG, JPEG) and
//! split files (CSV, class lists) and the Lake runs reader get arbitrary
//! bytes and mutations of valid files; they must return a value or an error,
//! never panic. Cases per target: `HUASHI_FUZZ_CASES` (default 256); each
//! target stops generating work after [`BUDGET`].

use huashi_io::testing::fuzz_cases;
use huashi_meta::fewshot::decode::decode_image;
use huashi_meta::fewshot::folder::Layout;
use huashi_meta::fewshot::folder_fixtures::{encode, pixels, write_folder, FolderFixture};
use huashi_meta::fewshot::image::decode_drawing;
use huashi_meta::fewshot::load_folder;
use huashi_meta::fewshot::testing::{drawing_png, omniglot_files, write_files, zip_bytes};
use huashi_meta::fewshot::{LakeRuns, Omniglot};
use huashi_meta::images::{ImageSettings, ResizeFilter};
use proptest::prelude::*;
use std::time::{Duration, Instant};

/// Wall time after which a target's remaining cases return at once.
const BUDGET: Duration = Duration::from_secs(45);

/// Whether this test binary has run longer than [`BUDGET`] (the remaining
/// cases then return at once, so every target ends within a minute).
fn expired() -> bool {
    static START: std::sync::OnceLock<Instant> = std::sync::OnceLock::new();
    START.get_or_init(Instant::now).elapsed() > BUDGET
}

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: fuzz_cases(256),
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// Edits of a valid file: (position, byte) overwrites, then a truncation.
fn edits() -> impl Strategy<Value = (Vec<(usize, u8)>, Option<usize>)> {
    (
        prop::collection::vec((any::<usize>(), any::<u8>()), 1..12),
        prop::option::of(any::<usize>()),
    )
}

fn mutate(valid: &[u8], (writes, cut): &(Vec<(usize, u8)>, Option<usize>)) -> Vec<u8> {
    huashi_io::testing::mutate(valid, writes, *cut)
}

fn omniglot_zip() -> Vec<u8> {
    zip_bytes(&omniglot_files("images_background", 1, 2, 2))
}

/// A one-run Lake archive: two training classes, two test items.
fn lake_files() -> Vec<(String, Vec<u8>)> {
    let labels = "run01/test/item01.png run01/training/class01.png\n\
                  run01/test/item02.png run01/training/class02.png\n";
    vec![
        ("run01/class_labels.txt".into(), labels.as_bytes().to_vec()),
        ("run01/training/class01.png".into(), drawing_png(1)),
        ("run01/training/class02.png".into(), drawing_png(2)),
        ("run01/test/item01.png".into(), drawing_png(3)),
        ("run01/test/item02.png".into(), drawing_png(4)),
    ]
}

fn load_omniglot_zip(bytes: &[u8]) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("images_background.zip"), bytes).unwrap();
    let _ = Omniglot::load(dir.path()).and_then(|o| o.pool());
}

fn load_lake_zip(bytes: &[u8]) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("all_runs.zip");
    std::fs::write(&path, bytes).unwrap();
    let _ = LakeRuns::load(&path);
}

fn rgb_settings(resize: bool) -> ImageSettings {
    ImageSettings {
        channels: 3,
        size: [6, 6],
        resize,
        filter: ResizeFilter::Triangle,
        normalize: None,
        rotations: false,
    }
}

/// A small CSV data set whose `train.csv` is `text` (after the header
/// when `header`).
fn load_csv_text(text: &str, header: bool) {
    let dir = tempfile::tempdir().unwrap();
    let f = FolderFixture {
        images: 2,
        classes: [2, 2, 2],
        width: 6,
        height: 6,
        ..FolderFixture::default()
    };
    write_folder(dir.path(), Layout::Csv, &f);
    let text = if header {
        format!("filename,label\n{text}")
    } else {
        text.to_string()
    };
    std::fs::write(dir.path().join("train.csv"), text).unwrap();
    let _ = load_folder(dir.path(), &rgb_settings(false));
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn image_decoder_takes_mutated_pngs_and_jpegs(e in edits(), jpeg in any::<bool>(), resize in any::<bool>()) {
        if expired() {
            return Ok(());
        }
        let valid = encode(&pixels(3, 6, 6, 3), 6, 6, 3, jpeg);
        let _ = decode_image(&mutate(&valid, &e), "fuzz.img", &rgb_settings(resize), "first.png");
    }

    #[test]
    fn csv_split_files_take_any_text(text in "[ -~\n]{0,200}", header in any::<bool>()) {
        if expired() {
            return Ok(());
        }
        load_csv_text(&text, header);
    }

    #[test]
    fn class_lists_take_any_text(text in "[ -~\n]{0,120}") {
        if expired() {
            return Ok(());
        }
        let dir = tempfile::tempdir().unwrap();
        let f = FolderFixture { images: 2, classes: [2, 2, 2], width: 6, height: 6, ..FolderFixture::default() };
        write_folder(dir.path(), Layout::CifarFs, &f);
        std::fs::write(dir.path().join("splits/bertinetto/val.txt"), text).unwrap();
        let _ = load_folder(dir.path(), &rgb_settings(true));
    }

    #[test]
    fn png_decoder_takes_any_bytes(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        if expired() {
            return Ok(());
        }
        let _ = decode_drawing(&bytes, "fuzz.png");
    }

    #[test]
    fn png_decoder_takes_mutated_drawings(e in edits()) {
        if expired() {
            return Ok(());
        }
        let _ = decode_drawing(&mutate(&drawing_png(7), &e), "fuzz.png");
    }

    #[test]
    fn omniglot_zip_reader_takes_any_bytes(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        if expired() {
            return Ok(());
        }
        load_omniglot_zip(&bytes);
    }

    #[test]
    fn omniglot_zip_reader_takes_mutated_zips(e in edits()) {
        if expired() {
            return Ok(());
        }
        load_omniglot_zip(&mutate(&omniglot_zip(), &e));
    }

    #[test]
    fn omniglot_folder_reader_takes_mutated_files(e in edits(), which in any::<usize>()) {
        if expired() {
            return Ok(());
        }
        let mut files = omniglot_files("images_background", 1, 2, 2);
        let n = files.len();
        files[which % n].1 = mutate(&files[which % n].1, &e);
        let dir = tempfile::tempdir().unwrap();
        write_files(dir.path(), &files).unwrap();
        let _ = Omniglot::load(dir.path()).and_then(|o| o.pool());
    }

    #[test]
    fn lake_reader_takes_any_bytes(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        if expired() {
            return Ok(());
        }
        load_lake_zip(&bytes);
    }

    #[test]
    fn lake_reader_takes_mutated_runs(e in edits(), which in any::<usize>()) {
        if expired() {
            return Ok(());
        }
        let mut files = lake_files();
        let n = files.len();
        files[which % n].1 = mutate(&files[which % n].1, &e);
        let dir = tempfile::tempdir().unwrap();
        write_files(dir.path(), &files).unwrap();
        let _ = LakeRuns::load(dir.path());
        load_lake_zip(&zip_bytes(&files));
    }

    #[test]
    fn lake_reader_takes_mutated_label_text(text in "[ -~\n]{0,200}") {
        if expired() {
            return Ok(());
        }
        let mut files = lake_files();
        files[0].1 = text.into_bytes();
        let dir = tempfile::tempdir().unwrap();
        write_files(dir.path(), &files).unwrap();
        let _ = LakeRuns::load(dir.path());
    }
}

#[test]
fn the_valid_fixtures_load() {
    let started = Instant::now();
    load_omniglot_zip(&omniglot_zip());
    let dir = tempfile::tempdir().unwrap();
    write_files(dir.path(), &lake_files()).unwrap();
    let runs = LakeRuns::load(dir.path()).unwrap();
    assert_eq!(runs.len(), 1);
    let csv = "train00_0.png,train00\ntrain00_1.png,train00\n";
    load_csv_text(csv, true);
    assert!(started.elapsed() < BUDGET);
}
