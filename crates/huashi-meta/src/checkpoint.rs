//! Checkpoints: a folder holding `state.json` (format, run specification,
//! iteration, optimiser step, validation history, and the names of the two
//! tensor files) and the tensor files `params-NNNNNNNN.safetensors` and
//! `optimizer-NNNNNNNN.safetensors`.
//!
//! Written atomically: the tensor files of the new iteration are written
//! (each to a temporary name, then renamed), then `state.json` is replaced
//! by a rename, and only then are the previous tensor files removed. A crash
//! at any point leaves the previous checkpoint whole.

use crate::adam::Adam;
use crate::algorithm::Hyper;
use crate::error::{Error, Result};
use crate::model::ModelSpec;
use crate::tasks::TaskSpec;
use crate::train::{Record, TrainState};
use candle_core::Device;
use huashi_net::ParamSet;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// The `format` field of `state.json`.
pub const FORMAT: &str = "huashi-meta-checkpoint";
/// The current `format_version`.
pub const FORMAT_VERSION: u32 = 1;

/// Everything that defines a run (what `--resume` and `meta eval` rebuild).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunSpec {
    /// Algorithm and hyper-parameters.
    pub hyper: Hyper,
    /// The model.
    pub model: ModelSpec,
    /// The tasks.
    pub task: TaskSpec,
    /// The run's seed (initialisation and tasks).
    pub seed: u64,
    /// Validate every this many iterations (0: never).
    pub validate_every: u64,
    /// Tasks per validation.
    pub validation_tasks: usize,
}

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

/// Writes `state` of the run `spec` into `dir` (created if needed).
pub fn save(dir: &Path, spec: &RunSpec, state: &TrainState) -> Result<()> {
    std::fs::create_dir_all(dir).map_err(|e| io_error(dir, e))?;
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
    let state_path = dir.join("state.json");
    let temporary = dir.join("state.json.partial");
    std::fs::write(&temporary, text).map_err(|e| io_error(&temporary, e))?;
    std::fs::rename(&temporary, &state_path).map_err(|e| io_error(&state_path, e))?;
    remove_stale(dir, &[&params_file, &optimizer_file])
}

/// Removes tensor files of earlier iterations.
fn remove_stale(dir: &Path, keep: &[&str]) -> Result<()> {
    let entries = std::fs::read_dir(dir).map_err(|e| io_error(dir, e))?;
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().to_string();
        let ours = (name.starts_with("params-") || name.starts_with("optimizer-"))
            && name.ends_with(".safetensors");
        if ours && !keep.contains(&name.as_str()) {
            std::fs::remove_file(entry.path()).map_err(|e| io_error(&entry.path(), e))?;
        }
    }
    Ok(())
}

/// Reads `dir/state.json`; a missing, malformed or foreign file is an error.
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
    serde_json::from_value(value).map_err(|e| bad(format!("malformed: {e}")))
}

/// The parameters of a checkpoint, checked against `reference` (the fresh
/// parameters of the model the caller built).
pub fn load_params(dir: &Path, state: &CheckpointState, reference: &ParamSet) -> Result<ParamSet> {
    let names: Vec<&str> = reference.names().collect();
    let params = ParamSet::load(dir.join(&state.params_file), &names, &Device::Cpu)?;
    ModelSpec::check_params(reference, &params)?;
    Ok(params)
}

/// The whole training state of a checkpoint, checked against `reference`.
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
