//! Adaptive Bogacki–Shampine RK3(2) with dense output, as SciPy's
//! `solve_ivp(method="RK23", t_eval=…)` integrates (Bogacki & Shampine
//! 1989, "A 3(2) pair of Runge–Kutta formulas", *Appl. Math. Lett.* 2(4);
//! step control of Hairer, Nørsett & Wanner, *Solving ODEs I*, II.4).
//!
//! ```text
//! k₁ = f(t, y), k₂ = f(t + h/2, y + h k₁/2), k₃ = f(t + 3h/4, y + 3h k₂/4)
//! y⁺ = y + h (2k₁ + 3k₂ + 4k₃)/9,  k₄ = f(t + h, y⁺)
//! err = h (5k₁/72 − k₂/12 − k₃/9 + k₄/8),  ‖err / (atol + rtol max(|y|, |y⁺|))‖_rms < 1
//! h ← h · clamp(0.9 ‖·‖^(−1/3), 0.2, 10)   (no growth right after a rejection)
//! y(t + θh) = y + h Σ_i k_i (θ P_i1 + θ² P_i2 + θ³ P_i3)    (dense output)
//! ```
//!
//! The Lorenz-63 results of Gauthier et al. (2021) depend on it: their
//! series comes from SciPy's RK23 at its default tolerances
//! (`rtol = 1e-3`, `atol = 1e-6`), whose integration error regularises the
//! fit; on an accurate (RK4, small step) series the paper's ridge of
//! `2.5·10⁻⁶` lets the closed loop diverge.

use faer::Mat;

use crate::error::{Error, Result};

const B: [f64; 3] = [2.0 / 9.0, 1.0 / 3.0, 4.0 / 9.0];
const E: [f64; 4] = [5.0 / 72.0, -1.0 / 12.0, -1.0 / 9.0, 1.0 / 8.0];
const P: [[f64; 3]; 4] = [
    [1.0, -4.0 / 3.0, 5.0 / 9.0],
    [0.0, 1.0, -2.0 / 3.0],
    [0.0, 4.0 / 3.0, -8.0 / 9.0],
    [0.0, -1.0, 1.0],
];

type State = [f64; 3];

fn axpy(y: &State, h: f64, k: &State) -> State {
    [y[0] + h * k[0], y[1] + h * k[1], y[2] + h * k[2]]
}

fn rms(v: impl Iterator<Item = f64>) -> f64 {
    (v.map(|x| x * x).sum::<f64>() / 3.0).sqrt()
}

/// SciPy's `select_initial_step` for an error estimator of order 2.
fn initial_step(f: &impl Fn(&State) -> State, y0: &State, f0: &State, tol: (f64, f64)) -> f64 {
    let scale: Vec<f64> = y0.iter().map(|y| tol.1 + y.abs() * tol.0).collect();
    let d0 = rms((0..3).map(|i| y0[i] / scale[i]));
    let d1 = rms((0..3).map(|i| f0[i] / scale[i]));
    let h0 = if d0 < 1e-5 || d1 < 1e-5 {
        1e-6
    } else {
        0.01 * d0 / d1
    };
    let f1 = f(&axpy(y0, h0, f0));
    let d2 = rms((0..3).map(|i| (f1[i] - f0[i]) / scale[i])) / h0;
    let h1 = if d1 <= 1e-15 && d2 <= 1e-15 {
        (h0 * 1e-3).max(1e-6)
    } else {
        (0.01 / d1.max(d2)).powf(1.0 / 3.0)
    };
    (100.0 * h0).min(h1)
}

/// One attempted step of size `h` from `(y, k₁)`: `y⁺`, the four stages
/// and the scaled error norm.
fn attempt(
    f: &impl Fn(&State) -> State,
    y: &State,
    k1: State,
    h: f64,
    tol: (f64, f64),
) -> (State, [State; 4], f64) {
    let k2 = f(&axpy(y, h / 2.0, &k1));
    let k3 = f(&axpy(y, 3.0 * h / 4.0, &k2));
    let y_new: State =
        std::array::from_fn(|i| y[i] + h * (B[0] * k1[i] + B[1] * k2[i] + B[2] * k3[i]));
    let ks = [k1, k2, k3, f(&y_new)];
    let err = rms((0..3).map(|i| {
        let e: f64 = (0..4).map(|s| E[s] * ks[s][i]).sum::<f64>() * h;
        e / (tol.1 + y[i].abs().max(y_new[i].abs()) * tol.0)
    }));
    (y_new, ks, err)
}

/// The accepted step from `(t, y, k₁)` towards `t_end`: `(y⁺, stages, h)`,
/// with `h_next` updated; `None` if the step underflows or the error is not
/// finite.
fn accepted_step(
    f: &impl Fn(&State) -> State,
    (t, y, k1): (f64, &State, State),
    t_end: f64,
    h_next: &mut f64,
    tol: (f64, f64),
) -> Option<(State, [State; 4], f64)> {
    let mut rejected = false;
    loop {
        let h = h_next.min(t_end - t);
        if h <= 10.0 * f64::EPSILON * t.abs().max(1.0) {
            return None;
        }
        let (y_new, ks, err) = attempt(f, y, k1, h, tol);
        if !err.is_finite() {
            return None;
        }
        if err < 1.0 {
            let grow = if err == 0.0 {
                10.0
            } else {
                (0.9 * err.powf(-1.0 / 3.0)).min(10.0)
            };
            *h_next = h * if rejected { grow.min(1.0) } else { grow };
            return Some((y_new, ks, h));
        }
        *h_next = h * (0.9 * err.powf(-1.0 / 3.0)).max(0.2);
        rejected = true;
    }
}

/// `y(t)` at the `rows` times `t_r = r · t_end / (rows − 1)` (NumPy's
/// `linspace(0, t_end, rows)`) of `y' = f(y)`, `y(0) = y0`, by adaptive
/// RK23 with tolerances `(rtol, atol)` and dense output.
///
/// # Errors
/// [`Error::Diverged`] when a value stops being finite or the step
/// underflows.
pub fn integrate(
    f: impl Fn(&State) -> State,
    y0: State,
    t_end: f64,
    rows: usize,
    tol: (f64, f64),
) -> Result<Mat<f64>> {
    let dt = t_end / rows.saturating_sub(1).max(1) as f64;
    let mut out = Mat::zeros(rows, 3);
    (0..3).for_each(|j| out[(0, j)] = y0[j]);
    let (mut t, mut y, mut k1) = (0.0, y0, f(&y0));
    let mut h = initial_step(&f, &y0, &k1, tol);
    let mut next_row = 1;
    while next_row < rows {
        let Some((y_new, ks, step)) = accepted_step(&f, (t, &y, k1), t_end, &mut h, tol) else {
            return Err(Error::Diverged {
                what: "RK23",
                step: next_row,
            });
        };
        let t_new = t + step;
        let last = |r: usize| r == rows - 1 && t_new >= t_end;
        while next_row < rows && (dt * next_row as f64 <= t_new || last(next_row)) {
            let theta = (dt * next_row as f64 - t) / step;
            let powers = [theta, theta * theta, theta * theta * theta];
            for i in 0..3 {
                let q: f64 = (0..4)
                    .map(|s| ks[s][i] * (0..3).map(|p| P[s][p] * powers[p]).sum::<f64>())
                    .sum();
                out[(next_row, i)] = y[i] + step * q;
            }
            next_row += 1;
        }
        (t, y, k1) = (t_new, y_new, ks[3]);
    }
    Ok(out)
}
