//! Random hyper-parameter search for the forecasting ESN (Bergstra & Bengio
//! 2012, "Random search for hyper-parameter optimization", *JMLR* 13).
//!
//! Each trial draws units, spectral radius, leak rate, input scaling and
//! ridge log-uniformly from their ranges,
//!
//! ```text
//! v = exp(U(ln low, ln high))
//! ```
//!
//! (trial `i` from the random stream `search/trial{i}` of the seed, so the
//! trials do not depend on the thread count), fits on the training split and
//! scores the NRMSE of one-step predictions on the validation split that
//! follows it (continuing from the end-of-training state). Trials run in
//! parallel (rayon). A trial that fails (e.g. a singular readout) is kept
//! with its error. [`Splits`] cuts a [`Prepared`] series into training,
//! validation and test parts and scores the best trial on the test part.

use std::time::Instant;

use rayon::prelude::*;
use serde::Serialize;

use crate::config::InputScaling;
use crate::error::{invalid, Error, Result};
use crate::esn::{Esn, EsnConfig};
use crate::forecast::{evaluate, Prepared, Score};
use crate::metrics;
use crate::rng::Rng;
use crate::train::Sequence;
use crate::util::{column, column_values};

/// The ranges sampled, each `[low, high]` (log-uniform).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SearchSpace {
    /// Reservoir units.
    pub units: [usize; 2],
    /// Spectral radius.
    pub spectral_radius: [f64; 2],
    /// Leak rate, within (0, 1].
    pub leak: [f64; 2],
    /// Input scaling.
    pub input_scaling: [f64; 2],
    /// Ridge parameter.
    pub ridge: [f64; 2],
}

impl Default for SearchSpace {
    fn default() -> Self {
        Self {
            units: [50, 400],
            spectral_radius: [0.1, 1.5],
            leak: [0.05, 1.0],
            input_scaling: [0.05, 5.0],
            ridge: [1e-9, 1e-1],
        }
    }
}

impl SearchSpace {
    /// Checks that every range is non-empty and positive.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] naming the first bad bound.
    pub fn check(&self) -> Result<()> {
        let [u0, u1] = self.units;
        if u0 == 0 || u0 > u1 {
            let reason = "must be at least 1 and at most the high end";
            return Err(invalid("units range low end", u0 as f64, reason));
        }
        for (name, [lo, hi]) in [
            ("spectral radius range low end", self.spectral_radius),
            ("leak range low end", self.leak),
            ("input scaling range low end", self.input_scaling),
            ("ridge range low end", self.ridge),
        ] {
            if !(lo > 0.0 && lo <= hi && hi.is_finite()) {
                let reason = "must satisfy 0 < low <= high < infinity";
                return Err(invalid(name, lo, reason));
            }
        }
        if self.leak[1] > 1.0 {
            return Err(invalid(
                "leak range high end",
                self.leak[1],
                "must be at most 1",
            ));
        }
        Ok(())
    }
}

/// The hyper-parameters one trial uses.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Params {
    /// Reservoir units.
    pub units: usize,
    /// Spectral radius.
    pub spectral_radius: f64,
    /// Leak rate.
    pub leak: f64,
    /// Input scaling.
    pub input_scaling: f64,
    /// Ridge parameter.
    pub ridge: f64,
}

fn log_uniform(rng: &mut Rng, [lo, hi]: [f64; 2]) -> f64 {
    rng.uniform_in(lo.ln(), hi.ln()).exp().clamp(lo, hi)
}

impl Params {
    /// Trial `index`'s parameters under `seed`.
    pub fn sample(space: &SearchSpace, seed: u64, index: usize) -> Self {
        let mut rng = Rng::stream(seed, &format!("search/trial{index}"));
        let [u0, u1] = space.units;
        let units = log_uniform(&mut rng, [u0 as f64, u1 as f64 + 1.0]).floor() as usize;
        Self {
            units: units.clamp(u0, u1),
            spectral_radius: log_uniform(&mut rng, space.spectral_radius),
            leak: log_uniform(&mut rng, space.leak),
            input_scaling: log_uniform(&mut rng, space.input_scaling),
            ridge: log_uniform(&mut rng, space.ridge),
        }
    }

    /// `base` with these parameters in its (first) reservoir and readout.
    pub fn apply(&self, base: &EsnConfig) -> EsnConfig {
        let mut c = base.clone();
        let r = &mut c.layers[0];
        r.units = self.units;
        r.spectral_radius = self.spectral_radius;
        r.leak_rate = self.leak;
        r.input_scaling = InputScaling::All(self.input_scaling);
        c.ridge = self.ridge;
        c
    }
}

/// One trial's outcome.
#[derive(Debug, Clone, Serialize)]
pub struct Trial {
    /// The trial's number (its random stream).
    pub index: usize,
    /// The parameters drawn.
    pub params: Params,
    /// Validation NRMSE (`None` if the trial failed).
    pub nrmse: Option<f64>,
    /// Why the trial failed, if it did.
    pub error: Option<String>,
    /// Milliseconds the trial took.
    pub ms: f64,
}

/// Standardised inputs and targets with a training and a validation split.
#[derive(Debug, Clone, Copy)]
pub struct SearchData<'a> {
    /// Inputs, one per step.
    pub inputs: &'a [f64],
    /// Targets, one per step.
    pub targets: &'a [f64],
    /// Steps of the training split (from the start).
    pub train: usize,
    /// Steps of the validation split (after the training split).
    pub validation: usize,
}

/// Fits on the training split; NRMSE on the validation split.
///
/// # Errors
/// A validation split under 2 steps or past the data, the errors of
/// [`Esn::fit`], or predictions that diverge ([`Error::Diverged`]).
pub fn validation_nrmse(config: &EsnConfig, d: &SearchData<'_>) -> Result<f64> {
    let (t, v) = (d.train, d.validation);
    if v < 2 || t + v > d.targets.len() {
        let reason = "needs at least 2 steps within the data";
        return Err(invalid("validation split", v as f64, reason));
    }
    let (x, y) = (column(&d.inputs[..t]), column(&d.targets[..t]));
    let fit = Esn::fit(config, &[Sequence::new(x.as_ref(), y.as_ref())])?;
    let mut state = fit.end_states[0].clone();
    let out = fit
        .esn
        .run(&mut state, column(&d.inputs[t..t + v]).as_ref(), None)?;
    let pred = column_values(out.as_ref(), 0);
    if let Some(step) = pred.iter().position(|p| !p.is_finite()) {
        let what = "validation predictions";
        return Err(Error::Diverged { what, step });
    }
    metrics::nrmse(&pred, &d.targets[t..t + v])
}

/// Runs `trials` trials in parallel; returns them best first (failures
/// last). `done` is called after each trial.
///
/// # Errors
/// An invalid `space` or `base`, `trials` 0, or more trials than memory
/// holds the results of (the trials' own failures are kept in their
/// [`Trial::error`]).
pub fn search(
    base: &EsnConfig,
    space: &SearchSpace,
    data: &SearchData<'_>,
    trials: usize,
    seed: u64,
    done: &(dyn Fn(&Trial) + Sync),
) -> Result<Vec<Trial>> {
    space.check()?;
    base.check()?;
    if trials == 0 {
        return Err(invalid("trials", 0.0, "must be at least 1"));
    }
    let size = std::mem::size_of::<Trial>() as u64;
    let what = format!("the results of {trials} trials");
    let bytes = huashi_io::checked_product(&what, &[trials as u64, size])?;
    huashi_io::check_memory(&what, bytes)?;
    let mut out: Vec<Trial> = (0..trials)
        .into_par_iter()
        .map(|index| {
            let trial = run_trial(base, space, data, seed, index);
            done(&trial);
            trial
        })
        .collect();
    let key = |t: &Trial| t.nrmse.unwrap_or(f64::INFINITY);
    out.sort_by(|a, b| key(a).total_cmp(&key(b)).then(a.index.cmp(&b.index)));
    Ok(out)
}

/// Trial `index`: its parameters, their validation score, its time.
fn run_trial(
    base: &EsnConfig,
    space: &SearchSpace,
    data: &SearchData<'_>,
    seed: u64,
    index: usize,
) -> Trial {
    let params = Params::sample(space, seed, index);
    let start = Instant::now();
    let result = validation_nrmse(&params.apply(base), data);
    Trial {
        index,
        params,
        nrmse: result.as_ref().ok().copied(),
        error: result.err().map(|e| e.to_string()),
        ms: start.elapsed().as_secs_f64() * 1e3,
    }
}

/// A prepared series cut into training, validation and test splits (the
/// standardisers fitted on the training split only).
#[derive(Debug, Clone)]
pub struct Splits {
    /// The series; `prepared.train` is the training split's length.
    pub prepared: Prepared,
    /// Pairs in the validation split, which follows the training split.
    pub validation: usize,
}

impl Splits {
    /// Cuts `prepared` (whose training split is already set) with a
    /// validation split of `fraction` of the pairs; the rest is the test
    /// split.
    ///
    /// # Errors
    /// A validation split under 2 pairs, or a test split under 2 pairs.
    pub fn new(prepared: Prepared, fraction: f64) -> Result<Self> {
        let validation = ((prepared.len() as f64) * fraction).round() as usize;
        if validation < 2 || prepared.train + validation + 2 > prepared.len() {
            return Err(Error::TooFewPairs {
                pairs: prepared.len(),
                what: "a training, a validation and a test split",
            });
        }
        Ok(Self {
            prepared,
            validation,
        })
    }

    /// The standardised data of the training and validation splits.
    pub fn data(&self) -> SearchData<'_> {
        SearchData {
            inputs: &self.prepared.z_in,
            targets: &self.prepared.z_out,
            train: self.prepared.train,
            validation: self.validation,
        }
    }

    /// Pairs in the training, validation and test splits.
    pub fn lengths(&self) -> [usize; 3] {
        let (t, v) = (self.prepared.train, self.validation);
        [t, v, self.prepared.len() - t - v]
    }

    /// `params` on `base` refitted on training + validation, scored on the
    /// test split beside the baselines.
    ///
    /// # Errors
    /// Those of [`evaluate`].
    pub fn test(&self, base: &EsnConfig, params: &Params) -> Result<Vec<Score>> {
        let mut refit = self.prepared.clone();
        refit.train = self.prepared.train + self.validation;
        Ok(evaluate(&params.apply(base), &refit)?.scores)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::forecast::ForecastConfig;

    #[test]
    fn sampling_is_seeded_and_in_range() {
        let space = SearchSpace::default();
        let a: Vec<Params> = (0..50).map(|i| Params::sample(&space, 7, i)).collect();
        let b: Vec<Params> = (0..50).map(|i| Params::sample(&space, 7, i)).collect();
        assert_eq!(a, b);
        assert_ne!(a[0], Params::sample(&space, 8, 0));
        for p in &a {
            assert!((50..=400).contains(&p.units));
            assert!((0.1..=1.5).contains(&p.spectral_radius));
            assert!((0.05..=1.0).contains(&p.leak));
            assert!((1e-9..=1e-1).contains(&p.ridge));
        }
        let bad = SearchSpace {
            leak: [0.5, 2.0],
            ..SearchSpace::default()
        };
        assert!(bad.check().is_err());
    }

    #[test]
    fn tiny_search_finds_a_good_sine_model() {
        let s: Vec<f64> = (0..400).map(|i| (i as f64 * 0.2).sin()).collect();
        let (x, y) = (&s[..399], &s[1..]);
        let data = SearchData {
            inputs: x,
            targets: y,
            train: 300,
            validation: 60,
        };
        let space = SearchSpace {
            units: [10, 30],
            ..SearchSpace::default()
        };
        let base = ForecastConfig::default().esn();
        let count = std::sync::atomic::AtomicUsize::new(0);
        let done = |_: &Trial| {
            count.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        };
        let trials = search(&base, &space, &data, 6, 1, &done).unwrap();
        assert_eq!((trials.len(), count.into_inner()), (6, 6));
        let best = trials[0].nrmse.unwrap();
        assert!(best < 0.05, "best validation NRMSE {best}");
        assert!(trials
            .windows(2)
            .all(|w| w[0].nrmse <= w[1].nrmse.or(Some(f64::MAX))));
        let again = search(&base, &space, &data, 6, 1, &|_| {}).unwrap();
        assert_eq!(again[0].params, trials[0].params);
    }
}
