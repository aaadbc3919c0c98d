//! Error metrics and memory capacity.
//!
//! With prediction `ŷ` and target `y` over `n` values:
//!
//! * `RMSE = sqrt(Σ (ŷ_i − y_i)² / n)`;
//! * `NRMSE = RMSE / std(y)`, **normalised by the standard deviation of the
//!   target** (population std, `1/n`). Note that ReservoirPy's `nrmse`
//!   defaults to the target's range (max − min) instead; multiply by
//!   `std(y) / (max(y) − min(y))` to compare;
//! * `R² = 1 − Σ (ŷ_i − y_i)² / Σ (y_i − ȳ)²` (coefficient of determination,
//!   as scikit-learn's `r2_score`; it is `1 − NRMSE²`);
//! * MSE, MAE, NRMSE under a named normalisation (`std`, `range`, `var`,
//!   `mean`, `q1q3`) and per-output scores of multi-output predictions:
//!   [`normalised`] (re-exported here).
//!
//! The memory capacity (Jaeger 2001, "Short term memory in echo state
//! networks", GMD Report 152) is `MC = Σ_{k=1}^{K} r²(u(t−k), ŷ_k(t))`: the
//! squared correlation between the input delayed by `k` and a linear readout
//! trained to reproduce it, summed over delays; it is at most `N`.

use faer::{Mat, MatRef};
use serde::{Deserialize, Serialize};

use crate::config::ReservoirConfig;
use crate::error::{check_series, invalid, Error, Result};
use crate::readout::Ridge;
use crate::reservoir::Reservoir;
use crate::rng::Rng;
use crate::util::{column, column_values, mismatch};

pub mod normalised;
pub mod spread;
pub use normalised::{mae, mse, nrmse_by, per_output, Normalisation, PerOutput, NORMALISATIONS};
pub use spread::MeanCi;

fn check_pair(prediction: &[f64], target: &[f64]) -> Result<()> {
    check_series("target", target)?;
    mismatch("prediction length", target.len(), prediction.len())?;
    crate::error::check_finite("prediction", prediction)
}

fn mean(v: &[f64]) -> f64 {
    v.iter().sum::<f64>() / v.len() as f64
}

/// Population variance `Σ (v_i − v̄)² / n`.
fn variance(v: &[f64]) -> f64 {
    let m = mean(v);
    v.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / v.len() as f64
}

/// Root-mean-square error.
///
/// # Errors
/// Lengths that differ or are 0, or non-finite values.
pub fn rmse(prediction: &[f64], target: &[f64]) -> Result<f64> {
    check_pair(prediction, target)?;
    let sse: f64 = prediction
        .iter()
        .zip(target)
        .map(|(p, t)| (p - t) * (p - t))
        .sum();
    Ok((sse / target.len() as f64).sqrt())
}

/// RMSE divided by the target's (population) standard deviation.
///
/// # Errors
/// As [`rmse`], and a constant target.
pub fn nrmse(prediction: &[f64], target: &[f64]) -> Result<f64> {
    let e = rmse(prediction, target)?;
    let sd = variance(target).sqrt();
    if sd == 0.0 {
        return Err(invalid(
            "target standard deviation",
            0.0,
            "a constant target cannot normalise NRMSE",
        ));
    }
    Ok(e / sd)
}

/// Coefficient of determination `1 − SS_res / SS_tot`.
///
/// # Errors
/// As [`nrmse`].
pub fn r2(prediction: &[f64], target: &[f64]) -> Result<f64> {
    let e = rmse(prediction, target)?;
    let var = variance(target);
    if var == 0.0 {
        return Err(invalid(
            "target variance",
            0.0,
            "R² is undefined for a constant target",
        ));
    }
    Ok(1.0 - e * e / var)
}

/// Squared Pearson correlation of two equally long series (0 when either is
/// constant).
///
/// # Errors
/// Lengths that differ or are below 2, non-finite values, or a constant series.
pub fn squared_correlation(a: &[f64], b: &[f64]) -> Result<f64> {
    check_pair(a, b)?;
    let (ma, mb) = (mean(a), mean(b));
    let cov: f64 = a.iter().zip(b).map(|(x, y)| (x - ma) * (y - mb)).sum();
    let (va, vb) = (variance(a) * a.len() as f64, variance(b) * b.len() as f64);
    Ok(if va == 0.0 || vb == 0.0 {
        0.0
    } else {
        cov * cov / (va * vb)
    })
}

/// Settings of a memory-capacity measurement.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MemoryCapacityOptions {
    /// Largest delay `K` (Jaeger used `K = 2N`... any `K ≥ N` suffices).
    pub max_delay: usize,
    /// Steps discarded before training (also ≥ `max_delay`).
    pub washout: usize,
    /// Training steps.
    pub train: usize,
    /// Test steps on which `r²` is measured.
    pub test: usize,
    /// Ridge parameter of the delay readouts.
    pub ridge: f64,
    /// Seed of the input stream (`u(t)` i.i.d. uniform on `[−1, 1]`).
    pub seed: u64,
}

impl Default for MemoryCapacityOptions {
    fn default() -> Self {
        Self {
            max_delay: 200,
            washout: 500,
            train: 5000,
            test: 2000,
            ridge: 1e-10,
            seed: 0,
        }
    }
}

/// A memory-capacity measurement.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MemoryCapacity {
    /// `MC = Σ_k MC_k`.
    pub total: f64,
    /// `MC_k = r²(u(t−k), ŷ_k(t))` for `k = 1..=K`.
    pub per_delay: Vec<f64>,
}

/// Memory capacity of a one-input reservoir drawn from `config` and `seed`.
///
/// The input is i.i.d. uniform on `[−1, 1]` (scaled by the reservoir's input
/// scaling); one ridge readout with `K` outputs (bias + state features) is
/// trained on `train` steps and `r²` measured on the `test` steps after it.
///
/// # Errors
/// Invalid options or reservoir, or the errors of fitting a delay's readout.
pub fn memory_capacity(
    config: &ReservoirConfig,
    seed: u64,
    opts: &MemoryCapacityOptions,
) -> Result<MemoryCapacity> {
    if opts.max_delay == 0 || opts.train == 0 || opts.test == 0 {
        let reason = "max_delay, train and test must be at least 1";
        return Err(invalid("memory capacity lengths", 0.0, reason));
    }
    let reservoir = Reservoir::new(config, 1, seed)?;
    let washout = opts.washout.max(opts.max_delay);
    let total = washout + opts.train + opts.test;
    let mut rng = Rng::stream(opts.seed, "memory_capacity/input");
    let u: Vec<f64> = (0..total).map(|_| rng.uniform_in(-1.0, 1.0)).collect();
    let states = reservoir.run(column(&u).as_ref(), &mut reservoir.zero_state())?;
    let per_delay = delay_scores(states.as_ref(), &u, washout, opts)?;
    Ok(MemoryCapacity {
        total: per_delay.iter().sum(),
        per_delay,
    })
}

/// Trains the `K` delay readouts on the training steps and returns
/// `r²(u(t−k), ŷ_k(t))` on the test steps.
fn delay_scores(
    states: MatRef<'_, f64>,
    u: &[f64],
    washout: usize,
    opts: &MemoryCapacityOptions,
) -> Result<Vec<f64>> {
    let k = opts.max_delay;
    let design = |start: usize, len: usize| {
        Mat::from_fn(len, states.ncols() + 1, |r, i| match i {
            0 => 1.0,
            _ => states[(start + r, i - 1)],
        })
    };
    let delayed = |start: usize, len: usize| Mat::from_fn(len, k, |r, d| u[start + r - d - 1]);
    let mut ridge = Ridge::new(states.ncols() + 1, k);
    let (train_x, train_y) = (design(washout, opts.train), delayed(washout, opts.train));
    ridge.add(train_x.as_ref(), train_y.as_ref())?;
    let w = ridge.solve(opts.ridge, Some(0))?;
    let start = washout + opts.train;
    let pred = design(start, opts.test) * &w;
    let target = delayed(start, opts.test);
    (0..k)
        .map(|d| {
            let (p, t) = (
                column_values(pred.as_ref(), d),
                column_values(target.as_ref(), d),
            );
            squared_correlation(&p, &t)
        })
        .collect::<Result<Vec<f64>>>()
        .map_err(|_| Error::Diverged {
            what: "memory capacity",
            step: 0,
        })
}
