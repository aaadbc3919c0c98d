//! End-to-end tests of `huashi esn …` on tiny synthetic CSV files.

mod common;
use common::{huashi, refused, MAX};

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Output;

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

/// A positive "price" with a trend and two cycles, a "lead" column that
/// runs one row ahead of the price's cycle, and a date column.
fn write_csv(dir: &Path) -> PathBuf {
    let mut csv = String::from("Date,price,lead\n");
    for t in 0..400 {
        let x = t as f64;
        let p = 100.0 + 0.05 * x + 5.0 * (x * 0.3).sin() + 2.0 * (x * 0.07).cos();
        let lead = 5.0 * ((x + 1.0) * 0.3).sin();
        csv += &format!("2020-01-{t},{p},{lead}\n");
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
fn several_input_columns_and_a_target_column() {
    let dir = tempfile::tempdir().unwrap();
    let csv = write_csv(dir.path());
    let out = dir.path().join("out");
    let mut args = vec!["esn", "fit", "--data", s(&csv), "--out", s(&out), "--json"];
    args.extend(["--columns", "price,lead", "--target-column", "price"]);
    args.extend(["--units", "40", "--washout", "20", "--ridge", "1e-6"]);
    let fit = json(&huashi(&args));
    assert_eq!(
        fit["series"]["inputs"],
        serde_json::json!(["price", "lead"])
    );
    assert_eq!(fit["series"]["column"], "price");
    // The lead column tells the next price change: better than persistence.
    let scores = fit["scores"].as_array().unwrap();
    let (esn, naive) = (&scores[0]["nrmse"], &scores[1]["nrmse"]);
    assert!(esn.as_f64().unwrap() < naive.as_f64().unwrap(), "{fit}");
    // The saved model reads both columns again; a free run needs the
    // target as its only input.
    let model = out.join("model.safetensors");
    let forecast = |extra: &[&str]| {
        let mut args = vec!["esn", "forecast", "--model", s(&model), "--data", s(&csv)];
        args.extend(extra);
        huashi(&args)
    };
    let report = json(&forecast(&["--json"]));
    assert_eq!(
        report["series"]["inputs"],
        serde_json::json!(["price", "lead"])
    );
    let err = stderr(&forecast(&["--generate", "3"]));
    assert!(err.contains("only input is its target"), "{err}");
    let mut args = vec!["esn", "fit", "--data", s(&csv), "--out", s(&out)];
    args.extend(["--columns", "price,volume", "--column", "price"]);
    let err = stderr(&huashi(&args));
    assert!(err.contains("volume"), "{err}");
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
fn search_on_a_tiny_budget_resumes_from_its_log() {
    let dir = tempfile::tempdir().unwrap();
    let csv = write_csv(dir.path());
    let out = dir.path().join("search");
    let search_with = |seeds: &str, extra: &[&str]| {
        let mut args = vec!["esn", "search", "--data", s(&csv), "--column", "price"];
        args.extend(["--trials", "3", "--units-range", "10,20", "--washout", "10"]);
        args.extend(["--seeds", seeds, "--out", s(&out)]);
        args.extend(extra);
        huashi(&args)
    };
    let search = |extra: &[&str]| search_with("2", extra);
    let report = json(&search(&["--json"]));
    let ranked = report["outcome"]["ranked"].as_array().unwrap();
    assert_eq!(ranked.len(), 3);
    assert_eq!(ranked[0]["per_seed"].as_array().unwrap().len(), 2);
    let units = report["best"]["params"]["units"].as_u64().unwrap();
    assert!((10..=20).contains(&units));
    assert_eq!(report["test"][0]["model"], "ESN");
    for file in ["trials.jsonl", "trials.csv", "search.png"] {
        assert!(out.join(file).is_file(), "{file}");
    }
    // A second run refuses to replace the log; --resume reruns nothing.
    assert!(stderr(&search(&[])).contains("--resume"));
    let again = json(&search(&["--resume", "--json"]));
    assert_eq!(again["outcome"]["resumed"], 3);
    assert_eq!(again["best"]["params"], report["best"]["params"]);
    let err = stderr(&search_with("1", &["--resume"]));
    assert!(
        err.contains("trials.jsonl line 1") && err.contains("seeds"),
        "{err}"
    );
}

#[test]
fn search_by_successive_halving() {
    let dir = tempfile::tempdir().unwrap();
    let csv = write_csv(dir.path());
    let out = dir.path().join("halving");
    let mut args = vec!["esn", "search", "--data", s(&csv), "--column", "price"];
    args.extend(["--trials", "4", "--units-range", "10,20", "--washout", "5"]);
    args.extend(["--strategy", "halving", "--eta", "2", "--seeds", "1"]);
    args.extend(["--train-fraction", "0.8", "--validation-fraction", "0.1"]);
    args.extend(["--out", s(&out), "--json"]);
    let report = json(&huashi(&args));
    // 400 rows give 398 pairs (the last change in, the next out), 80 % of
    // them 318 training pairs; washout 5 (at least 105 steps per rung), 4
    // trials, eta 2: rungs of 318/2 = 159 and 318 steps with 4 and 2 trials
    // (318/4 = 79 would be under 105).
    assert_eq!(report["outcome"]["rungs"], serde_json::json!([159, 318]));
    assert_eq!(
        report["outcome"]["evaluations"].as_array().unwrap().len(),
        6
    );
    assert_eq!(report["best"]["train_steps"], 318);
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

#[test]
fn hostile_sizes_are_refused_before_allocating() {
    let dir = tempfile::tempdir().unwrap();
    let csv = write_csv(dir.path());
    let out = dir.path().join("out");
    let fit = |extra: &[&str], needle: &str| {
        let mut args = vec!["esn", "fit", "--data", s(&csv), "--column", "price"];
        args.extend(["--out", s(&out)]);
        args.extend(extra);
        refused(&args, needle);
    };
    fit(
        &["--horizon", MAX],
        "horizon 18446744073709551615 is too long",
    );
    fit(&["--units", "1000000000000"], "overflows 64 bits");
    fit(&["--units", "1000000"], "would need");
    fit(
        &["--units", "-1"],
        "'-1' for '--units <N>': must not be negative",
    );
    fit(&["--washout", "-5"], "must not be negative");
    fit(&["--leak", "-0.5"], "leak_rate = -0.5");
    fit(&["--spectral-radius", "-2"], "spectral_radius = -2");
    fit(&["--horizon", "0"], "at least 1");
    refused(&["esn", "search", "--trials", MAX], "--trials");
    refused(&["esn", "search", "--top", "0"], "at least 1");
    refused(&["esn", "bench", "--runs", "0"], "at least 1");
    assert!(!out.exists(), "nothing is written on a refused run");
}

#[test]
fn endless_inputs_are_refused_quickly() {
    refused(&["esn", "forecast", "--model", "/dev/zero"], "limit");
    refused(
        &["esn", "fit", "--data", "/dev/zero", "--column", "x"],
        "limit",
    );
}

/// Fits a small model into `dir/out` and returns its path.
fn small_model(dir: &Path) -> PathBuf {
    let csv = write_csv(dir);
    let out = dir.join("out");
    let args = ["esn", "fit", "--data", s(&csv), "--column", "price"];
    let mut args = args.to_vec();
    args.extend(["--units", "20", "--washout", "10", "--out", s(&out)]);
    json(&huashi(&[args.as_slice(), &["--json"]].concat()));
    out.join("model.safetensors")
}

/// Rewrites the stored transform of `model` with `edit` and saves it as
/// `name` beside it.
fn edited(model: &Path, name: &str, edit: &dyn Fn(&mut Value)) -> PathBuf {
    let (esn, mut meta) = huashi_esn::Esn::load_with_metadata(model).unwrap();
    let key = "huashi.transform";
    let mut transform: Value = serde_json::from_str(&meta[key]).unwrap();
    edit(&mut transform);
    meta.insert(key.to_string(), transform.to_string());
    let path = model.with_file_name(name);
    esn.save_with_metadata(&path, &meta).unwrap();
    path
}

#[test]
fn model_files_are_checked_like_the_options_that_made_them() {
    let dir = tempfile::tempdir().unwrap();
    let model = small_model(dir.path());
    let csv = dir.path().join("prices.csv");
    let forecast = |m: &Path, needle: &str| {
        let args = ["esn", "forecast", "--model", s(m), "--data", s(&csv)];
        refused(&args, needle);
    };
    let bad_std = edited(&model, "std.safetensors", &|t| {
        t["output"]["std"] = (-1.0).into();
        t["inputs"][0]["std"] = (-1.0).into();
    });
    forecast(&bad_std, "standard deviation = -1");
    let nan_mean = edited(&model, "mean.safetensors", &|t| {
        t["inputs"][0]["mean"] = Value::from(1e308);
        t["inputs"][0]["std"] = Value::from(0.0);
    });
    forecast(&nan_mean, "standard deviation = 0");
    let huge = edited(&model, "horizon.safetensors", &|t| {
        t["horizon"] = Value::from(u64::MAX);
    });
    forecast(&huge, "closed-loop transform needs horizon 1");
    let huge = edited(&model, "horizon-open.safetensors", &|t| {
        t["horizon"] = Value::from(u64::MAX);
        t["closed_loop"] = Value::from(false);
    });
    forecast(&huge, "too long");
    let (esn, meta) = huashi_esn::Esn::load_with_metadata(&model).unwrap();
    let mut config = esn.config().clone();
    config.washout = usize::MAX;
    let parts = (esn.reservoir().clone(), esn.readout().clone());
    let esn = huashi_esn::Esn::from_parts(config, parts.0, parts.1).unwrap();
    let washout = model.with_file_name("washout.safetensors");
    esn.save_with_metadata(&washout, &meta).unwrap();
    forecast(&washout, "washout of 18446744073709551615");
    let generate = ["esn", "forecast", "--model", s(&model), "--data", s(&csv)];
    refused(
        &[generate.as_slice(), &["--generate", MAX]].concat(),
        "--generate",
    );
}
