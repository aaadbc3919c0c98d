//! Choosing the ridge parameter `λ` by generalised cross-validation or exact
//! leave-one-out error, for a whole log-spaced grid of `λ` at once from one
//! symmetric eigendecomposition (faer).
//!
//! The bias feature (a constant 1, not penalised) is eliminated by centring:
//! with `n` samples, feature sums `s` and target sums `t` read off the bias
//! row of the accumulated sums, `C = X̃ᵀX̃ = XᵀX − s sᵀ/n`,
//! `X̃ᵀỸ = XᵀY − s tᵀ/n` over the other features, and the hat matrix is
//! `H = 11ᵀ/n + X̃ (C + λI)⁻¹ X̃ᵀ` (exactly that of `(XᵀX + λD)⁻¹`). With
//! `C = V Λ Vᵀ` and `Z = Vᵀ X̃ᵀỸ`:
//!
//! ```text
//! RSS(λ) = Σ_k [ ỸᵀỸ_kk − Σ_j Z_jk² (Λ_j + 2λ) / (Λ_j + λ)² ]
//! df(λ)  = 1 + Σ_j Λ_j / (Λ_j + λ)                  (1: the bias)
//! GCV(λ) = (RSS / (n m)) / (1 − df / n)²            (Golub, Heath & Wahba 1979)
//! LOO(λ) = Σ_{i,k} (e_ik / (1 − h_ii))² / (n m),    (Allen 1974, "PRESS")
//! h_ii   = 1/n + Σ_j p_ij² / (Λ_j + λ),   p_i = Vᵀ x̃_i,
//! e_ik   = ỹ_ik − Σ_j p_ij Z_jk / (Λ_j + λ)
//! ```
//!
//! GCV needs only `XᵀX`, `XᵀY`, `YᵀY` and `n` ([`RidgeSelection::gcv`]);
//! the exact leave-one-out error needs every sample's leverage `h_ii`, so
//! [`RidgeSelection::loo`] takes the feature and target rows once more
//! (one `T × F` by `F × F` product, then `O(T F)` per `λ`). Both are mean
//! squared errors per output value (`m` outputs).

use faer::{Mat, MatRef, Side};
use serde::{Deserialize, Serialize};

use super::Ridge;
use crate::error::{invalid, Error, Result};
use crate::util::{check_matrix, mismatch};

/// Which criterion chooses `λ`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Criterion {
    /// Exact leave-one-out mean squared error.
    Loo,
    /// Generalised cross-validation.
    Gcv,
}

/// `count` values from `lo` to `hi`, equally spaced in `log λ`.
///
/// # Errors
/// Bounds that are not positive and finite or not increasing, or fewer than
/// 2 points.
pub fn log_grid(lo: f64, hi: f64, count: usize) -> Result<Vec<f64>> {
    crate::config::positive("ridge grid low", lo)?;
    crate::config::positive("ridge grid high", hi)?;
    if hi <= lo || count < 2 {
        let reason = "needs low < high and at least 2 points";
        return Err(invalid("ridge grid points", count as f64, reason));
    }
    let (a, b) = (lo.log10(), hi.log10());
    Ok((0..count)
        .map(|i| 10f64.powf(a + (b - a) * i as f64 / (count - 1) as f64))
        .collect())
}

/// The eigendecomposition behind both criteria.
#[derive(Clone, Debug)]
pub struct RidgeSelection {
    v: Mat<f64>,
    eig: Vec<f64>,
    z: Mat<f64>,
    keep: Vec<usize>,
    bias: Option<usize>,
    mean_x: Vec<f64>,
    mean_y: Vec<f64>,
    n: f64,
}

impl RidgeSelection {
    /// Decomposes the sums of `ridge`; `bias` is the index of the constant-1
    /// feature, if any (it is not penalised).
    ///
    /// # Errors
    /// Fewer than 2 samples, a bias index out of range or whose sum is not
    /// the sample count, or a failed eigendecomposition.
    pub fn new(ridge: &Ridge, bias: Option<usize>) -> Result<Self> {
        let (f, n) = (ridge.features(), ridge.samples());
        if n < 2 {
            return Err(Error::TooFewPairs {
                pairs: n,
                what: "choosing the ridge parameter",
            });
        }
        let (xtx, xty) = (ridge.xtx(), ridge.xty());
        let nf = n as f64;
        if let Some(b) = bias {
            if b >= f || (xtx[(b, b)] - nf).abs() > 1e-9 * nf {
                let reason = "the bias feature must be a constant 1 within the features";
                return Err(invalid("bias index", b as f64, reason));
            }
        }
        let keep: Vec<usize> = (0..f).filter(|&i| Some(i) != bias).collect();
        let sum = |i: usize| bias.map_or(0.0, |b| xtx[(i, b)]);
        let mean_x: Vec<f64> = keep.iter().map(|&i| sum(i) / nf).collect();
        let mean_y: Vec<f64> = (0..xty.ncols())
            .map(|k| bias.map_or(0.0, |b| xty[(b, k)] / nf))
            .collect();
        let p = keep.len();
        let c = Mat::from_fn(p, p, |a, b| {
            xtx[(keep[a], keep[b])] - nf * mean_x[a] * mean_x[b]
        });
        let cxy = Mat::from_fn(p, xty.ncols(), |a, k| {
            xty[(keep[a], k)] - nf * mean_x[a] * mean_y[k]
        });
        let evd = c
            .self_adjoint_eigen(Side::Lower)
            .map_err(|_| Error::Eigen { size: p })?;
        let eig: Vec<f64> = (0..p)
            .map(|j| evd.S().column_vector()[j].max(0.0))
            .collect();
        let v = evd.U().to_owned();
        let z = v.transpose() * &cxy;
        Ok(Self {
            v,
            eig,
            z,
            keep,
            bias,
            mean_x,
            mean_y,
            n: nf,
        })
    }

    /// GCV for every `λ` of `lambdas`; `yty` holds `Σ_t y_k(t)²` per output.
    ///
    /// # Errors
    /// A `yty` of the wrong length, a `λ` that is not positive, or
    /// `df ≥ n` for some `λ`.
    pub fn gcv(&self, lambdas: &[f64], yty: &[f64]) -> Result<Vec<f64>> {
        mismatch("YᵀY outputs", self.mean_y.len(), yty.len())?;
        let m = yty.len() as f64;
        let centred: f64 = yty
            .iter()
            .zip(&self.mean_y)
            .map(|(s, my)| s - self.n * my * my)
            .sum();
        lambdas
            .iter()
            .map(|&l| {
                crate::config::positive("ridge", l)?;
                let mut rss = centred;
                let mut df = if self.bias.is_some() { 1.0 } else { 0.0 };
                for (j, e) in self.eig.iter().enumerate() {
                    let zz: f64 = (0..self.z.ncols()).map(|k| self.z[(j, k)].powi(2)).sum();
                    rss -= zz * (e + 2.0 * l) / (e + l).powi(2);
                    df += e / (e + l);
                }
                if df >= self.n {
                    return Err(invalid("ridge", l, "leaves no degrees of freedom for GCV"));
                }
                Ok((rss.max(0.0) / (self.n * m)) / (1.0 - df / self.n).powi(2))
            })
            .collect()
    }

    /// Exact leave-one-out mean squared error for every `λ` of `lambdas`,
    /// from the rows that were accumulated (`features`: `T × F`, `targets`:
    /// `T × m`, the same `T` samples).
    ///
    /// # Errors
    /// Shapes that do not match the sums, non-finite values, a `λ` that is
    /// not positive, or a sample of leverage 1.
    pub fn loo(
        &self,
        lambdas: &[f64],
        features: MatRef<'_, f64>,
        targets: MatRef<'_, f64>,
    ) -> Result<Vec<f64>> {
        mismatch(
            "feature columns",
            self.keep.len() + usize::from(self.bias.is_some()),
            features.ncols(),
        )?;
        mismatch("target columns", self.mean_y.len(), targets.ncols())?;
        mismatch("samples", self.n as usize, features.nrows())?;
        mismatch("target rows", features.nrows(), targets.nrows())?;
        check_matrix("features", features)?;
        check_matrix("targets", targets)?;
        let xc = Mat::from_fn(features.nrows(), self.keep.len(), |i, a| {
            features[(i, self.keep[a])] - self.mean_x[a]
        });
        let proj = &xc * &self.v;
        let h0 = if self.bias.is_some() {
            1.0 / self.n
        } else {
            0.0
        };
        let m = targets.ncols();
        lambdas
            .iter()
            .map(|&l| {
                crate::config::positive("ridge", l)?;
                let inv: Vec<f64> = self.eig.iter().map(|e| 1.0 / (e + l)).collect();
                let mut sse = 0.0;
                for i in 0..proj.nrows() {
                    let p = proj.row(i);
                    let h = h0 + (0..inv.len()).map(|j| p[j] * p[j] * inv[j]).sum::<f64>();
                    if h >= 1.0 - 1e-12 {
                        return Err(invalid(
                            "leverage",
                            h,
                            "a sample of leverage 1 has no LOO error",
                        ));
                    }
                    for k in 0..m {
                        let fit: f64 = (0..inv.len()).map(|j| p[j] * self.z[(j, k)] * inv[j]).sum();
                        let e = targets[(i, k)] - self.mean_y[k] - fit;
                        sse += (e / (1.0 - h)).powi(2);
                    }
                }
                Ok(sse / (self.n * m as f64))
            })
            .collect()
    }
}

/// The criterion's values over a grid and the `λ` that minimises it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RidgeCurve {
    /// The criterion used.
    pub criterion: Criterion,
    /// The grid.
    pub lambdas: Vec<f64>,
    /// The criterion at each `λ`.
    pub values: Vec<f64>,
    /// The minimising `λ`.
    pub best: f64,
}

impl RidgeCurve {
    /// The curve of `values` over `lambdas` with its minimiser (the smallest
    /// `λ` among ties).
    ///
    /// # Errors
    /// Empty or mismatched inputs.
    pub fn new(criterion: Criterion, lambdas: Vec<f64>, values: Vec<f64>) -> Result<Self> {
        mismatch("criterion values", lambdas.len(), values.len())?;
        let best = (0..values.len())
            .min_by(|&a, &b| values[a].total_cmp(&values[b]))
            .map(|i| lambdas[i])
            .ok_or(Error::EmptySeries { what: "ridge grid" })?;
        Ok(Self {
            criterion,
            lambdas,
            values,
            best,
        })
    }
}

#[cfg(test)]
#[path = "select_tests.rs"]
mod tests;
