//! Scores of a forecast beside the naive baselines, and the fit-then-predict
//! evaluation on a test split.
//!
//! `NRMSE = RMSE / σ(truth)` and `R² = 1 − NRMSE²` over the scored targets
//! (see [`crate::metrics`]), in reporting units; [`scores_by`] normalises
//! NRMSE another way ([`Normalisation`]).

use std::time::Instant;

use serde::Serialize;

use super::{Pairs, Prepared};
use crate::error::Result;
use crate::esn::{Esn, EsnConfig};
use crate::metrics::{self, Normalisation};
use crate::train::Sequence;
use crate::util::{column, column_values};

/// Error measures of one model on the scored targets.
#[derive(Debug, Clone, Serialize)]
pub struct Score {
    /// The model's name ("ESN", or a baseline's).
    pub model: String,
    /// RMSE / the scored targets' scale (by default their standard
    /// deviation).
    pub nrmse: f64,
    /// What NRMSE is normalised by.
    pub normalisation: Normalisation,
    /// Coefficient of determination.
    pub r2: f64,
    /// Root mean square error.
    pub rmse: f64,
}

/// Column headers of [`Score::cells`].
pub const SCORE_HEADERS: [&str; 4] = ["model", "NRMSE", "R²", "RMSE"];

/// What the scores mean, for a report's footnote.
pub const SCORE_NOTE: &str =
    "NRMSE = RMSE / standard deviation of the scored targets; R² = 1 − NRMSE²; \
scores in the target's units (series units for `next`, log-returns for `return`); \
persistence repeats the last value (`next`) or the last return (`return`)";

impl Score {
    /// The score as table cells under [`SCORE_HEADERS`].
    pub fn cells(&self) -> Vec<String> {
        vec![
            self.model.clone(),
            format!("{:.4}", self.nrmse),
            format!("{:.4}", self.r2),
            format!("{:.4e}", self.rmse),
        ]
    }
}

/// The score of `prediction` against `truth`.
///
/// # Errors
/// The lengths differ, are below 2, or the truth is constant.
pub fn score(model: &str, prediction: &[f64], truth: &[f64]) -> Result<Score> {
    score_by(model, prediction, truth, Normalisation::Std)
}

/// [`score`] with NRMSE normalised by `norm`.
///
/// # Errors
/// As [`score`], and a truth whose scale under `norm` is 0.
pub fn score_by(
    model: &str,
    prediction: &[f64],
    truth: &[f64],
    norm: Normalisation,
) -> Result<Score> {
    Ok(Score {
        model: model.to_string(),
        nrmse: metrics::nrmse_by(prediction, truth, norm)?,
        normalisation: norm,
        r2: metrics::r2(prediction, truth)?,
        rmse: metrics::rmse(prediction, truth)?,
    })
}

/// The naive baselines' scores on the targets `from..`.
///
/// # Errors
/// As [`score`], when fewer than 2 targets follow `from`.
pub fn baseline_scores(p: &Pairs, from: usize) -> Result<Vec<Score>> {
    baseline_scores_by(p, from, Normalisation::Std)
}

fn baseline_scores_by(p: &Pairs, from: usize, norm: Normalisation) -> Result<Vec<Score>> {
    let truth = &p.truth[from..];
    let persistence = "persistence (same as last)";
    let mut out = vec![score_by(persistence, &p.persistence[from..], truth, norm)?];
    if p.zero_baseline {
        out.push(score_by(
            "zero return",
            &vec![0.0; truth.len()],
            truth,
            norm,
        )?);
    }
    Ok(out)
}

/// The ESN's score on the targets `from..` (`prediction[i]` predicts target
/// `from + i`; predictions past the last target are ignored), then the
/// baselines'.
///
/// # Errors
/// As [`score`].
pub fn scores(p: &Pairs, prediction: &[f64], from: usize) -> Result<Vec<Score>> {
    scores_by(p, prediction, from, Normalisation::Std)
}

/// [`scores`] with NRMSE normalised by `norm`.
///
/// # Errors
/// As [`score_by`].
pub fn scores_by(
    p: &Pairs,
    prediction: &[f64],
    from: usize,
    norm: Normalisation,
) -> Result<Vec<Score>> {
    let truth = &p.truth[from..];
    let mut out = vec![score_by("ESN", &prediction[..truth.len()], truth, norm)?];
    out.extend(baseline_scores_by(p, from, norm)?);
    Ok(out)
}

/// A trained ESN and its test-split results (in the target's units).
#[derive(Debug, Clone)]
pub struct Evaluation {
    /// The trained network.
    pub esn: Esn,
    /// Its predictions of the test targets.
    pub prediction: Vec<f64>,
    /// The test targets.
    pub truth: Vec<f64>,
    /// ESN first, then the baselines.
    pub scores: Vec<Score>,
    /// Milliseconds spent fitting.
    pub fit_ms: f64,
    /// Milliseconds spent predicting the test split.
    pub predict_ms: f64,
}

/// Fits on the training pairs, then predicts the test pairs one step at a
/// time from the end-of-training state (true inputs, open loop). Results
/// are in reporting units.
///
/// # Errors
/// An invalid `config`, a training split no longer than the washout, a
/// singular readout, or a test split too short to score.
pub fn evaluate(config: &EsnConfig, prep: &Prepared) -> Result<Evaluation> {
    let (train, n) = (prep.train, prep.len());
    let (x, y) = (prep.inputs(0, train), column(&prep.z_out[..train]));
    let start = Instant::now();
    let fit = Esn::fit(config, &[Sequence::new(x, y.as_ref())])?;
    let fit_ms = start.elapsed().as_secs_f64() * 1e3;
    let start = Instant::now();
    let mut state = fit.end_states[0].clone();
    let test_in = prep.inputs(train, n);
    let out = fit.esn.run(&mut state, test_in, None)?;
    let predict_ms = start.elapsed().as_secs_f64() * 1e3;
    let changes = prep
        .transform
        .output
        .inverse(&column_values(out.as_ref(), 0));
    let prediction = prep.pairs.report(train, &changes);
    let truth = prep.pairs.truth[train..].to_vec();
    let scores = scores(&prep.pairs, &prediction, train)?;
    Ok(Evaluation {
        esn: fit.esn,
        prediction,
        truth,
        scores,
        fit_ms,
        predict_ms,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::forecast::{ForecastConfig, Series, Target};

    #[test]
    fn evaluation_scores_the_esn_and_the_baselines() {
        let values: Vec<f64> = (0..400).map(|i| 50.0 + (i as f64 * 0.3).sin()).collect();
        let series = Series::single("test", "x", values);
        let prep = Prepared::new(series, Target::Return, 1, 0.8).unwrap();
        let config = ForecastConfig {
            units: 30,
            washout: 10,
            ..ForecastConfig::default()
        };
        let eval = evaluate(&config.esn(), &prep).unwrap();
        let names: Vec<&str> = eval.scores.iter().map(|s| s.model.as_str()).collect();
        assert_eq!(names, ["ESN", "persistence (same as last)", "zero return"]);
        assert_eq!(eval.prediction.len(), eval.truth.len());
        assert_eq!(eval.scores[0].cells().len(), SCORE_HEADERS.len());
    }
}
