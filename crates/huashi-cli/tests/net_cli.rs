//! End-to-end tests of `huashi summary` and `huashi rf` on zoo models and on
//! description files.

mod common;
use common::{huashi, refused};

use serde_json::Value;
use std::path::Path;
use std::process::{Command, Output};

fn json(out: &Output) -> Value {
    assert!(
        out.status.success(),
        "huashi failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("valid JSON on stdout")
}

fn stdout(out: &Output) -> String {
    assert!(
        out.status.success(),
        "huashi failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &Output) -> String {
    assert!(!out.status.success(), "huashi should have failed");
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn summary_totals_match_the_library() {
    for model in ["mobilenet_v1", "resnet50"] {
        let expected = huashi_net::zoo::by_name(model)
            .unwrap()
            .analyse_default()
            .unwrap()
            .totals;
        let report = json(&huashi(&["summary", "--model", model, "--json"]));
        let totals = &report["totals"];
        assert_eq!(totals["trainable_params"], expected.params, "{model}");
        assert_eq!(totals["bn_moving_statistics"], expected.moving_stats);
        assert_eq!(totals["macs"], expected.macs);
        assert_eq!(totals["flops"], 2 * expected.macs);
        assert_eq!(report["input_shape"], serde_json::json!([3, 224, 224]));
    }
}

#[test]
fn summary_table_of_vgg16() {
    let text = stdout(&huashi(&["summary", "--model", "vgg16"]));
    assert!(
        text.contains("Trainable params:      138,357,544"),
        "{text}"
    );
    assert!(text.contains("FLOPs = 2·MACs"));
    let row = text.lines().find(|l| l.starts_with("conv5_3 ")).unwrap();
    let cells: Vec<&str> = row.split_whitespace().collect();
    assert_eq!(&cells[cells.len() - 3..], &["196", "16", "90"], "{row}");
}

#[test]
fn rf_of_vgg16_conv5_3() {
    let out = huashi(&["rf", "--model", "vgg16", "--layer", "conv5_3", "--json"]);
    let report = json(&out);
    let node = &report["nodes"][0];
    assert_eq!(node["layer"], "conv5_3");
    for axis in ["height", "width"] {
        let f = &node[axis];
        assert_eq!(
            (&f["size"], &f["stride"], &f["padding"]),
            (&196.into(), &16.into(), &90.into())
        );
        assert_eq!(f["centre"], 7.5);
        assert_eq!(f["region"], serde_json::json!([-90, 105]));
    }
    let text = stdout(&huashi(&["rf", "--model", "vgg16", "--layer", "conv5_3"]));
    assert!(text.contains("[-90, 105]"), "{text}");
}

#[test]
fn rf_of_every_node_at_another_input_size() {
    let report = json(&huashi(&[
        "rf",
        "--model",
        "mobilenet_v1",
        "--input",
        "192,192",
        "--json",
    ]));
    assert_eq!(report["input_shape"], serde_json::json!([3, 192, 192]));
    let nodes = report["nodes"].as_array().unwrap();
    assert!(nodes.len() > 80);
    assert!(nodes.iter().any(|n| n["layer"] == "Conv2d_13_pointwise"));
}

const TWO_PATHS: &str = r#"
name = "paths"
input_shape = [3, 16, 16]

[[nodes]]
name = "a"
op = "pointwise"
out_channels = 4
inputs = ["input"]

[[nodes]]
name = "b"
op = "conv"
out_channels = 4
kernel = 2
padding = [0, 1, 0, 1]
inputs = ["input"]

[[nodes]]
name = "merge"
op = "add"
inputs = ["a", "b"]

[[nodes]]
name = "after"
op = "conv"
out_channels = 4
kernel = 3
"#;

#[test]
fn description_file_in_a_tempdir() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("paths.toml");
    std::fs::write(&path, TWO_PATHS).unwrap();
    let text = stdout(&huashi(&["summary", "--model", s(&path)]));
    let row = text.lines().find(|l| l.starts_with("after ")).unwrap();
    assert!(row.contains("misaligned"), "{row}");
    assert!(text.contains("Trainable params:      "));
    let rf = stdout(&huashi(&["rf", "--model", s(&path), "--layer", "after"]));
    assert!(
        rf.contains("misaligned") && rf.contains("\"merge\""),
        "{rf}"
    );
    let a = json(&huashi(&[
        "rf",
        "--model",
        s(&path),
        "--layer",
        "a",
        "--json",
    ]));
    assert_eq!(a["nodes"][0]["height"]["size"], 1);
}

const UPSAMPLE: &str = r#"
[[nodes]]
name = "s"
op = "spatially_separable"
out_channels = 4
mid = 2
kernel = 3
padding = 1

[[nodes]]
name = "up"
op = "conv_transpose"
out_channels = 2
kernel = 4
stride = 2
padding = 1
"#;

#[test]
fn transposed_stride_two_field_is_printed_as_undefined() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("up.toml");
    std::fs::write(&path, UPSAMPLE).unwrap();
    let text = stdout(&huashi(&[
        "summary",
        "--model",
        s(&path),
        "--input",
        "3,8,8",
    ]));
    let row = text.lines().find(|l| l.starts_with("up ")).unwrap();
    assert!(row.contains("undefined (transposed stride 2)"), "{row}");
    assert!(row.contains("(2, 16, 16)"), "{row}");
    let row = text.lines().find(|l| l.starts_with("s ")).unwrap();
    assert!(row.contains("(4, 8, 8)"), "{row}");
    let rf = stdout(&huashi(&[
        "rf",
        "--model",
        s(&path),
        "--input",
        "3,8,8",
        "--layer",
        "up",
    ]));
    assert!(rf.contains("undefined (transposed stride 2)"), "{rf}");
    let all = json(&huashi(&[
        "rf",
        "--model",
        s(&path),
        "--input",
        "3,8,8",
        "--json",
    ]));
    assert_eq!(all["nodes"][1]["height"]["size"], 3, "{all}");
    assert_eq!(
        all["nodes"][2]["undefined"]["undefined"]["reason"], "transposed stride 2",
        "{all}"
    );
}

#[test]
fn bad_description_file_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.toml");
    std::fs::write(&path, "[[nodes]]\nname = \"c\"\nop = \"convolution\"\n").unwrap();
    let err = stderr(&huashi(&["summary", "--model", s(&path)]));
    assert!(err.contains("bad.toml") && err.contains("line"), "{err}");
    let err = stderr(&huashi(&[
        "rf",
        "--model",
        s(&dir.path().join("missing.json")),
    ]));
    assert!(
        err.contains("missing.json") && err.contains("vgg16"),
        "{err}"
    );
}

#[test]
fn unknown_layer_lists_nearby_names() {
    let err = stderr(&huashi(&["rf", "--model", "vgg16", "--layer", "conv5_4"]));
    assert!(
        err.contains("no layer \"conv5_4\"") && err.contains("conv5_3"),
        "{err}"
    );
}

#[test]
fn bad_input_size_is_rejected() {
    let err = stderr(&huashi(&["summary", "--model", "vgg16", "--input", "224"]));
    assert!(err.contains("--input"), "{err}");
}

fn file_with(dir: &Path, name: &str, text: &str) -> std::path::PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn hostile_input_sizes_are_one_line_errors() {
    let erf = ["erf", "--model", "vgg16", "--layer", "conv3_3", "--input"];
    let dir = tempfile::tempdir().unwrap();
    let png = dir.path().join("erf.png");
    let with = |input: &'static str| [&erf[..], &[input, "--out", s(&png)]].concat();
    let err = refused(&with("4294967296,4294967296"), "");
    assert!(
        err.contains("\"conv1_1\"") && err.contains("overflows"),
        "{err}"
    );
    let err = refused(&with("100000,100000"), "");
    assert!(
        err.contains("would need") && err.contains("HUASHI_MAX_MEMORY_BYTES"),
        "{err}"
    );
    let summary = [
        "summary",
        "--model",
        "vgg16",
        "--input",
        "4294967296,4294967296",
    ];
    assert!(refused(&summary, "").contains("\"conv1_1\""));
    let err = refused(
        &[
            "conv",
            "compare",
            "--in",
            "4294967296",
            "--out",
            "4294967296",
            "--no-timing",
        ],
        "",
    );
    assert!(err.contains("overflows"), "{err}");
    let err = refused(
        &["conv", "compare", "--in", "100000", "--out", "100000"],
        "",
    );
    assert!(err.contains("would need"), "{err}");
}

#[test]
fn hostile_description_files_are_errors_naming_the_node() {
    let dir = tempfile::tempdir().unwrap();
    let huge = file_with(
        dir.path(),
        "huge.json",
        r#"{"input_shape": [3, 8, 8], "nodes": [
            {"name": "wide", "op": "conv", "out_channels": 9223372036854775808, "kernel": 3}]}"#,
    );
    let padded = file_with(
        dir.path(),
        "padded.toml",
        "input_shape = [3, 8, 8]\n[[nodes]]\nname = \"padded\"\nop = \"conv\"\nout_channels = 8\nkernel = 3\npadding = 1000000000000\n",
    );
    let quarter = file_with(
        dir.path(),
        "quarter.toml",
        "input_shape = [4, 8, 8]\n[[nodes]]\nname = \"zero\"\nop = \"conv\"\nout_channels = 4611686018427387904\nkernel = 3\n",
    );
    for (path, node) in [(&huge, "wide"), (&padded, "padded"), (&quarter, "zero")] {
        let err = refused(&["summary", "--model", s(path)], "");
        assert!(
            err.contains(&format!("\"{node}\"")) && err.contains("overflows"),
            "{err}"
        );
    }
    let mut strided = "input_shape = [1, 1, 1]\n".to_string();
    for i in 0..70 {
        strided += &format!(
            "[[nodes]]\nname = \"s{i}\"\nop = \"conv\"\nout_channels = 1\nkernel = 1\nstride = 2\n"
        );
    }
    let strided = file_with(dir.path(), "strided.toml", &strided);
    let err = refused(&["rf", "--model", s(&strided)], "");
    assert!(
        err.contains("\"s62\"") && err.contains("receptive field"),
        "{err}"
    );
}

#[test]
fn oversize_names_degenerate_values_and_devices_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let name = "n".repeat(65_536);
    let long = file_with(
        dir.path(),
        "long.toml",
        &format!("input_shape = [1, 4, 4]\n[[nodes]]\nname = \"{name}\"\nop = \"pointwise\"\nout_channels = 1\n"),
    );
    let err = refused(&["summary", "--model", s(&long)], "");
    assert!(err.contains("65536 characters") && err.len() < 400, "{err}");
    let drop = file_with(
        dir.path(),
        "drop.toml",
        "input_shape = [1, 4, 4]\n[[nodes]]\nname = \"drop\"\nop = \"dropout\"\nrate = 5.0\n",
    );
    assert!(refused(&["summary", "--model", s(&drop)], "").contains("rate"));
    let err = refused(
        &[
            "erf",
            "--model",
            "maml_omniglot",
            "--layer",
            "blocks.0",
            "--samples",
            "0",
        ],
        "",
    );
    assert!(err.contains("--samples"), "{err}");
    let err = refused(&["conv", "compare", "--runs", "0", "--size", "4"], "");
    assert!(err.contains("--runs"), "{err}");
    let err = refused(&["summary", "--model", "/dev/zero"], "");
    assert!(err.contains("/dev/zero"), "{err}");
}

#[test]
fn factorize_checks_its_memory_before_loading() {
    let dir = tempfile::tempdir().unwrap();
    let header =
        r#"{"w.weight":{"dtype":"F32","shape":[100000,100000,3,3],"data_offsets":[0,36]}}"#;
    let mut bytes = (header.len() as u64).to_le_bytes().to_vec();
    bytes.extend(header.as_bytes());
    bytes.extend([0u8; 36]);
    let path = dir.path().join("big.safetensors");
    std::fs::write(&path, bytes).unwrap();
    let err = refused(
        &[
            "conv",
            "factorize",
            "--weights",
            s(&path),
            "--tensor",
            "w.weight",
        ],
        "",
    );
    assert!(
        err.contains("would need") && err.contains("w.weight"),
        "{err}"
    );
}

#[test]
fn weights_above_the_memory_limit_are_not_read() {
    let dir = tempfile::tempdir().unwrap();
    let weights = file_with(dir.path(), "w.safetensors", &"x".repeat(4096));
    let out = Command::new(env!("CARGO_BIN_EXE_huashi"))
        .args(["erf", "--model", "maml_omniglot", "--layer", "blocks.0"])
        .args([
            "--weights",
            s(&weights),
            "--out",
            s(&dir.path().join("e.png")),
        ])
        .env("HUASHI_MAX_MEMORY_BYTES", "1000")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("reading the weights") && err.contains("would need"),
        "{err}"
    );
}
