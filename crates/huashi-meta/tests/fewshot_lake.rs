//! The 20 one-shot runs of Lake et al. (2015): embedded, from a folder, and
//! malformed label files.

use candle_core::Device;
use huashi_meta::fewshot::testing::{drawing_png, write_files};
use huashi_meta::fewshot::{DataError, LakeRuns};
use huashi_meta::Error;
use std::path::PathBuf;

fn all_runs_zip() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("data/omniglot/all_runs.zip")
}

fn data_error(result: huashi_meta::Result<LakeRuns>) -> DataError {
    match result.unwrap_err() {
        Error::Data(e) => e,
        other => panic!("expected a data error, got {other}"),
    }
}

/// The class (1-based) of each item (1-based) of run01, as in its
/// class_labels.txt (read independently of the loader).
fn run01_labels() -> Vec<u32> {
    let bytes = std::fs::read(all_runs_zip()).unwrap();
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
    let mut text = String::new();
    std::io::Read::read_to_string(
        &mut zip.by_name("run01/class_labels.txt").unwrap(),
        &mut text,
    )
    .unwrap();
    text.lines()
        .map(|line| {
            let class = line.split("training/class").nth(1).unwrap();
            class.trim_end_matches(".png").parse().unwrap()
        })
        .collect()
}

#[test]
fn embedded_runs_are_20_tasks_of_20_plus_20_images() {
    let runs = LakeRuns::embedded().unwrap();
    assert_eq!(runs.len(), 20);
    assert_eq!(runs.runs()[0].name, "run01");
    assert_eq!(runs.runs()[19].name, "run20");
    let tasks = runs.tasks(&Device::Cpu).unwrap();
    for task in &tasks {
        assert_eq!(task.support.x.dims(), &[20, 1, 28, 28]);
        assert_eq!(task.query.x.dims(), &[20, 1, 28, 28]);
        let support: Vec<u32> = task.support.y.to_vec1().unwrap();
        assert_eq!(support, (0..20).collect::<Vec<u32>>());
        let mut query: Vec<u32> = task.query.y.to_vec1().unwrap();
        query.sort_unstable();
        assert_eq!(
            query,
            (0..20).collect::<Vec<u32>>(),
            "each class is queried once"
        );
    }
    let expected: Vec<u32> = run01_labels().iter().map(|c| c - 1).collect();
    assert_eq!(runs.runs()[0].labels, expected);
    assert_eq!(expected[..3], [7, 8, 1]); // item01 → class08, item02 → class09, item03 → class02
    let max = runs.runs()[0].test[0]
        .iter()
        .cloned()
        .fold(0.0f32, f32::max);
    assert!(max > 0.8 && runs.runs()[0].test[0][0] < 0.05);
}

#[test]
fn zip_file_and_unpacked_folder_load_the_same_runs() {
    let from_zip = LakeRuns::load(all_runs_zip()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let bytes = std::fs::read(all_runs_zip()).unwrap();
    zip::ZipArchive::new(std::io::Cursor::new(bytes))
        .unwrap()
        .extract(dir.path())
        .unwrap();
    let from_folder = LakeRuns::load(dir.path()).unwrap();
    assert_eq!(from_folder.len(), 20);
    for (a, b) in from_zip.runs().iter().zip(from_folder.runs()) {
        assert_eq!((&a.name, &a.labels, &a.test), (&b.name, &b.labels, &b.test));
    }
    let err = data_error(LakeRuns::load(dir.path().join("absent")));
    assert!(matches!(err, DataError::Missing { .. }), "{err}");
    let empty = tempfile::tempdir().unwrap();
    let err = data_error(LakeRuns::load(empty.path()));
    assert!(matches!(err, DataError::Missing { .. }), "{err}");
}

/// A 2-class run with the given label file.
fn fixture_run(labels: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let files = vec![
        ("run01/training/class01.png".to_string(), drawing_png(1)),
        ("run01/training/class02.png".to_string(), drawing_png(2)),
        ("run01/test/item01.png".to_string(), drawing_png(3)),
        ("run01/test/item02.png".to_string(), drawing_png(4)),
        (
            "run01/class_labels.txt".to_string(),
            labels.as_bytes().to_vec(),
        ),
    ];
    write_files(dir.path(), &files).unwrap();
    dir
}

#[test]
fn a_well_formed_fixture_run_loads() {
    let dir = fixture_run("run01/test/item01.png run01/training/class02.png\nrun01/test/item02.png run01/training/class01.png\n");
    let runs = LakeRuns::load(dir.path()).unwrap();
    assert_eq!(runs.runs()[0].labels, vec![1, 0]);
}

#[test]
fn malformed_label_lines_and_missing_images_name_file_and_line() {
    let dir =
        fixture_run("run01/test/item01.png run01/training/class02.png\nrun01/test/item02.png\n");
    let err = data_error(LakeRuns::load(dir.path()));
    assert!(matches!(err, DataError::LabelFile { line: 2, .. }), "{err}");
    assert!(err.to_string().contains("class_labels.txt line 2"), "{err}");

    let dir = fixture_run("run01/test/item09.png run01/training/class02.png\n");
    let err = data_error(LakeRuns::load(dir.path()));
    assert!(
        matches!(err, DataError::LabelFile { line: 1, ref message, .. } if message.contains("item09.png")),
        "{err}"
    );

    let dir = fixture_run("run01/test/item01.png run01/training/class07.png\n");
    let err = data_error(LakeRuns::load(dir.path()));
    assert!(
        matches!(err, DataError::LabelFile { line: 1, ref message, .. } if message.contains("class07.png")),
        "{err}"
    );

    let dir = fixture_run("run01/test/item01.png run01/training/class01.png\n");
    std::fs::remove_dir_all(dir.path().join("run01/training")).unwrap();
    let err = data_error(LakeRuns::load(dir.path()));
    assert!(matches!(err, DataError::LabelFile { line: 0, .. }), "{err}");
}
