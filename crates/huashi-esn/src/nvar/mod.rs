//! Next-generation reservoir computing: a nonlinear vector autoregression
//! (NVAR) with a ridge readout (Gauthier, Bollt, Griffith & Barbosa 2021,
//! "Next generation reservoir computing", *Nature Communications* 12:5564).
//!
//! For a `d`-dimensional series `x(t)`, `k` delays with skip `s`:
//!
//! ```text
//! O_lin(t)    = [x(t); x(t−s); …; x(t−(k−1)s)]                   (dk entries)
//! O_nonlin(t) = the unique monomials O_lin,i O_lin,j (i ≤ j)      (quadratic)
//!               and/or O_lin,i O_lin,j O_lin,l (i ≤ j ≤ l)        (cubic)
//! O_total(t)  = [1; O_lin(t); O_nonlin(t)]    (without the 1 when `constant` is off)
//! x(t+1) = x(t) + W_outᵀ O_total(t)      (difference target, the paper's eq. 5)
//! x(t+1) =        W_outᵀ O_total(t)      (next-value target)
//! W_out  = argmin ‖O W − Y‖² + λ ‖W‖²  = (OᵀO + λ I)⁻¹ OᵀY     (every entry penalised, as the paper's code;
//!                                        solved by QR of [O; √λ I], not the normal equations)
//! ```
//!
//! [`Nvar::fit`] trains on a stretch of a series; [`Nvar::one_step`]
//! predicts each next value from the true past; [`Nvar::forecast`] runs
//! closed loop, feeding its predictions back. [`protocol`] holds the
//! paper's Lorenz-63 and double-scroll forecasting protocols and a generic
//! train/test run.

pub mod protocol;
mod rk23;

use faer::prelude::SolveLstsq;
use faer::{Mat, MatRef};
use serde::{Deserialize, Serialize};

use crate::config::non_negative;
use crate::error::{invalid, Error, Result};
use crate::util::check_matrix;

/// Which monomials of the linear features make up the nonlinear part.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Monomials {
    /// Degree 2 (the paper's Lorenz-63 features).
    Quadratic,
    /// Degree 3 (the paper's double-scroll features).
    Cubic,
    /// Degrees 2 and 3.
    Both,
}

/// What the readout learns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum NvarTarget {
    /// `x(t+1) − x(t)` (the paper's choice).
    Difference,
    /// `x(t+1)`.
    Next,
}

/// Hyper-parameters of an NVAR.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct NvarConfig {
    /// Number of delayed inputs `k ≥ 1` (including `x(t)`).
    pub delays: usize,
    /// Skip `s ≥ 1` between them.
    pub skip: usize,
    /// The nonlinear part.
    pub monomials: Monomials,
    /// Ridge parameter `λ ≥ 0`.
    pub ridge: f64,
    /// What the readout learns.
    pub target: NvarTarget,
    /// Whether `O_total` starts with the constant 1 (the paper's double
    /// scroll, an odd system, has none).
    #[serde(default = "constant_default")]
    pub constant: bool,
}

fn constant_default() -> bool {
    true
}

impl Default for NvarConfig {
    /// The paper's Lorenz-63 setting: `k = 2`, `s = 1`, a constant and the
    /// quadratic monomials, `λ = 2.5·10⁻⁶`, difference target.
    fn default() -> Self {
        Self {
            delays: 2,
            skip: 1,
            monomials: Monomials::Quadratic,
            ridge: 2.5e-6,
            target: NvarTarget::Difference,
            constant: true,
        }
    }
}

impl NvarConfig {
    /// Checks the values.
    ///
    /// # Errors
    /// `delays` or `skip` 0, or a negative or non-finite ridge.
    pub fn check(&self) -> Result<()> {
        if self.delays == 0 {
            return Err(invalid("delays", 0.0, "must be at least 1"));
        }
        if self.skip == 0 {
            return Err(invalid("skip", 0.0, "must be at least 1"));
        }
        non_negative("ridge", self.ridge)
    }

    /// Steps of history before `t` that `O_lin(t)` reads: `(k − 1) s`.
    pub fn span(&self) -> usize {
        self.delays.saturating_sub(1).saturating_mul(self.skip)
    }

    /// Length of `O_total` for a `d`-dimensional series.
    /// (`usize::MAX` if it overflows).
    pub fn features(&self, d: usize) -> usize {
        let l = d as u128 * self.delays as u128;
        let quad = l * (l + 1) / 2;
        let cubic = quad * (l + 2) / 3;
        let total = u128::from(self.constant)
            + l
            + match self.monomials {
                Monomials::Quadratic => quad,
                Monomials::Cubic => cubic,
                Monomials::Both => quad + cubic,
            };
        usize::try_from(total).unwrap_or(usize::MAX)
    }

    /// `O_total(t)` of the rows `t, t − s, …` of `series` into `out`.
    fn fill(&self, series: MatRef<'_, f64>, t: usize, out: &mut Vec<f64>) {
        out.clear();
        if self.constant {
            out.push(1.0);
        }
        let first = out.len();
        for delay in 0..self.delays {
            let row = t - delay * self.skip;
            out.extend((0..series.ncols()).map(|j| series[(row, j)]));
        }
        let last = out.len() - 1;
        if self.monomials != Monomials::Cubic {
            for i in first..=last {
                for j in i..=last {
                    out.push(out[i] * out[j]);
                }
            }
        }
        if self.monomials != Monomials::Quadratic {
            for i in first..=last {
                for j in i..=last {
                    for m in j..=last {
                        out.push(out[i] * out[j] * out[m]);
                    }
                }
            }
        }
    }
}

/// A trained NVAR.
#[derive(Debug, Clone, PartialEq)]
pub struct Nvar {
    config: NvarConfig,
    /// `F × d`.
    weights: Mat<f64>,
}

impl Nvar {
    /// Trains on the steps `t` in `from..to` of `series` (`T × d`, one row
    /// per step): features `O_total(t)`, targets from `x(t+1)`.
    ///
    /// # Errors
    /// An invalid config, `from` earlier than the delays need, `to` past
    /// `T − 1`, an empty range, a non-finite value or a singular system.
    pub fn fit(
        config: &NvarConfig,
        series: MatRef<'_, f64>,
        from: usize,
        to: usize,
    ) -> Result<Self> {
        config.check()?;
        check_range(config, series, from, to)?;
        let f = config.features(series.ncols());
        crate::budget::check_matrix(
            "the NVAR least-squares system",
            (to - from).saturating_add(f),
            f,
        )?;
        check_matrix(
            "series",
            series.subrows(from - config.span(), to + 1 - from + config.span()),
        )?;
        let (d, f, n) = (series.ncols(), config.features(series.ncols()), to - from);
        // [Φ; √λ I] W = [Y; 0] by column-pivoted QR: the normal equations
        // of the paper's λ = 2.5e-6 are too ill-conditioned for Cholesky.
        let mut a = Mat::zeros(n + f, f);
        let mut phi = Vec::new();
        for (r, t) in (from..to).enumerate() {
            config.fill(series, t, &mut phi);
            phi.iter().enumerate().for_each(|(k, &v)| a[(r, k)] = v);
        }
        (0..f).for_each(|k| a[(n + k, k)] = config.ridge.sqrt());
        let base = |t: usize, j: usize| match config.target {
            NvarTarget::Difference => series[(t, j)],
            NvarTarget::Next => 0.0,
        };
        let b = Mat::from_fn(n + f, d, |r, j| {
            if r < n {
                series[(from + r + 1, j)] - base(from + r, j)
            } else {
                0.0
            }
        });
        let weights = a.col_piv_qr().solve_lstsq(&b);
        check_matrix("NVAR readout weights", weights.as_ref())?;
        Ok(Self {
            config: *config,
            weights,
        })
    }

    /// The hyper-parameters.
    pub fn config(&self) -> &NvarConfig {
        &self.config
    }

    /// `W_out` (`F × d`).
    pub fn weights(&self) -> MatRef<'_, f64> {
        self.weights.as_ref()
    }

    /// `x̂(t+1)` from the rows up to `t` of `history`.
    fn next(&self, history: MatRef<'_, f64>, t: usize, phi: &mut Vec<f64>) -> Vec<f64> {
        self.config.fill(history, t, phi);
        (0..history.ncols())
            .map(|j| {
                let out: f64 = phi
                    .iter()
                    .enumerate()
                    .map(|(f, v)| v * self.weights[(f, j)])
                    .sum();
                match self.config.target {
                    NvarTarget::Difference => history[(t, j)] + out,
                    NvarTarget::Next => out,
                }
            })
            .collect()
    }

    /// One-step predictions `x̂(t+1)` for `t` in `from..to`, each from the
    /// true past; row `r` predicts row `from + r + 1` of `series`.
    ///
    /// # Errors
    /// A series of another dimension, or a range the delays or data do not
    /// cover.
    pub fn one_step(&self, series: MatRef<'_, f64>, from: usize, to: usize) -> Result<Mat<f64>> {
        self.check_dim(series)?;
        check_range(&self.config, series, from, to)?;
        let mut phi = Vec::new();
        let rows: Vec<Vec<f64>> = (from..to).map(|t| self.next(series, t, &mut phi)).collect();
        Ok(Mat::from_fn(rows.len(), series.ncols(), |r, j| rows[r][j]))
    }

    /// Closed loop: from the true rows up to `t0` of `series`, `steps`
    /// predictions `x̂(t0+1), …, x̂(t0+steps)`, each fed back.
    ///
    /// # Errors
    /// A series of another dimension, `t0` earlier than the delays need or
    /// past the series, or a forecast that diverges.
    pub fn forecast(&self, series: MatRef<'_, f64>, t0: usize, steps: usize) -> Result<Mat<f64>> {
        self.check_dim(series)?;
        let span = self.config.span();
        if t0 < span || t0 >= series.nrows() {
            return Err(invalid(
                "forecast start",
                t0 as f64,
                "needs (k − 1)·s earlier rows and must lie in the series",
            ));
        }
        let d = series.ncols();
        let mut history = Mat::from_fn(span + 1 + steps, d, |r, j| {
            if r <= span {
                series[(t0 - span + r, j)]
            } else {
                0.0
            }
        });
        let mut phi = Vec::new();
        for t in span..span + steps {
            let next = self.next(history.as_ref(), t, &mut phi);
            if next.iter().any(|v| !v.is_finite()) {
                return Err(Error::Diverged {
                    what: "NVAR forecast",
                    step: t - span,
                });
            }
            next.iter()
                .enumerate()
                .for_each(|(j, &v)| history[(t + 1, j)] = v);
        }
        Ok(history.subrows(span + 1, steps).to_owned())
    }

    fn check_dim(&self, series: MatRef<'_, f64>) -> Result<()> {
        let f = self.config.features(series.ncols());
        crate::util::mismatch("NVAR features of the series", self.weights.nrows(), f)
    }
}

/// `from..to` is non-empty, has the delays' history and a next row.
fn check_range(config: &NvarConfig, series: MatRef<'_, f64>, from: usize, to: usize) -> Result<()> {
    if from < config.span() {
        return Err(invalid(
            "first step",
            from as f64,
            "must be at least (k − 1)·s",
        ));
    }
    if to <= from || to >= series.nrows() {
        return Err(Error::TooFewPairs {
            pairs: series.nrows().saturating_sub(from),
            what: "the NVAR steps asked for",
        });
    }
    Ok(())
}
