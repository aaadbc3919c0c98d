//! Checkpoints: a folder holding `state.json` (format, run specification,
//! iteration, optimiser step, validation history, and the names of the two
//! tensor files) and the tensor files `params-NNNNNNNN.safetensors` and
//! `optimizer-NNNNNNNN.safetensors`.
//!
//! Written atomically: the tensor files of the new iteration are written
//! (each with [`huashi_io::write_through_path`]: temporary name, sync,
//! rename), then `state.json` is replaced the same way, and only then are
//! the tensor files named by the previous `state.json` removed. A crash at
//! any point leaves the previous checkpoint whole, and a run removes only
//! files its own state named. Readers use [`read_consistent`], which sees
//! either the previous or the new checkpoint, never a mix.
//!
//! A run folder is owned by one process at a time ([`RunFolder`]).

use crate::adam::Adam;
use crate::error::{Error, Result};
use crate::model::ModelSpec;
pub use crate::train::RunSpec;
use crate::train::{Record, TrainState};
use candle_core::Device;
use huashi_net::ParamSet;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// The `format` field of `state.json`.
pub const FORMAT: &str = "huashi-meta-checkpoint";
/// The current `format_version`.
pub const FORMAT_VERSION: u32 = 1;

/// The contents of `state.json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CheckpointState {
    /// Always [`FORMAT`].
    pub format: String,
    /// [`FORMAT_VERSION`].
    pub format_version: u32,
    /// The run.
    pub spec: RunSpec,
    /// Iterations done.
    pub iteration: u64,
    /// Adam's step count.
    pub adam_step: u64,
    /// Validation history.
    pub history: Vec<Record>,
    /// The parameter file (in the folder).
    pub params_file: String,
    /// The optimiser file (in the folder).
    pub optimizer_file: String,
}

fn io_error(path: &Path, cause: std::io::Error) -> Error {
    Error::Checkpoint {
        path: path.display().to_string(),
        reason: cause.to_string(),
    }
}

/// Writes `state` of the run `spec` into the existing folder `dir` (see
/// [`RunFolder::create`]).
///
/// # Errors
/// [`Error::Net`] when a tensor file cannot be written, [`Error::File`] when
/// `state.json` cannot, [`Error::Checkpoint`] when a replaced tensor file
/// cannot be removed.
pub fn save(dir: &Path, spec: &RunSpec, state: &TrainState) -> Result<()> {
    let previous = read_state(dir).ok();
    let params_file = format!("params-{:08}.safetensors", state.iteration);
    let optimizer_file = format!("optimizer-{:08}.safetensors", state.iteration);
    state.params.save(dir.join(&params_file))?;
    state.adam.moments().save(dir.join(&optimizer_file))?;
    let json = CheckpointState {
        format: FORMAT.into(),
        format_version: FORMAT_VERSION,
        spec: spec.clone(),
        iteration: state.iteration,
        adam_step: state.adam.step,
        history: state.history.clone(),
        params_file: params_file.clone(),
        optimizer_file: optimizer_file.clone(),
    };
    let text = serde_json::to_string_pretty(&json).map_err(|e| Error::Checkpoint {
        path: dir.display().to_string(),
        reason: e.to_string(),
    })?;
    huashi_io::write_bytes(state_path(dir), text.as_bytes())?;
    match previous {
        Some(previous) => remove_replaced(dir, &previous, &[&params_file, &optimizer_file]),
        None => Ok(()),
    }
}

/// Removes the tensor files named by the replaced `state.json` (and only
/// those), unless the new state names them too.
fn remove_replaced(dir: &Path, previous: &CheckpointState, keep: &[&str]) -> Result<()> {
    for name in [&previous.params_file, &previous.optimizer_file] {
        if keep.contains(&name.as_str()) || !is_tensor_file_name(name) {
            continue;
        }
        let path = dir.join(name);
        match std::fs::remove_file(&path) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(io_error(&path, e)),
            _ => {}
        }
    }
    Ok(())
}

/// A plain file name of the form `save` writes (no folder, no `..`), so a
/// doctored `state.json` cannot make a run remove or read files elsewhere.
fn is_tensor_file_name(name: &str) -> bool {
    let plain = !name.contains(['/', '\\']) && !name.starts_with('.');
    plain
        && name.ends_with(".safetensors")
        && (name.starts_with("params-") || name.starts_with("optimizer-"))
}

/// Reads `dir/state.json`; a missing, malformed or foreign file is an error.
///
/// # Errors
/// [`Error::Checkpoint`] naming the file when it cannot be read, is not JSON, has
/// another format or version, names foreign tensor files, or has invalid settings.
pub fn read_state(dir: &Path) -> Result<CheckpointState> {
    let path = dir.join("state.json");
    let text = std::fs::read_to_string(&path).map_err(|e| io_error(&path, e))?;
    let bad = |reason: String| Error::Checkpoint {
        path: path.display().to_string(),
        reason,
    };
    let value: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| bad(format!("not JSON: {e}")))?;
    if value.get("format").and_then(|f| f.as_str()) != Some(FORMAT) {
        return Err(bad(format!("not a {FORMAT} file")));
    }
    let version = value.get("format_version").and_then(|v| v.as_u64());
    if version != Some(FORMAT_VERSION as u64) {
        return Err(bad(format!(
            "format_version {version:?}, this build reads {FORMAT_VERSION}"
        )));
    }
    let state: CheckpointState =
        serde_json::from_value(value).map_err(|e| bad(format!("malformed: {e}")))?;
    for name in [&state.params_file, &state.optimizer_file] {
        if !is_tensor_file_name(name) {
            return Err(bad(format!(
                "{name:?} is not a tensor file name this format writes"
            )));
        }
    }
    state
        .spec
        .hyper
        .check()
        .map_err(|e| bad(format!("its settings are invalid: {e}")))?;
    Ok(state)
}

/// Reads `state.json` and what `load` makes of it. When `load` fails
/// because a writer replaced the checkpoint in between (its old tensor
/// files are then gone), reads the new state and tries again, so a reader
/// sees the previous or the new checkpoint, never a mix.
///
/// # Errors
/// As [`read_state`], and `load`'s error when the checkpoint did not change
/// under it.
pub fn read_consistent<T>(
    dir: &Path,
    mut load: impl FnMut(&CheckpointState) -> Result<T>,
) -> Result<(CheckpointState, T)> {
    let mut state = read_state(dir)?;
    loop {
        match load(&state) {
            Ok(loaded) => return Ok((state, loaded)),
            Err(e) => {
                let now = read_state(dir)?;
                if now.params_file == state.params_file {
                    return Err(e);
                }
                state = now;
            }
        }
    }
}

/// A run folder owned by this process: its [`huashi_io::FolderLock`] is
/// held until this value is dropped, so two runs never write one folder.
#[derive(Debug)]
pub struct RunFolder {
    lock: huashi_io::FolderLock,
}

impl RunFolder {
    /// Takes `dir` (created if needed) for a new run. It must not hold a
    /// run (`state.json`) and, unless `allow_other_files`, no other files:
    /// a new run never writes into a folder of someone else's files.
    ///
    /// # Errors
    /// [`Error::File`] when another process holds the folder;
    /// [`Error::RunFolder`] when it holds a run or other files.
    pub fn create(dir: &Path, allow_other_files: bool) -> Result<Self> {
        let lock = huashi_io::FolderLock::acquire(dir)?;
        lock.remove_stale_temporaries()?;
        let refuse = |reason: String| Error::RunFolder {
            path: dir.display().to_string(),
            reason,
        };
        if state_path(dir).exists() {
            return Err(refuse(
                "it already holds a run: pass --resume to continue it, or choose another --out"
                    .into(),
            ));
        }
        let others = other_files(dir)?;
        if !others.is_empty() && !allow_other_files {
            return Err(refuse(format!(
                "it is not empty and is not a huashi run (it holds {}); \
                 choose a new or empty folder, or pass --allow-other-files to write into it",
                others.join(", ")
            )));
        }
        Ok(RunFolder { lock })
    }

    /// Takes the run in `dir` to continue it and reads its state.
    ///
    /// # Errors
    /// [`Error::File`] when another process holds the folder; as
    /// [`read_state`] when it holds no valid run.
    pub fn resume(dir: &Path) -> Result<(Self, CheckpointState)> {
        let lock = huashi_io::FolderLock::acquire(dir)?;
        lock.remove_stale_temporaries()?;
        let state = read_state(dir)?;
        Ok((RunFolder { lock }, state))
    }

    /// The folder.
    pub fn dir(&self) -> &Path {
        self.lock.folder()
    }
}

/// Up to four names in `dir` other than the lock file, sorted.
fn other_files(dir: &Path) -> Result<Vec<String>> {
    let entries = std::fs::read_dir(dir).map_err(|e| io_error(dir, e))?;
    let mut names: Vec<String> = entries
        .flatten()
        .map(|e| e.file_name().to_string_lossy().to_string())
        .filter(|name| name != huashi_io::lock::LOCK_FILE)
        .collect();
    names.sort();
    if names.len() > 4 {
        let more = names.len() - 3;
        names.truncate(3);
        names.push(format!("{more} more"));
    }
    Ok(names)
}

/// The parameters of a checkpoint, checked against `reference` (the fresh
/// parameters of the model the caller built).
///
/// # Errors
/// [`Error::Net`] when the tensor file is missing or unreadable,
/// [`Error::CheckpointMismatch`] when it does not fit `reference`.
pub fn load_params(dir: &Path, state: &CheckpointState, reference: &ParamSet) -> Result<ParamSet> {
    let names: Vec<&str> = reference.names().collect();
    let params = ParamSet::load(dir.join(&state.params_file), &names, &Device::Cpu)?;
    ModelSpec::check_params(reference, &params)?;
    Ok(params)
}

/// The whole training state of a checkpoint, checked against `reference`.
///
/// # Errors
/// As [`load_params`]; also for the optimiser file, and [`Error::InvalidConfig`]
/// for optimiser moments of another shape.
pub fn load(dir: &Path, state: &CheckpointState, reference: &ParamSet) -> Result<TrainState> {
    let params = load_params(dir, state, reference)?;
    let mut adam = Adam::new(state.spec.hyper.meta_lr, &params)?;
    let names: Vec<String> = adam.moments().names().map(String::from).collect();
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    let moments = ParamSet::load(dir.join(&state.optimizer_file), &names, &Device::Cpu)?;
    adam.restore(moments, state.adam_step)?;
    Ok(TrainState {
        iteration: state.iteration,
        params,
        adam,
        history: state.history.clone(),
    })
}

/// The path of `state.json` in `dir`.
pub fn state_path(dir: &Path) -> PathBuf {
    dir.join("state.json")
}

/// The save function of a [`CheckpointPolicy`](crate::train::CheckpointPolicy):
/// [`save`] into `dir`.
///
/// # Errors
/// The returned function fails as [`save`].
pub fn saver<'a>(dir: &'a Path, spec: &'a RunSpec) -> impl Fn(&TrainState) -> Result<()> + 'a {
    move |state| save(dir, spec, state)
}
