//! Signals for memory and nonlinear-memory tasks.
//!
//! * **MSO-n**, multiple superimposed oscillators (Jaeger & Haas 2004 used
//!   two; Koryakin, Lohmann & Butz 2012, *Neural Networks* 36, up to twelve):
//!   `u(t) = Σ_{i=1}^{n} sin(αᵢ t)` at integer `t = 0, 1, …`, with
//!   `α = 0.2, 0.311, 0.42, 0.51, 0.63, 0.74, 0.85, 0.97, 1.08, 1.19, 1.27,
//!   1.32` ([`MSO_FREQUENCIES`]).
//! * **NARMA of order n** (Atiya & Parlos 2000, *IEEE Trans. Neural Networks*
//!   11(3)): `y(t+1) = α y(t) + β y(t) Σ_{i=0}^{n−1} y(t−i) + γ u(t−n+1) u(t)
//!   + δ`, `α = 0.3`, `β = 0.05`, `γ = 1.5`, `δ = 0.1`, `u(t)` i.i.d. uniform
//!   on `[0, 0.5]`, `y = 0` before the start. Order 10 is
//!   [`crate::generators::narma10`], sample for sample. (The form some papers
//!   use for order 20 and above, with a `tanh` and smaller `β`, is not this
//!   one; large orders of this form may diverge, reported as
//!   [`crate::Error::Diverged`].)

use crate::error::{invalid, Error, Result};
use crate::generators::Narma;
use crate::rng::Rng;

/// The MSO angular frequencies `α₁..α₁₂`.
pub const MSO_FREQUENCIES: [f64; 12] = [
    0.2, 0.311, 0.42, 0.51, 0.63, 0.74, 0.85, 0.97, 1.08, 1.19, 1.27, 1.32,
];

/// `steps` samples of MSO-`n` (`1 ≤ n ≤ 12`).
///
/// # Errors
/// `n` outside `1..=12`, or more samples than memory holds.
pub fn mso(n: usize, steps: usize) -> Result<Vec<f64>> {
    if !(1..=MSO_FREQUENCIES.len()).contains(&n) {
        return Err(invalid("MSO order", n as f64, "must lie in 1..=12"));
    }
    crate::budget::check_matrix("the generated series", steps, 1)?;
    let freqs = &MSO_FREQUENCIES[..n];
    Ok((0..steps)
        .map(|t| freqs.iter().map(|a| (a * t as f64).sin()).sum())
        .collect())
}

/// `steps` steps of NARMA of `order` driven by uniform input on `[0, 0.5]`
/// drawn from `seed` (the same stream as [`crate::generators::narma10`]).
///
/// # Errors
/// `order` 0, more samples than memory holds, or [`crate::Error::Diverged`].
pub fn narma(order: usize, steps: usize, seed: u64) -> Result<Narma> {
    crate::budget::check_matrix("the generated series", steps, 2)?;
    let mut rng = Rng::stream(seed, "narma10/input");
    let input: Vec<f64> = (0..steps).map(|_| rng.uniform_in(0.0, 0.5)).collect();
    narma_driven(order, input)
}

/// NARMA of `order` driven by the given input.
///
/// # Errors
/// `order` 0, non-finite input, or [`crate::Error::Diverged`].
pub fn narma_driven(order: usize, input: Vec<f64>) -> Result<Narma> {
    if order == 0 {
        return Err(invalid("NARMA order", 0.0, "must be at least 1"));
    }
    crate::error::check_finite("NARMA input", &input)?;
    let steps = input.len();
    let mut output = vec![0.0; steps];
    for t in order - 1..steps.saturating_sub(1) {
        let sum: f64 = output[t + 1 - order..=t].iter().sum();
        let y = output[t];
        let next = 0.3 * y + 0.05 * y * sum + 1.5 * input[t + 1 - order] * input[t] + 0.1;
        if !next.is_finite() || next.abs() > 1e6 {
            return Err(Error::Diverged {
                what: "NARMA",
                step: t + 1,
            });
        }
        output[t + 1] = next;
    }
    Ok(Narma { input, output })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::generators::narma10;

    #[test]
    fn mso2_is_the_sum_to_product_formula() {
        let u = mso(2, 500).unwrap();
        let (a, b) = (0.2, 0.311);
        for (t, v) in u.iter().enumerate() {
            let t = t as f64;
            let product = 2.0 * ((a + b) / 2.0 * t).sin() * ((a - b) / 2.0 * t).cos();
            assert!((v - product).abs() < 1e-12);
        }
        assert!(mso(0, 5).is_err() && mso(13, 5).is_err());
        assert_eq!(mso(12, 1).unwrap(), vec![0.0]);
    }

    #[test]
    fn narma_of_order_ten_is_narma10() {
        assert_eq!(narma(10, 3000, 7).unwrap(), narma10(3000, 7).unwrap());
    }

    #[test]
    fn narma_without_input_settles_on_its_fixed_point() {
        // y = 0.3 y + 0.05 n y² + 0.1: the smaller root is stable.
        for n in [5, 10, 20] {
            let nf = n as f64;
            let fixed = (0.7 - (0.49 - 0.02 * nf).sqrt()) / (0.1 * nf);
            let out = narma_driven(n, vec![0.0; 2000]).unwrap().output;
            assert!((out[1999] - fixed).abs() < 1e-12, "order {n}");
        }
        assert!(narma(0, 10, 0).is_err());
    }
}
