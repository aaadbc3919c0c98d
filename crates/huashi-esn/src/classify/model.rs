//! The classifier: a reservoir, a pooling of its states and a one-hot
//! ridge readout (the formulas are in the module above).

use faer::{Mat, MatRef};
use serde::{Deserialize, Serialize};

use super::{DataError, Dataset};
use crate::error::Result;
use crate::forecast::ForecastConfig;
use crate::readout::Ridge;
use crate::reservoir::Reservoir;

/// Where the `concat` pooling reads the states, as fractions of the
/// sequence after the washout.
pub const CONCAT_FRACTIONS: [f64; 3] = [1.0 / 3.0, 2.0 / 3.0, 1.0];

/// How a sequence's states become the readout's input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Pooling {
    /// The last state.
    Last,
    /// The mean state after the washout.
    Mean,
    /// The states at [`CONCAT_FRACTIONS`] of the sequence, concatenated.
    Concat,
    /// A readout on every step; the steps vote.
    Vote,
}

/// Hyper-parameters of the classifier: the reservoir and ridge of
/// [`ForecastConfig`] (its `washout` is per sequence) and the pooling.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ClassifyConfig {
    /// Reservoir, ridge, seed and washout.
    pub reservoir: ForecastConfig,
    /// How states are pooled.
    pub pooling: Pooling,
}

impl Default for ClassifyConfig {
    /// The setting found best on Japanese Vowels: 500 units, spectral
    /// radius 0.9, leak 0.3, input scaling 0.05, ridge 1, last state
    /// (test accuracy 99.68 % ± 0.15 % over seeds 0–9; the sweep is in
    /// `PERF.md`).
    fn default() -> Self {
        Self {
            reservoir: ForecastConfig {
                units: 500,
                spectral_radius: 0.9,
                leak: 0.3,
                input_scaling: 0.05,
                ridge: 1.0,
                connectivity: 0.1,
                input_connectivity: 1.0,
                bias_scaling: 0.2,
                seed: 0,
                washout: 0,
            },
            pooling: Pooling::Last,
        }
    }
}

/// A trained classifier.
#[derive(Debug, Clone)]
pub struct Classifier {
    reservoir: Reservoir,
    classes: Vec<String>,
    pooling: Pooling,
    washout: usize,
    /// Per-channel mean and standard deviation of the training inputs.
    means: Vec<f64>,
    scales: Vec<f64>,
    /// `F × C`.
    weights: Mat<f64>,
}

impl Classifier {
    /// Draws the reservoir and trains the readout on `train`.
    ///
    /// # Errors
    /// Fewer than two classes, a sequence no longer than the washout,
    /// sequences with different channel counts, invalid hyper-parameters or
    /// a singular readout.
    pub fn fit(config: &ClassifyConfig, train: &Dataset) -> Result<Self> {
        let classes = train.classes();
        if classes.len() < 2 {
            let label = classes.first().cloned().unwrap_or_default();
            return Err(DataError::OneClass {
                file: train.name.clone(),
                label,
            }
            .into());
        }
        let r = &config.reservoir;
        check_data(train, train.channels(), r.washout)?;
        let (means, scales) = channel_stats(train);
        let reservoir = Reservoir::new(&r.esn().layers[0], train.channels(), r.seed)?;
        let mut model = Self {
            reservoir,
            classes,
            pooling: config.pooling,
            washout: r.washout,
            means,
            scales,
            weights: Mat::zeros(0, 0),
        };
        let targets = model.targets(train)?;
        let pooled = model.pooled(train)?;
        crate::budget::check_matrix(
            "the classifier's readout",
            2 * pooled[0].ncols(),
            pooled[0].ncols(),
        )?;
        let mut ridge = Ridge::new(pooled[0].ncols(), model.classes.len());
        for (phi, &c) in pooled.iter().zip(&targets) {
            let e = Mat::from_fn(phi.nrows(), model.classes.len(), |_, k| f64::from(k == c));
            ridge.add(phi.as_ref(), e.as_ref())?;
        }
        model.weights = ridge.solve(r.ridge, Some(0))?;
        Ok(model)
    }

    /// The class labels, in the order of the readout's outputs.
    pub fn classes(&self) -> &[String] {
        &self.classes
    }

    /// The class index of each sequence's label.
    ///
    /// # Errors
    /// [`DataError::UnknownLabel`] for a label not seen in training.
    pub fn targets(&self, data: &Dataset) -> Result<Vec<usize>> {
        let index = |(label, &line): (&String, &usize)| {
            self.classes
                .iter()
                .position(|c| c == label)
                .ok_or_else(|| DataError::UnknownLabel {
                    file: data.name.clone(),
                    line,
                    label: label.clone(),
                    classes: self.classes.clone(),
                })
        };
        Ok(data
            .labels
            .iter()
            .zip(&data.lines)
            .map(index)
            .collect::<std::result::Result<_, _>>()?)
    }

    /// The predicted class index of each sequence.
    ///
    /// # Errors
    /// Sequences with another channel count than training, or no longer
    /// than the washout.
    pub fn predict(&self, data: &Dataset) -> Result<Vec<usize>> {
        check_data(data, self.means.len(), self.washout)?;
        let pooled = self.pooled(data)?;
        Ok(pooled.iter().map(|phi| self.decide(phi.as_ref())).collect())
    }

    /// The decision for one sequence's feature rows.
    fn decide(&self, phi: MatRef<'_, f64>) -> usize {
        let scores = phi * self.weights.as_ref();
        let classes = self.classes.len();
        let sum = |c: usize| (0..scores.nrows()).map(|t| scores[(t, c)]).sum::<f64>();
        let mut votes = vec![0usize; classes];
        for t in 0..scores.nrows() {
            votes[argmax(classes, |c| (scores[(t, c)], 0.0))] += 1;
        }
        // Most votes; ties to the larger summed score.
        argmax(classes, |c| (votes[c] as f64, sum(c)))
    }

    /// Each sequence's feature rows: one row, or one per step for `vote`.
    fn pooled(&self, data: &Dataset) -> Result<Vec<Mat<f64>>> {
        let inputs: Vec<Mat<f64>> = data.sequences.iter().map(|s| self.standardise(s)).collect();
        let refs: Vec<MatRef<'_, f64>> = inputs.iter().map(Mat::as_ref).collect();
        let states = self.reservoir.run_many(&refs)?;
        Ok(states.iter().map(|x| self.pool(x.as_ref())).collect())
    }

    /// `φ` of one sequence's `T × N` states.
    fn pool(&self, x: MatRef<'_, f64>) -> Mat<f64> {
        let (w, n) = (self.washout, x.ncols());
        let kept = x.subrows(w, x.nrows() - w);
        let len = kept.nrows();
        let row = |steps: &[usize]| {
            Mat::from_fn(1, 1 + n * steps.len(), |_, f| match f {
                0 => 1.0,
                f => kept[(steps[(f - 1) / n], (f - 1) % n)],
            })
        };
        match self.pooling {
            Pooling::Last => row(&[len - 1]),
            Pooling::Mean => Mat::from_fn(1, 1 + n, |_, f| match f {
                0 => 1.0,
                f => (0..len).map(|t| kept[(t, f - 1)]).sum::<f64>() / len as f64,
            }),
            Pooling::Concat => {
                row(&CONCAT_FRACTIONS.map(|q| ((q * len as f64).ceil() as usize).clamp(1, len) - 1))
            }
            Pooling::Vote => Mat::from_fn(len, 1 + n, |t, f| match f {
                0 => 1.0,
                f => kept[(t, f - 1)],
            }),
        }
    }

    fn standardise(&self, s: &Mat<f64>) -> Mat<f64> {
        Mat::from_fn(s.nrows(), s.ncols(), |t, j| {
            (s[(t, j)] - self.means[j]) / self.scales[j]
        })
    }
}

/// The first index of the largest `key(c)` over `0..n` (lexicographic).
fn argmax(n: usize, key: impl Fn(usize) -> (f64, f64)) -> usize {
    (0..n).fold(0, |best, c| if key(c) > key(best) { c } else { best })
}

/// Every sequence has `channels` channels and more steps than `washout`.
fn check_data(data: &Dataset, channels: usize, washout: usize) -> Result<()> {
    for (s, &line) in data.sequences.iter().zip(&data.lines) {
        let file = data.name.clone();
        if s.ncols() != channels {
            let (expected, found) = (channels, s.ncols());
            return Err(DataError::Channels {
                file,
                line,
                expected,
                found,
            }
            .into());
        }
        if s.nrows() <= washout {
            return Err(DataError::TooShort {
                file,
                line,
                len: s.nrows(),
                washout,
            }
            .into());
        }
    }
    Ok(())
}

/// Per-channel mean and standard deviation over every step of every
/// sequence (a constant channel gets scale 1).
fn channel_stats(data: &Dataset) -> (Vec<f64>, Vec<f64>) {
    let d = data.channels();
    let (mut sum, mut sq, mut n) = (vec![0.0; d], vec![0.0; d], 0.0);
    for s in &data.sequences {
        for t in 0..s.nrows() {
            for j in 0..d {
                sum[j] += s[(t, j)];
                sq[j] += s[(t, j)] * s[(t, j)];
            }
        }
        n += s.nrows() as f64;
    }
    let means: Vec<f64> = sum.iter().map(|v| v / n).collect();
    let scales = (0..d)
        .map(|j| (sq[j] / n - means[j] * means[j]).max(0.0).sqrt())
        .map(|s| if s > 1e-12 { s } else { 1.0 })
        .collect();
    (means, scales)
}
