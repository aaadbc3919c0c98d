//! The NVAR train/test protocol of Gauthier et al. (2021), and its
//! Lorenz-63 and double-scroll forecasting cases (the paper's Figs. 2 and 3,
//! its Methods, and the authors' scripts, `ng-rc-paper-code`).
//!
//! A series `x(0..=M)` is cut into a warm-up of `W` steps, `L` training
//! steps and `P` test steps. The readout is fitted on the features at
//! `t = W−1, …, W+L−2` (targets `x(W), …, x(W+L−1)`); the closed-loop
//! forecast starts from the true `x(W+L−1)` and its delays. Errors are
//! pooled over the `d` components and normalised by a variance `V` of the
//! whole series:
//!
//! ```text
//! NRMSE = sqrt( Σ_{t,j} (x̂_j(t) − x_j(t))² / (n d) / V )
//! V = Var(all values together)          (Lorenz-63, `np.var` of the array)
//! V = Σ_j Var(x_j)                      (double scroll, the script's fix of July 2021)
//! ```
//!
//! The Lorenz-63 case (σ = 10, ρ = 28, β = 8/3): `dt = 0.025`, warm-up 5
//! time units, training 10, test one Lyapunov time `1/0.9056` (44 steps,
//! counting the exact starting point as the paper does), `k = 2`, `s = 1`,
//! quadratic monomials, `λ = 2.5·10⁻⁶`, from the paper's initial condition
//! `(17.677…, 12.931…, 43.914…)`. The paper averages 10 trials whose
//! warm-ups start 10 time units apart (5, 15, …, 95) and reports the mean
//! and its standard error.
//!
//! The double-scroll case (the circuit of [`DoubleScroll`]): `dt = 0.25`,
//! warm-up 1, training 100, the series integrated 800 time units past
//! training, test one Lyapunov time `7.8125` (31 steps), `k = 2`, `s = 1`,
//! no constant, the linear and cubic monomials, `λ = 10⁻³`, 10 trials with
//! warm-ups 1, 101, …, 901.
//!
//! Both series are integrated as the paper's code does, by SciPy-style
//! adaptive RK23 at its default tolerances (`nvar/rk23.rs`).

use faer::{Mat, MatRef};
use serde::Serialize;

use super::{Monomials, Nvar, NvarConfig, NvarTarget};
use crate::error::{invalid, Result};
use crate::generators::Lorenz;
use crate::systems::flows::DoubleScroll;
use crate::systems::Flow;

/// A train/test run's errors and series.
#[derive(Debug, Clone)]
pub struct NvarRun {
    /// One-step NRMSE over the training steps.
    pub train_nrmse: f64,
    /// One-step NRMSE over the test steps (from the true past).
    pub one_step_nrmse: f64,
    /// Closed-loop NRMSE over the test steps.
    pub closed_loop_nrmse: f64,
    /// The variance the errors are normalised by.
    pub variance: f64,
    /// The test rows of the series, `P × d` (row 0 is the start).
    pub truth: Mat<f64>,
    /// The closed-loop forecast over the same rows (row 0 is the start).
    pub forecast: Mat<f64>,
    /// One-step predictions of the same rows (row 0 is the start).
    pub one_step: Mat<f64>,
}

/// How the NRMSE's variance is taken over the whole series.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Variance {
    /// The variance of all values together.
    Pooled,
    /// The sum of each component's variance.
    SumOfComponents,
}

impl Variance {
    /// This variance of `m` (one row per step, one column per component).
    pub fn of(self, m: MatRef<'_, f64>) -> f64 {
        match self {
            Variance::Pooled => pooled_variance(m),
            Variance::SumOfComponents => (0..m.ncols())
                .map(|j| pooled_variance(m.subcols(j, 1)))
                .sum(),
        }
    }
}

/// Fits on `series` (`(M+1) × d`) after `warmup` steps for `train` steps,
/// then tests over `test` steps; errors normalised by `variance`.
///
/// # Errors
/// `warmup` not above the delays' span, `test` below 2, a series too short
/// for the three parts, or as [`Nvar::fit`].
pub fn run(
    config: &NvarConfig,
    series: MatRef<'_, f64>,
    [warmup, train, test]: [usize; 3],
    variance: Variance,
) -> Result<(Nvar, NvarRun)> {
    check_parts(config, series.nrows(), warmup, train, test)?;
    let start = warmup + train - 1;
    let nvar = Nvar::fit(config, series, warmup - 1, start)?;
    let fitted = nvar.one_step(series, warmup - 1, start)?;
    let variance = variance.of(series);
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

/// The system a paper protocol integrates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PaperSystem {
    /// Lorenz-63 (σ = 10, ρ = 28, β = 8/3).
    Lorenz63,
    /// The double-scroll circuit ([`DoubleScroll`]'s defaults).
    DoubleScroll,
}

/// One of the paper's forecasting protocols.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PaperProtocol {
    /// The system.
    pub system: PaperSystem,
    /// Sampling interval.
    pub dt: f64,
    /// Warm-up of the first trial, in time units.
    pub warmup: f64,
    /// Training time.
    pub train: f64,
    /// Test time (one Lyapunov time).
    pub test: f64,
    /// Time the series runs past training (at least `test`; the variance
    /// is taken over the whole series).
    pub extent: f64,
    /// How the NRMSE's variance is taken.
    pub variance: Variance,
    /// Number of trials.
    pub trials: usize,
    /// Time between the trials' warm-ups.
    pub spacing: f64,
    /// RK23 tolerances `(rtol, atol)` (SciPy's defaults, as the paper).
    pub tolerances: (f64, f64),
    /// Initial condition (on the attractor).
    pub x0: [f64; 3],
}

impl Default for PaperProtocol {
    /// The Lorenz-63 protocol.
    fn default() -> Self {
        Self {
            system: PaperSystem::Lorenz63,
            dt: 0.025,
            warmup: 5.0,
            train: 10.0,
            test: 1.0 / 0.9056,
            extent: 1.0 / 0.9056,
            variance: Variance::Pooled,
            trials: 10,
            spacing: 10.0,
            tolerances: (1e-3, 1e-6),
            x0: [17.67715816276679, 12.931379185960404, 43.91404334248268],
        }
    }
}

/// One trial of a paper protocol.
#[derive(Debug, Clone, Serialize)]
pub struct PaperTrial {
    /// Its warm-up time.
    pub warmup: f64,
    /// One-step NRMSE over training.
    pub train_nrmse: f64,
    /// One-step NRMSE over the test time.
    pub one_step_nrmse: f64,
    /// Closed-loop NRMSE over the test time (one Lyapunov time).
    pub test_nrmse: f64,
}

/// The trials' results.
#[derive(Debug, Clone, Serialize)]
pub struct PaperReport {
    /// Each trial.
    pub trials: Vec<PaperTrial>,
    /// Mean test NRMSE.
    pub mean: f64,
    /// Its standard error (population std / √n, as the paper's code).
    pub std_error: f64,
}

/// The most trials [`PaperProtocol::check`] accepts.
pub const MAX_TRIALS: usize = 1000;

impl PaperProtocol {
    /// The double-scroll protocol (see the module docs).
    pub fn double_scroll() -> Self {
        Self {
            system: PaperSystem::DoubleScroll,
            dt: 0.25,
            warmup: 1.0,
            train: 100.0,
            test: 7.8125,
            extent: 800.0,
            variance: Variance::SumOfComponents,
            trials: 10,
            spacing: 100.0,
            tolerances: (1e-3, 1e-6),
            x0: DoubleScroll::default().x0,
        }
    }

    /// The paper's NVAR for this system: `k = 2`, `s = 1`, difference
    /// target; a constant, quadratic monomials and `λ = 2.5·10⁻⁶` for
    /// Lorenz-63, no constant, cubic monomials and `λ = 10⁻³` for the
    /// double scroll.
    pub fn nvar(&self) -> NvarConfig {
        match self.system {
            PaperSystem::Lorenz63 => NvarConfig::default(),
            PaperSystem::DoubleScroll => NvarConfig {
                monomials: Monomials::Cubic,
                ridge: 1e-3,
                target: NvarTarget::Difference,
                constant: false,
                ..NvarConfig::default()
            },
        }
    }

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
    /// samples evenly spread over `[0, T]`, `T` = warm-up + training +
    /// extent (as the paper's `t_eval`), by adaptive RK23 (`nvar/rk23.rs`).
    ///
    /// # Errors
    /// Invalid tolerances, or a diverging integration.
    pub fn series(&self, warmup: f64) -> Result<Mat<f64>> {
        let (rtol, atol) = self.tolerances;
        if !(rtol > 0.0 && atol > 0.0) {
            return Err(invalid("tolerance", rtol.min(atol), "must be positive"));
        }
        let t_end = warmup + self.train + self.extent.max(self.test);
        if !(self.dt > 0.0 && t_end.is_finite() && t_end > 0.0) {
            return Err(invalid(
                "dt",
                self.dt,
                "must be positive, with a finite positive length",
            ));
        }
        let rows = ((t_end / self.dt).round() as usize).saturating_add(1);
        crate::budget::check_matrix("the series", rows, 3)?;
        let integrate = |f: &dyn Fn(&[f64; 3]) -> [f64; 3]| {
            super::rk23::integrate(f, self.x0, t_end, rows, self.tolerances)
        };
        match self.system {
            PaperSystem::Lorenz63 => {
                let l = Lorenz::default();
                integrate(&|s| {
                    let [x, y, z] = *s;
                    [l.sigma * (y - x), x * (l.rho - z) - y, x * y - l.beta * z]
                })
            }
            PaperSystem::DoubleScroll => {
                let d = DoubleScroll::default();
                integrate(&|s| {
                    let mut ds = [0.0; 3];
                    d.derivative(s, &mut ds);
                    ds
                })
            }
        }
    }

    /// One trial: the fitted NVAR and its run.
    ///
    /// # Errors
    /// As [`PaperProtocol::series`] and [`run`].
    pub fn trial(&self, config: &NvarConfig, warmup: f64) -> Result<(Nvar, NvarRun)> {
        let series = self.series(warmup)?;
        let (w, l, p) = self.steps(warmup);
        run(config, series.as_ref(), [w, l, p], self.variance)
    }

    /// Every trial, with the mean test NRMSE and its standard error.
    ///
    /// # Errors
    /// As [`PaperProtocol::trial`] and [`PaperProtocol::check`].
    pub fn report(&self, config: &NvarConfig) -> Result<PaperReport> {
        self.check()?;
        let trials = (0..self.trials)
            .map(|i| {
                let warmup = self.warmup + i as f64 * self.spacing;
                let (_, r) = self.trial(config, warmup)?;
                Ok(PaperTrial {
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
        Ok(PaperReport {
            trials,
            mean,
            std_error: (var / n).sqrt(),
        })
    }
}
