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

use faer::dyn_stack::{MemBuffer, MemStack};
use faer::linalg::cholesky::llt;
use faer::linalg::matmul::matmul;
use faer::reborrow::{Reborrow, ReborrowMut};
use faer::{Accum, Mat, MatMut, MatRef, Par};

use super::syrk::syrk_lower;
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
    ///
    /// # Errors
    /// Matrices whose sizes do not match the accumulator, or non-finite values.
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
    /// so only its lower triangle is updated (half the work), as the two
    /// parts of [`Ridge::parts`].
    pub(crate) fn add_columns_with(&mut self, phi: MatRef<'_, f64>, y: MatRef<'_, f64>, par: Par) {
        let (mut left, mut right) = self.parts();
        left.add(phi, par);
        right.add(phi, y, par);
        self.samples += phi.ncols();
    }

    /// The lower triangle of `ΦᵀΦ` split at column `c ≈ F (1 − 1/√2)` (a
    /// multiple of 8) into
    /// two parts of about equal work that can be updated independently
    /// (columns `0..c`; the triangle of rows and columns `c..F` with `ΦᵀY`).
    /// Every update goes through them, so each sum is computed the same
    /// way whichever thread adds a block. [`Ridge::count`] adds the samples.
    pub(crate) fn parts(&mut self) -> (LeftPart<'_>, RightPart<'_>) {
        let f = self.features();
        // A multiple of 8, so no strip of the AVX-512 kernel straddles the
        // parts (one that did computed 5 columns for nothing).
        let c = ((f as f64) * (1.0 - std::f64::consts::FRAC_1_SQRT_2) / 8.0).round() as usize * 8;
        let (left, right) = self.xtx.as_mut().split_at_col_mut(c.min(f));
        let right = right.subrows_mut(c.min(f), f - c.min(f));
        let xty = self.xty.as_mut();
        (LeftPart { xtx: left }, RightPart { xtx: right, xty })
    }

    /// Counts `n` samples added through [`Ridge::parts`].
    pub(crate) fn count(&mut self, n: usize) {
        self.samples += n;
    }

    /// Adds another accumulator's sums to this one.
    ///
    /// # Errors
    /// Accumulators of different sizes.
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
    /// # Errors
    /// No samples, `λ` negative or not finite, a matrix that is not
    /// numerically positive definite (Cholesky fails, or with `λ = 0` a pivot
    /// ratio below `F·ε`), or a non-finite solution.
    pub fn solve(&self, ridge: f64, unpenalised: Option<usize>) -> Result<Mat<f64>> {
        // Cholesky reads the lower triangle only, which is all that is kept.
        let system = Normal {
            lower: self.xtx.clone(),
            xty: self.xty.as_ref(),
            samples: self.samples,
        };
        system.solve(ridge, unpenalised)
    }
}

/// A copy of `ΦᵀΦ` (lower triangle) with `ΦᵀY`, ready to be solved.
pub(crate) struct Normal<'a> {
    lower: Mat<f64>,
    xty: MatRef<'a, f64>,
    samples: usize,
}

impl<'a> Normal<'a> {
    /// The system held by the two parts of [`Ridge::parts`] after
    /// `samples` samples.
    pub(crate) fn from_parts(
        left: &LeftPart<'_>,
        right: &'a RightPart<'_>,
        samples: usize,
    ) -> Self {
        let f = left.xtx.nrows();
        let c = left.xtx.ncols();
        let mut lower = Mat::zeros(f, f);
        lower.as_mut().subcols_mut(0, c).copy_from(left.xtx.rb());
        lower
            .as_mut()
            .submatrix_mut(c, c, f - c, f - c)
            .copy_from(right.xtx.rb());
        Self {
            lower,
            xty: right.xty.rb(),
            samples,
        }
    }

    /// [`Ridge::solve`] on this system, on the calling thread.
    pub(crate) fn solve(mut self, ridge: f64, unpenalised: Option<usize>) -> Result<Mat<f64>> {
        non_negative("ridge", ridge)?;
        if self.samples == 0 {
            return Err(Error::EmptySeries {
                what: "training data",
            });
        }
        let f = self.lower.nrows();
        let singular = |reason| Error::SingularSystem {
            size: f,
            ridge,
            reason,
        };
        for i in (0..f).filter(|&i| Some(i) != unpenalised) {
            self.lower[(i, i)] += ridge;
        }
        // Sequential: it may run beside the reservoir (PERF.md, ESN section).
        let par = Par::Seq;
        let scratch = llt::factor::cholesky_in_place_scratch::<f64>(f, par, Default::default());
        let mut mem = MemBuffer::new(scratch);
        let stack = MemStack::new(&mut mem);
        let factored = llt::factor::cholesky_in_place(
            self.lower.as_mut(),
            Default::default(),
            par,
            stack,
            Default::default(),
        );
        if factored.is_err() {
            return Err(singular("not positive definite (Cholesky failed)"));
        }
        if ridge == 0.0 && pivot_ratio(self.lower.as_ref()) < f as f64 * f64::EPSILON {
            return Err(singular("numerically rank-deficient; use ridge > 0"));
        }
        let mut w = self.xty.to_owned();
        let scratch = llt::solve::solve_in_place_scratch::<f64>(f, w.ncols(), par);
        let mut mem = MemBuffer::new(scratch);
        llt::solve::solve_in_place(
            self.lower.as_ref(),
            w.as_mut(),
            par,
            MemStack::new(&mut mem),
        );
        if check_matrix("ridge solution", w.as_ref()).is_err() {
            return Err(singular("non-finite solution"));
        }
        Ok(w)
    }
}

/// Columns `0..c` of the lower triangle of `ΦᵀΦ` (`F × c`).
pub(crate) struct LeftPart<'a> {
    xtx: MatMut<'a, f64>,
}

impl LeftPart<'_> {
    /// Adds the columns `phi` (`F × k`).
    pub(crate) fn add(&mut self, phi: MatRef<'_, f64>, par: Par) {
        syrk_lower(self.xtx.rb_mut(), phi, par);
    }
}

/// The lower triangle of rows and columns `c..F` of `ΦᵀΦ`, and `ΦᵀY`.
pub(crate) struct RightPart<'a> {
    xtx: MatMut<'a, f64>,
    xty: MatMut<'a, f64>,
}

impl RightPart<'_> {
    /// Adds the columns `phi` (`F × k`) and targets `y` (`m × k`).
    pub(crate) fn add(&mut self, phi: MatRef<'_, f64>, y: MatRef<'_, f64>, par: Par) {
        let n = self.xtx.nrows();
        let bottom = phi.subrows(phi.nrows() - n, n);
        syrk_lower(self.xtx.rb_mut(), bottom, par);
        matmul(self.xty.rb_mut(), Accum::Add, phi, y.transpose(), 1.0, par);
    }
}

/// `min_i L_ii² / max_i L_ii²`: the pivots' spread, a cheap conditioning hint
/// (the diagonal of the factor `L`).
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
