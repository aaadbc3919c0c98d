//! One evaluation of a trial: its parameters fitted on (the end of) the
//! training split under each reservoir seed and scored on the validation
//! split that follows; the score is the mean NRMSE over the seeds with its
//! 95 % confidence interval ([`MeanCi`]).

use std::time::Instant;

use serde::{Deserialize, Serialize};

use super::Params;
use crate::error::{invalid, Error, Result};
use crate::esn::{Esn, EsnConfig};
use crate::metrics::{self, MeanCi, Normalisation};
use crate::train::Sequence;
use crate::util::{column, column_values};
use faer::MatRef;

/// Standardised inputs and targets with a training and a validation split.
#[derive(Debug, Clone, Copy)]
pub struct SearchData<'a> {
    /// Inputs, one row per step, one column per input.
    pub inputs: MatRef<'a, f64>,
    /// Targets, one per step.
    pub targets: &'a [f64],
    /// Steps of the training split (from the start).
    pub train: usize,
    /// Steps of the validation split (after the training split).
    pub validation: usize,
}

impl SearchData<'_> {
    /// A fingerprint of the data and its splits (FNV-1a of the values' bits
    /// and the split lengths), so that a resumed log is known to belong to
    /// the same data.
    pub fn fingerprint(&self) -> String {
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        let (rows, cols) = (self.inputs.nrows(), self.inputs.ncols());
        let inputs = (0..cols).flat_map(|j| (0..rows).map(move |i| self.inputs[(i, j)]));
        let words = inputs.chain(self.targets.iter().copied()).map(f64::to_bits);
        let sizes = [self.train, self.validation, cols].map(|n| n as u64);
        for w in words.chain(sizes) {
            for b in w.to_le_bytes() {
                h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
            }
        }
        format!("{h:016x}")
    }
}

/// One evaluation of a trial's parameters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Trial {
    /// The trial's number (its random stream).
    pub index: usize,
    /// The successive-halving rung (0 for random search).
    pub rung: usize,
    /// Training steps used (the last ones of the training split).
    pub train_steps: usize,
    /// The parameters drawn.
    pub params: Params,
    /// Validation NRMSE for each reservoir seed, in seed order.
    pub per_seed: Vec<f64>,
    /// Mean validation NRMSE over the seeds and its 95 % interval (`None`
    /// if the trial failed).
    pub nrmse: Option<MeanCi>,
    /// Why the trial failed, if it did.
    pub error: Option<String>,
    /// Milliseconds the evaluation took.
    pub ms: f64,
}

impl Trial {
    /// The mean validation NRMSE, `+∞` for a failed trial (for ranking).
    pub fn score(&self) -> f64 {
        self.nrmse.map_or(f64::INFINITY, |m| m.mean)
    }
}

/// Fits `config` on the last `train_steps` steps of the training split;
/// NRMSE under `norm` on the validation split.
///
/// # Errors
/// A validation split under 2 steps or past the data, `train_steps` past
/// the training split, the errors of [`Esn::fit`], or predictions that
/// diverge ([`Error::Diverged`]).
pub fn validation_nrmse(
    config: &EsnConfig,
    d: &SearchData<'_>,
    train_steps: usize,
    norm: Normalisation,
) -> Result<f64> {
    let (t, v) = (d.train, d.validation);
    if v < 2 || t + v > d.targets.len() {
        let reason = "needs at least 2 steps within the data";
        return Err(invalid("validation split", v as f64, reason));
    }
    if train_steps == 0 || train_steps > t {
        let reason = "must be within the training split";
        return Err(invalid("training steps", train_steps as f64, reason));
    }
    let from = t - train_steps;
    let (x, y) = (
        d.inputs.subrows(from, train_steps),
        column(&d.targets[from..t]),
    );
    let fit = Esn::fit(config, &[Sequence::new(x, y.as_ref())])?;
    let mut state = fit.end_states[0].clone();
    let out = fit.esn.run(&mut state, d.inputs.subrows(t, v), None)?;
    let pred = column_values(out.as_ref(), 0);
    if let Some(step) = pred.iter().position(|p| !p.is_finite()) {
        let what = "validation predictions";
        return Err(Error::Diverged { what, step });
    }
    metrics::nrmse_by(&pred, &d.targets[t..t + v], norm)
}

/// Where and how a trial is evaluated.
#[derive(Debug, Clone, Copy)]
pub struct Evaluation<'a> {
    /// The configuration the parameters modify.
    pub base: &'a EsnConfig,
    /// The data and its splits.
    pub data: &'a SearchData<'a>,
    /// The reservoir seeds, each a whole fit.
    pub seeds: &'a [u64],
    /// What the validation NRMSE is normalised by.
    pub norm: Normalisation,
}

impl Evaluation<'_> {
    /// Trial `index` with `params` at `rung` on `train_steps` training
    /// steps; a failure under any seed fails the trial (kept with its error).
    pub fn run(&self, index: usize, params: Params, rung: usize, train_steps: usize) -> Trial {
        let start = Instant::now();
        let config = params.apply(self.base);
        let per_seed: Result<Vec<f64>> = self
            .seeds
            .iter()
            .map(|&seed| {
                let c = EsnConfig {
                    seed,
                    ..config.clone()
                };
                validation_nrmse(&c, self.data, train_steps, self.norm)
            })
            .collect();
        let (per_seed, error) = match per_seed {
            Ok(v) => (v, None),
            Err(e) => (Vec::new(), Some(e.to_string())),
        };
        Trial {
            index,
            rung,
            train_steps,
            params,
            nrmse: (!per_seed.is_empty()).then(|| MeanCi::of(&per_seed)),
            per_seed,
            error,
            ms: start.elapsed().as_secs_f64() * 1e3,
        }
    }
}
