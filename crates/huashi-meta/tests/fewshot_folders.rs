//! Image-folder data sets: the three layouts, shapes `(N, C, H, W)`,
//! resizing, normalisation, rotations, the run options, and every kind of
//! bad data as a typed error naming what is wrong. Fixtures are generated
//! in temporary folders.

use candle_core::Device;
use huashi_meta::fewshot::folder::{detect, Layout};
use huashi_meta::fewshot::folder_fixtures::{image_seed, pixel, write_folder, FolderFixture};
use huashi_meta::fewshot::{load_folder, DataError, FewShotSampler};
use huashi_meta::images::{ImageSettings, Normalization, ResizeFilter};
use huashi_meta::protocol::{RunOptions, TaskFamily};
use huashi_meta::{Algorithm, Error, ImageOptions, TaskSpec};
use std::path::Path;

fn settings(channels: usize, size: [usize; 2]) -> ImageSettings {
    ImageSettings {
        channels,
        size,
        resize: false,
        filter: ResizeFilter::Lanczos3,
        normalize: None,
        rotations: false,
    }
}

fn fixture(layout: Layout, f: &FolderFixture) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    write_folder(dir.path(), layout, f);
    dir
}

fn options(root: &Path, images: ImageOptions) -> RunOptions {
    RunOptions {
        data_dir: Some(root.to_path_buf()),
        images,
        ..RunOptions::new(Algorithm::Maml, TaskFamily::Images)
    }
}

fn data_error(err: Error) -> DataError {
    match err {
        Error::Data(e) => e,
        other => panic!("expected a data error, got {other}"),
    }
}

#[test]
fn every_layout_is_detected_and_gives_n_c_h_w_tasks() {
    let cases = [
        (Layout::SplitFolders, 3, false),
        (Layout::Csv, 3, true),
        (Layout::CifarFs, 1, false),
    ];
    for (layout, channels, jpeg) in cases {
        let f = FolderFixture {
            channels,
            jpeg,
            width: 6,
            ..FolderFixture::default()
        };
        let dir = fixture(layout, &f);
        assert_eq!(detect(dir.path()).unwrap(), layout);
        let splits = load_folder(dir.path(), &settings(channels, [8, 6])).unwrap();
        assert_eq!(splits.layout, layout);
        let sizes = [&splits.train, &splits.validation, &splits.test].map(|p| p.len());
        assert_eq!(sizes, [5, 5, 5]);
        assert_eq!(splits.train.name(0), "train00");
        // Through the run options: the first image gives size and channels.
        let spec = options(dir.path(), ImageOptions::default()).spec().unwrap();
        assert_eq!(spec.task.input_shape(), [channels, 8, 6], "{layout:?}");
        let sources = spec.task.sources(0).unwrap();
        let task = sources.train.task(0).unwrap();
        assert_eq!(task.support.x.dims(), &[5, channels, 8, 6]);
        assert_eq!(task.query.x.dims(), &[5, channels, 8, 6]);
        assert_eq!(sources.test.task(3).unwrap().query.y.dims(), &[5]);
    }
}

#[test]
fn no_layout_is_an_error_listing_the_three() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("pictures")).unwrap();
    let err = detect(dir.path()).unwrap_err();
    let text = err.to_string();
    assert!(matches!(err, DataError::NoLayout { .. }), "{text}");
    for layout in ["train/<class>", "train.csv", "splits/bertinetto"] {
        assert!(text.contains(layout), "{text}");
    }
    let missing = detect(&dir.path().join("nowhere")).unwrap_err();
    assert!(matches!(missing, DataError::Missing { .. }), "{missing}");
}

#[test]
fn pixels_are_normalised_per_channel_channel_major() {
    let dir = fixture(Layout::SplitFolders, &FolderFixture::default());
    let normalize = Normalization::parse("0.5,0.4,0.3/0.25,0.2,0.1").unwrap();
    let mut s = settings(3, [8, 8]);
    s.normalize = Some(normalize.clone());
    let pool = load_folder(dir.path(), &s).unwrap().train;
    assert_eq!(pool.shape(), [3, 8, 8]);
    let image = pool.image(1, 2);
    let seed = image_seed(0, 1, 2);
    for (ch, r, c) in [(0, 0, 0), (1, 3, 5), (2, 7, 7)] {
        let (mean, std) = normalize.channel(ch);
        let v = f64::from(pixel(seed, r, c, ch));
        let expected = ((v / 255.0 - mean) / std) as f32;
        let got = image[ch * 64 + r * 8 + c];
        assert!(
            (got - expected).abs() < 1e-5,
            "{ch} {r} {c}: {got} {expected}"
        );
    }
    // Without normalisation: v/255.
    let plain = load_folder(dir.path(), &settings(3, [8, 8])).unwrap().train;
    let expected = f32::from(pixel(image_seed(0, 0, 0), 2, 1, 1)) / 255.0;
    assert!((plain.image(0, 0)[64 + 2 * 8 + 1] - expected).abs() < 1e-6);
}

#[test]
fn images_are_resized_with_the_named_filter_and_converted_to_the_channels() {
    let f = FolderFixture {
        channels: 1,
        jpeg: true,
        ..FolderFixture::default()
    };
    let dir = fixture(Layout::CifarFs, &f);
    let given = |filter| ImageOptions {
        size: Some([4, 6]),
        filter: Some(filter),
        channels: Some(3),
        ..ImageOptions::default()
    };
    let mut images = Vec::new();
    for filter in [ResizeFilter::Nearest, ResizeFilter::Lanczos3] {
        let spec = options(dir.path(), given(filter)).spec().unwrap();
        assert_eq!(spec.task.input_shape(), [3, 4, 6]);
        let task = spec.task.sources(1).unwrap().train.task(0).unwrap();
        assert_eq!(task.support.x.dims(), &[5, 3, 4, 6]);
        let TaskSpec::Images { data, .. } = &spec.task else {
            panic!("not an image task")
        };
        let pool = load_folder(dir.path(), &data.images).unwrap().train;
        // A grey image as RGB: three equal planes.
        let x = pool.image(0, 0);
        assert_eq!(&x[..24], &x[24..48]);
        images.push(x.to_vec());
    }
    assert_ne!(images[0], images[1], "the filters should differ");
}

#[test]
fn rotations_turn_every_channel_of_an_rgb_pool() {
    let dir = fixture(Layout::Csv, &FolderFixture::default());
    let pool = load_folder(dir.path(), &settings(3, [8, 8])).unwrap().train;
    let rotated = pool.with_rotations().unwrap();
    assert_eq!(rotated.len(), 4 * pool.len());
    assert_eq!(rotated.name(1), "train00/rot90");
    let (original, turned) = (pool.image(0, 0), rotated.image(1, 0));
    for ch in 0..3 {
        for (r, c) in [(0, 0), (2, 5), (7, 1)] {
            // 90° counter-clockwise: out[r][c] = in[c][side − 1 − r].
            let want = original[ch * 64 + c * 8 + (7 - r)];
            assert_eq!(turned[ch * 64 + r * 8 + c], want);
        }
    }
    let on = ImageOptions {
        rotations: Some(true),
        ..ImageOptions::default()
    };
    let spec = options(dir.path(), on).spec().unwrap();
    let task = spec.task.sources(0).unwrap().validation.task(0).unwrap();
    assert_eq!(task.support.x.dims(), &[5, 3, 8, 8]);
    // Rotations need square images.
    let wide = ImageOptions {
        rotations: Some(true),
        size: Some([8, 6]),
        ..ImageOptions::default()
    };
    let err = options(dir.path(), wide).spec().unwrap_err();
    assert!(err.to_string().contains("8×6"), "{err}");
    let wide = ImageSettings {
        resize: true,
        ..settings(3, [8, 6])
    };
    let wide = load_folder(dir.path(), &wide);
    let err = wide
        .unwrap_or_else(|e| panic!("{e}"))
        .train
        .with_rotations();
    assert!(matches!(
        err,
        Err(DataError::NotSquare {
            height: 8,
            width: 6
        })
    ));
}

#[test]
fn splits_and_classes_too_small_for_the_task_are_named() {
    let f = FolderFixture {
        classes: [5, 5, 3],
        ..FolderFixture::default()
    };
    let dir = fixture(Layout::SplitFolders, &f);
    let spec = options(dir.path(), ImageOptions::default()).spec().unwrap();
    let err = data_error(spec.task.sources(0).err().unwrap());
    assert!(
        matches!(err, DataError::SplitTooSmall { ref split, ways: 5, classes: 3 } if split == "test")
    );
    assert!(err.to_string().contains("test split"), "{err}");
    let f = FolderFixture {
        images: 2,
        ..FolderFixture::default()
    };
    let dir = fixture(Layout::CifarFs, &f);
    let options = RunOptions {
        shots: Some(1),
        queries: Some(2),
        ..options(dir.path(), ImageOptions::default())
    };
    let err = data_error(options.spec().unwrap().task.sources(0).err().unwrap());
    assert!(
        matches!(err, DataError::TooFewDrawings { ref class, needed: 3, available: 2 } if class == "train00"),
        "{err}"
    );
    // The sampler checks the same on any pool.
    let pool = load_folder(dir.path(), &settings(3, [8, 8])).unwrap().test;
    let sampler = FewShotSampler {
        ways: 2,
        shots: 2,
        queries: 1,
        seed: 0,
    };
    assert!(sampler.task(&pool, 0, &Device::Cpu).is_err());
}

#[test]
fn corrupt_and_unreadable_images_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let files = write_folder(dir.path(), Layout::SplitFolders, &FolderFixture::default());
    let bad = &files[7];
    let bytes = std::fs::read(bad).unwrap();
    std::fs::write(bad, &bytes[..bytes.len() / 2]).unwrap();
    let err = load_folder(dir.path(), &settings(3, [8, 8])).unwrap_err();
    assert!(
        matches!(err, DataError::Image { ref path, .. } if path == &bad.display().to_string()),
        "{err}"
    );
    std::fs::write(bad, b"GIF89a not really").unwrap();
    let err = load_folder(dir.path(), &settings(3, [8, 8])).unwrap_err();
    assert!(
        err.to_string().contains(&bad.display().to_string()),
        "{err}"
    );
    // A folder named like an image cannot be read as one (it is skipped by
    // the listing), and a CSV naming it reports it missing.
    std::fs::remove_file(bad).unwrap();
    std::fs::create_dir(bad).unwrap();
    assert!(load_folder(dir.path(), &settings(3, [8, 8])).is_ok());
}

#[test]
fn images_of_different_sizes_need_an_image_size() {
    let dir = tempfile::tempdir().unwrap();
    let files = write_folder(dir.path(), Layout::SplitFolders, &FolderFixture::default());
    let odd = &files[13];
    let wide = huashi_meta::fewshot::folder_fixtures::pixels(1, 10, 6, 3);
    let bytes = huashi_meta::fewshot::folder_fixtures::encode(&wide, 10, 6, 3, false);
    std::fs::write(odd, bytes).unwrap();
    let spec = options(dir.path(), ImageOptions::default()).spec().unwrap();
    let err = data_error(spec.task.sources(0).err().unwrap());
    let text = err.to_string();
    assert!(
        matches!(
            err,
            DataError::DifferentSizes {
                size: [10, 6],
                first_size: [8, 8],
                ..
            }
        ),
        "{text}"
    );
    assert!(text.contains(&odd.display().to_string()), "{text}");
    assert!(text.contains(&files[0].display().to_string()), "{text}");
    assert!(text.contains("10×6") && text.contains("8×8"), "{text}");
    // With a size, every image is resized.
    let sized = ImageOptions {
        size: Some([8, 8]),
        ..ImageOptions::default()
    };
    assert!(options(dir.path(), sized)
        .spec()
        .unwrap()
        .task
        .sources(0)
        .is_ok());
}

#[test]
fn bad_csv_files_are_named_with_their_line() {
    let dir = fixture(Layout::Csv, &FolderFixture::default());
    let csv = dir.path().join("train.csv");
    let good = std::fs::read_to_string(&csv).unwrap();
    let rows = good.lines().count();
    let check = |text: String, line: usize, needle: &str| {
        std::fs::write(&csv, text).unwrap();
        let err = load_folder(dir.path(), &settings(3, [8, 8])).unwrap_err();
        let ok = matches!(err, DataError::LabelFile { line: l, ref path, .. } if l == line && path == &csv.display().to_string());
        assert!(ok && err.to_string().contains(needle), "{err}");
    };
    check(
        format!("{good}missing.png,train00\n"),
        rows + 1,
        "not found",
    );
    check(format!("{good}a.png,b,c\n"), rows + 1, "filename,label");
    check(format!("{good}../train.csv,train00\n"), rows + 1, "leaves");
    check(
        good.replacen("filename,label", "file,class", 1),
        1,
        "header",
    );
    // A split with no class.
    std::fs::write(dir.path().join("val.csv"), "filename,label\n").unwrap();
    std::fs::write(&csv, &good).unwrap();
    let err = load_folder(dir.path(), &settings(3, [8, 8])).unwrap_err();
    assert!(
        matches!(err, DataError::EmptySplit { ref split, .. } if split == "val"),
        "{err}"
    );
}

#[test]
fn empty_splits_and_missing_classes_in_the_other_layouts() {
    let dir = fixture(Layout::SplitFolders, &FolderFixture::default());
    std::fs::remove_dir_all(dir.path().join("val")).unwrap();
    std::fs::create_dir(dir.path().join("val")).unwrap();
    let err = load_folder(dir.path(), &settings(3, [8, 8])).unwrap_err();
    assert!(err.to_string().contains("val split"), "{err}");
    let dir = fixture(Layout::CifarFs, &FolderFixture::default());
    let list = dir.path().join("splits/bertinetto/test.txt");
    std::fs::write(&list, "test00\nno_such_class\n").unwrap();
    let err = load_folder(dir.path(), &settings(3, [8, 8])).unwrap_err();
    assert!(matches!(err, DataError::LabelFile { line: 2, .. }), "{err}");
    std::fs::write(&list, "\n").unwrap();
    let err = load_folder(dir.path(), &settings(3, [8, 8])).unwrap_err();
    assert!(
        matches!(err, DataError::EmptySplit { ref split, .. } if split == "test"),
        "{err}"
    );
}

#[test]
fn channel_counts_other_than_one_or_three_are_refused() {
    let dir = fixture(Layout::SplitFolders, &FolderFixture::default());
    let err = load_folder(dir.path(), &settings(2, [8, 8])).unwrap_err();
    assert!(
        matches!(err, DataError::Channels { channels: 2, .. }),
        "{err}"
    );
    let four = ImageOptions {
        channels: Some(4),
        ..ImageOptions::default()
    };
    let err = options(dir.path(), four).spec().unwrap_err();
    assert!(err.to_string().contains("channels"), "{err}");
}

#[test]
fn options_that_a_family_would_ignore_are_errors() {
    let sized = ImageOptions {
        size: Some([14, 14]),
        ..ImageOptions::default()
    };
    let sinusoid = RunOptions {
        images: sized.clone(),
        ..RunOptions::new(Algorithm::Maml, TaskFamily::Sinusoid)
    };
    assert!(sinusoid
        .spec()
        .unwrap_err()
        .to_string()
        .contains("image_size"));
    let grey = ImageOptions {
        channels: Some(1),
        ..ImageOptions::default()
    };
    let omniglot = RunOptions {
        images: grey,
        ..RunOptions::new(Algorithm::Maml, TaskFamily::Omniglot)
    };
    assert!(omniglot
        .spec()
        .unwrap_err()
        .to_string()
        .contains("channels"));
    let nowhere = RunOptions::new(Algorithm::Maml, TaskFamily::Images);
    assert!(nowhere.spec().unwrap_err().to_string().contains("data"));
    // Omniglot takes a size and rotations: 14×14 drawings.
    let omniglot = RunOptions {
        images: sized,
        ..RunOptions::new(Algorithm::Protonet, TaskFamily::Omniglot)
    };
    let spec = omniglot.spec().unwrap();
    assert_eq!(spec.task.input_shape(), [1, 14, 14]);
    let task = spec.task.sources(0).unwrap().train.task(0).unwrap();
    assert_eq!(task.support.x.dims(), &[5, 1, 14, 14]);
}

#[test]
fn task_specs_round_trip_and_old_omniglot_specs_still_load() {
    let dir = fixture(Layout::CifarFs, &FolderFixture::default());
    let given = ImageOptions {
        normalize: Some(Normalization::parse("0.5/0.25").unwrap()),
        filter: Some(ResizeFilter::CatmullRom),
        size: Some([10, 10]),
        rotations: Some(true),
        ..ImageOptions::default()
    };
    let spec = options(dir.path(), given).spec().unwrap();
    let json = serde_json::to_string(&spec.task).unwrap();
    assert!(json.contains("catmull-rom"), "{json}");
    let back: TaskSpec = serde_json::from_str(&json).unwrap();
    assert_eq!(back, spec.task);
    let old = r#"{"kind":"omniglot","ways":5,"shots":1,"queries":1,"data_dir":null}"#;
    let old: TaskSpec = serde_json::from_str(old).unwrap();
    assert_eq!(old.input_shape(), [1, 28, 28]);
    assert_eq!(old.image_settings(), Some(&ImageSettings::omniglot()));
}
