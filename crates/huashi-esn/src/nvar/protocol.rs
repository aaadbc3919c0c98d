//! The NVAR train/test protocol of Gauthier et al. (2021), and its
//! Lorenz-63 forecasting case (the paper's Fig. 2 and its Methods).
//!
//! A series `x(0..=M)` is cut into a warm-up of `W` steps, `L` training
//! steps and `P` test steps. The readout is fitted on the features at
//! `t = W−1, …, W+L−2` (targets `x(W), …, x(W+L−1)`); the closed-loop
//! forecast starts from the true `x(W+L−1)` and its delays. Errors are
//! pooled over the `d` components and normalised by the variance of all
//! the series' values (as the paper's code, `np.var` over every component
//! and step):
//!
//! ```text
//! NRMSE = sqrt( Σ_{t,j} (x̂_j(t) − x_j(t))² / (n d) / Var(x) )
//! ```
//!
//! The Lorenz-63 case (σ = 10, ρ = 28, β = 8/3): `dt = 0.025`, warm-up 5
//! time units, training 10, test one Lyapunov time `1/0.9056` (44 steps,
//! counting the exact starting point as the paper does), `k = 2`, `s = 1`,
//! quadratic monomials, `λ = 2.5·10⁻⁶`, from the paper's initial condition
//! `(17.677…, 12.931…, 43.914…)`. The paper averages 10 trials whose
//! warm-ups start 10 time units apart (5, 15, …, 95) and reports the mean
//! and its standard error. The series is integrated as the paper's code
//! does, by SciPy-style adaptive RK23 at its default tolerances
//! (`nvar/rk23.rs`).

use faer::{Mat, MatRef};
use serde::Serialize;

use super::{Nvar, NvarConfig};
use crate::error::{invalid, Result};
use crate::generators::Lorenz;

/// A train/test run's errors and series.
#[derive(Debug, Clone)]
pub struct NvarRun {
    /// One-step NRMSE over the training steps.
    pub train_nrmse: f64,
    /// One-step NRMSE over the test steps (from the true past).
    pub one_step_nrmse: f64,
    /// Closed-loop NRMSE over the test steps.
    pub closed_loop_nrmse: f64,
    /// The pooled variance the errors are normalised by.
    pub variance: f64,
    /// The test rows of the series, `P × d` (row 0 is the start).
    pub truth: Mat<f64>,
    /// The closed-loop forecast over the same rows (row 0 is the start).
    pub forecast: Mat<f64>,
    /// One-step predictions of the same rows (row 0 is the start).
    pub one_step: Mat<f64>,
}

/// Fits on `series` (`(M+1) × d`) after `warmup` steps for `train` steps,
/// then tests over `test` steps.
///
/// # Errors
/// `warmup` not above the delays' span, `test` below 2, a series too short
/// for the three parts, or as [`Nvar::fit`].
pub fn run(
    config: &NvarConfig,
    series: MatRef<'_, f64>,
    warmup: usize,
    train: usize,
    test: usize,
) -> Result<(Nvar, NvarRun)> {
    check_parts(config, series.nrows(), warmup, train, test)?;
    let start = warmup + train - 1;
    let nvar = Nvar::fit(config, series, warmup - 1, start)?;
    let fitted = nvar.one_step(series, warmup - 1, start)?;
    let variance = pooled_variance(series);
    let truth = series.subrows(start, test).to_owned();
    let with_start = |m: Mat<f64>| {
        Mat::from_fn(test, series.ncols(), |r, j| {
            if r == 0 {
                truth[(0, j)]
            } else {
                m[(r - 1, j)]
            }
        })
    };
    let forecast = with_start(nvar.forecast(series, start, test - 1)?);
    let one_step = with_start(nvar.one_step(series, start, start + test - 1)?);
    let run = NvarRun {
        train_nrmse: nrmse(fitted.as_ref(), series.subrows(warmup, train), variance),
        one_step_nrmse: nrmse(one_step.as_ref(), truth.as_ref(), variance),
        closed_loop_nrmse: nrmse(forecast.as_ref(), truth.as_ref(), variance),
        variance,
        truth,
        forecast,
        one_step,
    };
    Ok((nvar, run))
}

/// The warm-up covers the delays, the test has a step past its start and
/// the series holds all three parts.
fn check_parts(
    config: &NvarConfig,
    rows: usize,
    warmup: usize,
    train: usize,
    test: usize,
) -> Result<()> {
    config.check()?;
    if warmup <= config.span() {
        return Err(invalid(
            "warm-up steps",
            warmup as f64,
            "must exceed (k − 1)·s",
        ));
    }
    if test < 2 {
        return Err(invalid("test steps", test as f64, "must be at least 2"));
    }
    if warmup.saturating_add(train).saturating_add(test) - 1 > rows {
        let what = "warm-up, training and test steps";
        return Err(crate::Error::TooFewPairs { pairs: rows, what });
    }
    Ok(())
}

/// Variance of every value of the matrix together.
pub fn pooled_variance(m: MatRef<'_, f64>) -> f64 {
    let n = (m.nrows() * m.ncols()) as f64;
    let values = || (0..m.nrows()).flat_map(move |t| (0..m.ncols()).map(move |j| m[(t, j)]));
    let mean = values().sum::<f64>() / n;
    values().map(|v| (v - mean).powi(2)).sum::<f64>() / n
}

/// `sqrt(mean squared error / variance)`, pooled over every entry.
pub fn nrmse(prediction: MatRef<'_, f64>, truth: MatRef<'_, f64>, variance: f64) -> f64 {
    let n = (truth.nrows() * truth.ncols()) as f64;
    let sse: f64 = (0..truth.nrows())
        .flat_map(|t| (0..truth.ncols()).map(move |j| (t, j)))
        .map(|(t, j)| (prediction[(t, j)] - truth[(t, j)]).powi(2))
        .sum();
    (sse / n / variance).sqrt()
}

/// The paper's Lorenz-63 protocol.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LorenzProtocol {
    /// Sampling interval.
    pub dt: f64,
    /// Warm-up of the first trial, in time units.
    pub warmup: f64,
    /// Training time.
    pub train: f64,
    /// Test time (one Lyapunov time, `1/λ_max`, `λ_max = 0.9056`).
    pub test: f64,
    /// Number of trials.
    pub trials: usize,
    /// Time between the trials' warm-ups.
    pub spacing: f64,
    /// RK23 tolerances `(rtol, atol)` (SciPy's defaults, as the paper).
    pub tolerances: (f64, f64),
    /// Initial condition (on the attractor).
    pub x0: [f64; 3],
}

impl Default for LorenzProtocol {
    fn default() -> Self {
        Self {
            dt: 0.025,
            warmup: 5.0,
            train: 10.0,
            test: 1.0 / 0.9056,
            trials: 10,
            spacing: 10.0,
            tolerances: (1e-3, 1e-6),
            x0: [17.67715816276679, 12.931379185960404, 43.91404334248268],
        }
    }
}

/// One Lorenz-63 trial.
#[derive(Debug, Clone, Serialize)]
pub struct LorenzTrial {
    /// Its warm-up time.
    pub warmup: f64,
    /// One-step NRMSE over training.
    pub train_nrmse: f64,
    /// One-step NRMSE over one Lyapunov time.
    pub one_step_nrmse: f64,
    /// Closed-loop NRMSE over one Lyapunov time.
    pub test_nrmse: f64,
}

/// The trials' results.
#[derive(Debug, Clone, Serialize)]
pub struct LorenzReport {
    /// Each trial.
    pub trials: Vec<LorenzTrial>,
    /// Mean test NRMSE.
    pub mean: f64,
    /// Its standard error (population std / √n, as the paper's code).
    pub std_error: f64,
}

/// The most trials [`LorenzProtocol::check`] accepts.
pub const MAX_TRIALS: usize = 1000;

impl LorenzProtocol {
    /// Checks the trial count (1 to [`MAX_TRIALS`]).
    ///
    /// # Errors
    /// A count outside that range.
    pub fn check(&self) -> Result<()> {
        if self.trials == 0 || self.trials > MAX_TRIALS {
            return Err(invalid(
                "trials",
                self.trials as f64,
                "must be between 1 and 1000",
            ));
        }
        Ok(())
    }

    /// `(warm-up, training, test)` in steps for a warm-up of `warmup` time.
    pub fn steps(&self, warmup: f64) -> (usize, usize, usize) {
        let s = |t: f64| (t / self.dt).round() as usize;
        (s(warmup), s(self.train), s(self.test))
    }

    /// The series of the trial with warm-up `warmup`: `round(T/dt) + 1`
    /// samples evenly spread over `[0, T]`, `T` = warm-up + training + test
    /// (as the paper's `t_eval`), by adaptive RK23 (`nvar/rk23.rs`).
    ///
    /// # Errors
    /// Invalid tolerances, or a diverging integration.
    pub fn series(&self, warmup: f64) -> Result<Mat<f64>> {
        let (rtol, atol) = self.tolerances;
        if !(rtol > 0.0 && atol > 0.0) {
            return Err(invalid("tolerance", rtol.min(atol), "must be positive"));
        }
        let t_end = warmup + self.train + self.test;
        if !(self.dt > 0.0 && t_end.is_finite() && t_end > 0.0) {
            return Err(invalid(
                "dt",
                self.dt,
                "must be positive, with a finite positive length",
            ));
        }
        let rows = ((t_end / self.dt).round() as usize).saturating_add(1);
        crate::budget::check_matrix("the Lorenz-63 series", rows, 3)?;
        let l = Lorenz::default();
        let f = |s: &[f64; 3]| {
            let [x, y, z] = *s;
            [l.sigma * (y - x), x * (l.rho - z) - y, x * y - l.beta * z]
        };
        super::rk23::integrate(f, self.x0, t_end, rows, self.tolerances)
    }

    /// One trial: the fitted NVAR and its run.
    ///
    /// # Errors
    /// As [`LorenzProtocol::series`] and [`run`].
    pub fn trial(&self, config: &NvarConfig, warmup: f64) -> Result<(Nvar, NvarRun)> {
        let series = self.series(warmup)?;
        let (w, l, p) = self.steps(warmup);
        run(config, series.as_ref(), w, l, p)
    }

    /// Every trial, with the mean test NRMSE and its standard error.
    ///
    /// # Errors
    /// As [`LorenzProtocol::trial`] and [`LorenzProtocol::check`].
    pub fn report(&self, config: &NvarConfig) -> Result<LorenzReport> {
        self.check()?;
        let trials = (0..self.trials)
            .map(|i| {
                let warmup = self.warmup + i as f64 * self.spacing;
                let (_, r) = self.trial(config, warmup)?;
                Ok(LorenzTrial {
                    warmup,
                    train_nrmse: r.train_nrmse,
                    one_step_nrmse: r.one_step_nrmse,
                    test_nrmse: r.closed_loop_nrmse,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let n = trials.len() as f64;
        let mean = trials.iter().map(|t| t.test_nrmse).sum::<f64>() / n;
        let var = trials
            .iter()
            .map(|t| (t.test_nrmse - mean).powi(2))
            .sum::<f64>()
            / n;
        Ok(LorenzReport {
            trials,
            mean,
            std_error: (var / n).sqrt(),
        })
    }
}
