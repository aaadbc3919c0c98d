//! Chaotic flows, integrated by classical RK4 ([`super::Rk4`]) with
//! `substeps` fixed steps of `dt / substeps` per sample. The parameters,
//! initial states and sampling intervals `dt` are ReservoirPy 0.4's for the
//! same systems (which integrates them adaptively with SciPy's RK45); the
//! substeps make the fixed-step RK4 accurate to about 1e-6 over a few
//! Lyapunov times (checked against half the step in the tests).
//!
//! * **Rössler** (Rössler 1976, *Phys. Lett. A* 57): `ẋ = −y − z`,
//!   `ẏ = x + a y`, `ż = b + z (x − c)`; `a = b = 0.2`, `c = 5.7`,
//!   `s₀ = (−0.1, 0, 0.02)`, `dt = 0.1`, 10 substeps. Largest Lyapunov exponent ≈ 0.071.
//! * **Lorenz-96** (Lorenz 1996, ECMWF seminar on predictability):
//!   `ẋᵢ = (xᵢ₊₁ − xᵢ₋₂) xᵢ₋₁ − xᵢ + F`, indices modulo `N`; `N = 36`,
//!   `F = 8`, `s₀ = F` with `x₀ += 0.01`, `dt = 0.01`, 5 substeps. The advection term
//!   conserves `Σ xᵢ²`, so `d/dt ½Σxᵢ² = −Σxᵢ² + F Σxᵢ`.
//! * **Multiscroll** (the Chen system, Chen & Ueta 1999, *Int. J. Bifurcation
//!   and Chaos* 9): `ẋ = a (y − x)`, `ẏ = (c − a) x − x z + c y`,
//!   `ż = x y − b z`; `a = 40`, `b = 3`, `c = 28`, `s₀ = (−0.1, 0.5, −0.6)`,
//!   `dt = 0.01`, 10 substeps.
//! * **Double scroll** (the double-scroll electronic circuit, Chang et al.
//!   1998, as in Gilpin's `dysts`): with `Δ = V₁ − V₂`,
//!   `g = Δ / r₂ + I_r sinh(β Δ)`: `V̇₁ = V₁ / r₁ − g`, `V̇₂ = g − I`,
//!   `İ = V₂ − r₄ I`; `r₁ = 1.2`, `r₂ = 3.44`, `r₄ = 0.193`,
//!   `I_r = 4.5·10⁻⁵`, `β = 11.6`, `s₀ = (0.37926545, 0.058339, −0.08167691)`,
//!   `dt = 0.25`, 25 substeps. The field is odd: `f(−s) = −f(s)`.
//! * **Rabinovich–Fabrikant** (Rabinovich & Fabrikant 1979, *Sov. Phys. JETP*
//!   50): `ẋ = y (z − 1 + x²) + γ x`, `ẏ = x (3z + 1 − x²) + γ y`,
//!   `ż = −2 z (α + x y)`; `α = 1.1`, `γ = 0.87` (the classic chaotic
//!   values; ReservoirPy's `γ = 0.89` sends this initial state to infinity
//!   within a few thousand samples under RK4), `s₀ = (−1, 0, 0.5)`,
//!   `dt = 0.05`, 5 substeps. The plane `z = 0` is invariant.

use serde::{Deserialize, Serialize};

use super::Flow;

/// The Rössler system.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Rossler {
    /// `a`.
    pub a: f64,
    /// `b`.
    pub b: f64,
    /// `c`.
    pub c: f64,
    /// Sampling interval.
    pub dt: f64,
    /// RK4 steps per sample.
    pub substeps: usize,
    /// Initial state.
    pub x0: [f64; 3],
}

impl Default for Rossler {
    fn default() -> Self {
        Self {
            a: 0.2,
            b: 0.2,
            c: 5.7,
            dt: 0.1,
            substeps: 10,
            x0: [-0.1, 0.0, 0.02],
        }
    }
}

impl Rossler {
    /// The two equilibria `(a z, −z, z)` with `a z² − c z + b = 0`.
    pub fn fixed_points(&self) -> [[f64; 3]; 2] {
        let d = (self.c * self.c - 4.0 * self.a * self.b).sqrt();
        [-1.0, 1.0].map(|sign| {
            let z = (self.c + sign * d) / (2.0 * self.a);
            [self.a * z, -z, z]
        })
    }
}

impl Flow for Rossler {
    const NAME: &'static str = "Rössler";
    fn dim(&self) -> usize {
        3
    }
    fn derivative(&self, s: &[f64], ds: &mut [f64]) {
        ds[0] = -s[1] - s[2];
        ds[1] = s[0] + self.a * s[1];
        ds[2] = self.b + s[2] * (s[0] - self.c);
    }
    fn dt(&self) -> f64 {
        self.dt
    }
    fn substeps(&self) -> usize {
        self.substeps
    }
    fn initial(&self) -> Vec<f64> {
        self.x0.to_vec()
    }
}

/// The Lorenz-96 system of `n` variables.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Lorenz96 {
    /// Number of variables `N` (at least 4).
    pub n: usize,
    /// Forcing `F`.
    pub forcing: f64,
    /// Sampling interval.
    pub dt: f64,
    /// RK4 steps per sample.
    pub substeps: usize,
    /// Added to `x₀` of the equilibrium `xᵢ = F` to start the chaos.
    pub perturbation: f64,
}

impl Default for Lorenz96 {
    fn default() -> Self {
        Self {
            n: 36,
            forcing: 8.0,
            dt: 0.01,
            substeps: 5,
            perturbation: 0.01,
        }
    }
}

impl Flow for Lorenz96 {
    const NAME: &'static str = "Lorenz-96";
    fn dim(&self) -> usize {
        self.n
    }
    fn derivative(&self, s: &[f64], ds: &mut [f64]) {
        let n = s.len();
        for i in 0..n {
            let (p1, m1, m2) = (s[(i + 1) % n], s[(i + n - 1) % n], s[(i + n - 2) % n]);
            ds[i] = (p1 - m2) * m1 - s[i] + self.forcing;
        }
    }
    fn dt(&self) -> f64 {
        self.dt
    }
    fn substeps(&self) -> usize {
        self.substeps
    }
    fn initial(&self) -> Vec<f64> {
        let mut s = vec![self.forcing; self.n];
        if let Some(first) = s.first_mut() {
            *first += self.perturbation;
        }
        s
    }
}

/// The multiscroll (Chen) attractor.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Multiscroll {
    /// `a`.
    pub a: f64,
    /// `b`.
    pub b: f64,
    /// `c`.
    pub c: f64,
    /// Sampling interval.
    pub dt: f64,
    /// RK4 steps per sample.
    pub substeps: usize,
    /// Initial state.
    pub x0: [f64; 3],
}

impl Default for Multiscroll {
    fn default() -> Self {
        Self {
            a: 40.0,
            b: 3.0,
            c: 28.0,
            dt: 0.01,
            substeps: 10,
            x0: [-0.1, 0.5, -0.6],
        }
    }
}

impl Multiscroll {
    /// The equilibria `(±√(b(2c − a)), ±√(b(2c − a)), 2c − a)` (for
    /// `2c > a`).
    pub fn fixed_points(&self) -> [[f64; 3]; 2] {
        let z = 2.0 * self.c - self.a;
        let r = (self.b * z).sqrt();
        [[r, r, z], [-r, -r, z]]
    }
}

impl Flow for Multiscroll {
    const NAME: &'static str = "multiscroll";
    fn dim(&self) -> usize {
        3
    }
    fn derivative(&self, s: &[f64], ds: &mut [f64]) {
        let [x, y, z] = [s[0], s[1], s[2]];
        ds[0] = self.a * (y - x);
        ds[1] = (self.c - self.a) * x - x * z + self.c * y;
        ds[2] = x * y - self.b * z;
    }
    fn dt(&self) -> f64 {
        self.dt
    }
    fn substeps(&self) -> usize {
        self.substeps
    }
    fn initial(&self) -> Vec<f64> {
        self.x0.to_vec()
    }
}

/// The double scroll circuit.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DoubleScroll {
    /// `r₁`.
    pub r1: f64,
    /// `r₂`.
    pub r2: f64,
    /// `r₄`.
    pub r4: f64,
    /// Diode current scale `I_r`.
    pub ir: f64,
    /// Diode exponent `β`.
    pub beta: f64,
    /// Sampling interval.
    pub dt: f64,
    /// RK4 steps per sample.
    pub substeps: usize,
    /// Initial `(V₁, V₂, I)`.
    pub x0: [f64; 3],
}

impl Default for DoubleScroll {
    fn default() -> Self {
        Self {
            r1: 1.2,
            r2: 3.44,
            r4: 0.193,
            ir: 2.0 * 2.25e-5,
            beta: 11.6,
            dt: 0.25,
            substeps: 25,
            x0: [0.37926545, 0.058339, -0.08167691],
        }
    }
}

impl Flow for DoubleScroll {
    const NAME: &'static str = "double scroll";
    fn dim(&self) -> usize {
        3
    }
    fn derivative(&self, s: &[f64], ds: &mut [f64]) {
        let dv = s[0] - s[1];
        let g = dv / self.r2 + self.ir * (self.beta * dv).sinh();
        ds[0] = s[0] / self.r1 - g;
        ds[1] = g - s[2];
        ds[2] = s[1] - self.r4 * s[2];
    }
    fn dt(&self) -> f64 {
        self.dt
    }
    fn substeps(&self) -> usize {
        self.substeps
    }
    fn initial(&self) -> Vec<f64> {
        self.x0.to_vec()
    }
}

/// The Rabinovich–Fabrikant system.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RabinovichFabrikant {
    /// `α`.
    pub alpha: f64,
    /// `γ`.
    pub gamma: f64,
    /// Sampling interval.
    pub dt: f64,
    /// RK4 steps per sample.
    pub substeps: usize,
    /// Initial state.
    pub x0: [f64; 3],
}

impl Default for RabinovichFabrikant {
    fn default() -> Self {
        Self {
            alpha: 1.1,
            gamma: 0.87,
            dt: 0.05,
            substeps: 5,
            x0: [-1.0, 0.0, 0.5],
        }
    }
}

impl Flow for RabinovichFabrikant {
    const NAME: &'static str = "Rabinovich-Fabrikant";
    fn dim(&self) -> usize {
        3
    }
    fn derivative(&self, s: &[f64], ds: &mut [f64]) {
        let [x, y, z] = [s[0], s[1], s[2]];
        ds[0] = y * (z - 1.0 + x * x) + self.gamma * x;
        ds[1] = x * (3.0 * z + 1.0 - x * x) + self.gamma * y;
        ds[2] = -2.0 * z * (self.alpha + x * y);
    }
    fn dt(&self) -> f64 {
        self.dt
    }
    fn substeps(&self) -> usize {
        self.substeps
    }
    fn initial(&self) -> Vec<f64> {
        self.x0.to_vec()
    }
}

#[cfg(test)]
#[path = "flows_tests.rs"]
mod tests;
