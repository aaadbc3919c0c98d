//! Sequence classification: the readers' typed errors, the poolings on a
//! synthetic task, and the Japanese Vowels accuracy.

use huashi_esn::classify::{
    evaluate, japanese_vowels, over_seeds, Classifier, ClassifyConfig, DataError, Dataset, Pooling,
};
use huashi_esn::Error;

const HEADER: &str = "# a comment\n@problemName toy\n@dimensions 2\n@classLabel true a b\n@data\n";

fn ts(body: &str) -> Result<Dataset, DataError> {
    Dataset::parse_ts(&format!("{HEADER}{body}"), "toy.ts")
}

#[test]
fn ts_reads_variable_lengths_and_channels() {
    let d = ts("1,2,3:4,5,6:a\n7,8:9,10:b\n").unwrap();
    assert_eq!((d.len(), d.channels()), (2, 2));
    assert_eq!((d.sequences[0].nrows(), d.sequences[1].nrows()), (3, 2));
    assert_eq!(d.sequences[0][(2, 1)], 6.0);
    assert_eq!(d.labels, ["a", "b"]);
    assert_eq!(d.lines, [6, 7]);
    assert_eq!(d.classes(), ["a", "b"]);
    let mixed = "sequence_id,label,x\n1,10,0\n2,9,0\n3,1e,0\n4,10,1\n5,2,0\n";
    let mixed = Dataset::parse_csv(mixed, "m.csv").unwrap();
    assert_eq!(
        mixed.classes(),
        ["10", "1e", "2", "9"],
        "text order when not all are numbers"
    );
    let numbers = Dataset::parse_csv("sequence_id,label,x\n1,10,0\n2,9,0\n3,1.0,0\n", "n.csv");
    assert_eq!(numbers.unwrap().classes(), ["1.0", "9", "10"]);
}

#[test]
fn ts_wrong_header_is_named() {
    let bad = Dataset::parse_ts("@problemName x\n@colour red\n@data\n1:a\n", "h.ts");
    let e = bad.unwrap_err();
    assert!(matches!(&e, DataError::Malformed { line: 2, .. }), "{e}");
    assert!(e.to_string().contains("h.ts") && e.to_string().contains("@colour"));
    let no_data = Dataset::parse_ts("@classLabel true a\n1,2:a\n", "n.ts").unwrap_err();
    assert!(matches!(no_data, DataError::Malformed { line: 2, .. }));
    let unlabelled = Dataset::parse_ts("@classLabel false\n@data\n1:a\n", "u.ts").unwrap_err();
    assert!(matches!(unlabelled, DataError::Malformed { line: 1, .. }));
}

#[test]
fn ts_ragged_channels_name_the_line_and_channel() {
    let e = ts("1,2:3,4:a\n1,2,3:4,5:b\n").unwrap_err();
    assert_eq!(
        e,
        DataError::Ragged {
            file: "toy.ts".into(),
            line: 7,
            channel: 2,
            expected: 3,
            found: 2
        }
    );
    let e = ts("1,2:3,4:5,6:a\n").unwrap_err();
    assert!(matches!(
        e,
        DataError::Channels {
            line: 6,
            expected: 2,
            found: 3,
            ..
        }
    ));
}

#[test]
fn ts_non_numeric_value_names_it() {
    let e = ts("1,2:3,x4:a\n").unwrap_err();
    assert_eq!(
        e,
        DataError::NotNumber {
            file: "toy.ts".into(),
            line: 6,
            value: "x4".into()
        }
    );
    let e = ts("1,NaN:3,4:a\n").unwrap_err();
    assert!(matches!(e, DataError::NotNumber { .. }));
}

#[test]
fn undeclared_and_unknown_labels_are_refused() {
    let e = ts("1:2:c\n").unwrap_err();
    assert!(matches!(e, DataError::UnknownLabel { line: 6, .. }), "{e}");
    let train = toy(&[("a", 0.5), ("b", -0.5)], 4);
    let test = Dataset::parse_csv("sequence_id,label,x\n1,z,0.1\n1,z,0.2\n", "t.csv").unwrap();
    let e = evaluate(&small(Pooling::Mean), &train, &test).unwrap_err();
    let Error::Data(DataError::UnknownLabel {
        file, line, label, ..
    }) = e
    else {
        panic!("{e}")
    };
    assert_eq!((file.as_str(), line, label.as_str()), ("t.csv", 2, "z"));
}

#[test]
fn empty_files_are_refused() {
    assert!(matches!(
        Dataset::parse_ts("", "e.ts"),
        Err(DataError::Empty { .. })
    ));
    assert!(matches!(
        Dataset::parse_ts(HEADER, "e.ts"),
        Err(DataError::Empty { .. })
    ));
    assert!(matches!(
        Dataset::parse_csv("", "e.csv"),
        Err(DataError::Empty { .. })
    ));
    let header_only = Dataset::parse_csv("sequence_id,label,x\n", "e.csv");
    assert_eq!(
        header_only.unwrap_err(),
        DataError::Empty {
            file: "e.csv".into()
        }
    );
}

#[test]
fn one_class_is_refused() {
    let train = toy(&[("a", 0.5)], 3);
    let e = Classifier::fit(&small(Pooling::Last), &train).unwrap_err();
    assert!(matches!(e, Error::Data(DataError::OneClass { .. })), "{e}");
}

#[test]
fn sequences_shorter_than_the_washout_are_refused() {
    let train = toy(&[("a", 0.5), ("b", -0.5)], 3);
    let mut config = small(Pooling::Mean);
    config.reservoir.washout = 5;
    let e = Classifier::fit(&config, &train).unwrap_err();
    let Error::Data(DataError::TooShort {
        len, washout, line, ..
    }) = e
    else {
        panic!("{e}")
    };
    assert_eq!((len, washout, line), (5, 5, 2));
}

#[test]
fn csv_groups_rows_and_checks_them() {
    let d = Dataset::parse_csv(
        "sequence_id,label,x,y\ns1,a,1,2\ns1,a,3,4\ns2,b,5,6\n",
        "c.csv",
    )
    .unwrap();
    assert_eq!((d.len(), d.channels(), d.sequences[0].nrows()), (2, 2, 2));
    let changes = Dataset::parse_csv("sequence_id,label,x\n1,a,1\n1,b,2\n", "c.csv").unwrap_err();
    assert!(matches!(changes, DataError::Malformed { line: 3, .. }));
    let back =
        Dataset::parse_csv("sequence_id,label,x\n1,a,1\n2,b,2\n1,a,3\n", "c.csv").unwrap_err();
    assert!(matches!(back, DataError::Malformed { line: 4, .. }));
    let text = Dataset::parse_csv("sequence_id,label,x\n1,a,one\n", "c.csv").unwrap_err();
    assert!(matches!(text, DataError::NotNumber { line: 2, .. }));
    let narrow = Dataset::parse_csv("id,x\n1,2\n", "c.csv").unwrap_err();
    assert!(matches!(narrow, DataError::Malformed { line: 1, .. }));
}

/// Sequences per class whose two channels oscillate at a class-specific
/// frequency; lengths vary from 5 to 5 + `n`.
fn toy(classes: &[(&str, f64)], n: usize) -> Dataset {
    let mut text = String::from("sequence_id,label,x,y\n");
    for (c, (label, f)) in classes.iter().enumerate() {
        for i in 0..n {
            for t in 0..5 + i {
                let phase = t as f64 * f + i as f64 * 0.1;
                text += &format!("{c}-{i},{label},{},{}\n", phase.sin(), phase.cos());
            }
        }
    }
    Dataset::parse_csv(&text, "toy.csv").unwrap()
}

fn small(pooling: Pooling) -> ClassifyConfig {
    let mut c = ClassifyConfig {
        pooling,
        ..ClassifyConfig::default()
    };
    c.reservoir.units = 50;
    c.reservoir.input_scaling = 0.5;
    c.reservoir.ridge = 1e-2;
    c
}

#[test]
fn every_pooling_separates_three_frequencies() {
    let classes = [("slow", 0.2), ("mid", 0.9), ("fast", 2.0)];
    let (train, test) = (toy(&classes, 12), toy(&classes, 6));
    for pooling in [Pooling::Last, Pooling::Mean, Pooling::Concat, Pooling::Vote] {
        let e = evaluate(&small(pooling), &train, &test).unwrap();
        assert_eq!(e.total, 18);
        assert!(e.accuracy >= 0.9, "{pooling:?}: {}", e.accuracy);
        let rows: usize = e.confusion.iter().flatten().sum();
        assert_eq!(rows, 18);
        assert_eq!(e.classes, ["fast", "mid", "slow"]);
    }
}

/// UCI Japanese Vowels (270 training, 370 test utterances), the command's
/// default setting over 10 reservoir seeds: mean test accuracy ≥ 98.5 %.
#[test]
fn japanese_vowels_default_setting() {
    let (train, test) = japanese_vowels().unwrap();
    assert_eq!((train.len(), test.len(), train.channels()), (270, 370, 12));
    let lengths = train
        .sequences
        .iter()
        .chain(&test.sequences)
        .map(|s| s.nrows());
    assert_eq!((lengths.clone().min(), lengths.max()), (Some(7), Some(29)));
    assert_eq!(train.classes().len(), 9);
    let summary = over_seeds(&ClassifyConfig::default(), &train, &test, 10).unwrap();
    let errors: Vec<usize> = summary.runs.iter().map(|r| r.total - r.correct).collect();
    println!(
        "accuracy {:.4} ± {:.4}, errors per seed {errors:?}",
        summary.mean, summary.ci95
    );
    assert!(summary.mean >= 0.985, "{} ± {}", summary.mean, summary.ci95);
}

/// Truncated and mutated copies of the embedded file are read or refused,
/// never a panic.
#[test]
fn damaged_ts_files_never_panic() {
    let text = huashi_esn::classify::JAPANESE_VOWELS_TRAIN;
    let head = &text[..20_000];
    for cut in (0..head.len()).step_by(97) {
        if head.is_char_boundary(cut) {
            let _ = Dataset::parse_ts(&head[..cut], "cut.ts");
            let _ = Dataset::parse_csv(&head[..cut], "cut.csv");
        }
    }
    let bytes = head.as_bytes();
    for (i, junk) in (0..bytes.len())
        .step_by(131)
        .zip([b':', b',', b'@', b'\n', b'x', b'#'].iter().cycle())
    {
        let mut damaged = bytes.to_vec();
        damaged[i] = *junk;
        let damaged = String::from_utf8_lossy(&damaged);
        let _ = Dataset::parse_ts(&damaged, "damaged.ts");
    }
}
