//! The series, its input/target pairs, the standardisation and the prepared
//! training data (see the module [`crate::forecast`] for the formulas).

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::Target;
use crate::data::{self, CsvTable, Standardizer};
use crate::error::{check_series, invalid, Error, Result};

/// A loaded series and where it came from.
#[derive(Debug, Clone, Serialize)]
pub struct Series {
    /// File path, or a description of the embedded data.
    pub source: String,
    /// The column read.
    pub column: String,
    /// Whether the series is the embedded S&P 500 table's.
    pub embedded: bool,
    /// The values, one per row.
    #[serde(skip)]
    pub values: Vec<f64>,
}

/// The source named for the embedded S&P 500 series.
pub const EMBEDDED: &str = "embedded S&P 500 daily prices 1999-01-04..2018-12-31";

impl Series {
    /// Reads `column` of the CSV file at `path`.
    ///
    /// # Errors
    /// The file cannot be read or parsed, has no such column, or a cell of
    /// it is not a number.
    pub fn from_csv(path: &Path, column: &str) -> Result<Self> {
        let values = CsvTable::from_path(path)?.column_f64(column)?;
        Ok(Self {
            source: path.display().to_string(),
            column: column.to_string(),
            embedded: false,
            values,
        })
    }

    /// `steps` samples of a benchmark series (its first component).
    ///
    /// # Errors
    /// As [`SystemName::generate`](crate::systems::SystemName::generate).
    pub fn generated(name: crate::systems::SystemName, steps: usize) -> Result<Self> {
        Ok(Self {
            source: format!("generated {name} series ({steps} samples, default parameters)"),
            column: "x".to_string(),
            embedded: false,
            values: name.series(steps)?,
        })
    }

    /// Reads `column` (default `Close`) of the embedded S&P 500 table.
    ///
    /// # Errors
    /// [`Error::MissingColumn`] for a column the table does not have.
    pub fn embedded(column: Option<&str>) -> Result<Self> {
        let column = column.unwrap_or("Close");
        let values = data::sp500()?.column_f64(column)?;
        Ok(Self {
            source: EMBEDDED.to_string(),
            column: column.to_string(),
            embedded: true,
            values,
        })
    }
}

/// Raw (unstandardised) pairs. `inputs[i]` is the input at time
/// `t = first + i`; every input has a target except the last `H` (their
/// targets lie past the data: those predictions are forecasts).
#[derive(Debug, Clone, PartialEq)]
pub struct Pairs {
    /// The time of the first input (`H`).
    pub first: usize,
    /// The last one-step change of `x` (`next`) or `ln x` (`return`).
    pub inputs: Vec<f64>,
    /// The change over the next H steps (what the ESN learns).
    pub targets: Vec<f64>,
    /// Added to a predicted change to report it: `x(t)` for `next`, 0 for
    /// `return`; one per input.
    pub anchor: Vec<f64>,
    /// The targets in reporting units (`anchor + targets`).
    pub truth: Vec<f64>,
    /// The persistence baseline's prediction, in reporting units.
    pub persistence: Vec<f64>,
    /// Whether "zero return" is a baseline (the `return` target).
    pub zero_baseline: bool,
}

/// Builds the pairs of `values` for `target` and `horizon`.
///
/// # Errors
/// An empty or non-finite series, `horizon` 0, a series shorter than
/// `2 H + 2` ([`Error::HorizonTooLong`]), or a non-positive value with
/// [`Target::Return`].
pub fn pairs(values: &[f64], target: Target, horizon: usize) -> Result<Pairs> {
    check_series("series", values)?;
    if horizon == 0 {
        return Err(invalid("horizon", 0.0, "must be at least 1"));
    }
    let (n, h) = (values.len(), horizon);
    let needed = h.checked_mul(2).and_then(|v| v.checked_add(2));
    if needed.is_none_or(|needed| n < needed) {
        return Err(Error::HorizonTooLong { horizon, len: n });
    }
    let b = match target {
        Target::Next => values.to_vec(),
        Target::Return => data::log(values)?,
    };
    let inputs: Vec<f64> = (h..n).map(|t| b[t] - b[t - 1]).collect();
    let targets: Vec<f64> = (h..n - h).map(|t| b[t + h] - b[t]).collect();
    let (anchor, persistence): (Vec<f64>, Vec<f64>) = match target {
        Target::Next => ((h..n).map(|t| b[t]).collect(), b[h..n - h].to_vec()),
        Target::Return => (
            vec![0.0; n - h],
            (h..n - h).map(|t| b[t] - b[t - h]).collect(),
        ),
    };
    let truth = targets.iter().zip(&anchor).map(|(y, a)| a + y).collect();
    Ok(Pairs {
        first: h,
        inputs,
        targets,
        anchor,
        truth,
        persistence,
        zero_baseline: target == Target::Return,
    })
}

impl Pairs {
    /// Predicted changes (one per input from `from`) in reporting units.
    pub fn report(&self, from: usize, changes: &[f64]) -> Vec<f64> {
        changes
            .iter()
            .zip(&self.anchor[from..])
            .map(|(c, a)| a + c)
            .collect()
    }
}

/// The transform a model was trained with, saved beside it.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Transform {
    /// What is predicted.
    pub target: Target,
    /// Forecast horizon `H` in steps.
    pub horizon: usize,
    /// Standardiser of the inputs.
    pub input: Standardizer,
    /// Standardiser of the targets (the input's when `H = 1`).
    pub output: Standardizer,
}

impl Transform {
    /// The model-file metadata key the transform is saved under.
    pub const METADATA_KEY: &'static str = "huashi.transform";

    /// Fits the standardisers on the first `train` pairs.
    ///
    /// # Errors
    /// The training inputs or targets are constant (or empty).
    pub fn fit(p: &Pairs, target: Target, horizon: usize, train: usize) -> Result<Self> {
        let input = Standardizer::fit(&p.inputs[..train])?;
        let output = if horizon == 1 {
            input
        } else {
            Standardizer::fit(&p.targets[..train])?
        };
        Ok(Self {
            target,
            horizon,
            input,
            output,
        })
    }

    /// Checks a transform read from a model file by the rules
    /// [`Transform::fit`] obeys: horizon at least 1, valid standardisers,
    /// one standardiser for both sides when the horizon is 1.
    ///
    /// # Errors
    /// The first rule broken, naming the value.
    pub fn check(&self) -> Result<()> {
        if self.horizon == 0 {
            return Err(invalid("horizon", 0.0, "must be at least 1"));
        }
        self.input.check()?;
        self.output.check()?;
        if self.horizon == 1 && self.input != self.output {
            return Err(Error::Format {
                reason: "horizon 1 with different input and output standardisers".into(),
            });
        }
        Ok(())
    }

    /// Whether outputs can be fed back as inputs.
    pub fn closed_loop_ok(&self) -> bool {
        self.horizon == 1
    }
}

/// A series prepared for training: pairs, transform and standardised values.
#[derive(Debug, Clone)]
pub struct Prepared {
    /// The series the pairs come from.
    pub series: Series,
    /// The raw pairs.
    pub pairs: Pairs,
    /// The standardisation.
    pub transform: Transform,
    /// The standardised inputs.
    pub z_in: Vec<f64>,
    /// The standardised targets.
    pub z_out: Vec<f64>,
    /// Number of training pairs (the standardisers were fitted on them).
    pub train: usize,
}

impl Prepared {
    /// Pairs from `series`, standardised on the first `fraction` of them.
    ///
    /// # Errors
    /// Those of [`pairs`], a `fraction` outside (0, 1) or one that leaves
    /// a split empty, and constant training data.
    pub fn new(series: Series, target: Target, horizon: usize, fraction: f64) -> Result<Self> {
        let pairs = pairs(&series.values, target, horizon)?;
        let (train, _) = data::split_len(pairs.targets.len(), fraction)?;
        let transform = Transform::fit(&pairs, target, horizon, train)?;
        Ok(Self::with_transform(series, pairs, transform, train))
    }

    /// Pairs standardised with a given transform (a saved model's).
    pub fn with_transform(
        series: Series,
        pairs: Pairs,
        transform: Transform,
        train: usize,
    ) -> Self {
        let z_in = transform.input.transform(&pairs.inputs);
        let z_out = transform.output.transform(&pairs.targets);
        Self {
            series,
            pairs,
            transform,
            z_in,
            z_out,
            train,
        }
    }

    /// Number of pairs with a target.
    pub fn len(&self) -> usize {
        self.pairs.targets.len()
    }

    /// Whether no pair has a target (never, for pairs built by [`pairs`]).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_and_return_pairs() {
        let x = [1.0, 2.0, 4.0, 8.0, 16.0, 32.0];
        let p = pairs(&x, Target::Next, 2).unwrap();
        assert_eq!(p.first, 2);
        assert_eq!(p.inputs, vec![2.0, 4.0, 8.0, 16.0]);
        assert_eq!(p.targets, vec![12.0, 24.0]);
        assert_eq!(p.truth, vec![16.0, 32.0]);
        assert_eq!(p.persistence, vec![4.0, 8.0]);
        assert_eq!(p.report(0, &[1.0, 1.0, 1.0]), vec![5.0, 9.0, 17.0]);
        let r = pairs(&x, Target::Return, 1).unwrap();
        let ln2 = 2f64.ln();
        assert_eq!((r.first, r.inputs.len(), r.targets.len()), (1, 5, 4));
        assert!(r.inputs.iter().all(|v| (v - ln2).abs() < 1e-12));
        assert!(r.truth.iter().all(|v| (v - ln2).abs() < 1e-12));
        let r2 = pairs(&x, Target::Return, 2).unwrap();
        assert!((r2.targets[0] - 2.0 * ln2).abs() < 1e-12);
        assert!((r2.persistence[0] - 2.0 * ln2).abs() < 1e-12);
    }

    #[test]
    fn bad_inputs_are_errors() {
        assert!(pairs(&[1.0, 2.0, 3.0, 4.0, 5.0], Target::Next, 2).is_err());
        assert!(pairs(&[1.0, 2.0, 3.0], Target::Next, 0).is_err());
        assert!(pairs(&[], Target::Next, 1).is_err());
        assert!(pairs(&[1.0, f64::NAN, 2.0, 3.0], Target::Next, 1).is_err());
        let e = pairs(&[1.0, -2.0, 3.0, 4.0, 5.0], Target::Return, 1).unwrap_err();
        assert!(e.to_string().contains("positive"), "{e}");
    }

    #[test]
    fn embedded_series_and_missing_column() {
        let s = Series::embedded(None).unwrap();
        assert!(s.embedded);
        assert_eq!((s.column.as_str(), s.values.len()), ("Close", 5031));
        let e = Series::embedded(Some("Price")).unwrap_err();
        assert!(e.to_string().contains("Price"), "{e}");
    }

    #[test]
    fn shared_standardiser_for_one_step() {
        let x: Vec<f64> = (0..50).map(|i| 100.0 + (i as f64).sin()).collect();
        let p = Prepared::new(s(x.clone()), Target::Next, 3, 0.8).unwrap();
        assert_ne!(p.transform.input, p.transform.output);
        let p = Prepared::new(s(x), Target::Return, 1, 0.8).unwrap();
        assert_eq!(p.transform.input, p.transform.output);
        assert_eq!(p.train, 38);
    }

    fn s(values: Vec<f64>) -> Series {
        Series {
            source: "test".into(),
            column: "x".into(),
            embedded: false,
            values,
        }
    }
}
