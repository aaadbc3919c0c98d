//! Omniglot loading (embedded subsets, folders, zips) and character splits.

use huashi_meta::fewshot::testing::{drawing_png, omniglot_files, write_files, zip_bytes};
use huashi_meta::fewshot::{DataError, Omniglot, OmniglotSet, SplitConfig};
use huashi_meta::Error;
use std::collections::HashSet;

fn data_error(result: huashi_meta::Result<impl std::fmt::Debug>) -> DataError {
    match result.unwrap_err() {
        Error::Data(e) => e,
        other => panic!("expected a data error, got {other}"),
    }
}

#[test]
fn embedded_subsets_hold_242_distinct_characters_of_20_drawings() {
    let start = std::time::Instant::now();
    let omniglot = Omniglot::embedded().unwrap();
    eprintln!("Omniglot::embedded() took {:?}", start.elapsed());
    assert_eq!(omniglot.len(), 242);
    assert!(omniglot.characters().iter().all(|c| c.count() == 20));
    let names: HashSet<String> = omniglot
        .characters()
        .iter()
        .map(|c| c.class_name())
        .collect();
    assert_eq!(names.len(), 242);
    let alphabets: HashSet<&str> = omniglot
        .characters()
        .iter()
        .map(|c| c.alphabet.as_str())
        .collect();
    assert_eq!(alphabets.len(), 8, "{alphabets:?}");
    assert!(names.contains("Greek/character01") && names.contains("Tagalog/character01"));
    assert!(!omniglot.has_evaluation());
}

#[test]
fn embedded_drawings_have_ink_near_one_and_background_near_zero() {
    let omniglot = Omniglot::embedded().unwrap();
    for character in omniglot.characters().iter().step_by(17) {
        let image = character.drawing(0);
        let max = image.iter().cloned().fold(0.0f32, f32::max);
        let mean = image.iter().sum::<f32>() / image.len() as f32;
        let corner = image[0];
        assert!(max > 0.8, "{}: max {max}", character.class_name());
        assert!(
            mean < 0.4 && corner < 0.05,
            "{}: {mean} {corner}",
            character.class_name()
        );
        assert!(image.iter().all(|p| (0.0..=1.0).contains(p)));
    }
}

#[test]
fn loads_background_and_evaluation_folders_and_keeps_the_set() {
    let dir = tempfile::tempdir().unwrap();
    write_files(dir.path(), &omniglot_files("images_background", 2, 3, 4)).unwrap();
    write_files(dir.path(), &omniglot_files("images_evaluation", 1, 2, 4)).unwrap();
    let omniglot = Omniglot::load(dir.path()).unwrap();
    assert_eq!(omniglot.len(), 8);
    assert!(omniglot.characters().iter().all(|c| c.count() == 4));
    let evaluation = omniglot
        .characters()
        .iter()
        .filter(|c| c.set == OmniglotSet::Evaluation);
    assert_eq!(evaluation.count(), 2);
    assert!(omniglot.has_evaluation());
}

#[test]
fn loads_zips_and_merges_small_subsets_by_file_name() {
    let dir = tempfile::tempdir().unwrap();
    let small1 = omniglot_files("images_background_small1", 2, 3, 5);
    // small2 repeats small1's Alphabet1 (same file names) and adds Alphabet2.
    let mut small2: Vec<(String, Vec<u8>)> = small1
        .iter()
        .filter(|(path, _)| path.contains("/Alphabet1/"))
        .map(|(path, data)| (path.replace("small1", "small2"), data.clone()))
        .collect();
    let extra = omniglot_files("images_background_small2", 3, 1, 5);
    small2.extend(
        extra
            .into_iter()
            .filter(|(path, _)| path.contains("/Alphabet2/")),
    );
    std::fs::write(
        dir.path().join("images_background_small1.zip"),
        zip_bytes(&small1),
    )
    .unwrap();
    std::fs::write(
        dir.path().join("images_background_small2.zip"),
        zip_bytes(&small2),
    )
    .unwrap();
    let omniglot = Omniglot::load(dir.path()).unwrap();
    // small1: Alphabet0 (3) + Alphabet1 (3); small2 adds Alphabet2/character01.
    assert_eq!(omniglot.len(), 7);
    assert!(omniglot.characters().iter().all(|c| c.count() == 5));
}

#[test]
fn missing_folder_no_data_and_bad_image_are_typed_errors() {
    let dir = tempfile::tempdir().unwrap();
    let err = data_error(Omniglot::load(dir.path().join("nope")));
    assert!(matches!(err, DataError::Missing { .. }), "{err}");
    let err = data_error(Omniglot::load(dir.path()));
    assert!(matches!(err, DataError::NoData { .. }), "{err}");
    let mut files = omniglot_files("images_background", 1, 1, 2);
    files[1].1 = b"broken".to_vec();
    write_files(dir.path(), &files).unwrap();
    let err = data_error(Omniglot::load(dir.path()));
    assert!(matches!(err, DataError::Image { .. }), "{err}");
    assert!(err.to_string().contains("character01/1001_02.png"), "{err}");
}

#[test]
fn corrupt_zip_is_a_typed_error_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("images_evaluation.zip"), b"not a zip").unwrap();
    let err = data_error(Omniglot::load(dir.path()));
    assert!(matches!(err, DataError::Zip { .. }), "{err}");
    assert!(err.to_string().contains("images_evaluation.zip"), "{err}");
    std::fs::remove_file(dir.path().join("images_evaluation.zip")).unwrap();
    std::fs::create_dir(dir.path().join("images_background")).unwrap();
    let path = dir.path().join("images_background/A/character01");
    std::fs::create_dir_all(&path).unwrap();
    std::fs::write(path.join("x.png"), drawing_png(1)).unwrap();
    assert_eq!(Omniglot::load(dir.path()).unwrap().len(), 1);
}

#[test]
fn embedded_split_holds_out_characters_with_default_sizes() {
    let omniglot = Omniglot::embedded().unwrap();
    let config = SplitConfig::default();
    assert_eq!((config.test, config.validation), (50, 20));
    let split = omniglot.split(&config).unwrap();
    assert_eq!(split.test.len(), 50);
    assert_eq!(split.validation.len(), 20);
    assert_eq!(split.train.len(), 172);
    let train: HashSet<&String> = split.train.names().iter().collect();
    let held: HashSet<&String> = split
        .test
        .names()
        .iter()
        .chain(split.validation.names())
        .collect();
    assert_eq!(held.len(), 70);
    assert!(train.is_disjoint(&held));
    let again = omniglot.split(&config).unwrap();
    assert_eq!(again.test.names(), split.test.names());
    let other = omniglot.split(&SplitConfig { seed: 1, ..config }).unwrap();
    assert_ne!(other.test.names(), split.test.names());
}

#[test]
fn rotations_after_the_split_keep_held_out_characters_out() {
    let omniglot = Omniglot::embedded().unwrap();
    let split = omniglot.split(&SplitConfig::default()).unwrap();
    let (train, test) = (
        split.train.with_rotations().unwrap(),
        split.test.with_rotations().unwrap(),
    );
    assert_eq!((train.len(), test.len()), (4 * 172, 4 * 50));
    let base = |name: &String| name.rsplit_once('/').unwrap().0.to_string();
    let train_chars: HashSet<String> = train.names().iter().map(base).collect();
    assert!(test.names().iter().all(|n| !train_chars.contains(&base(n))));
    assert!(train.names()[1].ends_with("/rot90"));
}

#[test]
fn evaluation_set_is_the_test_pool() {
    let dir = tempfile::tempdir().unwrap();
    write_files(dir.path(), &omniglot_files("images_background", 2, 5, 3)).unwrap();
    write_files(dir.path(), &omniglot_files("images_evaluation", 1, 4, 3)).unwrap();
    let omniglot = Omniglot::load(dir.path()).unwrap();
    let config = SplitConfig {
        validation: 3,
        ..SplitConfig::default()
    };
    let split = omniglot.split(&config).unwrap();
    assert_eq!(
        (split.train.len(), split.validation.len(), split.test.len()),
        (7, 3, 4)
    );
    let evaluation: Vec<String> = omniglot
        .characters()
        .iter()
        .filter(|c| c.set == OmniglotSet::Evaluation)
        .map(|c| c.class_name())
        .collect();
    assert_eq!(split.test.names(), &evaluation[..]);
}

#[test]
fn split_leaving_no_training_character_is_an_error() {
    let omniglot = Omniglot::embedded().unwrap();
    let config = SplitConfig {
        test: 200,
        validation: 42,
        seed: 0,
    };
    let err = data_error(omniglot.split(&config));
    assert!(
        matches!(
            err,
            DataError::InvalidSetting {
                what: "validation characters",
                value: 42,
                ..
            }
        ),
        "{err}"
    );
    let config = SplitConfig {
        test: 242,
        validation: 0,
        seed: 0,
    };
    let err = data_error(omniglot.split(&config));
    assert!(
        matches!(err, DataError::InvalidSetting { value: 242, .. }),
        "{err}"
    );
}
