//! Chaotic maps, iterated exactly (no integration error).
//!
//! * **Hénon** (Hénon 1976, *Commun. Math. Phys.* 50):
//!   `x(t+1) = 1 − a x(t)² + y(t)`, `y(t+1) = b x(t)`, with `a = 1.4`,
//!   `b = 0.3`, `(x₀, y₀) = (0, 0)` (ReservoirPy's `henon_map` defaults).
//!   Its Jacobian has determinant `−b` (areas shrink by `b` each step); the
//!   largest Lyapunov exponent is ≈ 0.419 per step.
//! * **Logistic** (May 1976, *Nature* 261): `x(t+1) = r x(t) (1 − x(t))`, with
//!   `r = 3.9`, `x₀ = 0.5` (ReservoirPy's `logistic_map` defaults). At
//!   `r = 4` it is conjugate to the doubling map, `x(t) = sin²(2ᵗ θ₀)` with
//!   `x₀ = sin² θ₀`, and its Lyapunov exponent is `ln 2`.

use serde::{Deserialize, Serialize};

use super::DiscreteMap;

/// The Hénon map.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Henon {
    /// `a`.
    pub a: f64,
    /// `b`.
    pub b: f64,
    /// Initial `(x, y)`.
    pub x0: [f64; 2],
}

impl Default for Henon {
    fn default() -> Self {
        Self {
            a: 1.4,
            b: 0.3,
            x0: [0.0, 0.0],
        }
    }
}

impl Henon {
    /// The fixed point `x* = y*/b` in the attractor's basin:
    /// `x* = (−(1 − b) + √((1 − b)² + 4a)) / 2a`.
    pub fn fixed_point(&self) -> [f64; 2] {
        let (a, b) = (self.a, self.b);
        let x = (-(1.0 - b) + ((1.0 - b).powi(2) + 4.0 * a).sqrt()) / (2.0 * a);
        [x, b * x]
    }
}

impl DiscreteMap for Henon {
    const NAME: &'static str = "Hénon map";

    fn dim(&self) -> usize {
        2
    }

    fn apply(&self, s: &[f64], next: &mut [f64]) {
        next[0] = 1.0 - self.a * s[0] * s[0] + s[1];
        next[1] = self.b * s[0];
    }

    fn initial(&self) -> Vec<f64> {
        self.x0.to_vec()
    }
}

/// The logistic map.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Logistic {
    /// Growth rate `r` (chaotic for most `r` in `[3.57, 4]`).
    pub r: f64,
    /// Initial value in `(0, 1)`.
    pub x0: f64,
}

impl Default for Logistic {
    fn default() -> Self {
        Self { r: 3.9, x0: 0.5 }
    }
}

impl DiscreteMap for Logistic {
    const NAME: &'static str = "logistic map";

    fn dim(&self) -> usize {
        1
    }

    fn apply(&self, s: &[f64], next: &mut [f64]) {
        next[0] = self.r * s[0] * (1.0 - s[0]);
    }

    fn initial(&self) -> Vec<f64> {
        vec![self.x0]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn henon_fixed_point_is_fixed_and_orbit_stays_bounded() {
        let h = Henon::default();
        let p = h.fixed_point();
        let mut next = [0.0; 2];
        h.apply(&p, &mut next);
        assert!((next[0] - p[0]).abs() < 1e-14 && (next[1] - p[1]).abs() < 1e-14);
        assert!((p[0] - 0.631_354_477).abs() < 1e-8, "{p:?}");
        let orbit = h.generate(10_000).unwrap();
        assert!((0..10_000).all(|t| orbit[(t, 0)].abs() < 1.5));
    }

    #[test]
    fn henon_contracts_areas_by_b() {
        // A small triangle's area shrinks by |det J| = b each step.
        let h = Henon::default();
        let area = |p: [[f64; 2]; 3]| {
            0.5 * ((p[1][0] - p[0][0]) * (p[2][1] - p[0][1])
                - (p[2][0] - p[0][0]) * (p[1][1] - p[0][1]))
                .abs()
        };
        let e = 1e-6;
        let tri = [[0.3, 0.1], [0.3 + e, 0.1], [0.3, 0.1 + e]];
        let mut next = [[0.0; 2]; 3];
        (0..3).for_each(|i| h.apply(&tri[i], &mut next[i]));
        assert!((area(next) / area(tri) - h.b).abs() < 1e-5);
    }

    #[test]
    fn logistic_at_four_is_the_doubling_map() {
        let theta0: f64 = 0.3;
        let m = Logistic {
            r: 4.0,
            x0: theta0.sin().powi(2),
        };
        let x = m.generate(20).unwrap();
        for t in 0..20 {
            let exact = (2f64.powi(t as i32) * theta0).sin().powi(2);
            // The doubling map amplifies rounding by 2 per step.
            assert!((x[(t, 0)] - exact).abs() < 1e-15 * 4f64.powi(t as i32 + 1));
        }
    }
}
