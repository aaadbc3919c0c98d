//! End-to-end tests of `huashi esn classify` and `huashi esn nvar` on tiny
//! files (the embedded Japanese Vowels and Lorenz-63 defaults run in the
//! library's tests).

mod common;
use common::{huashi, refused, MAX};

use serde_json::Value;
use std::path::{Path, PathBuf};

fn json(args: &[&str]) -> Value {
    let out = huashi(args);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "huashi failed: {err}");
    serde_json::from_slice(&out.stdout).expect("valid JSON on stdout")
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn is_png(path: &Path) -> bool {
    std::fs::read(path).is_ok_and(|b| b.starts_with(b"\x89PNG"))
}

/// Two classes of 2-channel sequences (slow and fast oscillations) of 6-11
/// steps, as CSV `sequence_id,label,x,y`.
fn write_sequences(dir: &Path, name: &str, per_class: usize) -> PathBuf {
    let mut csv = String::from("sequence_id,label,x,y\n");
    for (label, f) in [("slow", 0.2), ("fast", 1.7)] {
        for i in 0..per_class {
            for t in 0..6 + i % 6 {
                let p = t as f64 * f + i as f64 * 0.3;
                csv += &format!("{label}{i},{label},{},{}\n", p.sin(), p.cos());
            }
        }
    }
    let path = dir.join(name);
    std::fs::write(&path, csv).unwrap();
    path
}

#[test]
fn classify_csv_files_with_seeds_and_a_confusion_plot() {
    let dir = tempfile::tempdir().unwrap();
    let train = write_sequences(dir.path(), "train.csv", 10);
    let test = write_sequences(dir.path(), "test.csv", 5);
    let png = dir.path().join("confusion.png");
    let args = [
        "esn",
        "classify",
        "--data",
        s(&train),
        "--test",
        s(&test),
        "--units",
        "40",
    ];
    let mut args = args.to_vec();
    args.extend([
        "--input-scaling",
        "0.5",
        "--ridge",
        "0.01",
        "--seeds",
        "3",
        "--readout",
        "vote",
        "--plot",
        s(&png),
        "--json",
    ]);
    let report = json(&args);
    let summary = &report["summary"];
    assert_eq!(summary["runs"].as_array().unwrap().len(), 3);
    assert!(summary["mean"].as_f64().unwrap() >= 0.9, "{report}");
    assert_eq!(
        summary["runs"][0]["classes"],
        serde_json::json!(["fast", "slow"])
    );
    assert!(is_png(&png));
}

#[test]
fn classify_refuses_malformed_files_naming_them() {
    let dir = tempfile::tempdir().unwrap();
    let train = write_sequences(dir.path(), "train.csv", 4);
    let bad = dir.path().join("bad.ts");
    std::fs::write(&bad, "@classLabel true a b\n@data\n1,2,3:4,5:a\n").unwrap();
    let err = refused(
        &["esn", "classify", "--data", s(&bad), "--test", s(&train)],
        "bad.ts",
    );
    assert!(err.contains("line 3") && err.contains("channel 2"), "{err}");
    let unknown = dir.path().join("unknown.csv");
    std::fs::write(&unknown, "sequence_id,label,x,y\n1,medium,0.1,0.2\n").unwrap();
    let err = refused(
        &[
            "esn",
            "classify",
            "--data",
            s(&train),
            "--test",
            s(&unknown),
        ],
        "medium",
    );
    assert!(err.contains("unknown.csv"), "{err}");
    refused(&["esn", "classify", "--data", s(&train)], "--test");
}

#[test]
fn nvar_lorenz_default_and_a_csv_series() {
    let dir = tempfile::tempdir().unwrap();
    let png = dir.path().join("nvar.png");
    let report = json(&["esn", "nvar", "--trials", "2", "--plot", s(&png), "--json"]);
    assert_eq!(report["trials"].as_array().unwrap().len(), 2);
    assert_eq!(report["features"], 28);
    assert!(
        report["mean_closed_loop_nrmse"].as_f64().unwrap() < 0.02,
        "{report}"
    );
    assert!(is_png(&png));
    assert_eq!(report["references"].as_array().unwrap().len(), 2);
    let scroll = json(&[
        "esn",
        "nvar",
        "--system",
        "doublescroll",
        "--trials",
        "2",
        "--json",
    ]);
    // No constant, 6 linear and 56 cubic monomials: the paper's features.
    assert_eq!(
        (
            scroll["features"].as_u64(),
            scroll["config"]["constant"].as_bool()
        ),
        (Some(62), Some(false))
    );
    assert!(
        scroll["mean_closed_loop_nrmse"].as_f64().unwrap() < 0.01,
        "{scroll}"
    );
    let changed = json(&[
        "esn",
        "nvar",
        "--system",
        "doublescroll",
        "--trials",
        "1",
        "--constant",
        "true",
        "--json",
    ]);
    assert_eq!(
        (
            changed["features"].as_u64(),
            changed["references"].as_array().map(Vec::len)
        ),
        (Some(63), Some(0))
    );
    let mut csv = String::from("t,a,b\n");
    for t in 0..300 {
        let x = t as f64 * 0.1;
        csv += &format!("{t},{},{}\n", x.sin(), x.cos());
    }
    let path = dir.path().join("circle.csv");
    std::fs::write(&path, csv).unwrap();
    let args = [
        "esn",
        "nvar",
        "--data",
        s(&path),
        "--columns",
        "a,b",
        "--warmup",
        "10",
    ];
    let mut args = args.to_vec();
    args.extend(["--train", "200", "--test", "50", "--json"]);
    let report = json(&args);
    assert!(
        report["mean_closed_loop_nrmse"].as_f64().unwrap() < 1e-3,
        "{report}"
    );
    refused(
        &[
            "esn",
            "nvar",
            "--data",
            s(&path),
            "--columns",
            "a,zz",
            "--train",
            "9",
            "--test",
            "5",
        ],
        "zz",
    );
}

#[test]
fn hostile_sizes_are_refused_cleanly() {
    refused(
        &["esn", "nvar", "--delays", MAX, "--trials", "1"],
        "warm-up",
    );
    refused(&["esn", "nvar", "--trials", "1000000"], "trials");
    refused(&["esn", "classify", "--units", "4000000000"], "reservoir");
}
