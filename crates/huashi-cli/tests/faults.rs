//! Faults provoked on purpose through the binary: two runs in one folder,
//! a run killed at random points and resumed, a full disk, and a folder of
//! someone else's files. After each, no file in the output folder is
//! truncated: every file there is read back whole.

use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

fn huashi() -> Command {
    Command::new(env!("CARGO_BIN_EXE_huashi"))
}

fn run(args: &[&str]) -> Output {
    huashi()
        .args(args)
        .output()
        .expect("the huashi binary runs")
}

fn spawn(args: &[&str]) -> Child {
    huashi()
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the huashi binary starts")
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).to_string()
}

/// A short sinusoid MAML run into `out`, checkpointing every iteration.
fn train_args<'a>(out: &'a str, iterations: &'a str, seed: &'a str) -> Vec<&'a str> {
    vec![
        "meta",
        "train",
        "--out",
        out,
        "--iterations",
        iterations,
        "--seed",
        seed,
        "--checkpoint-every",
        "1",
        "--validate-every",
        "0",
        "--test-tasks",
        "0",
    ]
}

/// Reads back every file in `dir` in full: JSON parses, PNGs decode,
/// safetensors files load. Fails on a truncated or unexpected file.
fn assert_every_file_whole(dir: &Path) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        if name.contains(".huashi-tmp-") {
            // A temporary (file or folder) of a write cut short by a kill is
            // hidden, never under a final name, and removed by the next
            // run's lock.
            continue;
        }
        let bytes = std::fs::read(&path).unwrap();
        if name.ends_with(".json") {
            serde_json::from_slice::<serde_json::Value>(&bytes)
                .unwrap_or_else(|e| panic!("{name} is not whole JSON: {e}"));
        } else if name.ends_with(".png") {
            image::load_from_memory(&bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
        } else if name.ends_with(".safetensors") {
            huashi_net::ParamSet::load(&path, &[], &candle_core::Device::Cpu)
                .unwrap_or_else(|e| panic!("{name}: {e}"));
        } else {
            assert_eq!(name, ".huashi.lock", "unexpected file {name}");
        }
    }
}

fn params_file(dir: &Path) -> Vec<u8> {
    let state: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("state.json")).unwrap()).unwrap();
    std::fs::read(dir.join(state["params_file"].as_str().unwrap())).unwrap()
}

#[test]
fn two_runs_started_together_on_one_folder_exactly_one_proceeds() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run");
    let out = out.to_str().unwrap();
    let children = [
        spawn(&train_args(out, "400", "1")),
        spawn(&train_args(out, "400", "2")),
    ];
    let outputs: Vec<Output> = children.map(|c| c.wait_with_output().unwrap()).into();
    let succeeded: Vec<usize> = (0..2).filter(|&i| outputs[i].status.success()).collect();
    assert_eq!(
        succeeded.len(),
        1,
        "{:?}",
        outputs.iter().map(stderr).collect::<Vec<_>>()
    );
    let refused = stderr(&outputs[1 - succeeded[0]]);
    assert!(
        refused.contains("in use by another huashi process (pid ")
            || refused.contains("already holds a run"),
        "{refused}"
    );
    let state: serde_json::Value =
        serde_json::from_slice(&std::fs::read(Path::new(out).join("state.json")).unwrap()).unwrap();
    assert_eq!(
        state["spec"]["seed"],
        succeeded[0] as u64 + 1,
        "the winner's run is saved"
    );
    assert_every_file_whole(Path::new(out));

    // Two --resume of the finished run at once: again exactly one proceeds.
    let resume = |_: usize| {
        spawn(&[
            "meta",
            "train",
            "--out",
            out,
            "--resume",
            "--iterations",
            "800",
            "--test-tasks",
            "0",
        ])
    };
    let outputs: Vec<Output> = [resume(0), resume(1)]
        .map(|c| c.wait_with_output().unwrap())
        .into();
    let proceeded = outputs.iter().filter(|o| o.status.success()).count();
    let held = outputs
        .iter()
        .filter(|o| stderr(o).contains("in use by another huashi process"));
    assert_eq!((proceeded, held.count()), (1, 1));
    assert_every_file_whole(Path::new(out));
}

/// A pseudo-random delay in `0..max_ms` (the clock's nanoseconds).
fn random_ms(max_ms: u64) -> u64 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos() as u64;
    nanos.wrapping_mul(0x9E37_79B9_7F4A_7C15) % max_ms
}

/// Starts `args`, kills it with SIGKILL after `ms` milliseconds if it is
/// still running; true when it finished on its own.
fn run_or_kill(args: &[&str], ms: u64) -> bool {
    let mut child = spawn(args);
    let deadline = Instant::now() + Duration::from_millis(ms);
    while Instant::now() < deadline {
        if let Some(status) = child.try_wait().unwrap() {
            assert!(
                status.success(),
                "{:?}",
                child.wait_with_output().map(|o| stderr(&o))
            );
            return true;
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    false
}

#[test]
fn a_run_killed_at_random_points_resumes_bit_identically() {
    let dir = tempfile::tempdir().unwrap();
    let whole = dir.path().join("whole");
    let output = run(&train_args(whole.to_str().unwrap(), "300", "3"));
    assert!(output.status.success(), "{}", stderr(&output));

    let killed = dir.path().join("killed");
    let killed_s = killed.to_str().unwrap();
    let fresh = train_args(killed_s, "300", "3");
    let resume = vec![
        "meta",
        "train",
        "--out",
        killed_s,
        "--resume",
        "--test-tasks",
        "0",
    ];
    let mut kills = 0;
    for attempt in 0..40 {
        let started = killed.join("state.json").exists();
        let mut args = if started {
            resume.clone()
        } else {
            fresh.clone()
        };
        if !started {
            // A kill before the first state.json can leave an orphan tensor file.
            args.push("--allow-other-files");
        }
        let budget = if attempt < 30 {
            50 + random_ms(400)
        } else {
            60_000
        };
        if run_or_kill(&args, budget) {
            break;
        }
        kills += 1;
        assert_every_file_whole(&killed);
    }
    assert!(kills > 0, "the run was never interrupted");
    assert_eq!(
        params_file(&killed),
        params_file(&whole),
        "after {kills} kills"
    );
}

#[test]
fn a_full_disk_is_a_one_line_error_naming_the_file_and_truncates_nothing() {
    // 100 kB: the checkpoints fit, the plot (about 190 kB) does not.
    for (kb, file) in [(100, "sinusoid.png"), (30, "safetensors")] {
        let Some(fs) = huashi_io::testing::SmallFileSystem::mount(kb) else {
            return;
        };
        let out = fs.path().join("run");
        let output = run(&train_args(out.to_str().unwrap(), "5", "1"));
        let message = stderr(&output);
        assert!(!output.status.success());
        assert!(
            message.contains(file) && message.contains("No space left"),
            "{message}"
        );
        assert_eq!(message.trim().lines().count(), 1, "{message}");
        assert!(!message.contains("Custom {"), "a Debug dump: {message}");
        assert_every_file_whole(&out);
    }
}

#[test]
fn a_folder_of_other_files_is_refused_and_left_as_it_was() {
    let dir = tempfile::tempdir().unwrap();
    let mine = [
        "params-00000001.safetensors",
        "optimizer-00000001.safetensors",
        "report.json",
    ];
    for name in mine {
        std::fs::write(dir.path().join(name), "my own file").unwrap();
    }
    let out = dir.path().to_str().unwrap();
    let output = run(&[
        "meta",
        "train",
        "--out",
        out,
        "--meta-lr",
        "1e30",
        "--iterations",
        "3",
    ]);
    let message = stderr(&output);
    assert!(
        message.contains("not a huashi run") && message.contains("--allow-other-files"),
        "{message}"
    );
    for name in mine {
        assert_eq!(
            std::fs::read_to_string(dir.path().join(name)).unwrap(),
            "my own file"
        );
    }
}

#[test]
fn an_output_that_is_an_input_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let fit_out = dir.path().join("fit");
    let output = run(&[
        "esn",
        "fit",
        "--units",
        "50",
        "--out",
        fit_out.to_str().unwrap(),
    ]);
    assert!(output.status.success(), "{}", stderr(&output));
    let model = fit_out.join("model.safetensors");
    let before = std::fs::read(&model).unwrap();
    let m = model.to_str().unwrap();
    let output = run(&["esn", "forecast", "--model", m, "--plot", m]);
    assert!(
        stderr(&output).contains("is the input"),
        "{}",
        stderr(&output)
    );
    assert_eq!(std::fs::read(&model).unwrap(), before);
}

#[test]
fn ctrl_c_removes_the_temporaries_of_writes_in_progress() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run");
    for attempt in 0..20u64 {
        let _ = std::fs::remove_dir_all(&out);
        let child = spawn(&train_args(out.to_str().unwrap(), "1000000", "1"));
        let waited = Instant::now();
        while !out.join("state.json").exists() {
            assert!(waited.elapsed() < Duration::from_secs(60), "no checkpoint");
            std::thread::sleep(Duration::from_millis(5));
        }
        // Checkpointing every iteration, the signal often lands mid-write.
        std::thread::sleep(Duration::from_millis(random_ms(40) + attempt));
        let pid = child.id().to_string();
        assert!(Command::new("kill")
            .args(["-INT", &pid])
            .status()
            .unwrap()
            .success());
        let output = child.wait_with_output().unwrap();
        assert_eq!(output.status.code(), Some(130), "{}", stderr(&output));
        for entry in std::fs::read_dir(&out).unwrap() {
            let name = entry.unwrap().file_name().to_string_lossy().to_string();
            assert!(!name.contains(".huashi-tmp-"), "left behind: {name}");
        }
        assert_every_file_whole(&out);
    }
}
