//! Which trials run, and on how much training data.
//!
//! * **Random search**: every trial on the whole training split.
//! * **Successive halving** (Jamieson & Talwalkar 2016, "Non-stochastic best
//!   arm identification and hyperparameter optimization", AISTATS; the inner
//!   loop of Li et al. 2018, Hyperband): with `n` trials and factor `η`,
//!   rung `r` of `R` fits on the last `L / η^(R−1−r)` steps of the training
//!   split (length `L`) and keeps the best `⌈n_r / η⌉` trials for the next
//!   rung, so the last rung fits the few survivors on the whole split.
//!   `R = 1 + ⌊log_η n⌋`, fewer when the first rung would train on fewer
//!   than [`min_train_steps`] steps.
//!
//! Trials of a rung run in parallel (rayon); evaluations found in `known`
//! (a resumed log) are reused, not rerun.

use std::collections::HashMap;

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::trial::{Evaluation, SearchData, Trial};
use super::{Params, SearchSpace};
use crate::error::{invalid, Result};
use crate::esn::EsnConfig;
use crate::metrics::Normalisation;

/// How trials are chosen and how much training each gets.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Strategy {
    /// Every trial on the whole training split.
    Random,
    /// Successive halving with reduction factor `eta` (≥ 2).
    Halving {
        /// The reduction factor `η`.
        eta: usize,
    },
}

/// What a search runs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SearchOptions {
    /// Trials drawn (trial `i` from the stream `search/trial{i}`).
    pub trials: usize,
    /// Seed of the trial sampling.
    pub search_seed: u64,
    /// Reservoir seeds each evaluation fits under (mean ± CI over them).
    pub seeds: Vec<u64>,
    /// Random search or successive halving.
    pub strategy: Strategy,
    /// What the validation NRMSE is normalised by.
    #[serde(default)]
    pub nrmse: Normalisation,
}

/// The shortest training a halving rung uses: `max(2·washout, washout +
/// 100)` steps.
pub fn min_train_steps(washout: usize) -> usize {
    (2 * washout).max(washout + 100)
}

impl SearchOptions {
    /// Training steps of each rung, for a training split of `train` steps.
    pub fn rungs(&self, train: usize, washout: usize) -> Vec<usize> {
        let Strategy::Halving { eta } = self.strategy else {
            return vec![train];
        };
        let mut count = 1;
        while eta.saturating_pow(count) <= self.trials
            && train / eta.saturating_pow(count) >= min_train_steps(washout)
        {
            count += 1;
        }
        (0..count).map(|r| train / eta.pow(count - 1 - r)).collect()
    }

    /// Evaluations the search runs when no trial fails: the trials of each
    /// rung (`n`, `⌈n/η⌉`, …).
    pub fn evaluations(&self, train: usize, washout: usize) -> usize {
        let mut alive = self.trials;
        let mut total = 0;
        for _ in self.rungs(train, washout) {
            total += alive;
            if let Strategy::Halving { eta } = self.strategy {
                alive = alive.div_ceil(eta.max(1));
            }
        }
        total
    }

    fn check(&self) -> Result<()> {
        if self.trials == 0 {
            return Err(invalid("trials", 0.0, "must be at least 1"));
        }
        if self.seeds.is_empty() {
            return Err(invalid("reservoir seeds", 0.0, "must be at least 1"));
        }
        if let Strategy::Halving { eta } = self.strategy {
            if eta < 2 {
                return Err(invalid(
                    "halving factor eta",
                    eta as f64,
                    "must be at least 2",
                ));
            }
        }
        Ok(())
    }
}

/// A finished search.
#[derive(Debug, Clone, Serialize)]
pub struct Outcome {
    /// Training steps of each rung (one for random search).
    pub rungs: Vec<usize>,
    /// Every evaluation, rung by rung (resumed ones included).
    pub evaluations: Vec<Trial>,
    /// Each trial's last evaluation, best first: those that reached a
    /// higher rung first, then by mean validation NRMSE; failures last.
    pub ranked: Vec<Trial>,
    /// Evaluations taken from the resumed log instead of run.
    pub resumed: usize,
}

/// Checks a search before it runs (and before its log is created).
///
/// # Errors
/// An invalid `space`, `base` or `options`, or more trials than memory
/// holds the results of.
pub fn check(base: &EsnConfig, space: &SearchSpace, options: &SearchOptions) -> Result<()> {
    space.check()?;
    base.check()?;
    options.check()?;
    let size = std::mem::size_of::<Trial>() as u64;
    let what = format!("the results of {} trials", options.trials);
    let bytes = huashi_io::checked_product(&what, &[options.trials as u64, 2, size])?;
    Ok(huashi_io::check_memory(&what, bytes)?)
}

/// Runs the search. `done` is called after each new evaluation (from the
/// worker threads); an error from it stops the search.
///
/// # Errors
/// Those of [`check`], or an error of `done` (the trials' own failures are
/// kept in their [`Trial::error`]).
pub fn search(
    base: &EsnConfig,
    space: &SearchSpace,
    data: &SearchData<'_>,
    options: &SearchOptions,
    known: &[Trial],
    done: &(dyn Fn(&Trial) -> Result<()> + Sync),
) -> Result<Outcome> {
    check(base, space, options)?;
    let known: HashMap<(usize, usize), &Trial> =
        known.iter().map(|t| ((t.index, t.rung), t)).collect();
    let eval = Evaluation {
        base,
        data,
        seeds: &options.seeds,
        norm: options.nrmse,
    };
    let rungs = options.rungs(data.train, base.washout);
    let mut alive: Vec<(usize, Params)> = (0..options.trials)
        .map(|i| (i, Params::sample(space, options.search_seed, i)))
        .collect();
    let (mut evaluations, mut resumed) = (Vec::new(), 0);
    for (rung, &steps) in rungs.iter().enumerate() {
        let run = |&(i, p): &(usize, Params)| match known.get(&(i, rung)) {
            Some(t) if t.params == p && t.train_steps == steps => Ok(((*t).clone(), true)),
            _ => {
                let t = eval.run(i, p, rung, steps);
                done(&t).map(|()| (t, false))
            }
        };
        let mut results: Vec<(Trial, bool)> = alive.par_iter().map(run).collect::<Result<_>>()?;
        resumed += results.iter().filter(|(_, old)| *old).count();
        results
            .sort_by(|(a, _), (b, _)| a.score().total_cmp(&b.score()).then(a.index.cmp(&b.index)));
        let survivors = match options.strategy {
            Strategy::Halving { eta } => results.len().div_ceil(eta),
            Strategy::Random => results.len(),
        };
        alive = results
            .iter()
            .filter(|(t, _)| t.nrmse.is_some())
            .take(survivors)
            .map(|(t, _)| (t.index, t.params))
            .collect();
        evaluations.extend(results.into_iter().map(|(t, _)| t));
    }
    Ok(Outcome {
        ranked: ranked(&evaluations),
        rungs,
        evaluations,
        resumed,
    })
}

/// Each trial's last (highest-rung) evaluation, best first (failures
/// last).
fn ranked(evaluations: &[Trial]) -> Vec<Trial> {
    let mut last: HashMap<usize, &Trial> = HashMap::new();
    for t in evaluations {
        let slot = last.entry(t.index).or_insert(t);
        if t.rung > slot.rung {
            *slot = t;
        }
    }
    let mut out: Vec<Trial> = last.into_values().cloned().collect();
    out.sort_by(|a, b| {
        (a.nrmse.is_none().cmp(&b.nrmse.is_none()))
            .then(b.rung.cmp(&a.rung))
            .then(a.score().total_cmp(&b.score()))
            .then(a.index.cmp(&b.index))
    });
    out
}
