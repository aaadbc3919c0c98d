//! Fuzzing the checkpoint readers (`state.json` and the tensor files) on
//! stable Rust: proptest feeds arbitrary bytes and mutations of a real
//! checkpoint (bytes replaced, cut short, or inserted) to
//! `checkpoint::read_state` and `checkpoint::load`, which must return an
//! error or a checkpoint, never panic. `HUASHI_FUZZ_CASES` sets the cases
//! per target (default 300; CI's fuzz pass sets its own).

use huashi_io::testing::fuzz_cases;
use huashi_meta::checkpoint::{self, RunSpec};
use huashi_meta::CheckpointPolicy;
use huashi_meta::{Algorithm, Hyper, TaskSpec, Trainer};
use proptest::prelude::*;
use std::path::Path;
use std::sync::OnceLock;

/// The files of a real two-iteration sinusoid checkpoint: (name, bytes).
fn real_checkpoint() -> &'static Vec<(String, Vec<u8>)> {
    static FILES: OnceLock<Vec<(String, Vec<u8>)>> = OnceLock::new();
    FILES.get_or_init(|| {
        std::env::set_var("CANDLE_GRAD_DO_NOT_DETACH", "1");
        let task = TaskSpec::Sinusoid {
            shots: 5,
            queries: 5,
        };
        let hyper = Hyper {
            algorithm: Algorithm::Maml,
            loss: task.loss(),
            inner_lr: 0.01,
            inner_steps: 1,
            eval_inner_steps: 1,
            meta_lr: 1e-3,
            meta_batch: 3,
            iterations: 2,
        };
        let spec = RunSpec {
            model: task.model(8, false),
            hyper,
            task,
            seed: 1,
            validate_every: 0,
            validation_tasks: 1,
        };
        let dir = tempfile::tempdir().unwrap();
        let (model, params) = spec.model.build(spec.seed).unwrap();
        let sources = spec.task.sources(spec.seed).unwrap();
        let trainer = Trainer::for_run(&spec, &model, &sources);
        let mut state = trainer.start(params).unwrap();
        let save = huashi_meta::checkpoint::saver(dir.path(), &spec);
        let policy = CheckpointPolicy {
            every: 1,
            save: &save,
        };
        trainer
            .run(&spec, &mut state, Some(&policy), &mut |_, _| {})
            .unwrap();
        std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| {
                let path = e.unwrap().path();
                let name = path.file_name().unwrap().to_string_lossy().to_string();
                (name, std::fs::read(&path).unwrap())
            })
            .collect()
    })
}

/// A mutation of `bytes` ([`huashi_io::testing::mutate`]) with `insert`
/// spliced in at the first edit's position.
fn mutate(bytes: &[u8], edits: &[(usize, u8)], cut: Option<usize>, insert: &[u8]) -> Vec<u8> {
    let mut out = huashi_io::testing::mutate(bytes, edits, cut);
    if !insert.is_empty() && !out.is_empty() {
        let at = edits.first().map_or(0, |e| e.0 % out.len());
        out.splice(at..at, insert.iter().copied());
    }
    out
}

/// Writes the real checkpoint into `dir` with `target` replaced by `bytes`,
/// then reads and loads it the way `--resume` and `meta eval` do.
fn read_back(dir: &Path, target: &str, bytes: &[u8]) {
    for (name, real) in real_checkpoint() {
        let content = if name.as_str() == target { bytes } else { real };
        std::fs::write(dir.join(name), content).unwrap();
    }
    let Ok(saved) = checkpoint::read_state(dir) else {
        return;
    };
    // The reference is the real run's model, so a mutated model size in
    // `state.json` is a mismatch error rather than a new allocation.
    let spec = TaskSpec::Sinusoid {
        shots: 5,
        queries: 5,
    }
    .model(8, false);
    let (_, fresh) = spec.build(1).unwrap();
    if let Ok(fresh) = saved.spec.hyper.initial_params(fresh) {
        let _ = checkpoint::load(dir, &saved, &fresh);
    }
}

fn target_file(index: usize) -> String {
    let files = real_checkpoint();
    files[index % files.len()].0.clone()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: fuzz_cases(300), failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_state_json_is_an_error_not_a_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let dir = tempfile::tempdir().unwrap();
        read_back(dir.path(), "state.json", &bytes);
    }

    #[test]
    fn mutated_checkpoint_files_are_errors_not_panics(
        file in 0usize..8,
        edits in proptest::collection::vec((any::<usize>(), any::<u8>()), 0..6),
        cut in proptest::option::of(any::<usize>()),
        insert in proptest::collection::vec(any::<u8>(), 0..4),
    ) {
        let dir = tempfile::tempdir().unwrap();
        let target = target_file(file);
        let real = &real_checkpoint().iter().find(|(n, _)| *n == target).unwrap().1;
        read_back(dir.path(), &target, &mutate(real, &edits, cut, &insert));
    }
}

#[test]
fn the_real_checkpoint_reads_back() {
    let dir = tempfile::tempdir().unwrap();
    read_back(dir.path(), "", &[]);
    let saved = checkpoint::read_state(dir.path()).unwrap();
    assert_eq!(saved.iteration, 2);
}

#[test]
fn a_damaged_tensor_file_is_an_error_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    read_back(dir.path(), "", &[]);
    let saved = checkpoint::read_state(dir.path()).unwrap();
    std::fs::write(dir.path().join(&saved.params_file), [0xffu8; 64]).unwrap();
    let spec = TaskSpec::Sinusoid {
        shots: 5,
        queries: 5,
    }
    .model(8, false);
    let (_, fresh) = spec.build(1).unwrap();
    let err = checkpoint::load(dir.path(), &saved, &fresh)
        .unwrap_err()
        .to_string();
    assert!(err.contains(&saved.params_file), "{err}");
}

#[test]
fn a_state_json_is_checked_by_the_rules_of_the_options() {
    let dir = tempfile::tempdir().unwrap();
    read_back(dir.path(), "", &[]);
    let path = dir.path().join("state.json");
    let text = std::fs::read_to_string(&path).unwrap();
    let mut json: serde_json::Value = serde_json::from_str(&text).unwrap();
    json["spec"]["hyper"]["inner_lr"] = serde_json::json!(-1.0);
    std::fs::write(&path, json.to_string()).unwrap();
    let err = checkpoint::read_state(dir.path()).unwrap_err().to_string();
    assert!(
        err.contains("state.json") && err.contains("inner learning rate"),
        "{err}"
    );
    json["spec"]["hyper"]["inner_lr"] = serde_json::json!(0.01);
    json["params_file"] = serde_json::json!("../../etc/passwd");
    std::fs::write(&path, json.to_string()).unwrap();
    let err = checkpoint::read_state(dir.path()).unwrap_err().to_string();
    assert!(err.contains("not a tensor file name"), "{err}");
}
