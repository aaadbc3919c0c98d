//! Spectral radius `ρ(W) = max_i |λ_i(W)|` of a recurrent matrix.
//!
//! Two methods, chosen by [`SpectralMethod`]:
//!
//! * **Dense**: all eigenvalues of the dense copy by faer's real Schur-based
//!   eigensolver (`O(N³)`), as `numpy.linalg.eigvals` does in ReservoirPy.
//! * **Iterative**: a thick-restarted Arnoldi / Rayleigh–Ritz method on the
//!   sparse matrix (Saad, *Numerical Methods for Large Eigenvalue Problems*,
//!   2011, ch. 6; Stewart's Krylov–Schur restart in spirit). A Krylov basis
//!   `V` of `m` vectors and `AV` are kept; the Ritz values are the eigenvalues
//!   of `H = Vᵀ A V`. At each restart the real span of the `k` largest-modulus
//!   Ritz vectors is kept (both real and imaginary parts of complex pairs, so
//!   conjugate pairs deflate together) and the basis is extended again from
//!   the Krylov residual. It stops when the dominant Ritz pair `(θ, y)` has
//!   relative residual `‖A V y − θ V y‖ / (|θ| ‖y‖)` below the tolerance.
//!   The method runs on `B = A^p` ([`ArnoldiOptions::power`], `p = 8`),
//!   a polynomial acceleration (Saad 2011, ch. 7): `|λ|^p` orders the
//!   eigenvalues as `|λ|` does, and `ρ(A) = ρ(B)^{1/p}`. A basis vector then
//!   costs `p` sparse products but the wanted eigenvalue is far better
//!   separated in modulus, so far fewer restarts (each an `m × m`
//!   eigen-decomposition) are needed. If `B` does not converge within
//!   [`POWER_RESTARTS`] restarts (rounding in `A^p` grows like
//!   `(‖A‖/ρ)^p` for strongly non-normal `A`) the method starts again on
//!   `A` itself.
//!
//! [`SpectralMethod::Auto`] uses the dense method up to [`DENSE_LIMIT`] units
//! and the iterative one above, where it is the faster; both agree to about
//! `3e-14` relative (the tests check agreement to `1e-10` for `N` up to
//! 1000). The measurements behind `p`, the basis size and the limit are in
//! `PERF.md` (section "Echo state networks").

use faer::linalg::matmul::matmul;
use faer::reborrow::{Reborrow, ReborrowMut};
use faer::{Accum, Mat, MatMut, MatRef, Par};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::rng::Rng;
use crate::sparse::CsrMatrix;

/// Largest reservoir for which [`SpectralMethod::Auto`] computes all
/// eigenvalues densely.
pub const DENSE_LIMIT: usize = 200;

/// Most restarts on `A^p` before the iterative method falls back to `A`.
pub const POWER_RESTARTS: usize = 200;

/// How the spectral radius is computed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum SpectralMethod {
    /// Dense up to [`DENSE_LIMIT`] units, iterative above.
    #[default]
    Auto,
    /// All eigenvalues of the dense matrix.
    Dense,
    /// Restarted Arnoldi on the sparse matrix.
    Iterative,
}

/// Settings of the iterative solver.
#[derive(Clone, Debug, PartialEq)]
pub struct ArnoldiOptions {
    /// Krylov basis size `m` before a restart.
    pub basis: usize,
    /// Ritz vectors kept at a restart (`k < m`).
    pub keep: usize,
    /// Relative residual at which the dominant Ritz pair is accepted.
    pub tolerance: f64,
    /// Most restarts before [`Error::NoConvergence`].
    pub max_restarts: usize,
    /// Seed of the random start vector.
    pub seed: u64,
    /// The power `p ≥ 1` of the matrix the basis is built from.
    pub power: usize,
}

impl Default for ArnoldiOptions {
    fn default() -> Self {
        Self {
            basis: 40,
            keep: 15,
            tolerance: 1e-12,
            max_restarts: 2000,
            seed: 0,
            power: 8,
        }
    }
}

/// Spectral radius of `a` by the chosen method (`seed` drives the start
/// vector of the iterative method).
///
/// # Errors
/// As the method chosen.
pub fn spectral_radius(a: &CsrMatrix, method: SpectralMethod, seed: u64) -> Result<f64> {
    let dense = match method {
        SpectralMethod::Auto => a.nrows() <= DENSE_LIMIT,
        SpectralMethod::Dense => true,
        SpectralMethod::Iterative => false,
    };
    if dense {
        spectral_radius_dense(a.to_dense().as_ref())
    } else {
        let opts = ArnoldiOptions {
            seed,
            ..ArnoldiOptions::default()
        };
        spectral_radius_iterative(a, &opts)
    }
}

/// Spectral radius from all eigenvalues of a dense square matrix.
///
/// # Errors
/// [`crate::Error::Eigen`] if the decomposition fails.
pub fn spectral_radius_dense(a: MatRef<'_, f64>) -> Result<f64> {
    if a.nrows() != a.ncols() {
        return Err(Error::DimensionMismatch {
            what: "square matrix columns",
            expected: a.nrows(),
            found: a.ncols(),
        });
    }
    if a.nrows() == 0 {
        return Ok(0.0);
    }
    let eig = a
        .eigenvalues()
        .map_err(|_| Error::Eigen { size: a.nrows() })?;
    Ok(eig.iter().map(|z| z.re.hypot(z.im)).fold(0.0, f64::max))
}

/// Spectral radius of a sparse square matrix by restarted Arnoldi on
/// `A^p`, falling back to `A` when that does not converge.
///
/// # Errors
/// [`crate::Error::NoConvergence`].
pub fn spectral_radius_iterative(a: &CsrMatrix, opts: &ArnoldiOptions) -> Result<f64> {
    let m = opts.basis.max(4);
    if a.nrows() <= m {
        return spectral_radius_dense(a.to_dense().as_ref());
    }
    // The SIMD copy when the rows allow it (bit-identical products).
    let ell = crate::kernel::Ell::from_csr(a);
    let power = opts.power.max(1);
    if power > 1 {
        let op = Operator::new(a, ell.as_ref(), power);
        match arnoldi(&op, opts, opts.max_restarts.min(POWER_RESTARTS)) {
            Err(Error::NoConvergence { .. }) => {}
            done => return done.map(|r| r.powf(1.0 / power as f64)),
        }
    }
    arnoldi(&Operator::new(a, ell.as_ref(), 1), opts, opts.max_restarts)
}

/// `ρ` of the operator by thick-restarted Arnoldi within `max_restarts`.
fn arnoldi(a: &Operator<'_>, opts: &ArnoldiOptions, max_restarts: usize) -> Result<f64> {
    let m = opts.basis.max(4);
    let keep = opts.keep.clamp(2, m - 2);
    let mut rng = Rng::new(opts.seed);
    let mut k = Krylov::start(a, m, &mut rng);
    let mut residual = f64::INFINITY;
    for _ in 0..max_restarts {
        k.extend(a, &mut rng);
        let h = k.projection();
        let eig = h.eigen().map_err(|_| Error::Eigen { size: k.len })?;
        let order = by_modulus(&eig);
        let (theta, res) = k.ritz_residual(&eig, order[0]);
        residual = res;
        if res <= opts.tolerance || theta == 0.0 {
            return Ok(theta);
        }
        k.restart(&eig, &order, keep);
    }
    Err(Error::NoConvergence {
        iterations: max_restarts,
        residual,
    })
}

/// Indices of the eigenvalues sorted by decreasing modulus.
fn by_modulus(eig: &faer::linalg::solvers::Eigen<f64>) -> Vec<usize> {
    let s = eig.S().column_vector();
    let modulus: Vec<f64> = (0..s.nrows()).map(|i| s[i].re.hypot(s[i].im)).collect();
    let mut order: Vec<usize> = (0..modulus.len()).collect();
    order.sort_by(|&i, &j| modulus[j].total_cmp(&modulus[i]));
    order
}

/// `A^power`, the matrix whose products the Krylov basis takes.
struct Operator<'a> {
    csr: &'a CsrMatrix,
    ell: Option<&'a crate::kernel::Ell>,
    power: usize,
    /// Intermediate products `A^j x`.
    scratch: std::cell::RefCell<[Vec<f64>; 2]>,
}

impl<'a> Operator<'a> {
    fn new(csr: &'a CsrMatrix, ell: Option<&'a crate::kernel::Ell>, power: usize) -> Self {
        let n = csr.nrows();
        Self {
            csr,
            ell,
            power,
            scratch: std::cell::RefCell::new([vec![0.0; n], vec![0.0; n]]),
        }
    }

    fn nrows(&self) -> usize {
        self.csr.nrows()
    }

    /// `y = A^power x`.
    fn apply(&self, x: &[f64], y: &mut [f64]) {
        let mut scratch = self.scratch.borrow_mut();
        let [now, next] = &mut *scratch;
        now.copy_from_slice(x);
        for _ in 1..self.power {
            next.fill(0.0);
            self.mul_add(now, next);
            std::mem::swap(now, next);
        }
        y.fill(0.0);
        self.mul_add(now, y);
    }

    fn mul_add(&self, x: &[f64], y: &mut [f64]) {
        match self.ell {
            Some(e) => e.mul_add(x, y),
            None => self.csr.mul_add(x, y),
        }
    }
}

/// An orthonormal basis `V` (first `len` columns) and `A V`.
struct Krylov {
    v: Mat<f64>,
    av: Mat<f64>,
    len: usize,
    /// Column of `av` whose residual continues the Krylov sequence.
    next: usize,
}

impl Krylov {
    fn start(a: &Operator<'_>, m: usize, rng: &mut Rng) -> Self {
        let n = a.nrows();
        let mut k = Self {
            v: Mat::zeros(n, m),
            av: Mat::zeros(n, m),
            len: 0,
            next: 0,
        };
        let mut w: Vec<f64> = (0..n).map(|_| rng.normal()).collect();
        let norm = dot(&w, &w).sqrt();
        w.iter_mut().for_each(|x| *x /= norm);
        k.push(a, &w);
        k
    }

    fn push(&mut self, a: &Operator<'_>, w: &[f64]) {
        let j = self.len;
        self.v.col_as_slice_mut(j).copy_from_slice(w);
        a.apply(w, self.av.col_as_slice_mut(j));
        self.next = j;
        self.len += 1;
    }

    /// Grows the basis to its full size.
    fn extend(&mut self, a: &Operator<'_>, rng: &mut Rng) {
        while self.len < self.v.ncols() {
            let mut w = self.av.col_as_slice(self.next).to_vec();
            if !self.orthonormalize(&mut w) {
                w = (0..w.len()).map(|_| rng.normal()).collect();
                self.orthonormalize(&mut w);
            }
            self.push(a, &w);
        }
    }

    /// Classical Gram–Schmidt twice against `V`; false on breakdown.
    fn orthonormalize(&self, w: &mut [f64]) -> bool {
        let before = dot(w, w).sqrt();
        let v = self.v.subcols(0, self.len);
        let mut c = Mat::zeros(self.len, 1);
        for _ in 0..2 {
            let mut w = MatMut::from_column_major_slice_mut(w, v.nrows(), 1);
            matmul(
                c.as_mut(),
                Accum::Replace,
                v.transpose(),
                w.rb(),
                1.0,
                Par::Seq,
            );
            matmul(w.rb_mut(), Accum::Add, v, c.as_ref(), -1.0, Par::Seq);
        }
        let after = dot(w, w).sqrt();
        if after <= 1e-10 * before || after == 0.0 {
            return false;
        }
        w.iter_mut().for_each(|x| *x /= after);
        true
    }

    /// `H = Vᵀ A V` over the current basis.
    fn projection(&self) -> Mat<f64> {
        let (v, av) = (self.v.subcols(0, self.len), self.av.subcols(0, self.len));
        let mut h = Mat::zeros(self.len, self.len);
        matmul(h.as_mut(), Accum::Replace, v.transpose(), av, 1.0, Par::Seq);
        h
    }

    /// `(|θ|, relative residual)` of the Ritz pair `idx`.
    fn ritz_residual(&self, eig: &faer::linalg::solvers::Eigen<f64>, idx: usize) -> (f64, f64) {
        let theta = eig.S().column_vector()[idx];
        let u = eig.U().col(idx);
        let yr = Mat::from_fn(self.len, 1, |i, _| u[i].re);
        let yi = Mat::from_fn(self.len, 1, |i, _| u[i].im);
        let (v, av) = (self.v.subcols(0, self.len), self.av.subcols(0, self.len));
        let (vr, vi, avr, avi) = (mul(v, &yr), mul(v, &yi), mul(av, &yr), mul(av, &yi));
        let mut res = 0.0;
        for i in 0..v.nrows() {
            let rr = avr[(i, 0)] - (theta.re * vr[(i, 0)] - theta.im * vi[(i, 0)]);
            let ri = avi[(i, 0)] - (theta.re * vi[(i, 0)] + theta.im * vr[(i, 0)]);
            res += rr * rr + ri * ri;
        }
        let ynorm = (yr.squared_norm_l2() + yi.squared_norm_l2()).sqrt();
        let modulus = theta.re.hypot(theta.im);
        (
            modulus,
            res.sqrt() / (modulus * ynorm).max(f64::MIN_POSITIVE),
        )
    }

    /// Keeps the real span of the `keep` dominant Ritz vectors.
    fn restart(&mut self, eig: &faer::linalg::solvers::Eigen<f64>, order: &[usize], keep: usize) {
        let q = ritz_basis(eig, order, keep, self.len);
        let (v, av) = (self.v.subcols(0, self.len), self.av.subcols(0, self.len));
        let (nv, nav) = (mul(v, &q), mul(av, &q));
        let k = q.ncols();
        self.v.subcols_mut(0, k).copy_from(&nv);
        self.av.subcols_mut(0, k).copy_from(&nav);
        self.len = k;
        self.next = self.largest_residual_column();
    }

    /// The kept column of `AV` with the largest component outside `V`.
    fn largest_residual_column(&self) -> usize {
        let h = self.projection();
        let v = self.v.subcols(0, self.len);
        let r = self.av.subcols(0, self.len) - mul(v, &h);
        (0..self.len)
            .map(|j| (j, r.col(j).squared_norm_l2()))
            .max_by(|a, b| a.1.total_cmp(&b.1))
            .map_or(0, |(j, _)| j)
    }
}

/// Orthonormal real basis (`len × k'`) of the dominant Ritz vectors.
fn ritz_basis(
    eig: &faer::linalg::solvers::Eigen<f64>,
    order: &[usize],
    keep: usize,
    len: usize,
) -> Mat<f64> {
    let (s, u) = (eig.S().column_vector(), eig.U());
    let mut cols: Vec<Vec<f64>> = Vec::with_capacity(keep + 1);
    for &i in order {
        if cols.len() >= keep {
            break;
        }
        if s[i].im < 0.0 {
            continue; // its conjugate partner contributes both parts
        }
        cols.push((0..len).map(|r| u[(r, i)].re).collect());
        if s[i].im > 0.0 {
            cols.push((0..len).map(|r| u[(r, i)].im).collect());
        }
    }
    let mut basis: Vec<Vec<f64>> = Vec::with_capacity(cols.len());
    for mut c in cols {
        for _ in 0..2 {
            for b in &basis {
                let p = dot(b, &c);
                c.iter_mut().zip(b).for_each(|(x, y)| *x -= p * y);
            }
        }
        let norm = dot(&c, &c).sqrt();
        if norm > 1e-8 {
            c.iter_mut().for_each(|x| *x /= norm);
            basis.push(c);
        }
    }
    Mat::from_fn(len, basis.len(), |i, j| basis[j][i])
}

/// `a b` computed sequentially (these products are small; thread
/// dispatch would cost more than it saves).
fn mul(a: MatRef<'_, f64>, b: &Mat<f64>) -> Mat<f64> {
    let mut out = Mat::zeros(a.nrows(), b.ncols());
    matmul(out.as_mut(), Accum::Replace, a, b.as_ref(), 1.0, Par::Seq);
    out
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}
