//! Random hyper-parameter search for ESNs, and `huashi esn search`.
//!
//! Each trial draws units, spectral radius, leak rate, input scaling and
//! ridge log-uniformly from their ranges (trial `i` from the random stream
//! `search/trial{i}` of the seed, so the trials do not depend on the thread
//! count), fits on the training split and scores the NRMSE of one-step
//! predictions on the validation split that follows it (continuing from the
//! end-of-training state). Trials run in parallel (rayon). A trial that fails
//! (e.g. a singular readout) is kept in the table with its error. The
//! command itself is in [`crate::esn_search_cmd`].

use anyhow::ensure;
use huashi_esn::rng::Rng;
use huashi_esn::{column, column_values, metrics, Esn, EsnConfig, InputScaling, Sequence};
use rayon::prelude::*;
use serde::Serialize;
use std::time::Instant;

/// The ranges sampled, each `[low, high]` (log-uniform).
#[derive(Debug, Clone, Serialize)]
pub struct SearchSpace {
    pub units: [usize; 2],
    pub spectral_radius: [f64; 2],
    pub leak: [f64; 2],
    pub input_scaling: [f64; 2],
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
    pub fn check(&self) -> anyhow::Result<()> {
        let [u0, u1] = self.units;
        ensure!(u0 >= 1 && u0 <= u1, "units range {u0}..{u1} is empty or 0");
        for (name, [lo, hi]) in [
            ("spectral radius", self.spectral_radius),
            ("leak", self.leak),
            ("input scaling", self.input_scaling),
            ("ridge", self.ridge),
        ] {
            ensure!(
                lo > 0.0 && lo <= hi && hi.is_finite(),
                "{name} range {lo}..{hi} must satisfy 0 < low <= high"
            );
        }
        ensure!(self.leak[1] <= 1.0, "the leak rate is at most 1");
        Ok(())
    }
}

/// The hyper-parameters one trial uses.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Params {
    pub units: usize,
    pub spectral_radius: f64,
    pub leak: f64,
    pub input_scaling: f64,
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

    /// The command-line options of these parameters.
    pub fn options(&self) -> String {
        format!(
            "--units {} --spectral-radius {:.4} --leak {:.4} --input-scaling {:.4} --ridge {:.2e}",
            self.units, self.spectral_radius, self.leak, self.input_scaling, self.ridge
        )
    }
}

/// One trial's outcome.
#[derive(Debug, Clone, Serialize)]
pub struct Trial {
    pub index: usize,
    pub params: Params,
    /// Validation NRMSE (`None` if the trial failed).
    pub nrmse: Option<f64>,
    pub error: Option<String>,
    pub ms: f64,
}

/// Standardised inputs and targets with a training and a validation split.
pub struct SearchData<'a> {
    pub inputs: &'a [f64],
    pub targets: &'a [f64],
    pub train: usize,
    pub validation: usize,
}

/// Fits on the training split; NRMSE on the validation split.
pub fn validation_nrmse(config: &EsnConfig, d: &SearchData<'_>) -> anyhow::Result<f64> {
    let (t, v) = (d.train, d.validation);
    ensure!(v >= 2 && t + v <= d.targets.len(), "bad validation split");
    let (x, y) = (column(&d.inputs[..t]), column(&d.targets[..t]));
    let fit = Esn::fit(config, &[Sequence::new(x.as_ref(), y.as_ref())])?;
    let mut state = fit.end_states[0].clone();
    let out = fit
        .esn
        .run(&mut state, column(&d.inputs[t..t + v]).as_ref(), None)?;
    let pred = column_values(out.as_ref(), 0);
    ensure!(pred.iter().all(|p| p.is_finite()), "predictions diverged");
    Ok(metrics::nrmse(&pred, &d.targets[t..t + v])?)
}

/// Runs `trials` trials in parallel; returns them best first (failures
/// last). `done` is called after each trial.
pub fn search(
    base: &EsnConfig,
    space: &SearchSpace,
    data: &SearchData<'_>,
    trials: usize,
    seed: u64,
    done: &(dyn Fn(&Trial) + Sync),
) -> anyhow::Result<Vec<Trial>> {
    space.check()?;
    base.check()?;
    ensure!(trials >= 1, "--trials must be at least 1");
    let size = std::mem::size_of::<Trial>() as u64;
    let what = format!("the results of --trials {trials}");
    let bytes = huashi_io::checked_product(&what, &[trials as u64, size])?;
    huashi_io::check_memory(&what, bytes)?;
    let mut out: Vec<Trial> = (0..trials)
        .into_par_iter()
        .map(|index| {
            let params = Params::sample(space, seed, index);
            let start = Instant::now();
            let result = validation_nrmse(&params.apply(base), data);
            let trial = Trial {
                index,
                params,
                nrmse: result.as_ref().ok().copied(),
                error: result.err().map(|e| format!("{e:#}")),
                ms: start.elapsed().as_secs_f64() * 1e3,
            };
            done(&trial);
            trial
        })
        .collect();
    let key = |t: &Trial| t.nrmse.unwrap_or(f64::INFINITY);
    out.sort_by(|a, b| key(a).total_cmp(&key(b)).then(a.index.cmp(&b.index)));
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::esn::ReservoirArgs;

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
        let base = ReservoirArgs::default().config();
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
