//! The mean of a score over repeated runs (reservoir seeds) and its 95 %
//! confidence interval:
//!
//! ```text
//! mean ± t_{0.975, n−1} · s / √n
//! ```
//!
//! with `s` the sample standard deviation (`1/(n−1)`) and Student's t
//! quantile (tabulated to 30 degrees of freedom, the normal 1.96 beyond).

use serde::{Deserialize, Serialize};

/// A mean and the half-width of its 95 % confidence interval.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct MeanCi {
    /// The mean.
    pub mean: f64,
    /// Half-width of the 95 % confidence interval (0 for one value).
    pub ci95: f64,
}

impl MeanCi {
    /// The mean and interval of `values` (`NaN` for none).
    pub fn of(values: &[f64]) -> Self {
        let n = values.len() as f64;
        let mean = values.iter().sum::<f64>() / n;
        let var = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0).max(1.0);
        Self {
            mean,
            ci95: t975(values.len().saturating_sub(1)) * (var / n).sqrt(),
        }
    }
}

/// The 0.975 quantile of Student's t with `df` degrees of freedom (0 for
/// none; the normal 1.96 past 30).
fn t975(df: usize) -> f64 {
    const T: [f64; 30] = [
        12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160,
        2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056,
        2.052, 2.048, 2.045, 2.042,
    ];
    match df {
        0 => 0.0,
        d if d <= 30 => T[d - 1],
        _ => 1.96,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interval_of_known_values() {
        // 1, 2, 3, 4: mean 2.5, s² = 5/3, t_{0.975,3} = 3.182 (any t table).
        let m = MeanCi::of(&[1.0, 2.0, 3.0, 4.0]);
        assert_eq!(m.mean, 2.5);
        assert!((m.ci95 - 3.182 * (5.0f64 / 3.0 / 4.0).sqrt()).abs() < 1e-12);
        assert_eq!(MeanCi::of(&[7.0]).ci95, 0.0);
        let many: Vec<f64> = (0..40).map(f64::from).collect();
        let s = (many.iter().map(|v| (v - 19.5).powi(2)).sum::<f64>() / 39.0).sqrt();
        assert!((MeanCi::of(&many).ci95 - 1.96 * s / 40f64.sqrt()).abs() < 1e-12);
    }
}
