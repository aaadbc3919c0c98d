//! Data preparation shared by the `huashi esn` commands and the tour: one
//! column of a CSV file (or the embedded S&P 500 closes), turned into
//! standardised input/target pairs for one of two targets.
//!
//! With the series `x(0..n)`, horizon `H` and `b = x` (`next`) or
//! `b = ln x` (`return`), the ESN reads the last one-step change
//! `b(t) − b(t−1)` and learns the change over the next H steps,
//! `b(t+H) − b(t)`. Modelling changes rather than levels keeps a trending
//! series (a price) inside the range seen in training.
//!
//! * `next` reports `x̂(t+H) = x(t) + predicted change`; baseline
//!   "persistence" `x̂(t+H) = x(t)` (same as the last value);
//! * `return` reports the log-return `ln x(t+H) − ln x(t)`; baselines "zero
//!   return" and "persistence" `ln x(t) − ln x(t−H)` (the last H-step return
//!   again).
//!
//! Inputs and targets are standardised with the mean and standard deviation
//! of the training part; when they are the same quantity (`H = 1`) one
//! standardiser serves both, so the output can be fed back as the next input
//! (closed loop). Scores are computed in the reporting units (series units
//! for `next`, log-returns for `return`).

use anyhow::{bail, Context};
use clap::ValueEnum;
use huashi_esn::data::{self, CsvTable, Standardizer};
use serde::{Deserialize, Serialize};
use std::path::Path;

/// What the ESN predicts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Target {
    /// The value H steps ahead.
    Next,
    /// The log-return over the next H steps.
    Return,
}

/// A loaded series and where it came from.
#[derive(Debug, Clone, Serialize)]
pub struct Series {
    /// File path, or a description of the embedded data.
    pub source: String,
    pub column: String,
    pub embedded: bool,
    #[serde(skip)]
    pub values: Vec<f64>,
}

pub const EMBEDDED: &str = "embedded S&P 500 daily prices 1999-01-04..2018-12-31";

/// Reads `column` of `path`, or of the embedded S&P 500 table (default
/// column `Close`) when `path` is `None`.
pub fn load(path: Option<&Path>, column: Option<&str>) -> anyhow::Result<Series> {
    let (table, source, embedded) = match path {
        Some(p) => {
            let t = CsvTable::from_path(p).with_context(|| format!("reading {}", p.display()))?;
            (t, p.display().to_string(), false)
        }
        None => (data::sp500()?, EMBEDDED.to_string(), true),
    };
    let column = match (column, embedded) {
        (Some(c), _) => c.to_string(),
        (None, true) => "Close".to_string(),
        (None, false) => bail!(
            "--column is required with --data; the columns of {source} are {:?}",
            table.headers()
        ),
    };
    let values = table
        .column_f64(&column)
        .with_context(|| format!("reading column {column:?} of {source}"))?;
    Ok(Series {
        source,
        column,
        embedded,
        values,
    })
}

/// Raw (unstandardised) pairs. `inputs[i]` is the input at time
/// `t = first + i`; every input has a target except the last `H` (their
/// targets lie past the data: those predictions are forecasts).
#[derive(Debug, Clone, PartialEq)]
pub struct Pairs {
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
pub fn pairs(values: &[f64], target: Target, horizon: usize) -> anyhow::Result<Pairs> {
    huashi_esn::check_series("series", values)?;
    if horizon == 0 {
        bail!("--horizon must be at least 1");
    }
    let (n, h) = (values.len(), horizon);
    let too_long = huashi_esn::Error::HorizonTooLong { horizon, len: n };
    let needed = h.checked_mul(2).and_then(|v| v.checked_add(2));
    if needed.is_none_or(|needed| n < needed) {
        Err(too_long)?;
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
    pub target: Target,
    pub horizon: usize,
    pub input: Standardizer,
    pub output: Standardizer,
}

impl Transform {
    /// Fits the standardisers on the first `train` pairs.
    pub fn fit(p: &Pairs, target: Target, horizon: usize, train: usize) -> anyhow::Result<Self> {
        let input = Standardizer::fit(&p.inputs[..train])
            .context("the training inputs cannot be standardised")?;
        let output = if horizon == 1 {
            input
        } else {
            Standardizer::fit(&p.targets[..train])
                .context("the training targets cannot be standardised")?
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
    pub fn check(&self) -> anyhow::Result<()> {
        if self.horizon == 0 {
            bail!("horizon 0 (must be at least 1)");
        }
        self.input.check().context("input standardiser")?;
        self.output.check().context("output standardiser")?;
        if self.horizon == 1 && self.input != self.output {
            bail!("horizon 1 with different input and output standardisers");
        }
        Ok(())
    }

    /// Whether outputs can be fed back as inputs.
    pub fn closed_loop_ok(&self) -> bool {
        self.horizon == 1
    }

    pub const METADATA_KEY: &'static str = "huashi.transform";
}

/// A series prepared for training: pairs, transform and standardised values.
#[derive(Debug, Clone)]
pub struct Prepared {
    pub series: Series,
    pub pairs: Pairs,
    pub transform: Transform,
    pub z_in: Vec<f64>,
    pub z_out: Vec<f64>,
    /// Number of training pairs (the standardisers were fitted on them).
    pub train: usize,
}

impl Prepared {
    /// Pairs from `series`, standardised on the first `fraction` of them.
    pub fn new(
        series: Series,
        target: Target,
        horizon: usize,
        fraction: f64,
    ) -> anyhow::Result<Self> {
        let pairs = pairs(&series.values, target, horizon)?;
        let (train, _) = data::split_len(pairs.targets.len(), fraction)
            .with_context(|| format!("splitting {} pairs", pairs.targets.len()))?;
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
        assert!(format!("{e:#}").contains("positive"), "{e:#}");
    }

    #[test]
    fn embedded_series_and_missing_column() {
        let s = load(None, None).unwrap();
        assert!(s.embedded);
        assert_eq!((s.column.as_str(), s.values.len()), ("Close", 5031));
        let e = load(None, Some("Price")).unwrap_err();
        assert!(format!("{e:#}").contains("Price"), "{e:#}");
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
