//! The largest Lyapunov exponent by Benettin's method (Benettin, Galgani,
//! Giorgilli & Strelcyn 1980, *Meccanica* 15): a reference trajectory and a
//! companion started `d₀` away are advanced together; every `k` steps their
//! distance `dᵢ` is measured and the companion is pulled back to distance
//! `d₀` along the same direction, and
//!
//! ```text
//! λ = Σᵢ ln(dᵢ / d₀) / (R k Δt)
//! ```
//!
//! over `R` renormalisations (`Δt = 1` for maps and ESNs, the RK4 step for
//! flows). The first `transient` steps bring the reference onto the
//! attractor and are not counted. Literature values for the defaults here:
//! Lorenz-63 ≈ 0.906, Hénon ≈ 0.419, logistic `r = 4` → `ln 2`, Rössler
//! (`a = b = 0.2`, `c = 5.7`) ≈ 0.071 (Sprott 2003, *Chaos and Time-Series
//! Analysis*, appendix A).

use serde::{Deserialize, Serialize};

use super::{DiscreteMap, Flow, Rk4};
use crate::config::positive;
use crate::error::{invalid, Error, Result};
use crate::generators::Lorenz;
use crate::rng::Rng;

/// Settings of Benettin's method.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LyapunovOptions {
    /// Initial and renormalised separation `d₀`.
    pub separation: f64,
    /// Steps run before measuring.
    pub transient: usize,
    /// Renormalisations `R`.
    pub renormalisations: usize,
    /// Steps `k` between renormalisations.
    pub every: usize,
    /// Seed of the initial direction of the separation.
    pub seed: u64,
}

impl Default for LyapunovOptions {
    fn default() -> Self {
        Self {
            separation: 1e-8,
            transient: 1000,
            renormalisations: 20_000,
            every: 1,
            seed: 0,
        }
    }
}

impl LyapunovOptions {
    fn check(&self) -> Result<()> {
        positive("separation", self.separation)?;
        if self.renormalisations == 0 || self.every == 0 {
            let reason = "renormalisations and every must be at least 1";
            return Err(invalid("Lyapunov steps", 0.0, reason));
        }
        Ok(())
    }
}

/// Benettin's method on any step `x ← g(x)`; returns `λ` per step.
///
/// # Errors
/// Invalid options, an empty state, an error of `step`, or
/// [`Error::Diverged`] when the trajectories stop being finite.
pub fn benettin<G>(mut step: G, x0: Vec<f64>, opts: &LyapunovOptions) -> Result<f64>
where
    G: FnMut(&mut [f64]) -> Result<()>,
{
    opts.check()?;
    if x0.is_empty() {
        return Err(Error::EmptySeries { what: "state" });
    }
    let mut x = x0;
    for _ in 0..opts.transient {
        step(&mut x)?;
    }
    let mut rng = Rng::stream(opts.seed, "lyapunov/direction");
    let dir: Vec<f64> = (0..x.len()).map(|_| rng.normal()).collect();
    let mut y = rescaled(&x, &dir, opts.separation);
    let mut sum = 0.0;
    for r in 0..opts.renormalisations {
        for _ in 0..opts.every {
            step(&mut x)?;
            step(&mut y)?;
        }
        let diff: Vec<f64> = y.iter().zip(&x).map(|(a, b)| a - b).collect();
        let d = diff.iter().map(|v| v * v).sum::<f64>().sqrt();
        if !d.is_finite() || d == 0.0 {
            return Err(Error::Diverged {
                what: "Lyapunov exponent",
                step: r,
            });
        }
        sum += (d / opts.separation).ln();
        y = rescaled(&x, &diff, opts.separation);
    }
    Ok(sum / (opts.renormalisations * opts.every) as f64)
}

/// `x + d₀ v / ‖v‖` (`v` falls back to the first axis when 0).
fn rescaled(x: &[f64], v: &[f64], d0: f64) -> Vec<f64> {
    let n = v.iter().map(|a| a * a).sum::<f64>().sqrt();
    x.iter()
        .zip(v)
        .enumerate()
        .map(|(i, (a, b))| match n > 0.0 {
            true => a + d0 * b / n,
            false => a + if i == 0 { d0 } else { 0.0 },
        })
        .collect()
}

/// Largest Lyapunov exponent of a flow, per unit time.
///
/// # Errors
/// As [`benettin`], and a step that is not positive.
pub fn flow_exponent<F: Flow>(f: &F, opts: &LyapunovOptions) -> Result<f64> {
    let h = f.rk4_step()?;
    let mut rk = Rk4::new(f.dim());
    let step = |s: &mut [f64]| {
        (0..f.substeps()).for_each(|_| rk.step(f, s, h));
        Ok(())
    };
    Ok(benettin(step, f.initial(), opts)? / f.dt())
}

/// Largest Lyapunov exponent of a map, per iteration.
///
/// # Errors
/// As [`benettin`].
pub fn map_exponent<M: DiscreteMap>(m: &M, opts: &LyapunovOptions) -> Result<f64> {
    let mut next = vec![0.0; m.dim()];
    let step = |s: &mut [f64]| {
        m.apply(s, &mut next);
        s.copy_from_slice(&next);
        Ok(())
    };
    benettin(step, m.initial(), opts)
}

impl Flow for Lorenz {
    const NAME: &'static str = "Lorenz-63";
    fn dim(&self) -> usize {
        3
    }
    fn derivative(&self, s: &[f64], ds: &mut [f64]) {
        ds.copy_from_slice(&Lorenz::derivative(self, [s[0], s[1], s[2]]));
    }
    fn dt(&self) -> f64 {
        self.dt
    }
    fn initial(&self) -> Vec<f64> {
        self.x0.to_vec()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::systems::flows::Rossler;
    use crate::systems::maps::{Henon, Logistic};

    #[test]
    fn lorenz63_exponent_is_the_literature_value() {
        let opts = LyapunovOptions {
            renormalisations: 100_000,
            ..Default::default()
        };
        let l = flow_exponent(&Lorenz::default(), &opts).unwrap();
        assert!((l - 0.906).abs() < 0.03, "{l}");
    }

    #[test]
    fn rossler_exponent_is_the_literature_value() {
        let opts = LyapunovOptions {
            renormalisations: 200_000,
            ..Default::default()
        };
        let l = flow_exponent(&Rossler::default(), &opts).unwrap();
        assert!((l - 0.071).abs() < 0.01, "{l}");
    }

    #[test]
    fn map_exponents_are_the_literature_values() {
        let h = map_exponent(&Henon::default(), &LyapunovOptions::default()).unwrap();
        assert!((h - 0.419).abs() < 0.01, "Hénon {h}");
        // (A companion pushed past 1 escapes to −∞: a small separation and
        // this deterministic orbit avoid it.)
        let logistic = Logistic { r: 4.0, x0: 0.3 };
        let opts = LyapunovOptions {
            separation: 1e-10,
            renormalisations: 20_000,
            ..Default::default()
        };
        let l = map_exponent(&logistic, &opts).unwrap();
        assert!((l - std::f64::consts::LN_2).abs() < 0.01, "logistic {l}");
    }

    #[test]
    fn bad_options_are_typed_errors() {
        let opts = LyapunovOptions {
            separation: -1.0,
            ..Default::default()
        };
        assert!(matches!(
            map_exponent(&Henon::default(), &opts),
            Err(Error::InvalidParameter {
                name: "separation",
                ..
            })
        ));
    }
}
