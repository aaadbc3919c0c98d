//! Benchmark series: Mackey-Glass, NARMA-10 and Lorenz-63.
//!
//! * **Mackey-Glass** (Mackey & Glass 1977, *Science* 197):
//!   `dx/dt = a x(t−τ) / (1 + x(t−τ)ⁿ) − b x(t)`, with `τ = 17`, `a = 0.2`,
//!   `b = 0.1`, `n = 10`, `x₀ = 1.2`. Integration scheme: the discretisation of
//!   ReservoirPy's `mackey_glass` — classical RK4 with step `h` (default 1)
//!   in which the delayed value `x(t−τ)` is frozen over the step and read from
//!   a history buffer of `L = ⌊τ/h⌋` past samples (so the delay is `L·h`).
//!   The history starts constant at `x₀` or, with a history seed, at
//!   `x₀ + 0.2 (U[0,1) − 0.5)` as ReservoirPy does (its numbers differ, being
//!   drawn by NumPy). Sample `i` is the state at time `i·h`, sample 0 = `x₀`.
//! * **NARMA-10** (Atiya & Parlos 2000, *IEEE Trans. Neural Networks* 11(3)):
//!   `y(t+1) = 0.3 y(t) + 0.05 y(t) Σ_{i=0}^{9} y(t−i) + 1.5 u(t−9) u(t) + 0.1`,
//!   `u(t)` i.i.d. uniform on `[0, 0.5]`, `y = 0` before the start.
//! * **Lorenz-63** (Lorenz 1963, *J. Atmos. Sci.* 20):
//!   `ẋ = σ(y − x)`, `ẏ = x(ρ − z) − y`, `ż = xy − βz` with `σ = 10`,
//!   `ρ = 28`, `β = 8/3`, integrated by classical RK4 with step `dt`.

use std::collections::VecDeque;

use faer::Mat;
use serde::{Deserialize, Serialize};

use crate::config::positive;
use crate::error::{invalid, Error, Result};
use crate::rng::Rng;

/// Parameters of the Mackey-Glass generator.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MackeyGlass {
    /// Delay `τ`.
    pub tau: f64,
    /// Production coefficient `a`.
    pub a: f64,
    /// Decay coefficient `b`.
    pub b: f64,
    /// Exponent `n`.
    pub n: f64,
    /// Initial value `x₀`.
    pub x0: f64,
    /// RK4 step `h` (also the sampling interval).
    pub h: f64,
    /// `None`: constant history `x₀`; `Some(seed)`: `x₀ + 0.2 (U − 0.5)`.
    pub history_seed: Option<u64>,
}

impl Default for MackeyGlass {
    fn default() -> Self {
        Self {
            tau: 17.0,
            a: 0.2,
            b: 0.1,
            n: 10.0,
            x0: 1.2,
            h: 1.0,
            history_seed: None,
        }
    }
}

impl MackeyGlass {
    fn derivative(&self, x: f64, x_tau: f64) -> f64 {
        self.a * x_tau / (1.0 + x_tau.powf(self.n)) - self.b * x
    }

    fn rk4(&self, x: f64, x_tau: f64) -> f64 {
        let h = self.h;
        let k1 = h * self.derivative(x, x_tau);
        let k2 = h * self.derivative(x + 0.5 * k1, x_tau);
        let k3 = h * self.derivative(x + 0.5 * k2, x_tau);
        let k4 = h * self.derivative(x + k3, x_tau);
        x + k1 / 6.0 + k2 / 3.0 + k3 / 3.0 + k4 / 6.0
    }

    /// `steps` samples of the series.
    ///
    /// # Errors
    /// Invalid parameters, or [`crate::Error::Diverged`].
    pub fn generate(&self, steps: usize) -> Result<Vec<f64>> {
        positive("h", self.h)?;
        if !(self.tau.is_finite() && self.tau >= 0.0) {
            return Err(invalid("tau", self.tau, "must be finite and >= 0"));
        }
        let len = (self.tau / self.h).floor() as usize;
        let mut history: VecDeque<f64> = match self.history_seed {
            None => vec![self.x0; len].into(),
            Some(s) => {
                let mut rng = Rng::stream(s, "mackey_glass/history");
                (0..len)
                    .map(|_| self.x0 + 0.2 * (rng.uniform() - 0.5))
                    .collect()
            }
        };
        let mut x = self.x0;
        let mut out = Vec::with_capacity(steps);
        for step in 0..steps {
            out.push(x);
            let x_tau = match history.pop_front() {
                Some(old) => {
                    history.push_back(x);
                    old
                }
                None => 0.0,
            };
            x = self.rk4(x, x_tau);
            if !x.is_finite() {
                return Err(Error::Diverged {
                    what: "Mackey-Glass",
                    step,
                });
            }
        }
        Ok(out)
    }
}

/// A NARMA-10 input/output pair of equal length.
#[derive(Clone, Debug, PartialEq)]
pub struct Narma {
    /// The driving input `u(t)`.
    pub input: Vec<f64>,
    /// The system output `y(t)`.
    pub output: Vec<f64>,
}

/// `steps` steps of NARMA-10 driven by uniform input on `[0, 0.5]` drawn from
/// `seed`. The usual task maps `u(t)` to `y(t+1)` (which depends on `u(t)`
/// and `u(t−9)`).
///
/// # Errors
/// [`crate::Error::Diverged`].
pub fn narma10(steps: usize, seed: u64) -> Result<Narma> {
    let mut rng = Rng::stream(seed, "narma10/input");
    let input: Vec<f64> = (0..steps).map(|_| rng.uniform_in(0.0, 0.5)).collect();
    let mut output = vec![0.0; steps];
    for t in 9..steps.saturating_sub(1) {
        let sum: f64 = output[t - 9..=t].iter().sum();
        let y = output[t];
        output[t + 1] = 0.3 * y + 0.05 * y * sum + 1.5 * input[t - 9] * input[t] + 0.1;
        if !output[t + 1].is_finite() || output[t + 1].abs() > 1e6 {
            return Err(Error::Diverged {
                what: "NARMA-10",
                step: t + 1,
            });
        }
    }
    Ok(Narma { input, output })
}

/// Parameters of the Lorenz-63 system.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Lorenz {
    /// `σ`.
    pub sigma: f64,
    /// `ρ`.
    pub rho: f64,
    /// `β`.
    pub beta: f64,
    /// RK4 step and sampling interval.
    pub dt: f64,
    /// Initial state `(x, y, z)`.
    pub x0: [f64; 3],
}

impl Default for Lorenz {
    fn default() -> Self {
        Self {
            sigma: 10.0,
            rho: 28.0,
            beta: 8.0 / 3.0,
            dt: 0.01,
            x0: [1.0, 1.0, 1.0],
        }
    }
}

impl Lorenz {
    pub(crate) fn derivative(&self, s: [f64; 3]) -> [f64; 3] {
        let [x, y, z] = s;
        [
            self.sigma * (y - x),
            x * (self.rho - z) - y,
            x * y - self.beta * z,
        ]
    }

    /// `steps × 3` samples (columns x, y, z), the first being `x0`.
    ///
    /// # Errors
    /// Invalid parameters, or [`crate::Error::Diverged`].
    pub fn generate(&self, steps: usize) -> Result<Mat<f64>> {
        crate::systems::Flow::generate(self, steps)
    }
}
