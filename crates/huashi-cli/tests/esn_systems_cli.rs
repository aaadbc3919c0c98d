//! End-to-end tests of the benchmark series, `--ridge auto` and `--nrmse`
//! in `huashi esn fit` / `forecast`.

mod common;
use common::huashi;

use serde_json::Value;
use std::path::Path;

fn json(args: &[&str]) -> Value {
    let out = huashi(args);
    assert!(
        out.status.success(),
        "huashi failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("valid JSON on stdout")
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn fit_a_series_with_the_ridge_chosen_then_forecast_it() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let small = ["--units", "50", "--washout", "20", "--steps", "1500"];
    let mut args = vec!["esn", "fit", "--series", "henon", "--ridge", "auto"];
    args.extend(["--nrmse", "range", "--out", s(&out), "--json"]);
    args.extend(small);
    let fit = json(&args);
    let sel = &fit["ridge_selection"];
    assert_eq!(sel["criterion"], "loo");
    assert_eq!(sel["lambdas"].as_array().unwrap().len(), 25);
    let best = sel["best"].as_f64().unwrap();
    assert_eq!(fit["config"]["ridge"].as_f64().unwrap(), best);
    assert!(std::fs::read(out.join("ridge.png")).is_ok_and(|b| b.starts_with(b"\x89PNG")));
    assert_eq!(fit["scores"][0]["normalisation"], "range");
    let rho = fit["effective_spectral_radius"].as_f64().unwrap();
    assert!(rho > 0.0 && rho <= 1.0, "{rho}");
    let closed = &fit["closed_loop"];
    assert!(closed["steps"].as_u64().unwrap() > 0, "{closed}");
    let l = closed["lyapunov_exponent"].as_f64().unwrap();
    assert!((l - 0.419).abs() < 0.02, "{l}");
    let model = out.join("model.safetensors");
    let args = ["esn", "forecast", "--model", s(&model), "--series", "henon"];
    let fc = json(&[&args[..], &["--steps", "1500", "--nrmse", "q1q3", "--json"]].concat());
    assert_eq!(fc["scores"][0]["normalisation"], "q1q3");
}

#[test]
fn gcv_and_bad_names_and_values() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let mut args = vec!["esn", "fit", "--series", "mso3", "--ridge", "auto"];
    args.extend([
        "--ridge-criterion",
        "gcv",
        "--units",
        "40",
        "--steps",
        "800",
    ]);
    args.extend(["--out", s(&out), "--json"]);
    let fit = json(&args);
    assert_eq!(fit["ridge_selection"]["criterion"], "gcv");
    for (opt, bad) in [
        ("--series", "lorenz97"),
        ("--nrmse", "median"),
        ("--ridge", "-1"),
    ] {
        let out = huashi(&["esn", "fit", opt, bad]);
        assert!(!out.status.success());
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(bad), "{err}");
    }
    let out = huashi(&["esn", "fit", "--series", "laser", "--steps", "20000"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("20000"));
}
