//! The test split forecast in closed loop, and its valid prediction time.
//!
//! For a one-step model of the value (`next`, `H = 1`), the network warms up
//! on the inputs up to the last training pair's time `t₀` and then runs free
//! ([`crate::Esn::forecast`]): each predicted change is fed back as the next
//! input, and the values are `x̂(t₀ + k) = x(t₀) + Σ_{j ≤ k} ŷ_j`. They are
//! compared with the series by [`crate::diagnostics::valid_prediction_time`].

use super::{Prepared, Target};
use crate::diagnostics::{valid_prediction_time, ValidTime};
use crate::error::{invalid, Result};
use crate::esn::Esn;
use crate::util::{column, column_values};

/// Closed-loop forecast of up to `steps` test values and its valid
/// prediction time (threshold `threshold` on the normalised error, samples
/// `dt` apart, Lyapunov exponent `lyapunov` per unit time if known).
///
/// # Errors
/// A model that is not one-step `next`, no test values, or as
/// [`Esn::forecast`] and [`valid_prediction_time`].
pub fn closed_loop_test(
    esn: &Esn,
    prep: &Prepared,
    steps: usize,
    threshold: f64,
    dt: f64,
    lyapunov: Option<f64>,
) -> Result<ValidTime> {
    let t = &prep.transform;
    if t.target != Target::Next || t.horizon != 1 {
        let reason = "a closed-loop test needs a one-step `next` model";
        return Err(invalid("horizon", t.horizon as f64, reason));
    }
    let values = &prep.series.values;
    let t0 = prep.pairs.first + prep.train;
    let steps = steps.min(values.len().saturating_sub(t0 + 1));
    if steps < 2 {
        return Err(crate::Error::TooFewPairs {
            pairs: steps,
            what: "a closed-loop test",
        });
    }
    let out = esn.forecast(prep.inputs(0, prep.train + 1), steps)?;
    let changes = t.output.inverse(&column_values(out.as_ref(), 0));
    let path: Vec<f64> = changes
        .iter()
        .scan(values[t0], |x, c| {
            *x += c;
            Some(*x)
        })
        .collect();
    let truth = &values[t0 + 1..t0 + 1 + steps];
    valid_prediction_time(
        column(&path).as_ref(),
        column(truth).as_ref(),
        threshold,
        dt,
        lyapunov,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::forecast::{evaluate, ForecastConfig, Series};
    use crate::systems::SystemName;

    #[test]
    fn a_smooth_series_stays_valid_for_a_while() {
        let series = Series::generated(SystemName::Mso(2), 2000).unwrap();
        let prep = Prepared::new(series, Target::Next, 1, 0.8).unwrap();
        let config = ForecastConfig {
            units: 100,
            ridge: 1e-8,
            ..ForecastConfig::default()
        };
        let eval = evaluate(&config.esn(), &prep).unwrap();
        let v = closed_loop_test(&eval.esn, &prep, 300, 0.5, 1.0, None).unwrap();
        assert!(v.steps > 50, "{}", v.steps);
        assert_eq!(v.error.len(), 300);
        let ret =
            Prepared::new(Series::embedded(&[], None).unwrap(), Target::Return, 1, 0.8).unwrap();
        assert!(closed_loop_test(&eval.esn, &ret, 10, 0.5, 1.0, None).is_err());
    }
}
