//! Diagnostics of a reservoir and of a trained network running in closed
//! loop.
//!
//! * **Effective spectral radius** (Jaeger, Lukoševičius, Popovici & Siewert
//!   2007, *Neural Networks* 20(3), leaky-integrator ESNs): linearised at the
//!   origin, the leaky update `x ← (1 − a) x + a tanh(W x + …)` has the
//!   Jacobian `(1 − a) I + a W`, whose spectral radius `max |1 − a + a μ|`
//!   over the eigenvalues `μ` of `W` is what governs the echo state property
//!   (it is `ρ(W)` only without leak). Computed from all eigenvalues of the
//!   dense matrix (faer).
//! * **Valid prediction time** (Pathak et al. 2018, *Phys. Rev. Lett.* 120;
//!   Vlachas et al. 2020, *Neural Networks* 126): with the normalised error
//!   `e(t) = sqrt(mean_k ((ŷ_k(t) − y_k(t)) / σ_k)²)`, `σ_k` the standard
//!   deviation of output `k` of the true continuation, the first step at
//!   which `e(t) > ε` (default `ε = 0.5`); times `dt` it is a time, times
//!   the largest Lyapunov exponent `λ` a number of Lyapunov times.
//! * **Largest Lyapunov exponent of the trained closed loop**: Benettin's
//!   method ([`crate::systems::lyapunov::benettin`]) on the map
//!   `(x(t), y(t)) ↦ (x(t+1), y(t+1))` that [`Esn::generate`] iterates
//!   (reservoir state and fed-back output); per step. A model that has
//!   learnt a chaotic system should have about its exponent times `dt`.

use faer::{Mat, MatRef};
use serde::{Deserialize, Serialize};

use crate::config::positive;
use crate::error::{invalid, Result};
use crate::esn::{Esn, EsnState};
use crate::sparse::CsrMatrix;
use crate::spectral::spectral_radius_dense;
use crate::systems::lyapunov::{benettin, LyapunovOptions};
use crate::util::{check_matrix, mismatch};

/// Spectral radius of `(1 − a) I + a W`.
///
/// # Errors
/// A non-square `W`, a leak rate outside (0, 1], or a failed
/// eigendecomposition.
pub fn effective_spectral_radius(w: &CsrMatrix, leak: f64) -> Result<f64> {
    if !(leak > 0.0 && leak <= 1.0) {
        return Err(invalid("leak rate", leak, "must lie in (0, 1]"));
    }
    mismatch("square matrix columns", w.nrows(), w.ncols())?;
    let dense = w.to_dense();
    let m = Mat::from_fn(w.nrows(), w.nrows(), |i, j| {
        leak * dense[(i, j)] + if i == j { 1.0 - leak } else { 0.0 }
    });
    spectral_radius_dense(m.as_ref())
}

/// A valid prediction time.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ValidTime {
    /// Steps before the error first exceeds the threshold (all of them if it
    /// never does).
    pub steps: usize,
    /// `steps · dt`.
    pub time: f64,
    /// `time · λ`, when the exponent is known.
    pub lyapunov_times: Option<f64>,
    /// The normalised error `e(t)` at every step.
    pub error: Vec<f64>,
}

/// Valid prediction time of `prediction` against `truth` (`T × m` each).
///
/// # Errors
/// Shapes that differ, an empty or non-finite input, a threshold or `dt`
/// that is not positive, or a constant output column of `truth`.
pub fn valid_prediction_time(
    prediction: MatRef<'_, f64>,
    truth: MatRef<'_, f64>,
    threshold: f64,
    dt: f64,
    lyapunov: Option<f64>,
) -> Result<ValidTime> {
    positive("threshold", threshold)?;
    positive("dt", dt)?;
    mismatch("prediction columns", truth.ncols(), prediction.ncols())?;
    mismatch("prediction rows", truth.nrows(), prediction.nrows())?;
    check_matrix("truth", truth)?;
    check_matrix("prediction", prediction)?;
    let (t_len, m) = (truth.nrows(), truth.ncols());
    if t_len == 0 || m == 0 {
        return Err(crate::Error::EmptySeries { what: "truth" });
    }
    let sigma = (0..m)
        .map(|k| {
            let col = crate::util::column_values(truth, k);
            let s = crate::metrics::Normalisation::Std.scale(&col);
            match s > 0.0 {
                true => Ok(s),
                false => Err(invalid("truth column std", s, "a constant column")),
            }
        })
        .collect::<Result<Vec<f64>>>()?;
    let error: Vec<f64> = (0..t_len)
        .map(|t| {
            let sq: f64 = (0..m)
                .map(|k| ((prediction[(t, k)] - truth[(t, k)]) / sigma[k]).powi(2))
                .sum();
            (sq / m as f64).sqrt()
        })
        .collect();
    let steps = error.iter().position(|e| *e > threshold).unwrap_or(t_len);
    let time = steps as f64 * dt;
    Ok(ValidTime {
        steps,
        time,
        lyapunov_times: lyapunov.map(|l| time * l),
        error,
    })
}

/// Largest Lyapunov exponent (per step) of `esn` generating in closed loop
/// from `state`.
///
/// # Errors
/// As [`Esn::generate`] and [`benettin`].
pub fn closed_loop_lyapunov(esn: &Esn, state: &EsnState, opts: &LyapunovOptions) -> Result<f64> {
    let n = state.reservoir.len();
    let mut work = state.clone();
    let step = |v: &mut [f64]| {
        work.reservoir.copy_from_slice(&v[..n]);
        work.output.copy_from_slice(&v[n..]);
        esn.generate(&mut work, 1)?;
        v[..n].copy_from_slice(&work.reservoir);
        v[n..].copy_from_slice(&work.output);
        Ok(())
    };
    let x0 = [state.reservoir.as_slice(), &state.output].concat();
    benettin(step, x0, opts)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::systems::maps::{Henon, Logistic};
    use crate::systems::DiscreteMap;

    #[test]
    fn effective_radius_shifts_the_eigenvalues() {
        // W = diag(1.25, −1.25): 1 − a + a μ = 1.075 and 0.325 for a = 0.3.
        let w = CsrMatrix::from_parts(2, 2, vec![0, 1, 2], vec![0, 1], vec![1.25, -1.25]).unwrap();
        assert!((effective_spectral_radius(&w, 0.3).unwrap() - 1.075).abs() < 1e-12);
        assert!((effective_spectral_radius(&w, 1.0).unwrap() - 1.25).abs() < 1e-12);
        // A rotation by ±i r: |0.7 + 0.3 i r| = sqrt(0.49 + 0.09 r²).
        let r = 2.0;
        let rot = CsrMatrix::from_parts(2, 2, vec![0, 1, 2], vec![1, 0], vec![-r, r]).unwrap();
        let want = (0.49f64 + 0.09 * r * r).sqrt();
        assert!((effective_spectral_radius(&rot, 0.3).unwrap() - want).abs() < 1e-12);
        assert!(effective_spectral_radius(&w, 0.0).is_err());
    }

    #[test]
    fn a_linear_closed_loop_grows_at_its_effective_radius() {
        // Identity units, no bias and a zero readout (zero targets): the
        // closed loop is x ← ((1 − a)I + aW) x, whose exponent is ln ρ.
        use crate::{column, Activation, EsnConfig, ReservoirConfig, Sequence};
        let reservoir = ReservoirConfig {
            units: 40,
            activation: Activation::Identity,
            bias_scaling: 0.0,
            leak_rate: 0.3,
            spectral_radius: 0.9,
            ..ReservoirConfig::default()
        };
        let config = EsnConfig::new(reservoir);
        let u: Vec<f64> = (0..300).map(|t| (t as f64 * 0.37).sin()).collect();
        let (x, y) = (column(&u), column(&vec![0.0; 300]));
        let fit = Esn::fit(&config, &[Sequence::new(x.as_ref(), y.as_ref())]).unwrap();
        let w = fit.esn.reservoir().layers()[0].w().clone();
        let rho = effective_spectral_radius(&w, 0.3).unwrap();
        let opts = LyapunovOptions {
            transient: 500,
            renormalisations: 20_000,
            ..Default::default()
        };
        let l = closed_loop_lyapunov(&fit.esn, &fit.end_states[0], &opts).unwrap();
        assert!((l - rho.ln()).abs() < 0.01, "{l} vs ln {rho}");
    }

    #[test]
    fn valid_time_counts_steps_below_the_threshold() {
        let truth = Henon::default().generate(100).unwrap();
        let mut pred = truth.clone();
        pred[(40, 0)] += 10.0;
        let v = valid_prediction_time(pred.as_ref(), truth.as_ref(), 0.5, 0.1, Some(2.0)).unwrap();
        assert_eq!(v.steps, 40);
        assert!((v.time - 4.0).abs() < 1e-12 && (v.lyapunov_times.unwrap() - 8.0).abs() < 1e-12);
        let exact = valid_prediction_time(truth.as_ref(), truth.as_ref(), 0.5, 1.0, None).unwrap();
        assert_eq!(exact.steps, 100);
        let flat = Logistic { r: 2.0, x0: 0.5 }.generate(10).unwrap();
        assert!(valid_prediction_time(flat.as_ref(), flat.as_ref(), 0.5, 1.0, None).is_err());
    }
}
