//! Every benchmark series by name: what `--series` picks in the CLI.

use std::fmt;
use std::str::FromStr;

use faer::Mat;

use super::driven::mso;
use super::lyapunov::{flow_exponent, map_exponent, LyapunovOptions};
use super::{DiscreteMap, Flow};
use crate::error::{Error, Result};
use crate::util::column;

/// A benchmark series with its default parameters.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SystemName {
    /// Mackey-Glass `τ = 17` ([`MackeyGlass`](crate::generators::MackeyGlass)).
    MackeyGlass,
    /// Lorenz-63 ([`Lorenz`](crate::generators::Lorenz)).
    Lorenz,
    /// Hénon map ([`Henon`](super::maps::Henon)).
    Henon,
    /// Logistic map ([`Logistic`](super::maps::Logistic)).
    Logistic,
    /// Rössler ([`Rossler`](super::flows::Rossler)).
    Rossler,
    /// Lorenz-96, `N = 36`, `F = 8` ([`Lorenz96`](super::flows::Lorenz96)).
    Lorenz96,
    /// Multiscroll (Chen) attractor ([`Multiscroll`](super::flows::Multiscroll)).
    Multiscroll,
    /// Double scroll circuit ([`DoubleScroll`](super::flows::DoubleScroll)).
    DoubleScroll,
    /// Rabinovich–Fabrikant ([`RabinovichFabrikant`](super::flows::RabinovichFabrikant)).
    RabinovichFabrikant,
    /// Kuramoto–Sivashinsky ([`KuramotoSivashinsky`](super::ks::KuramotoSivashinsky)).
    KuramotoSivashinsky,
    /// MSO-n, `1 ≤ n ≤ 12` ([`mso`]).
    Mso(usize),
    /// The embedded Santa Fe laser data (recorded, not generated;
    /// [`crate::data::santafe_laser`]).
    Laser,
}

/// The names [`SystemName::from_str`] accepts.
pub const SYSTEM_NAMES: &str = "mackey-glass, lorenz, henon, logistic, rossler, lorenz96, \
     multiscroll, doublescroll, rabinovich-fabrikant, ks, mso1..mso12, laser";

impl FromStr for SystemName {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        use SystemName::*;
        let name = s.to_ascii_lowercase();
        let order = name
            .strip_prefix("mso")
            .and_then(|n| n.parse::<usize>().ok());
        Ok(match name.as_str() {
            "mackey-glass" | "mackeyglass" => MackeyGlass,
            "lorenz" | "lorenz63" => Lorenz,
            "henon" => Henon,
            "logistic" => Logistic,
            "rossler" => Rossler,
            "lorenz96" => Lorenz96,
            "multiscroll" => Multiscroll,
            "doublescroll" | "double-scroll" => DoubleScroll,
            "rabinovich-fabrikant" | "rf" => RabinovichFabrikant,
            "ks" | "kuramoto-sivashinsky" => KuramotoSivashinsky,
            "laser" | "santafe" => Laser,
            _ => match order {
                Some(n @ 1..=12) => Mso(n),
                _ => {
                    return Err(Error::UnknownName {
                        what: "series",
                        name: s.to_string(),
                        known: SYSTEM_NAMES.to_string(),
                    })
                }
            },
        })
    }
}

impl fmt::Display for SystemName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use SystemName::*;
        match self {
            MackeyGlass => write!(f, "mackey-glass"),
            Lorenz => write!(f, "lorenz"),
            Henon => write!(f, "henon"),
            Logistic => write!(f, "logistic"),
            Rossler => write!(f, "rossler"),
            Lorenz96 => write!(f, "lorenz96"),
            Multiscroll => write!(f, "multiscroll"),
            DoubleScroll => write!(f, "doublescroll"),
            RabinovichFabrikant => write!(f, "rabinovich-fabrikant"),
            KuramotoSivashinsky => write!(f, "ks"),
            Mso(n) => write!(f, "mso{n}"),
            Laser => write!(f, "laser"),
        }
    }
}

impl SystemName {
    /// `steps × dim` samples with the default parameters (the Santa Fe
    /// data: its first `steps` values, at most 10,093).
    ///
    /// # Errors
    /// [`Error::Diverged`] (not with the defaults), more samples than memory
    /// holds, or more laser samples than there are.
    pub fn generate(&self, steps: usize) -> Result<Mat<f64>> {
        use SystemName::*;
        // Mackey-Glass and Lorenz-63 allocate before checking.
        crate::budget::check_matrix("the generated series", steps, 3)?;
        match self {
            MackeyGlass => Ok(column(
                &crate::generators::MackeyGlass::default().generate(steps)?,
            )),
            Lorenz => crate::generators::Lorenz::default().generate(steps),
            Henon => super::maps::Henon::default().generate(steps),
            Logistic => super::maps::Logistic::default().generate(steps),
            Rossler => super::flows::Rossler::default().generate(steps),
            Lorenz96 => super::flows::Lorenz96::default().generate(steps),
            Multiscroll => super::flows::Multiscroll::default().generate(steps),
            DoubleScroll => super::flows::DoubleScroll::default().generate(steps),
            RabinovichFabrikant => super::flows::RabinovichFabrikant::default().generate(steps),
            KuramotoSivashinsky => super::ks::KuramotoSivashinsky::default().generate(steps),
            Mso(n) => Ok(column(&mso(*n, steps)?)),
            Laser => {
                let v = crate::data::santafe_laser()?;
                if steps > v.len() {
                    let reason = "the Santa Fe laser series has 10,093 samples";
                    return Err(crate::error::invalid("steps", steps as f64, reason));
                }
                Ok(column(&v[..steps]))
            }
        }
    }

    /// The first component (`x`, or the first grid point) as a series.
    ///
    /// # Errors
    /// As [`SystemName::generate`].
    pub fn series(&self, steps: usize) -> Result<Vec<f64>> {
        Ok(crate::util::column_values(
            self.generate(steps)?.as_ref(),
            0,
        ))
    }

    /// Sampling interval (1 for maps, MSO and data).
    pub fn dt(&self) -> f64 {
        use SystemName::*;
        match self {
            MackeyGlass => crate::generators::MackeyGlass::default().h,
            Lorenz => crate::generators::Lorenz::default().dt,
            Rossler => super::flows::Rossler::default().dt,
            Lorenz96 => super::flows::Lorenz96::default().dt,
            Multiscroll => super::flows::Multiscroll::default().dt,
            DoubleScroll => super::flows::DoubleScroll::default().dt,
            RabinovichFabrikant => super::flows::RabinovichFabrikant::default().dt,
            KuramotoSivashinsky => super::ks::KuramotoSivashinsky::default().dt,
            Henon | Logistic | Mso(_) | Laser => 1.0,
        }
    }

    /// The largest Lyapunov exponent per unit time by Benettin's method, for
    /// the maps and the three-dimensional flows and Lorenz-96 (`None` for
    /// the others: delay, PDE, quasi-periodic, data).
    ///
    /// # Errors
    /// As [`super::lyapunov::benettin`].
    pub fn lyapunov(&self, opts: &LyapunovOptions) -> Result<Option<f64>> {
        use SystemName::*;
        Ok(Some(match self {
            Lorenz => flow_exponent(&crate::generators::Lorenz::default(), opts)?,
            Henon => map_exponent(&super::maps::Henon::default(), opts)?,
            Logistic => map_exponent(&super::maps::Logistic::default(), opts)?,
            Rossler => flow_exponent(&super::flows::Rossler::default(), opts)?,
            Lorenz96 => flow_exponent(&super::flows::Lorenz96::default(), opts)?,
            Multiscroll => flow_exponent(&super::flows::Multiscroll::default(), opts)?,
            DoubleScroll => flow_exponent(&super::flows::DoubleScroll::default(), opts)?,
            RabinovichFabrikant => {
                flow_exponent(&super::flows::RabinovichFabrikant::default(), opts)?
            }
            MackeyGlass | KuramotoSivashinsky | Mso(_) | Laser => return Ok(None),
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_unknown_names_are_typed_errors() {
        for name in [
            "henon",
            "lorenz96",
            "ks",
            "mso8",
            "laser",
            "rabinovich-fabrikant",
        ] {
            let s: SystemName = name.parse().unwrap();
            assert_eq!(s.to_string(), name);
            assert!(s.series(200).unwrap().iter().all(|v| v.is_finite()));
        }
        for bad in ["mso0", "mso13", "lorenz97", ""] {
            assert!(matches!(
                bad.parse::<SystemName>(),
                Err(Error::UnknownName { .. })
            ));
        }
        assert!(SystemName::Laser.generate(20_000).is_err());
    }
}
