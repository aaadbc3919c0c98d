//! Forecasting one column of a table from it (or from several input
//! columns): the protocol behind `huashi esn fit`,
//! `forecast` and `search`, its naive baselines and its scores.
//!
//! With the series `x(0..n)`, horizon `H` and `b = x` ([`Target::Next`]) or
//! `b = ln x` ([`Target::Return`]), the ESN reads the last one-step change
//! and learns the change over the next H steps:
//!
//! ```text
//! u(t) = b(t) − b(t−1),      y(t) = b(t+H) − b(t)
//! ```
//!
//! Modelling changes rather than levels keeps a trending series (a price)
//! inside the range seen in training. The network is the ESN of
//! [`crate::Esn`] (Jaeger 2001) trained by ridge regression on the first
//! part of the pairs.
//!
//! * `next` reports `x̂(t+H) = x(t) + ŷ(t)`; baseline "persistence"
//!   `x̂(t+H) = x(t)` (same as the last value);
//! * `return` reports the log-return `ln x(t+H) − ln x(t)`; baselines "zero
//!   return" and "persistence" `ln x(t) − ln x(t−H)` (the last H-step return
//!   again).
//!
//! Inputs and targets are standardised with the mean and standard deviation
//! of the training part ([`Transform`]); when they are the same quantity
//! (`H = 1`) one standardiser serves both, so the output can be fed back as
//! the next input (closed loop). Scores ([`Score`]: NRMSE, R², RMSE) are
//! computed in the reporting units (series units for `next`, log-returns for
//! `return`).
//!
//! [`closed_loop_test`] runs a one-step model free over the test split and
//! reports its valid prediction time.
//! [`ridge_curve`] chooses the ridge parameter on the training pairs by
//! leave-one-out error or GCV ([`crate::readout::select`]).
//!
//! [`SavedModel`] stores a trained network with its transform and predicts
//! past the data. [`ForecastConfig`] holds the hyper-parameters of the one-input,
//! one-output ESN used here, with the defaults the CLI shows.

mod closed;
mod model;
mod pairs;
mod score;
mod select;
mod series;

pub use closed::closed_loop_test;
pub use model::{beyond, Ahead, SavedModel, COLUMN_KEY, SOURCE_KEY};
pub use pairs::{pairs, Pairs, Prepared, Transform};
pub use score::{
    baseline_scores, evaluate, score, score_by, scores, scores_by, Evaluation, Score,
    SCORE_HEADERS, SCORE_NOTE,
};
pub use select::ridge_curve;
pub use series::{Series, DATE_COLUMNS, EMBEDDED};

use serde::{Deserialize, Serialize};

use crate::config::{InputScaling, ReservoirConfig};
use crate::esn::EsnConfig;

/// The fraction of the pairs a model is trained on by default (the rest is
/// the test split).
pub const TRAIN_FRACTION: f64 = 0.8;

/// What the ESN predicts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Target {
    /// The value H steps ahead.
    Next,
    /// The log-return over the next H steps.
    Return,
}

impl Target {
    /// "value 1 step ahead" / "log-return over the next 5 steps".
    pub fn describe(self, horizon: usize) -> String {
        let steps = if horizon == 1 {
            "1 step".to_string()
        } else {
            format!("{horizon} steps")
        };
        match self {
            Target::Next => format!("value {steps} ahead"),
            Target::Return => format!("log-return over the next {steps}"),
        }
    }
}

/// Hyper-parameters of the forecasting ESN: one reservoir whose readout has
/// a bias and also sees the input directly (so it can fall back on
/// persistence). The defaults suit noisy daily prices.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ForecastConfig {
    /// Reservoir units `N`.
    pub units: usize,
    /// Spectral radius the recurrent matrix is rescaled to.
    pub spectral_radius: f64,
    /// Leak rate `a` in (0, 1].
    pub leak: f64,
    /// Scaling of the input weights (inputs are standardised first).
    pub input_scaling: f64,
    /// Ridge (Tikhonov) parameter of the readout.
    pub ridge: f64,
    /// Fraction of non-zero recurrent weights, in (0, 1].
    pub connectivity: f64,
    /// Fraction of units that receive the input, in (0, 1].
    pub input_connectivity: f64,
    /// Scale of the (Bernoulli ±1) unit biases.
    pub bias_scaling: f64,
    /// Seed of the reservoir's random weights.
    pub seed: u64,
    /// Initial training steps left out of the regression.
    pub washout: usize,
}

impl Default for ForecastConfig {
    fn default() -> Self {
        Self {
            units: 200,
            spectral_radius: 0.9,
            leak: 0.3,
            input_scaling: 0.5,
            ridge: 1e-2,
            connectivity: 0.1,
            input_connectivity: 1.0,
            bias_scaling: 0.2,
            seed: 0,
            washout: 100,
        }
    }
}

impl ForecastConfig {
    /// The ESN these hyper-parameters describe (checked when it is fitted).
    pub fn esn(&self) -> EsnConfig {
        let reservoir = ReservoirConfig {
            units: self.units,
            spectral_radius: self.spectral_radius,
            leak_rate: self.leak,
            input_scaling: InputScaling::All(self.input_scaling),
            connectivity: self.connectivity,
            input_connectivity: self.input_connectivity,
            bias_scaling: self.bias_scaling,
            ..ReservoirConfig::default()
        };
        let mut config = EsnConfig::new(reservoir);
        config.ridge = self.ridge;
        config.seed = self.seed;
        config.washout = self.washout;
        config.input_to_readout = true;
        config
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_config_has_direct_input_and_200_units() {
        let c = ForecastConfig::default().esn();
        assert!(c.input_to_readout);
        assert_eq!((c.layers[0].units, c.washout), (200, 100));
    }

    #[test]
    fn target_texts() {
        assert_eq!(Target::Next.describe(1), "value 1 step ahead");
        assert_eq!(
            Target::Return.describe(5),
            "log-return over the next 5 steps"
        );
    }
}
