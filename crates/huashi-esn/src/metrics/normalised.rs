//! Error metrics with a named normalisation, and multi-output scores.
//!
//! With prediction `ŷ`, target `y` over `n` values and `RMSE` as in
//! [`super::rmse`]:
//!
//! * `MSE = Σ (ŷᵢ − yᵢ)² / n`, `MAE = Σ |ŷᵢ − yᵢ| / n`;
//! * `NRMSE = RMSE / s`, where the normalisation `s` of the target is one of
//!   ([`Normalisation`]): `std` (population standard deviation — the
//!   default here and the usual one in the reservoir literature), `range`
//!   (`max − min`, ReservoirPy's default `norm="minmax"`), `var`
//!   (population variance), `mean`, `q1q3` (interquartile range
//!   `Q₃ − Q₁`, quantiles by linear interpolation between order statistics
//!   at position `(n − 1) q`, as NumPy's default). The last four are
//!   ReservoirPy's `nrmse(norm=...)` choices;
//! * for `T × m` predictions, every metric per output column and their
//!   average ([`per_output`]).

use std::fmt;
use std::str::FromStr;

use faer::MatRef;
use serde::{Deserialize, Serialize};

use super::{check_pair, mean, rmse, variance};
use crate::error::{invalid, Error, Result};
use crate::util::{column_values, mismatch};

/// What NRMSE divides the RMSE by.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Normalisation {
    /// Population standard deviation of the target (the default).
    #[default]
    Std,
    /// `max − min` of the target (ReservoirPy's default).
    Range,
    /// Population variance of the target.
    Var,
    /// Mean of the target.
    Mean,
    /// Interquartile range `Q₃ − Q₁` of the target.
    Q1q3,
}

/// The names [`Normalisation::from_str`] accepts.
pub const NORMALISATIONS: &str = "std, range, var, mean, q1q3";

impl FromStr for Normalisation {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        Ok(match s.to_ascii_lowercase().as_str() {
            "std" => Self::Std,
            "range" | "minmax" => Self::Range,
            "var" => Self::Var,
            "mean" => Self::Mean,
            "q1q3" => Self::Q1q3,
            _ => {
                return Err(Error::UnknownName {
                    what: "NRMSE normalisation",
                    name: s.to_string(),
                    known: NORMALISATIONS.to_string(),
                })
            }
        })
    }
}

impl fmt::Display for Normalisation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Std => "std",
            Self::Range => "range",
            Self::Var => "var",
            Self::Mean => "mean",
            Self::Q1q3 => "q1q3",
        })
    }
}

/// Quantile `q ∈ [0, 1]` of `v` by linear interpolation at `(n − 1) q`.
fn quantile(sorted: &[f64], q: f64) -> f64 {
    let pos = (sorted.len() - 1) as f64 * q;
    let (lo, frac) = (pos.floor() as usize, pos - pos.floor());
    let hi = (lo + 1).min(sorted.len() - 1);
    sorted[lo] + frac * (sorted[hi] - sorted[lo])
}

impl Normalisation {
    /// The scale `s` of `target` (assumed non-empty and finite).
    pub fn scale(self, target: &[f64]) -> f64 {
        match self {
            Self::Std => variance(target).sqrt(),
            Self::Var => variance(target),
            Self::Mean => mean(target),
            Self::Range => {
                let max = target.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                max - target.iter().copied().fold(f64::INFINITY, f64::min)
            }
            Self::Q1q3 => {
                let mut s = target.to_vec();
                s.sort_by(f64::total_cmp);
                quantile(&s, 0.75) - quantile(&s, 0.25)
            }
        }
    }
}

/// Mean squared error.
///
/// # Errors
/// Lengths that differ or are 0, or non-finite values.
pub fn mse(prediction: &[f64], target: &[f64]) -> Result<f64> {
    Ok(rmse(prediction, target)?.powi(2))
}

/// Mean absolute error.
///
/// # Errors
/// As [`mse`].
pub fn mae(prediction: &[f64], target: &[f64]) -> Result<f64> {
    check_pair(prediction, target)?;
    let sum: f64 = prediction
        .iter()
        .zip(target)
        .map(|(p, t)| (p - t).abs())
        .sum();
    Ok(sum / target.len() as f64)
}

/// RMSE divided by the target's scale under `norm`.
///
/// # Errors
/// As [`mse`], and a scale that is 0 (a constant target; a zero mean).
pub fn nrmse_by(prediction: &[f64], target: &[f64], norm: Normalisation) -> Result<f64> {
    let e = rmse(prediction, target)?;
    let s = norm.scale(target);
    if s == 0.0 || !s.is_finite() {
        let reason = "the target's scale is 0: NRMSE is undefined";
        return Err(invalid("NRMSE normalisation scale", s, reason));
    }
    Ok(e / s)
}

/// A metric per output and their average.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PerOutput {
    /// One value per output column.
    pub per_output: Vec<f64>,
    /// Their mean.
    pub mean: f64,
}

/// `metric` of every column of `prediction` against `target` (`T × m`
/// each), and their mean.
///
/// # Errors
/// Shapes that differ, no columns, or the first error of `metric`.
pub fn per_output<F>(
    prediction: MatRef<'_, f64>,
    target: MatRef<'_, f64>,
    metric: F,
) -> Result<PerOutput>
where
    F: Fn(&[f64], &[f64]) -> Result<f64>,
{
    mismatch("prediction columns", target.ncols(), prediction.ncols())?;
    mismatch("prediction rows", target.nrows(), prediction.nrows())?;
    if target.ncols() == 0 {
        return Err(Error::EmptySeries { what: "outputs" });
    }
    let per_output = (0..target.ncols())
        .map(|j| metric(&column_values(prediction, j), &column_values(target, j)))
        .collect::<Result<Vec<f64>>>()?;
    let mean = per_output.iter().sum::<f64>() / per_output.len() as f64;
    Ok(PerOutput { per_output, mean })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::{nrmse, r2};
    use faer::Mat;

    // Target 1, 2, 3, 4, 10; prediction off by 1, −1, 0, 2, −2:
    // SSE = 10, MSE = 2, RMSE = √2, MAE = 6/5; mean 4, population
    // variance (9 + 4 + 1 + 0 + 36)/5 = 10; range 9; Q1 = 2, Q3 = 4.
    const Y: [f64; 5] = [1.0, 2.0, 3.0, 4.0, 10.0];
    const P: [f64; 5] = [2.0, 1.0, 3.0, 6.0, 8.0];

    #[test]
    fn hand_computed_values() {
        let r = 2f64.sqrt();
        assert!((mse(&P, &Y).unwrap() - 2.0).abs() < 1e-15);
        assert!((mae(&P, &Y).unwrap() - 1.2).abs() < 1e-15);
        let cases = [
            (Normalisation::Std, r / 10f64.sqrt()),
            (Normalisation::Var, r / 10.0),
            (Normalisation::Range, r / 9.0),
            (Normalisation::Mean, r / 4.0),
            (Normalisation::Q1q3, r / 2.0),
        ];
        for (norm, want) in cases {
            let got = nrmse_by(&P, &Y, norm).unwrap();
            assert!((got - want).abs() < 1e-15, "{norm}: {got} vs {want}");
            assert_eq!(norm.to_string().parse::<Normalisation>().unwrap(), norm);
        }
        assert_eq!(
            nrmse_by(&P, &Y, Normalisation::Std).unwrap(),
            nrmse(&P, &Y).unwrap()
        );
        assert!((r2(&P, &Y).unwrap() - (1.0 - 2.0 / 10.0)).abs() < 1e-15);
        assert!(matches!(
            "median".parse::<Normalisation>(),
            Err(Error::UnknownName { .. })
        ));
    }

    #[test]
    fn quartiles_interpolate_like_numpy() {
        // numpy.quantile([1, 2, 3, 4], [0.25, 0.75]) = [1.75, 3.25].
        let y = [4.0, 1.0, 3.0, 2.0];
        assert!((Normalisation::Q1q3.scale(&y) - 1.5).abs() < 1e-15);
    }

    #[test]
    fn per_output_scores_and_their_mean() {
        let t = Mat::from_fn(5, 2, |i, j| if j == 0 { Y[i] } else { 2.0 * Y[i] });
        let p = Mat::from_fn(5, 2, |i, j| if j == 0 { P[i] } else { 2.0 * Y[i] + 1.0 });
        let m = per_output(p.as_ref(), t.as_ref(), mse).unwrap();
        assert!((m.per_output[0] - 2.0).abs() < 1e-14 && (m.per_output[1] - 1.0).abs() < 1e-14);
        assert!((m.mean - 1.5).abs() < 1e-14);
        let wrong = Mat::<f64>::zeros(5, 3);
        assert!(per_output(wrong.as_ref(), t.as_ref(), mse).is_err());
        let constant = [1.0; 5];
        assert!(nrmse_by(&P, &constant, Normalisation::Range).is_err());
    }
}
