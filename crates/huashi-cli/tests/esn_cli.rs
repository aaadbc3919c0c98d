//! End-to-end tests of `huashi esn …` on tiny synthetic CSV files.

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn huashi(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_huashi"))
        .args(args)
        .output()
        .expect("the huashi binary runs")
}

fn json(out: &Output) -> Value {
    assert!(
        out.status.success(),
        "huashi failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("valid JSON on stdout")
}

fn stderr(out: &Output) -> String {
    assert!(!out.status.success(), "huashi should have failed");
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// A positive "price" with a trend and two cycles, and a date column.
fn write_csv(dir: &Path) -> PathBuf {
    let mut csv = String::from("Date,price\n");
    for t in 0..400 {
        let x = t as f64;
        let p = 100.0 + 0.05 * x + 5.0 * (x * 0.3).sin() + 2.0 * (x * 0.07).cos();
        csv += &format!("2020-01-{t},{p}\n");
    }
    let path = dir.join("prices.csv");
    std::fs::write(&path, csv).unwrap();
    path
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn is_png(path: &Path) -> bool {
    std::fs::read(path).is_ok_and(|b| b.starts_with(b"\x89PNG"))
}

#[test]
fn fit_then_forecast_on_a_csv() {
    let dir = tempfile::tempdir().unwrap();
    let csv = write_csv(dir.path());
    let out = dir.path().join("out");
    let common = ["--column", "price", "--units", "40", "--washout", "20"];
    let mut args = vec!["esn", "fit", "--data", s(&csv), "--out", s(&out), "--json"];
    args.extend(common);
    args.extend(["--ridge", "1e-6"]);
    let fit = json(&huashi(&args));
    let scores = fit["scores"].as_array().unwrap();
    assert_eq!(scores[0]["model"], "ESN");
    assert_eq!(fit["series"]["embedded"], false);
    let (esn, naive) = (&scores[0]["nrmse"], &scores[1]["nrmse"]);
    assert!(esn.as_f64().unwrap() < naive.as_f64().unwrap(), "{fit}");
    let model = out.join("model.safetensors");
    assert!(model.exists() && is_png(&out.join("forecast.png")));

    let png = dir.path().join("f.png");
    let forecast = json(&huashi(&[
        "esn",
        "forecast",
        "--model",
        s(&model),
        "--data",
        s(&csv),
        "--generate",
        "5",
        "--plot",
        s(&png),
        "--json",
    ]));
    assert_eq!(forecast["generated"].as_array().unwrap().len(), 5);
    assert_eq!(forecast["beyond"][0]["row"], 400);
    assert!(
        forecast["scores"][0]["r2"].as_f64().unwrap() > 0.9,
        "{forecast}"
    );
    assert!(is_png(&png));
}

#[test]
fn return_target_has_the_zero_baseline() {
    let dir = tempfile::tempdir().unwrap();
    let csv = write_csv(dir.path());
    let out = dir.path().join("out");
    let fit = json(&huashi(&[
        "esn",
        "fit",
        "--data",
        s(&csv),
        "--column",
        "price",
        "--target",
        "return",
        "--horizon",
        "2",
        "--units",
        "30",
        "--washout",
        "10",
        "--out",
        s(&out),
        "--json",
    ]));
    let scores = fit["scores"].as_array().unwrap();
    let names: Vec<&str> = scores
        .iter()
        .map(|v| v["model"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["ESN", "persistence (same as last)", "zero return"]);
    let model = out.join("model.safetensors");
    let err = stderr(&huashi(&[
        "esn",
        "forecast",
        "--model",
        s(&model),
        "--data",
        s(&csv),
        "--generate",
        "3",
    ]));
    assert!(err.contains("horizon 1"), "{err}");
}

#[test]
fn search_on_a_tiny_budget() {
    let dir = tempfile::tempdir().unwrap();
    let csv = write_csv(dir.path());
    let report = json(&huashi(&[
        "esn",
        "search",
        "--data",
        s(&csv),
        "--column",
        "price",
        "--trials",
        "3",
        "--units-range",
        "10,20",
        "--washout",
        "10",
        "--json",
    ]));
    assert_eq!(report["trials"].as_array().unwrap().len(), 3);
    let units = report["best"]["params"]["units"].as_u64().unwrap();
    assert!((10..=20).contains(&units));
    assert_eq!(report["test"][0]["model"], "ESN");
}

#[test]
fn bad_data_gives_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.csv");
    std::fs::write(&bad, "Date,price\nd1,1.0\nd2,2.0\nd3,abc\nd4,4.0\n").unwrap();
    let fit = |extra: &[&str]| {
        let mut args = vec!["esn", "fit", "--data", s(&bad), "--out", s(dir.path())];
        args.extend(extra);
        stderr(&huashi(&args))
    };
    let err = fit(&["--column", "price"]);
    assert!(err.contains("line 4") && err.contains("abc"), "{err}");
    let err = fit(&["--column", "close"]);
    assert!(err.contains("\"close\"") && err.contains("price"), "{err}");
    let err = fit(&[]);
    assert!(err.contains("--column is required"), "{err}");
    let err = stderr(&huashi(&[
        "esn",
        "fit",
        "--data",
        s(&dir.path().join("missing.csv")),
        "--column",
        "x",
    ]));
    assert!(err.contains("missing.csv"), "{err}");
    let csv = write_csv(dir.path());
    let err = stderr(&huashi(&[
        "esn",
        "fit",
        "--data",
        s(&csv),
        "--column",
        "price",
        "--horizon",
        "300",
    ]));
    assert!(err.contains("horizon 300"), "{err}");
    let err = stderr(&huashi(&["esn", "forecast", "--model", s(&csv)]));
    assert!(err.contains("invalid model file"), "{err}");
}

#[test]
fn invalid_hyper_parameters_are_errors() {
    let dir = tempfile::tempdir().unwrap();
    let csv = write_csv(dir.path());
    let err = stderr(&huashi(&[
        "esn",
        "fit",
        "--data",
        s(&csv),
        "--column",
        "price",
        "--leak",
        "1.5",
    ]));
    assert!(err.contains("leak_rate"), "{err}");
    let err = stderr(&huashi(&[
        "esn",
        "search",
        "--data",
        s(&csv),
        "--column",
        "price",
        "--units-range",
        "10",
    ]));
    assert!(err.contains("MIN,MAX"), "{err}");
}
