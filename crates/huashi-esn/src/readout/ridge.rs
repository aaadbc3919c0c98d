//! Ridge regression by accumulated normal equations.
//!
//! For feature rows `φ(t)` and targets `y(t)` collected over any number of
//! sequences, the readout minimises `Σ_t ‖y(t) − W_outᵀ φ(t)‖² + λ ‖D W_out‖²`
//! (Tikhonov 1963; Lukoševičius 2012, "A practical guide to applying echo
//! state networks", eq. 9), where `D` is the identity except that the bias
//! row is not penalised. Its solution satisfies the normal equations
//!
//! ```text
//! (ΦᵀΦ + λ D) W_out = ΦᵀY
//! ```
//!
//! `ΦᵀΦ` and `ΦᵀY` are summed block by block, so no design matrix over all
//! time steps is ever formed; the system is solved once by Cholesky (faer).

use faer::linalg::matmul::matmul;
use faer::linalg::solvers::Solve;
use faer::{Accum, Mat, MatRef, Par, Side};

use crate::config::non_negative;
use crate::error::{Error, Result};
use crate::util::{check_matrix, mismatch};

/// Accumulated `ΦᵀΦ`, `ΦᵀY` and sample count.
#[derive(Clone, Debug, PartialEq)]
pub struct Ridge {
    xtx: Mat<f64>,
    xty: Mat<f64>,
    samples: usize,
}

impl Ridge {
    /// An empty accumulator for `features` features and `outputs` outputs.
    pub fn new(features: usize, outputs: usize) -> Self {
        Self {
            xtx: Mat::zeros(features, features),
            xty: Mat::zeros(features, outputs),
            samples: 0,
        }
    }

    /// Number of features `F`.
    pub fn features(&self) -> usize {
        self.xtx.nrows()
    }

    /// Number of outputs `m`.
    pub fn outputs(&self) -> usize {
        self.xty.ncols()
    }

    /// Number of samples (time steps) accumulated.
    pub fn samples(&self) -> usize {
        self.samples
    }

    /// The accumulated `ΦᵀΦ` (`F × F`, symmetric; only its lower triangle
    /// is accumulated, the copy returned is completed by symmetry).
    pub fn xtx(&self) -> Mat<f64> {
        let f = self.features();
        Mat::from_fn(f, f, |i, j| self.xtx[(i.max(j), i.min(j))])
    }

    /// The accumulated `ΦᵀY` (`F × m`).
    pub fn xty(&self) -> MatRef<'_, f64> {
        self.xty.as_ref()
    }

    /// Adds samples given as rows: `features` is `T × F`, `targets` `T × m`.
    pub fn add(&mut self, features: MatRef<'_, f64>, targets: MatRef<'_, f64>) -> Result<()> {
        mismatch("feature columns", self.features(), features.ncols())?;
        mismatch("target columns", self.outputs(), targets.ncols())?;
        mismatch("target rows", features.nrows(), targets.nrows())?;
        check_matrix("features", features)?;
        check_matrix("targets", targets)?;
        self.add_columns(features.transpose(), targets.transpose());
        Ok(())
    }

    /// Adds samples given as columns: `phi` is `F × T`, `y` is `m × T`.
    pub(crate) fn add_columns(&mut self, phi: MatRef<'_, f64>, y: MatRef<'_, f64>) {
        self.add_columns_with(phi, y, faer::get_global_parallelism());
    }

    /// [`Ridge::add_columns`] with explicit parallelism. `ΦᵀΦ` is symmetric,
    /// so only its lower triangle is updated (half the work).
    pub(crate) fn add_columns_with(&mut self, phi: MatRef<'_, f64>, y: MatRef<'_, f64>, par: Par) {
        use faer::linalg::matmul::triangular::{matmul as tri, BlockStructure as B};
        let (lower, full) = (B::TriangularLower, B::Rectangular);
        let xtx = self.xtx.as_mut();
        tri(
            xtx,
            lower,
            Accum::Add,
            phi,
            full,
            phi.transpose(),
            full,
            1.0,
            par,
        );
        matmul(self.xty.as_mut(), Accum::Add, phi, y.transpose(), 1.0, par);
        self.samples += phi.ncols();
    }

    /// Adds another accumulator's sums to this one.
    pub fn merge(&mut self, other: &Ridge) -> Result<()> {
        mismatch("merged features", self.features(), other.features())?;
        mismatch("merged outputs", self.outputs(), other.outputs())?;
        self.xtx += &other.xtx;
        self.xty += &other.xty;
        self.samples += other.samples;
        Ok(())
    }

    /// Solves `(ΦᵀΦ + λ D) W = ΦᵀY` by Cholesky; `unpenalised` is the bias
    /// row excluded from `D`. Returns `W` (`F × m`).
    ///
    /// Errors: no samples, `λ` negative or not finite, a matrix that is not
    /// numerically positive definite (Cholesky fails, or with `λ = 0` a pivot
    /// ratio below `F·ε`), or a non-finite solution.
    pub fn solve(&self, ridge: f64, unpenalised: Option<usize>) -> Result<Mat<f64>> {
        non_negative("ridge", ridge)?;
        if self.samples == 0 {
            return Err(Error::EmptySeries {
                what: "training data",
            });
        }
        let f = self.features();
        let singular = |reason| Error::SingularSystem {
            size: f,
            ridge,
            reason,
        };
        // Cholesky reads the lower triangle only, which is all that is kept.
        let mut a = self.xtx.clone();
        for i in (0..f).filter(|&i| Some(i) != unpenalised) {
            a[(i, i)] += ridge;
        }
        let llt = a
            .llt(Side::Lower)
            .map_err(|_| singular("not positive definite (Cholesky failed)"))?;
        if ridge == 0.0 && pivot_ratio(llt.L()) < f as f64 * f64::EPSILON {
            return Err(singular("numerically rank-deficient; use ridge > 0"));
        }
        let w = llt.solve(self.xty.as_ref());
        if check_matrix("ridge solution", w.as_ref()).is_err() {
            return Err(singular("non-finite solution"));
        }
        Ok(w)
    }
}

/// `min_i L_ii² / max_i L_ii²`: the pivots' spread, a cheap conditioning hint.
fn pivot_ratio(l: MatRef<'_, f64>) -> f64 {
    let d: Vec<f64> = (0..l.nrows()).map(|i| l[(i, i)] * l[(i, i)]).collect();
    let max = d.iter().copied().fold(0.0, f64::max);
    let min = d.iter().copied().fold(f64::INFINITY, f64::min);
    if max > 0.0 {
        min / max
    } else {
        0.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_fit_without_noise() {
        // y = 2 + 3 x, features [1, x].
        let x = Mat::from_fn(10, 2, |i, j| if j == 0 { 1.0 } else { i as f64 });
        let y = Mat::from_fn(10, 1, |i, _| 2.0 + 3.0 * i as f64);
        let mut r = Ridge::new(2, 1);
        r.add(x.as_ref(), y.as_ref()).unwrap();
        let w = r.solve(0.0, Some(0)).unwrap();
        assert!((w[(0, 0)] - 2.0).abs() < 1e-10 && (w[(1, 0)] - 3.0).abs() < 1e-10);
    }

    #[test]
    fn collinear_features_without_ridge_are_singular() {
        let x = Mat::from_fn(10, 2, |i, _| i as f64);
        let y = Mat::from_fn(10, 1, |i, _| i as f64);
        let mut r = Ridge::new(2, 1);
        r.add(x.as_ref(), y.as_ref()).unwrap();
        assert!(matches!(
            r.solve(0.0, None),
            Err(Error::SingularSystem { .. })
        ));
        assert!(r.solve(1e-3, None).is_ok());
        assert!(matches!(
            Ridge::new(2, 1).solve(1.0, None),
            Err(Error::EmptySeries { .. })
        ));
        assert!(matches!(
            r.solve(-1.0, None),
            Err(Error::InvalidParameter { name: "ridge", .. })
        ));
    }
}
