//! The forecasting ESN's ridge parameter chosen on the training pairs.
//!
//! The reservoir of `config` (the same draw [`crate::Esn::fit`] makes) runs
//! over the standardised training inputs from the zero state; after the
//! washout its feature rows `φ(t) = [1; u(t); x(t)]` and targets are
//! accumulated as for training, and [`RidgeSelection`] scores every `λ` of
//! the grid by exact leave-one-out error (which reads the rows once more)
//! or by GCV (from the sums alone). State noise and output feedback are not
//! supported here.

use super::Prepared;
use crate::error::{invalid, Result};
use crate::esn::EsnConfig;
use crate::readout::select::{Criterion, RidgeCurve, RidgeSelection};
use crate::readout::Ridge;
use crate::train::EsnTrainer;
use crate::util::column;
use faer::Mat;

/// The criterion over `lambdas` on the training pairs of `prep`, and the
/// minimising `λ`.
///
/// # Errors
/// An invalid `config`, one with feedback or state noise, a training split
/// no longer than the washout, a `λ` that is not positive, or the errors
/// of [`RidgeSelection`].
pub fn ridge_curve(
    config: &EsnConfig,
    prep: &Prepared,
    lambdas: Vec<f64>,
    criterion: Criterion,
) -> Result<RidgeCurve> {
    if config.feedback.is_some() || config.layers.iter().any(|l| l.noise != 0.0) {
        let reason = "choosing the ridge needs no feedback and no state noise";
        return Err(invalid("ridge selection", f64::NAN, reason));
    }
    let train = prep.train;
    if train <= config.washout {
        let (washout, len) = (config.washout, train);
        return Err(crate::Error::WashoutTooLong {
            washout,
            sequence: 0,
            len,
        });
    }
    let trainer = EsnTrainer::new(config, prep.z_in.ncols(), 1)?;
    let stack = trainer.reservoir();
    let x = prep.inputs(0, train);
    let states = stack.run(x, None, &mut stack.zero_state(), None)?;
    let layout = config.layout(prep.z_in.ncols());
    let rows = train - config.washout;
    let mut phi = Mat::zeros(rows, layout.len());
    let mut buf = vec![0.0; layout.len()];
    for r in 0..rows {
        let t = r + config.washout;
        let state: Vec<f64> = (0..states.ncols()).map(|j| states[(t, j)]).collect();
        let input: Vec<f64> = (0..x.ncols()).map(|j| x[(t, j)]).collect();
        layout.fill(&input, &state, &mut buf);
        buf.iter().enumerate().for_each(|(j, v)| phi[(r, j)] = *v);
    }
    let y = column(&prep.z_out[config.washout..train]);
    let mut ridge = Ridge::new(layout.len(), 1);
    ridge.add(phi.as_ref(), y.as_ref())?;
    let sel = RidgeSelection::new(&ridge, layout.bias_index())?;
    let values = match criterion {
        Criterion::Loo => sel.loo(&lambdas, phi.as_ref(), y.as_ref())?,
        Criterion::Gcv => {
            let yty = prep.z_out[config.washout..train]
                .iter()
                .map(|v| v * v)
                .sum();
            sel.gcv(&lambdas, &[yty])?
        }
    };
    RidgeCurve::new(criterion, lambdas, values)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::forecast::{ForecastConfig, Series, Target};
    use crate::readout::select::log_grid;
    use crate::train::Sequence;

    fn prepared() -> Prepared {
        let values: Vec<f64> = crate::systems::SystemName::Henon.series(700).unwrap();
        let series = Series::single("test", "x", values);
        Prepared::new(series, Target::Next, 1, 0.8).unwrap()
    }

    #[test]
    fn the_curve_uses_the_training_sums_and_picks_its_minimum() {
        let prep = prepared();
        let config = ForecastConfig {
            units: 40,
            washout: 20,
            ..ForecastConfig::default()
        }
        .esn();
        let grid = log_grid(1e-8, 1e2, 11).unwrap();
        let loo = ridge_curve(&config, &prep, grid.clone(), Criterion::Loo).unwrap();
        let gcv = ridge_curve(&config, &prep, grid, Criterion::Gcv).unwrap();
        for c in [&loo, &gcv] {
            let min = c.values.iter().copied().fold(f64::INFINITY, f64::min);
            let at = c.lambdas.iter().position(|l| *l == c.best).unwrap();
            assert_eq!(c.values[at], min);
            assert!(c.values.iter().all(|v| v.is_finite() && *v > 0.0));
        }
        // The sums are those training accumulates.
        let mut trainer = EsnTrainer::new(&config, 1, 1).unwrap();
        let (x, y) = (
            prep.inputs(0, prep.train),
            column(&prep.z_out[..prep.train]),
        );
        trainer.add_sequence(Sequence::new(x, y.as_ref())).unwrap();
        assert_eq!(trainer.accumulator().samples(), prep.train - 20);
    }
}
