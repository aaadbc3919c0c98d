//! The Kuramoto–Sivashinsky equation (Kuramoto 1978; Sivashinsky 1977) on a
//! periodic domain `[0, L)`:
//!
//! ```text
//! u_t = −u u_x − u_xx − u_xxxx
//! ```
//!
//! Integration scheme: Fourier pseudo-spectral in space (`N` points, a power
//! of two; wavenumbers `k = 2πj/L`, the Nyquist mode's set to 0) and
//! exponential time differencing of fourth order, ETDRK4 (Cox & Matthews
//! 2002), in the form of Kassam & Trefethen 2005 (*SIAM J. Sci. Comput.*
//! 26(4), "Fourth-order time-stepping for stiff PDEs", program `kursiv.m`):
//! with `L̂ = k² − k⁴` and `N̂(v) = −½ i k F[(F⁻¹v)²]`,
//!
//! ```text
//! a = E₂ v + Q N̂(v)            b = E₂ v + Q N̂(a)
//! c = E₂ a + Q (2N̂(b) − N̂(v))
//! v ← E v + f₁ N̂(v) + 2 f₂ (N̂(a) + N̂(b)) + f₃ N̂(c)
//! ```
//!
//! `E = e^{hL̂}`, `E₂ = e^{hL̂/2}`; `Q`, `f₁..f₃` are averaged over `M` points
//! of a circle of radius 1 around each `hL̂` (the contour integral that
//! avoids their cancellation error). Defaults are Kassam & Trefethen's (and
//! ReservoirPy's): `L = 32π`, `N = 128`, `h = 0.25`, `M = 16`,
//! `u₀ = cos(2πx/L) (1 + sin(2πx/L))` at `x = L (j+1)/N`.
//!
//! The mean of `u` is conserved (mode 0 has `L̂ = 0` and no nonlinear term);
//! the nonlinear term conserves `∫u²`; a small single mode `ε cos(kx)` evolves
//! as `ε e^{(k² − k⁴)t} cos(kx)`.

use faer::Mat;
use serde::{Deserialize, Serialize};

use super::fft::{fft, C};
use crate::config::positive;
use crate::error::{invalid, Error, Result};

/// Parameters of the Kuramoto–Sivashinsky generator.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct KuramotoSivashinsky {
    /// Domain length `L`.
    pub length: f64,
    /// Grid points `N` (a power of two, at least 4).
    pub points: usize,
    /// Time step `h` (also the sampling interval).
    pub dt: f64,
    /// Contour points `M` for the ETDRK4 coefficients.
    pub contour: usize,
    /// Initial field (`N` values); `None`: `cos(2πx/L)(1 + sin(2πx/L))`.
    pub x0: Option<Vec<f64>>,
}

impl Default for KuramotoSivashinsky {
    fn default() -> Self {
        Self {
            length: 32.0 * std::f64::consts::PI,
            points: 128,
            dt: 0.25,
            contour: 16,
            x0: None,
        }
    }
}

/// The ETDRK4 stepper of a [`KuramotoSivashinsky`] set-up.
#[derive(Clone, Debug)]
pub struct KsSolver {
    g: Vec<C>,
    e: Vec<f64>,
    e2: Vec<f64>,
    q: Vec<f64>,
    f: [Vec<f64>; 3],
}

impl KuramotoSivashinsky {
    /// Grid positions `x_j = L (j+1)/N`.
    pub fn grid(&self) -> Vec<f64> {
        let n = self.points as f64;
        (0..self.points)
            .map(|j| self.length * (j + 1) as f64 / n)
            .collect()
    }

    /// The initial field.
    ///
    /// # Errors
    /// An `x0` whose length is not `N`, or that is not finite.
    pub fn initial(&self) -> Result<Vec<f64>> {
        match &self.x0 {
            Some(u) => {
                crate::util::mismatch("KS initial field length", self.points, u.len())?;
                crate::error::check_finite("KS initial field", u)?;
                Ok(u.clone())
            }
            None => {
                let w = 2.0 * std::f64::consts::PI / self.length;
                Ok(self
                    .grid()
                    .iter()
                    .map(|x| (w * x).cos() * (1.0 + (w * x).sin()))
                    .collect())
            }
        }
    }

    /// The stepper (coefficients computed once).
    ///
    /// # Errors
    /// `N` not a power of two ≥ 4, `M` 0, or `L`, `h` not positive.
    pub fn solver(&self) -> Result<KsSolver> {
        positive("length", self.length)?;
        positive("dt", self.dt)?;
        if self.points < 4 || !self.points.is_power_of_two() {
            let reason = "must be a power of two, at least 4";
            return Err(invalid("points", self.points as f64, reason));
        }
        if self.contour == 0 {
            return Err(invalid("contour", 0.0, "must be at least 1"));
        }
        Ok(KsSolver::new(self))
    }

    /// `steps × N` samples of `u`, the first being the initial field.
    ///
    /// # Errors
    /// As [`KuramotoSivashinsky::solver`] and
    /// [`KuramotoSivashinsky::initial`], more samples than memory holds, or
    /// [`Error::Diverged`].
    pub fn generate(&self, steps: usize) -> Result<Mat<f64>> {
        let solver = self.solver()?;
        let mut u = self.initial()?;
        crate::budget::check_matrix("the generated series", steps, self.points)?;
        let mut out = Mat::zeros(steps, self.points);
        for t in 0..steps {
            u.iter().enumerate().for_each(|(j, v)| out[(t, j)] = *v);
            u = solver.step(&u);
            if u.iter().any(|v| !v.is_finite()) {
                let what = "Kuramoto-Sivashinsky";
                return Err(Error::Diverged { what, step: t });
            }
        }
        Ok(out)
    }
}

/// Contour means of the ETDRK4 coefficients for one `hL̂`:
/// `(Q, f₁, f₂, f₃)`, each times `h`.
fn coefficients(hl: f64, h: f64, m: usize) -> [f64; 4] {
    let mut acc = [0.0; 4];
    for p in 1..=m {
        let r = C::cis(std::f64::consts::PI * (p as f64 - 0.5) / m as f64);
        let z = r + C::new(hl, 0.0);
        let (ez, z3) = (z.exp(), z * z * z);
        let one = |re: f64| C::new(re, 0.0);
        let q = (z.scale(0.5).exp() - one(1.0)).div(z);
        let f1 = (one(-4.0) - z + ez * (one(4.0) - z.scale(3.0) + z * z)).div(z3);
        let f2 = (one(2.0) + z + ez * (one(-2.0) + z)).div(z3);
        let f3 = (one(-4.0) - z.scale(3.0) - z * z + ez * (one(4.0) - z)).div(z3);
        for (a, v) in acc.iter_mut().zip([q, f1, f2, f3]) {
            *a += v.re;
        }
    }
    acc.map(|a| h * a / m as f64)
}

impl KsSolver {
    fn new(ks: &KuramotoSivashinsky) -> Self {
        let (n, h) = (ks.points, ks.dt);
        let k: Vec<f64> = (0..n)
            .map(|j| match j {
                j if j < n / 2 => j as f64,
                j if j == n / 2 => 0.0,
                j => j as f64 - n as f64,
            })
            .map(|j| 2.0 * std::f64::consts::PI * j / ks.length)
            .collect();
        let l: Vec<f64> = k.iter().map(|k| k * k - k.powi(4)).collect();
        let c: Vec<[f64; 4]> = l
            .iter()
            .map(|l| coefficients(h * l, h, ks.contour))
            .collect();
        Self {
            g: k.iter().map(|k| C::new(0.0, -0.5 * k)).collect(),
            e: l.iter().map(|l| (h * l).exp()).collect(),
            e2: l.iter().map(|l| (h * l / 2.0).exp()).collect(),
            q: c.iter().map(|c| c[0]).collect(),
            f: [1, 2, 3].map(|i| c.iter().map(|c| c[i]).collect()),
        }
    }

    /// `N̂(v) = −½ i k F[(F⁻¹ v)²]`.
    pub(crate) fn nonlinear(&self, v: &[C]) -> Vec<C> {
        let mut u = v.to_vec();
        fft(&mut u, true);
        u.iter_mut().for_each(|z| *z = C::new(z.re * z.re, 0.0));
        fft(&mut u, false);
        u.iter().zip(&self.g).map(|(a, g)| *a * *g).collect()
    }

    /// One ETDRK4 step of the field `u` (real, `N` values).
    pub fn step(&self, u: &[f64]) -> Vec<f64> {
        let mut v: Vec<C> = u.iter().map(|x| C::new(*x, 0.0)).collect();
        fft(&mut v, false);
        let nv = self.nonlinear(&v);
        let comb = |x: &[C], y: &[C]| -> Vec<C> {
            (0..x.len())
                .map(|j| x[j].scale(self.e2[j]) + y[j].scale(self.q[j]))
                .collect()
        };
        let a = comb(&v, &nv);
        let na = self.nonlinear(&a);
        let b = comb(&v, &na);
        let nb = self.nonlinear(&b);
        let twice: Vec<C> = (0..v.len()).map(|j| nb[j].scale(2.0) - nv[j]).collect();
        let c = comb(&a, &twice);
        let nc = self.nonlinear(&c);
        let [f1, f2, f3] = &self.f;
        let mut next: Vec<C> = (0..v.len())
            .map(|j| {
                v[j].scale(self.e[j])
                    + nv[j].scale(f1[j])
                    + (na[j] + nb[j]).scale(2.0 * f2[j])
                    + nc[j].scale(f3[j])
            })
            .collect();
        fft(&mut next, true);
        next.iter().map(|z| z.re).collect()
    }
}

#[cfg(test)]
#[path = "ks_tests.rs"]
mod tests;
