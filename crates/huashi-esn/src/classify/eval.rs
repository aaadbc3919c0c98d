//! Scores of a classifier on a test set, and their spread over reservoir
//! seeds.
//!
//! ```text
//! accuracy       = Σ_c M[c][c] / Σ M
//! precision(c)   = M[c][c] / Σ_r M[r][c]     (0 when nothing is predicted c)
//! recall(c)      = M[c][c] / Σ_k M[c][k]
//! ```
//!
//! with the confusion matrix `M[truth][predicted]`; the spread over seeds is
//! [`MeanCi`] (mean ± Student-t 95 % CI).

use std::time::Instant;

use serde::Serialize;

use super::{Classifier, ClassifyConfig, Dataset};
use crate::error::{invalid, Result};
use crate::metrics::MeanCi;

/// Precision and recall of one class.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ClassScore {
    /// The label.
    pub label: String,
    /// Test sequences of this class.
    pub support: usize,
    /// Of those predicted this class, the fraction that are.
    pub precision: f64,
    /// Of this class, the fraction predicted so.
    pub recall: f64,
}

/// A classifier's scores on a test set.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Evaluation {
    /// The reservoir seed.
    pub seed: u64,
    /// Correct test predictions.
    pub correct: usize,
    /// Test sequences.
    pub total: usize,
    /// `correct / total`.
    pub accuracy: f64,
    /// Accuracy on the training set.
    pub train_accuracy: f64,
    /// The class labels (rows and columns of `confusion`).
    pub classes: Vec<String>,
    /// `confusion[truth][predicted]` counts.
    pub confusion: Vec<Vec<usize>>,
    /// Per-class precision and recall.
    pub per_class: Vec<ClassScore>,
    /// Seconds to draw the reservoir and train the readout.
    pub fit_seconds: f64,
    /// Seconds to classify the test set.
    pub test_seconds: f64,
}

/// Fits on `train` and scores on `test`.
///
/// # Errors
/// As [`Classifier::fit`] and [`Classifier::predict`], and a test label not
/// seen in training.
pub fn evaluate(config: &ClassifyConfig, train: &Dataset, test: &Dataset) -> Result<Evaluation> {
    let start = Instant::now();
    let model = Classifier::fit(config, train)?;
    let fit_seconds = start.elapsed().as_secs_f64();
    let truth = model.targets(test)?;
    let start = Instant::now();
    let predicted = model.predict(test)?;
    let test_seconds = start.elapsed().as_secs_f64();
    let train_hits = hits(&model.targets(train)?, &model.predict(train)?);
    let classes = model.classes().to_vec();
    let mut confusion = vec![vec![0; classes.len()]; classes.len()];
    for (&t, &p) in truth.iter().zip(&predicted) {
        confusion[t][p] += 1;
    }
    let correct = hits(&truth, &predicted);
    Ok(Evaluation {
        seed: config.reservoir.seed,
        correct,
        total: truth.len(),
        accuracy: correct as f64 / truth.len() as f64,
        train_accuracy: train_hits as f64 / train.len() as f64,
        per_class: class_scores(&classes, &confusion),
        classes,
        confusion,
        fit_seconds,
        test_seconds,
    })
}

fn hits(truth: &[usize], predicted: &[usize]) -> usize {
    truth.iter().zip(predicted).filter(|(t, p)| t == p).count()
}

fn class_scores(classes: &[String], m: &[Vec<usize>]) -> Vec<ClassScore> {
    let ratio = |a: usize, b: usize| if b == 0 { 0.0 } else { a as f64 / b as f64 };
    (0..classes.len())
        .map(|c| {
            let support: usize = m[c].iter().sum();
            let predicted: usize = m.iter().map(|row| row[c]).sum();
            ClassScore {
                label: classes[c].clone(),
                support,
                precision: ratio(m[c][c], predicted),
                recall: ratio(m[c][c], support),
            }
        })
        .collect()
}

/// Test accuracy over consecutive reservoir seeds.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SeedSummary {
    /// Each seed's evaluation, in seed order.
    pub runs: Vec<Evaluation>,
    /// Mean test accuracy.
    pub mean: f64,
    /// Half-width of the 95 % confidence interval of the mean (Student t;
    /// 0 for one seed).
    pub ci95: f64,
    /// Lowest and highest test accuracy.
    pub min: f64,
    /// Highest test accuracy.
    pub max: f64,
    /// Mean seconds to fit and to test.
    pub fit_seconds: f64,
    /// Mean seconds to classify the test set.
    pub test_seconds: f64,
}

/// [`evaluate`] for seeds `seed, seed + 1, …` (`seeds` of them), one after
/// the other (each run is parallel inside).
///
/// # Errors
/// `seeds` 0, or as [`evaluate`].
pub fn over_seeds(
    config: &ClassifyConfig,
    train: &Dataset,
    test: &Dataset,
    seeds: usize,
) -> Result<SeedSummary> {
    if seeds == 0 {
        return Err(invalid("seeds", 0.0, "must be at least 1"));
    }
    let runs = (0..seeds as u64)
        .map(|i| {
            let mut c = *config;
            c.reservoir.seed = config.reservoir.seed.wrapping_add(i);
            evaluate(&c, train, test)
        })
        .collect::<Result<Vec<_>>>()?;
    let acc: Vec<f64> = runs.iter().map(|r| r.accuracy).collect();
    let n = acc.len() as f64;
    let MeanCi { mean, ci95 } = MeanCi::of(&acc);
    let avg = |f: fn(&Evaluation) -> f64| runs.iter().map(f).sum::<f64>() / n;
    Ok(SeedSummary {
        mean,
        ci95,
        min: acc.iter().copied().fold(f64::INFINITY, f64::min),
        max: acc.iter().copied().fold(f64::NEG_INFINITY, f64::max),
        fit_seconds: avg(|r| r.fit_seconds),
        test_seconds: avg(|r| r.test_seconds),
        runs,
    })
}
