//! Series transforms, each with the inverse needed to report results in the
//! original units.
//!
//! * `log`: `z_t = ln p_t` (inverse `exp`);
//! * log-returns: `r_t = ln p_{t+1} − ln p_t` (length `n − 1`; inverse
//!   [`from_log_returns`] `p_{t+1} = p_t e^{r_t}` from the first price);
//! * standardisation: `z = (x − μ) / σ` with the training mean and population
//!   standard deviation (inverse `x = μ + σ z`);
//! * min-max scaling to `[lo, hi]` (inverse likewise).

use serde::{Deserialize, Serialize};

use crate::error::{check_series, invalid, Error, Result};

/// Natural logarithm of a positive series.
///
/// # Errors
/// An empty or non-finite series, or [`crate::Error::NonPositive`].
pub fn log(series: &[f64]) -> Result<Vec<f64>> {
    check_series("series", series)?;
    series
        .iter()
        .enumerate()
        .map(|(index, &value)| {
            if value > 0.0 {
                Ok(value.ln())
            } else {
                Err(Error::NonPositive {
                    what: "log",
                    index,
                    value,
                })
            }
        })
        .collect()
}

/// Log-returns `ln p_{t+1} − ln p_t` of a positive series of length ≥ 2.
///
/// # Errors
/// As [`log`], and a series of fewer than 2 values.
pub fn log_returns(prices: &[f64]) -> Result<Vec<f64>> {
    let logs = log(prices)?;
    if logs.len() < 2 {
        return Err(Error::HorizonTooLong {
            horizon: 1,
            len: logs.len(),
        });
    }
    Ok(logs.windows(2).map(|w| w[1] - w[0]).collect())
}

/// Prices rebuilt from a first price and log-returns (length `n + 1`).
pub fn from_log_returns(first: f64, returns: &[f64]) -> Vec<f64> {
    let mut out = Vec::with_capacity(returns.len() + 1);
    out.push(first);
    let mut p = first;
    for r in returns {
        p *= r.exp();
        out.push(p);
    }
    out
}

/// Standardisation `z = (x − μ) / σ` fitted on a training series.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Standardizer {
    /// Mean `μ`.
    pub mean: f64,
    /// Population standard deviation `σ`.
    pub std: f64,
}

impl Standardizer {
    /// Fits `μ` and `σ`; a constant series is an error.
    ///
    /// # Errors
    /// An empty, non-finite or constant series.
    pub fn fit(series: &[f64]) -> Result<Self> {
        check_series("series", series)?;
        let n = series.len() as f64;
        let mean = series.iter().sum::<f64>() / n;
        let std = (series.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / n).sqrt();
        if std == 0.0 {
            return Err(invalid(
                "standard deviation",
                0.0,
                "cannot standardise a constant series",
            ));
        }
        let fitted = Self { mean, std };
        fitted.check()?;
        Ok(fitted)
    }

    /// Checks the rules [`Standardizer::fit`] obeys, for a standardiser
    /// read from a file: a finite mean and a finite, positive deviation.
    ///
    /// # Errors
    /// [`crate::Error::InvalidParameter`] naming the value at fault.
    pub fn check(&self) -> Result<()> {
        if !self.mean.is_finite() {
            return Err(invalid("mean", self.mean, "must be finite"));
        }
        crate::config::positive("standard deviation", self.std)
    }

    /// `(x − μ) / σ`.
    pub fn transform(&self, series: &[f64]) -> Vec<f64> {
        series.iter().map(|x| (x - self.mean) / self.std).collect()
    }

    /// `μ + σ z`.
    pub fn inverse(&self, series: &[f64]) -> Vec<f64> {
        series.iter().map(|z| self.mean + self.std * z).collect()
    }
}

/// Affine scaling of `[min, max]` of a training series onto `[lo, hi]`.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct MinMaxScaler {
    /// Minimum of the fitted series.
    pub min: f64,
    /// Maximum of the fitted series.
    pub max: f64,
    /// Target lower bound.
    pub lo: f64,
    /// Target upper bound.
    pub hi: f64,
}

impl MinMaxScaler {
    /// Fits the scaler; a constant series or `lo >= hi` is an error.
    ///
    /// # Errors
    /// An empty, non-finite or constant series.
    pub fn fit(series: &[f64], lo: f64, hi: f64) -> Result<Self> {
        check_series("series", series)?;
        if !lo.is_finite() || !hi.is_finite() || lo >= hi {
            return Err(invalid("lo", lo, "must be finite and below hi"));
        }
        let min = series.iter().copied().fold(f64::INFINITY, f64::min);
        let max = series.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        if min == max {
            return Err(invalid("range", 0.0, "cannot scale a constant series"));
        }
        Ok(Self { min, max, lo, hi })
    }

    /// Maps `[min, max]` onto `[lo, hi]`.
    pub fn transform(&self, series: &[f64]) -> Vec<f64> {
        let s = (self.hi - self.lo) / (self.max - self.min);
        series
            .iter()
            .map(|x| self.lo + (x - self.min) * s)
            .collect()
    }

    /// The inverse map.
    pub fn inverse(&self, series: &[f64]) -> Vec<f64> {
        let s = (self.max - self.min) / (self.hi - self.lo);
        series
            .iter()
            .map(|z| self.min + (z - self.lo) * s)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inverses_round_trip() {
        let x = [1.0, 2.0, 4.0, 3.0];
        let s = Standardizer::fit(&x).unwrap();
        let back = s.inverse(&s.transform(&x));
        assert!(back.iter().zip(&x).all(|(a, b)| (a - b).abs() < 1e-12));
        let m = MinMaxScaler::fit(&x, -1.0, 1.0).unwrap();
        assert_eq!(m.transform(&x)[2], 1.0);
        let back = m.inverse(&m.transform(&x));
        assert!(back.iter().zip(&x).all(|(a, b)| (a - b).abs() < 1e-12));
        let r = log_returns(&x).unwrap();
        let p = from_log_returns(x[0], &r);
        assert!(p.iter().zip(&x).all(|(a, b)| (a - b).abs() < 1e-12));
        assert!(matches!(
            log(&[1.0, 0.0]),
            Err(Error::NonPositive { index: 1, .. })
        ));
    }
}
