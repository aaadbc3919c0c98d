//! Hyper-parameter search for the forecasting ESN.
//!
//! Each trial draws units, spectral radius, leak rate, input scaling and
//! ridge log-uniformly from their ranges (Bergstra & Bengio 2012, "Random
//! search for hyper-parameter optimization", *JMLR* 13),
//!
//! ```text
//! v = exp(U(ln low, ln high))
//! ```
//!
//! (trial `i` from the random stream `search/trial{i}` of the search seed,
//! so the trials do not depend on the thread count), fits on the training
//! split under each of several reservoir seeds and scores the mean NRMSE of
//! one-step predictions on the validation split that follows it, with its
//! 95 % interval over the seeds ([`trial`]). [`strategy`] runs every trial
//! on the whole training split (random search) or by successive halving;
//! [`log`] records each evaluation so that a stopped search resumes;
//! [`Splits`] cuts a [`crate::forecast::Prepared`] series into training,
//! validation and test parts and scores the best trial on the test part.

pub mod log;
mod splits;
pub mod strategy;
pub mod trial;

pub use log::{LogHeader, TrialLog};
pub use splits::Splits;
pub use strategy::{check, search, Outcome, SearchOptions, Strategy};
pub use trial::{validation_nrmse, Evaluation, SearchData, Trial};

use serde::{Deserialize, Serialize};

use crate::config::InputScaling;
use crate::error::{invalid, Result};
use crate::esn::EsnConfig;
use crate::rng::Rng;

/// The ranges sampled, each `[low, high]` (log-uniform).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
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
    /// [`crate::Error::InvalidParameter`] naming the first bad bound.
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
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
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

    /// The five parameters by name, in the order of the fields.
    pub fn named(&self) -> [(&'static str, f64); 5] {
        [
            ("units", self.units as f64),
            ("spectral radius", self.spectral_radius),
            ("leak", self.leak),
            ("input scaling", self.input_scaling),
            ("ridge", self.ridge),
        ]
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::forecast::ForecastConfig;
    use crate::util::column;

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

    /// `sin(0.2 i)` over `n` steps: inputs and next-step targets.
    struct Sine {
        x: faer::Mat<f64>,
        y: Vec<f64>,
    }

    impl Sine {
        fn new(n: usize) -> Self {
            let s: Vec<f64> = (0..n).map(|i| (i as f64 * 0.2).sin()).collect();
            Self {
                x: column(&s[..n - 1]),
                y: s[1..].to_vec(),
            }
        }

        fn data(&self, train: usize, validation: usize) -> SearchData<'_> {
            SearchData {
                inputs: self.x.as_ref(),
                targets: &self.y,
                train,
                validation,
            }
        }
    }

    fn options(trials: usize, strategy: Strategy) -> SearchOptions {
        SearchOptions {
            trials,
            search_seed: 1,
            seeds: vec![3, 4],
            strategy,
            nrmse: Default::default(),
        }
    }

    fn small_space() -> SearchSpace {
        SearchSpace {
            units: [10, 30],
            ..SearchSpace::default()
        }
    }

    #[test]
    fn random_search_finds_a_good_sine_model() {
        let sine = Sine::new(700);
        let data = sine.data(500, 60);
        let base = ForecastConfig::default().esn();
        let count = std::sync::atomic::AtomicUsize::new(0);
        let done = |_: &Trial| {
            count.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            Ok(())
        };
        let opts = options(6, Strategy::Random);
        let out = search(&base, &small_space(), &data, &opts, &[], &done).unwrap();
        assert_eq!((out.ranked.len(), count.into_inner()), (6, 6));
        assert_eq!(out.rungs, [500]);
        let best = &out.ranked[0];
        assert!(
            best.score() < 0.05,
            "best validation NRMSE {}",
            best.score()
        );
        // The mean and interval are those of the two seeds' scores.
        assert_eq!(best.per_seed.len(), 2);
        assert_eq!(best.nrmse, Some(crate::metrics::MeanCi::of(&best.per_seed)));
        assert!(out.ranked.windows(2).all(|w| w[0].score() <= w[1].score()));
        // Resuming from every evaluation runs nothing and ranks the same.
        let never = |_: &Trial| -> Result<()> { panic!("a resumed trial ran again") };
        let again = search(
            &base,
            &small_space(),
            &data,
            &opts,
            &out.evaluations,
            &never,
        )
        .unwrap();
        assert_eq!((again.resumed, again.ranked), (6, out.ranked));
    }

    #[test]
    fn halving_keeps_a_third_and_trains_the_survivors_longer() {
        // 9 trials, eta 3, 900 training steps, washout 0 (minimum 100
        // steps): rungs of 900/9 = 100, 900/3 = 300 and 900 steps with
        // 9, 3 and 1 trials.
        let opts = options(9, Strategy::Halving { eta: 3 });
        assert_eq!(opts.rungs(900, 0), [100, 300, 900]);
        assert_eq!(opts.evaluations(900, 0), 9 + 3 + 1);
        // A washout of 100 needs 200 steps: the 100-step rung is dropped.
        assert_eq!(opts.rungs(900, 100), [300, 900]);
        let sine = Sine::new(1100);
        let data = sine.data(900, 100);
        let mut base = ForecastConfig::default().esn();
        base.washout = 0;
        let out = search(&base, &small_space(), &data, &opts, &[], &|_| Ok(())).unwrap();
        let per_rung: Vec<usize> = (0..3)
            .map(|r| out.evaluations.iter().filter(|t| t.rung == r).count())
            .collect();
        assert_eq!(per_rung, [9, 3, 1]);
        let best = &out.ranked[0];
        assert_eq!((best.rung, best.train_steps), (2, 900));
        // The survivor was among the best third of the first rung.
        let first: Vec<&Trial> = out.evaluations.iter().filter(|t| t.rung == 0).collect();
        assert!(first[..3].iter().any(|t| t.index == best.index));
    }

    #[test]
    fn bad_options_are_named() {
        let sine = Sine::new(700);
        let data = sine.data(500, 60);
        let base = ForecastConfig::default().esn();
        let mut opts = options(2, Strategy::Halving { eta: 1 });
        let err = search(&base, &small_space(), &data, &opts, &[], &|_| Ok(()));
        assert!(err.unwrap_err().to_string().contains("eta"));
        opts.seeds.clear();
        let err = search(&base, &small_space(), &data, &opts, &[], &|_| Ok(()));
        assert!(err.unwrap_err().to_string().contains("seeds"));
    }
}
