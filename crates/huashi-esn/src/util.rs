//! Small helpers shared by the modules.

use faer::{Mat, MatRef};

use crate::error::{Error, Result};

/// Errors with [`Error::DimensionMismatch`] unless `expected == found`.
pub(crate) fn mismatch(what: &'static str, expected: usize, found: usize) -> Result<()> {
    if expected == found {
        Ok(())
    } else {
        Err(Error::DimensionMismatch {
            what,
            expected,
            found,
        })
    }
}

/// Checks that every entry is finite; the index reported is row-major
/// (`row * ncols + col`).
pub(crate) fn check_matrix(what: &'static str, m: MatRef<'_, f64>) -> Result<()> {
    for i in 0..m.nrows() {
        for j in 0..m.ncols() {
            let value = m[(i, j)];
            if !value.is_finite() {
                return Err(Error::NonFinite {
                    what,
                    index: i * m.ncols() + j,
                    value,
                });
            }
        }
    }
    Ok(())
}

/// A `T × 1` matrix holding a series (one row per time step).
pub fn column(series: &[f64]) -> Mat<f64> {
    Mat::from_fn(series.len(), 1, |i, _| series[i])
}

/// The entries of a matrix column as a vector.
pub fn column_values(m: MatRef<'_, f64>, col: usize) -> Vec<f64> {
    (0..m.nrows()).map(|i| m[(i, col)]).collect()
}

/// Row `t` of a matrix copied into `out`.
#[inline]
pub(crate) fn copy_row(m: MatRef<'_, f64>, t: usize, out: &mut [f64]) {
    for (j, v) in out.iter_mut().enumerate() {
        *v = m[(t, j)];
    }
}
