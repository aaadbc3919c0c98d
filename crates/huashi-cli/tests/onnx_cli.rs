//! End-to-end tests of `--model FILE.onnx` for `huashi summary`, `rf` and
//! `erf` on huashi-net's PyTorch-exported fixture (numbers from
//! `crates/huashi-net/tests/onnx_fixtures/tiny_mobilenet_v2.json`, PyTorch's
//! `sum(p.numel())`), and the typed errors for a damaged file.

mod common;
use common::huashi;
use serde_json::Value;

const FIXTURE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../huashi-net/tests/onnx_fixtures/tiny_mobilenet_v2.onnx"
);

fn ok_json(args: &[&str]) -> Value {
    let out = huashi(args);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("JSON on stdout")
}

#[test]
fn summary_of_an_onnx_export_counts_pytorchs_parameters() {
    let report = ok_json(&["summary", "--model", FIXTURE, "--json"]);
    // PyTorch: 4250 parameters, 496 batch-norm running values.
    assert_eq!(report["totals"]["trainable_params"], 4250);
    assert_eq!(report["totals"]["bn_moving_statistics"], 496);
}

#[test]
fn rf_and_erf_of_an_onnx_export() {
    let out = huashi(&["summary", "--model", FIXTURE]);
    assert!(out.status.success());
    let table = String::from_utf8_lossy(&out.stdout);
    let pool = table
        .lines()
        .find(|l| l.contains("max_pool"))
        .and_then(|l| l.split_whitespace().next())
        .expect("a max_pool row")
        .to_string();
    let rf = ok_json(&["rf", "--model", FIXTURE, "--layer", &pool, "--json"]);
    // Derived in huashi-net's tests/onnx_fixtures.rs: (27, 8, 9) per axis.
    let f = &rf["nodes"][0]["height"];
    assert_eq!(
        (&f["size"], &f["stride"], &f["padding"]),
        (&27.into(), &8.into(), &9.into())
    );
    let dir = tempfile::tempdir().unwrap();
    let png = dir.path().join("erf.png");
    let args = [
        "erf",
        "--model",
        FIXTURE,
        "--layer",
        &pool,
        "--samples",
        "2",
        "--out",
        png.to_str().unwrap(),
    ];
    let out = huashi(&args);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(png.exists());
}

#[test]
fn a_damaged_onnx_file_is_an_error_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("broken.onnx");
    let bytes = std::fs::read(FIXTURE).unwrap();
    std::fs::write(&path, &bytes[..bytes.len() / 3]).unwrap();
    let out = huashi(&["summary", "--model", path.to_str().unwrap()]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("broken.onnx") && err.contains("ONNX"), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    // The file's error is said once (it was printed twice: the message and
    // again as its source in the chain).
    assert_eq!(err.matches("not ONNX").count(), 1, "{err}");
}

/// torchvision's ResNet-50 exported with external data
/// (`export_torchvision.py`); its data file is not committed.
const RESNET50: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../huashi-net/tests/onnx_fixtures/resnet50.onnx"
);

#[test]
fn summary_and_rf_need_no_external_data_but_erf_names_the_missing_file() {
    // A copy without its data file, whatever the fixture folder holds.
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("resnet50.onnx");
    std::fs::copy(RESNET50, &model).unwrap();
    let model = model.to_str().unwrap();
    let report = ok_json(&["summary", "--model", model, "--depth", "2", "--json"]);
    // torchvision: sum(p.numel()) = 25,557,032; 53,120 running values.
    assert_eq!(report["totals"]["trainable_params"], 25_557_032);
    assert_eq!(report["totals"]["bn_moving_statistics"], 53_120);
    let rows = report["summary"]["rows"].as_array().unwrap();
    let layer1_0 = rows.iter().find(|r| r["name"] == "layer1.0").unwrap();
    assert_eq!(layer1_0["params"], 75_008);
    let last = "/layer4/layer4.2/relu_2/Relu";
    let rf = ok_json(&["rf", "--model", model, "--layer", last, "--json"]);
    // torchvision ResNet-50's last stage: 427 (huashi-net's tests/zoo.rs).
    assert_eq!(rf["nodes"][0]["height"]["size"], 427);
    let out = huashi(&["erf", "--model", model, "--layer", "/conv1/Conv"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("resnet50.onnx.data") && err.contains("conv1.weight"),
        "{err}"
    );
    assert!(!err.contains("panicked"), "{err}");
}
