//! End-to-end tests of `huashi meta train|eval` and `huashi bench meta`
//! through the binary: tiny runs, resume, the Lake et al. runs, and the
//! errors a user meets.

mod common;
use common::{huashi, refused, MAX};

use std::path::Path;
use std::process::Output;

fn ok(output: &Output) -> String {
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "failed: {stderr}");
    String::from_utf8_lossy(&output.stdout).to_string()
}

fn fails_with(output: &Output, needle: &str) {
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "should have failed");
    assert!(stderr.contains(needle), "expected `{needle}` in: {stderr}");
}

fn iteration(dir: &Path) -> u64 {
    let text = std::fs::read_to_string(dir.join("state.json")).unwrap();
    let json: serde_json::Value = serde_json::from_str(&text).unwrap();
    json["iteration"].as_u64().unwrap()
}

#[test]
fn sinusoid_train_resume_and_eval() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run");
    let out_s = out.to_str().unwrap();
    let small = [
        "--iterations",
        "30",
        "--meta-batch",
        "4",
        "--validate-every",
        "10",
        "--validation-tasks",
        "8",
        "--test-tasks",
        "20",
    ];
    let mut args = vec![
        "meta", "train", "--task", "sinusoid", "--out", out_s, "--json",
    ];
    args.extend_from_slice(&small);
    let report: serde_json::Value = serde_json::from_str(&ok(&huashi(&args))).unwrap();
    assert_eq!(report["iterations"], 30);
    assert_eq!(report["history"].as_array().unwrap().len(), 3);
    assert_eq!(
        report["test"].as_array().unwrap().len(),
        4,
        "K = 5, 10 × 1, 10 steps"
    );
    assert!(out.join("sinusoid.png").exists() && out.join("report.json").exists());
    // The same folder again without --resume would overwrite a run.
    fails_with(&huashi(&args), "--resume");
    // Resume and extend to 40 iterations.
    ok(&huashi(&[
        "meta",
        "train",
        "--out",
        out_s,
        "--resume",
        "--iterations",
        "40",
        "--test-tasks",
        "0",
    ]));
    assert_eq!(iteration(&out), 40);
    let rows: serde_json::Value = serde_json::from_str(&ok(&huashi(&[
        "meta",
        "eval",
        "--checkpoint",
        out_s,
        "--tasks",
        "10",
        "--shots",
        "5",
        "--steps",
        "1,3",
        "--json",
    ])))
    .unwrap();
    assert_eq!(rows.as_array().unwrap().len(), 2);
    // The one-shot runs need an Omniglot checkpoint.
    fails_with(
        &huashi(&[
            "meta",
            "eval",
            "--checkpoint",
            out_s,
            "--benchmark",
            "lake-runs",
        ]),
        "Omniglot",
    );
}

#[test]
fn omniglot_protonet_and_maml_on_the_lake_runs() {
    let dir = tempfile::tempdir().unwrap();
    let tiny = [
        "--task",
        "omniglot",
        "--hidden",
        "4",
        "--iterations",
        "2",
        "--meta-batch",
        "2",
        "--validate-every",
        "0",
        "--test-tasks",
        "4",
    ];
    let proto = dir.path().join("proto");
    let mut args = vec![
        "meta",
        "train",
        "--algo",
        "protonet",
        "--out",
        proto.to_str().unwrap(),
    ];
    args.extend_from_slice(&tiny);
    ok(&huashi(&args));
    let lake = ok(&huashi(&[
        "meta",
        "eval",
        "--checkpoint",
        proto.to_str().unwrap(),
        "--benchmark",
        "lake-runs",
        "--json",
    ]));
    let lake: serde_json::Value = serde_json::from_str(&lake).unwrap();
    assert_eq!(lake["runs"], 20);
    assert_eq!(lake["items"], 400);
    let rate = lake["error_rate"].as_f64().unwrap();
    assert!((0.0..=1.0).contains(&rate));
    // A 5-way MAML head cannot answer 20-way runs.
    let maml = dir.path().join("maml");
    let mut args = vec![
        "meta",
        "train",
        "--algo",
        "maml",
        "--out",
        maml.to_str().unwrap(),
    ];
    args.extend_from_slice(&tiny);
    ok(&huashi(&args));
    fails_with(
        &huashi(&[
            "meta",
            "eval",
            "--checkpoint",
            maml.to_str().unwrap(),
            "--benchmark",
            "lake-runs",
        ]),
        "--ways 20",
    );
}

#[test]
fn bad_requests_are_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("x");
    let out_s = out.to_str().unwrap();
    let base = [
        "meta",
        "train",
        "--task",
        "omniglot",
        "--iterations",
        "1",
        "--out",
        out_s,
    ];
    let with = |extra: &[&str]| {
        let mut args = base.to_vec();
        args.extend_from_slice(extra);
        huashi(&args)
    };
    fails_with(&with(&["--ways", "100000"]), "100000");
    let too_many = ["--shots", "15", "--queries", "10", "--meta-batch", "2"];
    fails_with(&with(&too_many), "drawings");
    fails_with(
        &with(&["--data-dir", "/nonexistent/omniglot"]),
        "/nonexistent/omniglot",
    );
    fails_with(&with(&["--meta-batch", "0"]), "meta-batch");
    fails_with(&with(&["--inner-lr", "nan"]), "inner learning rate");
    // Not a checkpoint, and a foreign one.
    fails_with(
        &huashi(&["meta", "eval", "--checkpoint", dir.path().to_str().unwrap()]),
        "state.json",
    );
    std::fs::write(
        dir.path().join("state.json"),
        "{\"format\": \"something-else\"}",
    )
    .unwrap();
    fails_with(
        &huashi(&["meta", "eval", "--checkpoint", dir.path().to_str().unwrap()]),
        "not a huashi-meta-checkpoint",
    );
}

#[test]
fn help_explains_the_commands() {
    let help = ok(&huashi(&["meta", "train", "--help"]));
    for word in ["--algo", "--resume", "--ways", "--inner-lr", "Reptile"] {
        assert!(help.contains(word), "train --help lacks {word}");
    }
    let help = ok(&huashi(&["meta", "eval", "--help"]));
    assert!(help.contains("lake-runs") && help.contains("95 %"));
    assert!(ok(&huashi(&["bench", "meta", "--help"])).contains("tasks/s"));
}

#[test]
fn hostile_sizes_are_refused_before_allocating() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("x");
    let train = |task: &str, extra: &[&str], needle: &str| {
        let mut args = vec!["meta", "train", "--task", task, "--iterations", "1"];
        args.extend(["--out", out.to_str().unwrap()]);
        args.extend(extra);
        refused(&args, needle);
    };
    train("omniglot", &["--ways", MAX], "overflows 64 bits");
    train("omniglot", &["--hidden", MAX], "overflows 64 bits");
    train(
        "omniglot",
        &["--ways", "0"],
        "invalid ways (must be at least 1): 0",
    );
    train("omniglot", &["--hidden", "0"], "hidden filters");
    train(
        "omniglot",
        &["--ways", "-1"],
        "'-1' for '--ways <WAYS>': must not be negative",
    );
    train("sinusoid", &["--inner-lr", "-0.5"], "inner learning rate");
    train(
        "sinusoid",
        &["--ways", "3"],
        "Omniglot option given for sinusoids (the model is the 1-40-40-1 MLP): ways",
    );
    train(
        "sinusoid",
        &["--hidden", "8"],
        "Omniglot option given for sinusoids (the model is the 1-40-40-1 MLP): hidden",
    );
    train("omniglot", &["--meta-batch", "100000000"], "would need");
    train("omniglot", &["--shots", "100000000"], "would need");
    train("sinusoid", &["--shots", MAX, "--queries", "1"], "overflows");
    train("sinusoid", &["--validation-tasks", "0"], "at least 1");
    train("sinusoid", &["--inner-lr", "-1"], "inner learning rate");
    refused(&["bench", "meta", "--runs", "0"], "at least 1");
    assert!(!out.exists(), "nothing is written on a refused run");
}

fn edit_state(dir: &Path, edit: &dyn Fn(&mut serde_json::Value)) {
    let path = dir.join("state.json");
    let mut state: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    edit(&mut state);
    std::fs::write(&path, state.to_string()).unwrap();
}

#[test]
fn checkpoints_are_checked_like_the_options_that_made_them() {
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join("run");
    let run_s = run.to_str().unwrap();
    let args = ["meta", "train", "--iterations", "2", "--test-tasks", "0"];
    ok(&huashi(
        &[args.as_slice(), &["--validate-every", "0", "--out", run_s]].concat(),
    ));
    let eval = ["meta", "eval", "--checkpoint", run_s];
    refused(&[eval.as_slice(), &["--tasks", "0"]].concat(), "at least 1");
    refused(
        &[eval.as_slice(), &["--shots", "100000000000"]].concat(),
        "would need",
    );
    refused(&[eval.as_slice(), &["--shots", MAX]].concat(), "overflows");
    let original = std::fs::read_to_string(run.join("state.json")).unwrap();
    edit_state(&run, &|s| s["spec"]["hyper"]["inner_lr"] = (-1.0).into());
    refused(&eval, "inner learning rate");
    std::fs::write(run.join("state.json"), &original).unwrap();
    edit_state(&run, &|s| s["spec"]["task"]["shots"] = u64::MAX.into());
    refused(&eval, "overflows");
    std::fs::write(run.join("state.json"), &original).unwrap();
    edit_state(&run, &|s| {
        s["spec"]["hyper"]["meta_batch"] = 1_000_000_000_000u64.into()
    });
    refused(&eval, "would need");
}

#[test]
fn an_rgb_image_folder_trains_end_to_end() {
    use huashi_meta::fewshot::folder::Layout;
    use huashi_meta::fewshot::folder_fixtures::{write_folder, FolderFixture};
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    write_folder(&data, Layout::Csv, &FolderFixture::default());
    let out = dir.path().join("run");
    let args = [
        "meta",
        "train",
        "--task",
        "images",
        "--data-dir",
        data.to_str().unwrap(),
        "--image-size",
        "12",
        "--resize-filter",
        "triangle",
        "--normalize",
        "0.5,0.5,0.5/0.25",
        "--rotations",
        "on",
        "--hidden",
        "4",
        "--iterations",
        "2",
        "--meta-batch",
        "2",
        "--validate-every",
        "0",
        "--test-tasks",
        "0",
        "--out",
        out.to_str().unwrap(),
    ];
    ok(&huashi(&args));
    assert_eq!(iteration(&out), 2);
    let state = std::fs::read_to_string(out.join("state.json")).unwrap();
    let state: serde_json::Value = serde_json::from_str(&state).unwrap();
    let task = &state["spec"]["task"];
    assert_eq!(task["kind"], "images", "{task}");
    assert_eq!(task["data"]["images"]["channels"], 3, "{task}");
    assert_eq!(task["data"]["images"]["size"], serde_json::json!([12, 12]));
}

#[test]
fn image_options_are_checked() {
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().to_str().unwrap();
    let train = |args: &[&str], needle: &str| {
        let mut all = vec!["meta", "train", "--iterations", "1", "--out", empty];
        all.extend_from_slice(args);
        refused(&all, needle);
    };
    train(&["--task", "images"], "data");
    train(
        &["--task", "images", "--data-dir", empty],
        "no image-folder layout",
    );
    train(&["--task", "sinusoid", "--image-size", "14"], "image_size");
    train(
        &["--task", "omniglot", "--normalize", "0.5/0.5"],
        "normalize",
    );
    train(&["--task", "images", "--channels", "2"], "channels");
    train(
        &["--task", "images", "--normalize", "0.5/0"],
        "normalisation",
    );
    train(
        &["--task", "images", "--resize-filter", "bicubic"],
        "lanczos3",
    );
    train(&["--task", "images", "--image-size", "0"], "image size");
    train(&["--task", "images", "--rotations", "maybe"], "on or off");
    train(
        &[
            "--task",
            "omniglot",
            "--image-size",
            "28,20",
            "--rotations",
            "on",
        ],
        "28×20",
    );
}
