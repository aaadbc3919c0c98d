//! `huashi summary` with `--columns`, `--depth`, `--batch`, `--dtype` and
//! `--json` on the zoo's ResNet-50 and a description file (numbers as in
//! huashi-net's `tests/summary.rs`, which checks them against torchinfo and
//! fvcore).

mod common;
use common::{huashi, refused};

use serde_json::Value;

fn stdout(args: &[&str]) -> String {
    let out = huashi(args);
    assert!(
        out.status.success(),
        "huashi failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn columns_and_depth_shape_the_table() {
    let text = stdout(&[
        "summary",
        "--model",
        "resnet50",
        "--depth",
        "2",
        "--columns",
        "name,input,params,macs,kernel,groups",
    ]);
    let header = text.lines().find(|l| l.starts_with("layer ")).unwrap();
    let words: Vec<&str> = header.split_whitespace().collect();
    assert_eq!(
        words,
        ["layer", "input", "shape", "params", "MACs", "kernel", "groups"]
    );
    // torchinfo's Bottleneck 2-1: 75,008 params; MACs without batch norm.
    let row = text.lines().find(|l| l.starts_with("layer1.0 ")).unwrap();
    assert!(
        row.contains("(64, 56, 56)") && row.contains("75,008"),
        "{row}"
    );
    assert!(row.contains("231,211,008"), "{row}");
    let conv1 = text.lines().find(|l| l.starts_with("conv1 ")).unwrap();
    let cells: Vec<&str> = conv1.split_whitespace().collect();
    assert_eq!(&cells[cells.len() - 2..], ["7", "1"], "{conv1}");
    assert!(!text.contains("layer1.0.conv1"));
    assert!(text.contains("By op:") && text.contains("pointwise"));
}

#[test]
fn json_carries_rows_totals_and_operators() {
    let out = stdout(&[
        "summary", "--model", "resnet50", "--json", "--batch", "8", "--dtype", "f16",
    ]);
    let report: Value = serde_json::from_str(&out).unwrap();
    let summary = &report["summary"];
    assert_eq!(summary["options"]["batch"], 8);
    assert_eq!(summary["options"]["dtype"], "f16");
    let totals = &summary["totals"];
    assert_eq!(totals["params_bytes"], 2 * 25_557_032u64);
    assert_eq!(totals["input_bytes"], 8 * 2 * 3 * 224 * 224);
    assert_eq!(totals["other_flops"]["normalisation"], 22_227_968);
    assert_eq!(summary["by_operator"]["linear"]["macs"], 2_048_000);
    let rows = summary["rows"].as_array().unwrap();
    assert_eq!(rows.len(), report["nodes"].as_array().unwrap().len());
    let conv1 = rows.iter().find(|r| r["name"] == "conv1").unwrap();
    assert_eq!(conv1["geometry"]["kernel"], serde_json::json!([7, 7]));
    assert_eq!(conv1["activation_elements"], 8 * 64 * 112 * 112);
    // The totals of before stay.
    assert_eq!(report["totals"]["trainable_params"], 25_557_032);
}

#[test]
fn hostile_options_are_refused() {
    let err = refused(
        &["summary", "--model", "resnet50", "--columns", "name,flops"],
        "flops",
    );
    assert!(err.contains("activation_mb"), "{err}");
    refused(&["summary", "--model", "resnet50", "--batch", "0"], "batch");
    refused(&["summary", "--model", "resnet50", "--depth", "0"], "depth");
    // clap lists the possible values on a second line.
    let out = huashi(&["summary", "--model", "resnet50", "--dtype", "f8"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("f8") && err.contains("bf16"), "{err}");
    refused(
        &[
            "summary",
            "--model",
            "resnet50",
            "--batch",
            "18446744073709551615",
        ],
        "overflow",
    );
}

const REFLECT: &str = r#"
input_shape = [1, 8, 8]
[[nodes]]
name = "c1"
op = "conv"
out_channels = 2
kernel = 3
padding = 2
padding_mode = "reflect"
[[nodes]]
name = "c2"
op = "depthwise"
kernel = 3
padding = 1
padding_mode = "circular"
"#;

/// A description with `padding_mode` goes through `summary` (shapes as with
/// zeros: 8 + 4 − 2 = 10, then 10) and `erf` (which runs the model and its
/// gradient); reflect padding of the whole input is refused in one line.
#[test]
fn padding_mode_descriptions_run_end_to_end() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("reflect.toml");
    std::fs::write(&path, REFLECT).unwrap();
    let model = path.to_str().unwrap();
    let text = stdout(&[
        "summary",
        "--model",
        model,
        "--columns",
        "name,output,field",
    ]);
    let row = text.lines().find(|l| l.starts_with("c2 ")).unwrap();
    assert!(row.contains("(2, 10, 10)") && row.ends_with('5'), "{row}");
    let png = dir.path().join("erf.png");
    let args = [
        "erf",
        "--model",
        model,
        "--layer",
        "c2",
        "--samples",
        "2",
        "--out",
    ];
    let out = stdout(&[&args[..], &[png.to_str().unwrap(), "--json"]].concat());
    assert!(out.contains("c2"), "{out}");
    let err = refused(
        &["summary", "--model", model, "--input", "1,2,8"],
        "reflect",
    );
    assert!(err.contains("padding 2"), "{err}");
}
