//! Data: CSV loading, transforms, supervised pairs and the embedded S&P 500
//! series.
//!
//! The embedded file `data/sp500_daily_1999_2018.csv` holds the S&P 500 index
//! daily open/high/low/close/adjusted close/volume from 1999-01-04 to
//! 2018-12-31 (5,031 trading days, dates month/day/year), taken unchanged from
//! `arch/data/sp500/sp500.csv.gz` in the `arch` package on PyPI (version
//! 8.0.0); see `data/README.md`. The Santa Fe laser series (data set A,
//! Weigend & Gershenfeld 1993) is embedded from
//! `data/santafe_laser/santafe_laser.csv` (provenance in its README).

mod csv;
mod transform;

pub use csv::CsvTable;
pub use transform::{from_log_returns, log, log_returns, MinMaxScaler, Standardizer};

use faer::Mat;

use crate::error::{check_series, invalid, Error, Result};

/// The embedded S&P 500 daily CSV (header
/// `Date,Open,High,Low,Close,Adj Close,Volume`).
pub const SP500_CSV: &str = include_str!("../../data/sp500_daily_1999_2018.csv");

/// The embedded S&P 500 table.
///
/// # Errors
/// Only if the embedded file were corrupt.
pub fn sp500() -> Result<CsvTable> {
    CsvTable::parse(SP500_CSV)
}

/// The embedded S&P 500 daily closing prices (5,031 values).
///
/// # Errors
/// Only if the embedded file were corrupt.
pub fn sp500_close() -> Result<Vec<f64>> {
    sp500()?.column_f64("Close")
}

/// The embedded Santa Fe laser CSV (header `t,intensity`, 10,093 rows; see
/// `data/santafe_laser/README.md` for its provenance).
pub const SANTAFE_LASER_CSV: &str = include_str!("../../data/santafe_laser/santafe_laser.csv");

/// The Santa Fe laser intensities (data set A of the Santa Fe competition,
/// Weigend & Gershenfeld 1993): 10,093 values in `0..=255`.
///
/// # Errors
/// Only if the embedded file were corrupt.
pub fn santafe_laser() -> Result<Vec<f64>> {
    CsvTable::parse(SANTAFE_LASER_CSV)?.column_f64("intensity")
}

/// Input/target pairs for predicting a series `horizon` steps ahead.
#[derive(Clone, Debug, PartialEq)]
pub struct Supervised {
    /// `(n − horizon) × 1`: `x(t)`.
    pub inputs: Mat<f64>,
    /// `(n − horizon) × 1`: `x(t + horizon)`.
    pub targets: Mat<f64>,
}

/// Pairs `(x(t), x(t + horizon))` of a finite, non-empty series;
/// `horizon ≥ 1` and shorter than the series.
///
/// # Errors
/// An empty or non-finite series, `horizon` 0, or a horizon not shorter than
/// the series.
pub fn supervised(series: &[f64], horizon: usize) -> Result<Supervised> {
    check_series("series", series)?;
    if horizon == 0 {
        return Err(invalid("horizon", 0.0, "must be at least 1"));
    }
    if horizon >= series.len() {
        return Err(Error::HorizonTooLong {
            horizon,
            len: series.len(),
        });
    }
    let n = series.len() - horizon;
    Ok(Supervised {
        inputs: Mat::from_fn(n, 1, |i, _| series[i]),
        targets: Mat::from_fn(n, 1, |i, _| series[i + horizon]),
    })
}

/// Splits `len` items into `(train, test)` counts with `fraction` for
/// training (`0 < fraction < 1`, both parts non-empty).
///
/// # Errors
/// A `fraction` outside (0, 1), or a split that leaves a part empty.
pub fn split_len(len: usize, fraction: f64) -> Result<(usize, usize)> {
    if !(fraction > 0.0 && fraction < 1.0) {
        return Err(invalid("train fraction", fraction, "must lie in (0, 1)"));
    }
    let train = (len as f64 * fraction).round() as usize;
    if train == 0 || train >= len {
        return Err(Error::EmptySeries {
            what: "train/test split part",
        });
    }
    Ok((train, len - train))
}
