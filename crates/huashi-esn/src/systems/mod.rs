//! Benchmark systems beyond [`crate::generators`] (which keeps Mackey-Glass,
//! NARMA-10 and Lorenz-63), split by family, with ReservoirPy's defaults
//! where it has the system:
//!
//! * [`maps`]: the Hénon map and the logistic map (iterated exactly);
//! * [`flows`]: Rössler, Lorenz-96, the multiscroll (Chen) attractor, the
//!   double scroll circuit and Rabinovich–Fabrikant, integrated by classical
//!   RK4 with `substeps` fixed steps of `dt / substeps` per sample (`dt` is
//!   the sampling interval; sample 0 is the initial state);
//! * [`ks`]: the Kuramoto–Sivashinsky equation on a periodic domain by
//!   ETDRK4 (Kassam & Trefethen 2005);
//! * [`driven`]: multiple superimposed oscillators (MSO-n) and NARMA of any
//!   order;
//! * [`lyapunov`]: the largest Lyapunov exponent by Benettin's method (two
//!   trajectories, renormalised), for these systems and for a trained ESN
//!   running in closed loop;
//! * [`SystemName`]: every generated series by name (what the CLI's
//!   `--series` picks), as one column.
//!
//! Each generator returns `steps × dim` samples and fails with
//! [`crate::Error::Diverged`] when the state stops being finite.

pub mod driven;
mod fft;
pub mod flows;
pub mod ks;
pub mod lyapunov;
pub mod maps;
mod named;

pub use named::SystemName;

use faer::Mat;

use crate::config::positive;
use crate::error::{Error, Result};

/// An autonomous ODE `ṡ = f(s)` integrated by classical RK4.
pub trait Flow {
    /// Name used in errors.
    const NAME: &'static str;
    /// Dimension of the state.
    fn dim(&self) -> usize;
    /// Writes `f(s)` into `ds`.
    fn derivative(&self, s: &[f64], ds: &mut [f64]);
    /// Sampling interval `dt`.
    fn dt(&self) -> f64;
    /// RK4 steps per sample (each of `dt / substeps`).
    fn substeps(&self) -> usize {
        1
    }
    /// Initial state.
    fn initial(&self) -> Vec<f64>;

    /// `steps × dim` samples, the first being [`Flow::initial`].
    ///
    /// # Errors
    /// A step that is not positive, an initial state of the wrong length,
    /// more samples than memory holds, or [`crate::Error::Diverged`].
    fn generate(&self, steps: usize) -> Result<Mat<f64>> {
        let h = self.rk4_step()?;
        let mut s = self.initial();
        crate::util::mismatch("initial state length", self.dim(), s.len())?;
        crate::budget::check_matrix("the generated series", steps, self.dim())?;
        let mut rk = Rk4::new(self.dim());
        let mut out = Mat::zeros(steps, self.dim());
        for t in 0..steps {
            s.iter().enumerate().for_each(|(i, v)| out[(t, i)] = *v);
            (0..self.substeps()).for_each(|_| rk.step(self, &mut s, h));
            if s.iter().any(|v| !v.is_finite()) {
                return Err(Error::Diverged {
                    what: Self::NAME,
                    step: t,
                });
            }
        }
        Ok(out)
    }

    /// The RK4 step `dt / substeps`.
    ///
    /// # Errors
    /// `dt` not positive or `substeps` 0.
    fn rk4_step(&self) -> Result<f64> {
        positive("dt", self.dt())?;
        if self.substeps() == 0 {
            return Err(crate::error::invalid("substeps", 0.0, "must be at least 1"));
        }
        Ok(self.dt() / self.substeps() as f64)
    }
}

/// Scratch space of one classical RK4 step.
#[derive(Clone, Debug)]
pub struct Rk4 {
    k: [Vec<f64>; 4],
    tmp: Vec<f64>,
}

impl Rk4 {
    /// Scratch for states of length `dim`.
    pub fn new(dim: usize) -> Self {
        Self {
            k: std::array::from_fn(|_| vec![0.0; dim]),
            tmp: vec![0.0; dim],
        }
    }

    /// `s ← s + h/6 (k₁ + 2k₂ + 2k₃ + k₄)`.
    pub fn step<F: Flow + ?Sized>(&mut self, f: &F, s: &mut [f64], h: f64) {
        let [k1, k2, k3, k4] = &mut self.k;
        f.derivative(s, k1);
        axpy(&mut self.tmp, s, k1, h / 2.0);
        f.derivative(&self.tmp, k2);
        axpy(&mut self.tmp, s, k2, h / 2.0);
        f.derivative(&self.tmp, k3);
        axpy(&mut self.tmp, s, k3, h);
        f.derivative(&self.tmp, k4);
        for i in 0..s.len() {
            s[i] += h / 6.0 * (k1[i] + 2.0 * k2[i] + 2.0 * k3[i] + k4[i]);
        }
    }
}

/// `out = a + c b`.
fn axpy(out: &mut [f64], a: &[f64], b: &[f64], c: f64) {
    for ((o, x), y) in out.iter_mut().zip(a).zip(b) {
        *o = x + c * y;
    }
}

/// A map `s(t+1) = g(s(t))`.
pub trait DiscreteMap {
    /// Name used in errors.
    const NAME: &'static str;
    /// Dimension of the state.
    fn dim(&self) -> usize;
    /// Writes `g(s)` into `next`.
    fn apply(&self, s: &[f64], next: &mut [f64]);
    /// Initial state.
    fn initial(&self) -> Vec<f64>;

    /// `steps × dim` iterates, the first being [`DiscreteMap::initial`].
    ///
    /// # Errors
    /// An initial state of the wrong length, more samples than memory
    /// holds, or [`crate::Error::Diverged`].
    fn generate(&self, steps: usize) -> Result<Mat<f64>> {
        let mut s = self.initial();
        crate::util::mismatch("initial state length", self.dim(), s.len())?;
        crate::budget::check_matrix("the generated series", steps, self.dim())?;
        let mut next = s.clone();
        let mut out = Mat::zeros(steps, self.dim());
        for t in 0..steps {
            s.iter().enumerate().for_each(|(i, v)| out[(t, i)] = *v);
            self.apply(&s, &mut next);
            std::mem::swap(&mut s, &mut next);
            if s.iter().any(|v| !v.is_finite()) {
                return Err(Error::Diverged {
                    what: Self::NAME,
                    step: t,
                });
            }
        }
        Ok(out)
    }
}
