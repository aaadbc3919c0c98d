//! `huashi meta train --model`: meta-learning a described network end to
//! end (train, checkpoint, eval), `--head`, `--embedding`, `--adapt-only`,
//! `--dry-run`, and the errors that name the node or option at fault.

mod common;
use common::{huashi, refused};

use std::path::Path;

/// A small network without a head: conv → batch norm → ReLU, a residual
/// branch, max pool, global pool, flatten.
const NETWORK: &str = r#"
name = "tiny"
input_shape = [1, 28, 28]
[[nodes]]
name = "stem"
op = "conv"
out_channels = 4
kernel = 3
stride = 2
padding = 1
[[nodes]]
name = "stem.bn"
op = "batch_norm"
[[nodes]]
name = "stem.relu"
op = "activation"
function = "relu"
[[nodes]]
name = "branch"
op = "depthwise"
kernel = 3
padding = 1
[[nodes]]
name = "sum"
op = "add"
inputs = ["stem.relu", "branch"]
[[nodes]]
name = "pool"
op = "max_pool"
kernel = 2
[[nodes]]
name = "gap"
op = "global_avg_pool"
[[nodes]]
name = "features"
op = "flatten"
"#;

fn write_network(dir: &Path) -> String {
    let path = dir.join("tiny.toml");
    std::fs::write(&path, NETWORK).unwrap();
    path.to_str().unwrap().to_string()
}

fn ok(args: &[&str]) -> String {
    let output = huashi(args);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{args:?} failed: {stderr}");
    String::from_utf8_lossy(&output.stdout).to_string()
}

const TINY: [&str; 10] = [
    "--task",
    "omniglot",
    "--iterations",
    "2",
    "--meta-batch",
    "2",
    "--validate-every",
    "0",
    "--test-tasks",
    "4",
];

#[test]
fn a_described_network_trains_checkpoints_and_evaluates() {
    let dir = tempfile::tempdir().unwrap();
    let model = write_network(dir.path());
    for (algo, extra) in [
        ("maml", vec!["--head"]),
        ("fomaml", vec!["--head"]),
        ("metasgd", vec!["--head"]),
        ("reptile", vec!["--head"]),
        ("anil", vec!["--head", "--adapt-only", "branch,head"]),
        ("protonet", vec!["--embedding", "features"]),
    ] {
        let out = dir.path().join(algo);
        let mut args = vec!["meta", "train", "--algo", algo, "--model", &model];
        args.extend_from_slice(&["--out", out.to_str().unwrap(), "--json"]);
        args.extend_from_slice(&TINY);
        args.extend_from_slice(&extra);
        let report: serde_json::Value = serde_json::from_str(&ok(&args)).unwrap();
        assert_eq!(report["iterations"], 2, "{algo}");
        let source = &report["spec"]["model"]["source"];
        assert_eq!(source.as_str(), Some(model.as_str()), "{algo}");
        // The checkpoint rebuilds its own model (the description is in it).
        let eval = ok(&[
            "meta",
            "eval",
            "--checkpoint",
            out.to_str().unwrap(),
            "--tasks",
            "3",
            "--json",
        ]);
        assert!(eval.contains("accuracy"), "{algo}: {eval}");
    }
}

#[test]
fn dry_run_prints_the_cost_and_touches_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("never");
    let text = ok(&[
        "meta",
        "train",
        "--task",
        "omniglot",
        "--model",
        "maml_omniglot",
        "--dry-run",
        "--out",
        out.to_str().unwrap(),
    ]);
    // The papers' CNN: 112,005 parameters (huashi-net's zoo test derives it).
    assert!(text.contains("112,005 parameters"), "{text}");
    assert!(text.contains("GMAC") && text.contains("estimated peak memory"));
    assert!(!out.exists());
    let json = ok(&["meta", "train", "--task", "omniglot", "--dry-run", "--json"]);
    let cost: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(cost["params"], 112_005);
    assert_eq!(cost["macs_per_example"], 2_656_832);
}

#[test]
fn a_model_that_does_not_fit_the_tasks_is_refused_naming_the_node() {
    let dir = tempfile::tempdir().unwrap();
    let model = write_network(dir.path());
    let train = |extra: &[&str]| -> Vec<String> {
        let mut args = vec!["meta", "train", "--dry-run"];
        args.extend_from_slice(extra);
        args.iter().map(|s| s.to_string()).collect()
    };
    let cases: [(Vec<String>, &str); 7] = [
        (
            train(&["--task", "omniglot", "--model", &model]),
            "`features`",
        ),
        (
            train(&[
                "--task",
                "omniglot",
                "--model",
                "maml_omniglot",
                "--ways",
                "20",
            ]),
            "20-way",
        ),
        (
            train(&["--task", "omniglot", "--model", "no-such-model"]),
            "no-such-model",
        ),
        (
            train(&[
                "--task",
                "omniglot",
                "--model",
                &model,
                "--head",
                "--embedding",
                "gap",
            ]),
            "--embedding",
        ),
        (
            train(&[
                "--algo",
                "anil",
                "--task",
                "omniglot",
                "--model",
                &model,
                "--head",
                "--adapt-only",
                "pool",
            ]),
            "pool",
        ),
        (
            train(&[
                "--algo",
                "protonet",
                "--task",
                "omniglot",
                "--model",
                &model,
                "--embedding",
                "pool",
            ]),
            "`pool`",
        ),
        (
            train(&[
                "--task", "omniglot", "--model", &model, "--hidden", "8", "--head",
            ]),
            "--hidden",
        ),
    ];
    for (args, needle) in &cases {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        refused(&args, needle);
    }
}
