//! The trial log: JSON Lines on a [`LineLog`], a [`LogHeader`] first, then
//! one [`Trial`] per line as each evaluation finishes, so that a stopped
//! search continues where it was (`huashi esn search --log F --resume`).
//!
//! A log is resumed only for the same search: the header (base
//! configuration, search space, options and a fingerprint of the data and
//! its splits) must equal the stored one, except that a random search may
//! ask for more trials than it had.

use std::path::{Path, PathBuf};

use huashi_io::LineLog;
use serde::{Deserialize, Serialize};

use super::strategy::{SearchOptions, Strategy};
use super::trial::Trial;
use super::SearchSpace;
use crate::error::{Error, Result};
use crate::esn::EsnConfig;

/// The log format's version.
pub const LOG_VERSION: u32 = 1;

/// What a log belongs to: its first line.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LogHeader {
    /// [`LOG_VERSION`].
    pub version: u32,
    /// The configuration the trials modify.
    pub base: EsnConfig,
    /// The ranges sampled.
    pub space: SearchSpace,
    /// Trials, seeds and strategy.
    pub options: SearchOptions,
    /// [`super::SearchData::fingerprint`] of the data.
    pub data: String,
}

/// An open trial log.
#[derive(Debug)]
pub struct TrialLog {
    log: LineLog,
}

impl TrialLog {
    /// Creates a new log at `path` with `header`.
    ///
    /// # Errors
    /// [`huashi_io::Error::Exists`] when `path` exists, or the file's
    /// write error.
    pub fn create(path: impl AsRef<Path>, header: &LogHeader) -> Result<Self> {
        let line = serde_json::to_string(header).map_err(|e| bad(path.as_ref(), 1, e))?;
        Ok(Self {
            log: LineLog::create(path, &line)?,
        })
    }

    /// Opens the log at `path` for the search `header` describes and
    /// returns the evaluations it holds.
    ///
    /// # Errors
    /// [`Error::Log`] naming the file and line of a malformed line, or the
    /// header field that differs from this search's; the file's read and
    /// lock errors.
    pub fn resume(path: impl AsRef<Path>, header: &LogHeader) -> Result<(Self, Vec<Trial>)> {
        let path = path.as_ref();
        let (log, lines) = LineLog::resume(path)?;
        let first = lines
            .first()
            .ok_or_else(|| bad(path, 1, "the file is empty"))?;
        let stored: LogHeader = serde_json::from_str(first).map_err(|e| bad(path, 1, e))?;
        if let Some(field) = difference(&stored, header) {
            let reason = format!("this log belongs to a search with another {field}");
            return Err(bad(path, 1, reason));
        }
        let trials = lines[1..]
            .iter()
            .enumerate()
            .map(|(i, l)| serde_json::from_str(l).map_err(|e| bad(path, i + 2, e)))
            .collect::<Result<Vec<Trial>>>()?;
        Ok((Self { log }, trials))
    }

    /// Appends one evaluation.
    ///
    /// # Errors
    /// The log's write error.
    pub fn append(&self, trial: &Trial) -> Result<()> {
        let line = serde_json::to_string(trial).map_err(|e| bad(self.log.path(), 0, e))?;
        Ok(self.log.append(&line)?)
    }

    /// The log's path.
    pub fn path(&self) -> &Path {
        self.log.path()
    }
}

/// The first header field in which `stored` and `wanted` differ, if any
/// (a random search may grow its trials).
fn difference(stored: &LogHeader, wanted: &LogHeader) -> Option<&'static str> {
    let (s, w) = (&stored.options, &wanted.options);
    let more_random_trials = s.strategy == Strategy::Random && w.strategy == Strategy::Random;
    [
        (stored.version != wanted.version, "log version"),
        (stored.data != wanted.data, "data or split"),
        (stored.base != wanted.base, "fixed reservoir configuration"),
        (stored.space != wanted.space, "search space"),
        (s.strategy != w.strategy, "strategy"),
        (s.seeds != w.seeds, "set of reservoir seeds"),
        (s.search_seed != w.search_seed, "search seed"),
        (s.nrmse != w.nrmse, "NRMSE normalisation"),
        (
            s.trials != w.trials && !more_random_trials,
            "number of trials",
        ),
    ]
    .into_iter()
    .find_map(|(differs, field)| differs.then_some(field))
}

fn bad(path: &Path, line: usize, reason: impl ToString) -> Error {
    Error::Log {
        path: PathBuf::from(path),
        line,
        reason: reason.to_string(),
    }
}
