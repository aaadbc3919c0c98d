//! The meta-training loop: `--resume` continues exactly as if never
//! stopped, NaN/Inf stops training with the iteration, checkpoints from
//! another model or foreign files are typed errors, and every algorithm runs
//! end to end on sinusoids and on the embedded Omniglot.

use huashi_meta::checkpoint::{self, RunSpec};
use huashi_meta::CheckpointPolicy;
use huashi_meta::{Algorithm, Error, Hyper, TaskSpec, TrainState, Trainer};

fn spec(algorithm: Algorithm, task: TaskSpec, iterations: u64, meta_lr: f64) -> RunSpec {
    let hidden = 8;
    let model = task.model(hidden, algorithm == Algorithm::Protonet);
    let hyper = Hyper {
        algorithm,
        loss: task.loss(),
        inner_lr: if matches!(task, TaskSpec::Sinusoid { .. }) {
            0.01
        } else {
            0.4
        },
        inner_steps: 1,
        eval_inner_steps: 2,
        meta_lr,
        meta_batch: 3,
        iterations,
    };
    RunSpec {
        hyper,
        model,
        task,
        seed: 3,
        validate_every: 2,
        validation_tasks: 4,
    }
}

fn sinusoid() -> TaskSpec {
    TaskSpec::Sinusoid {
        shots: 5,
        queries: 5,
    }
}

/// Runs `spec` from scratch (or from `state`), checkpointing into `dir`
/// every 2 iterations; `interrupt_after` stops after that many iterations
/// with a checkpoint, as a killed run would have left it.
fn run_with(
    spec: &RunSpec,
    state: Option<TrainState>,
    dir: &std::path::Path,
    interrupt_after: Option<u64>,
) -> huashi_meta::Result<TrainState> {
    std::env::set_var("CANDLE_GRAD_DO_NOT_DETACH", "1");
    let (model, params) = spec.model.build(spec.seed)?;
    let sources = spec.task.sources(spec.seed)?;
    let trainer = Trainer::for_run(spec, &model, &sources);
    let mut state = match state {
        Some(s) => s,
        None => trainer.start(params)?,
    };
    if let Some(stop) = interrupt_after {
        while state.iteration < stop {
            trainer.step(&mut state)?;
        }
        checkpoint::save(dir, spec, &state)?;
        return Ok(state);
    }
    let save = checkpoint::saver(dir, spec);
    let policy = CheckpointPolicy {
        every: 2,
        save: &save,
    };
    trainer.run(spec, &mut state, Some(&policy), &mut |_, _| {})?;
    Ok(state)
}

fn run(
    spec: &RunSpec,
    state: Option<TrainState>,
    dir: &std::path::Path,
) -> huashi_meta::Result<TrainState> {
    run_with(spec, state, dir, None)
}

fn flat(state: &TrainState) -> Vec<f32> {
    state
        .params
        .iter()
        .flat_map(|(_, t)| t.flatten_all().unwrap().to_vec1::<f32>().unwrap())
        .collect()
}

fn resume(dir: &std::path::Path) -> (RunSpec, TrainState) {
    let saved = checkpoint::read_state(dir).unwrap();
    let (_, fresh) = saved.spec.model.build(saved.spec.seed).unwrap();
    let fresh = saved.spec.hyper.initial_params(fresh).unwrap();
    let state = checkpoint::load(dir, &saved, &fresh).unwrap();
    (saved.spec, state)
}

#[test]
fn resume_continues_exactly() {
    for algorithm in [Algorithm::Maml, Algorithm::Reptile, Algorithm::Metasgd] {
        let straight_dir = tempfile::tempdir().unwrap();
        let straight = run(
            &spec(algorithm, sinusoid(), 6, 1e-3),
            None,
            straight_dir.path(),
        )
        .unwrap();
        // Stop after 4 iterations, then resume to 6 from the checkpoint.
        let dir = tempfile::tempdir().unwrap();
        run_with(
            &spec(algorithm, sinusoid(), 6, 1e-3),
            None,
            dir.path(),
            Some(4),
        )
        .unwrap();
        let (resumed_spec, state) = resume(dir.path());
        assert_eq!(state.iteration, 4);
        let resumed = run(&resumed_spec, Some(state), dir.path()).unwrap();
        let (a, b) = (flat(&straight), flat(&resumed));
        let first_difference = a
            .iter()
            .zip(&b)
            .position(|(x, y)| x.to_bits() != y.to_bits());
        assert_eq!(first_difference, None, "{algorithm:?}");
        assert_eq!(straight.history.len(), 3);
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
            .collect();
        assert_eq!(names.len(), 3, "stale files left: {names:?}");
    }
}

#[test]
fn divergence_names_the_iteration() {
    let dir = tempfile::tempdir().unwrap();
    let err = run(
        &spec(Algorithm::Fomaml, sinusoid(), 50, 1e30),
        None,
        dir.path(),
    );
    match err {
        Err(Error::NonFinite { iteration, .. }) => assert!(iteration < 50),
        other => panic!("expected NonFinite, got {other:?}"),
    }
}

#[test]
fn checkpoint_of_another_model_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    run(
        &spec(Algorithm::Maml, sinusoid(), 2, 1e-3),
        None,
        dir.path(),
    )
    .unwrap();
    let saved = checkpoint::read_state(dir.path()).unwrap();
    let other = huashi_meta::ModelSpec::mlp(&[1, 20, 1]);
    let (_, fresh) = other.build(0).unwrap();
    let err = checkpoint::load(dir.path(), &saved, &fresh);
    assert!(
        matches!(err, Err(Error::CheckpointMismatch { .. })),
        "{err:?}"
    );
    // A foreign state.json.
    std::fs::write(dir.path().join("state.json"), "{\"format\": \"other\"}").unwrap();
    let err = checkpoint::read_state(dir.path());
    assert!(matches!(err, Err(Error::Checkpoint { .. })), "{err:?}");
    std::fs::write(dir.path().join("state.json"), "not json").unwrap();
    assert!(matches!(
        checkpoint::read_state(dir.path()),
        Err(Error::Checkpoint { .. })
    ));
    let missing = tempfile::tempdir().unwrap();
    assert!(matches!(
        checkpoint::read_state(missing.path()),
        Err(Error::Checkpoint { .. })
    ));
}

#[test]
fn every_algorithm_runs_on_omniglot() {
    let task = TaskSpec::Omniglot {
        ways: 3,
        shots: 1,
        queries: 2,
        data_dir: None,
        images: huashi_meta::ImageSettings::omniglot(),
    };
    for algorithm in Algorithm::ALL {
        let dir = tempfile::tempdir().unwrap();
        let state = run(&spec(algorithm, task.clone(), 2, 1e-3), None, dir.path()).unwrap();
        let record = state.history.last().unwrap();
        let accuracy = record.validation.accuracy.unwrap();
        assert!((0.0..=1.0).contains(&accuracy.mean), "{algorithm:?}");
        assert!(record.validation.loss.mean.is_finite());
    }
}

#[test]
fn a_reader_sees_the_previous_or_the_new_checkpoint_never_a_mix() {
    let dir = tempfile::tempdir().unwrap();
    let spec = spec(Algorithm::Maml, sinusoid(), 2, 1e-3);
    let first = run(&spec, None, dir.path()).unwrap();
    let (_, fresh) = spec.model.build(spec.seed).unwrap();
    let fresh = spec.hyper.initial_params(fresh).unwrap();
    let mut writes = 0;
    // The reader has read the state of iteration 2; a writer then replaces
    // the checkpoint (iteration 4) and removes iteration 2's tensor files
    // before the reader loads them.
    let (state, loaded) = checkpoint::read_consistent(dir.path(), |state| {
        if writes == 0 {
            writes += 1;
            let longer = RunSpec {
                hyper: Hyper {
                    iterations: 4,
                    ..spec.hyper.clone()
                },
                ..spec.clone()
            };
            run(&longer, Some(first.clone()), dir.path()).unwrap();
        }
        checkpoint::load(dir.path(), state, &fresh)
    })
    .unwrap();
    assert_eq!((writes, state.iteration, loaded.iteration), (1, 4, 4));
    let (_, reread) = resume(dir.path());
    assert_eq!(flat(&loaded), flat(&reread));
}
