//! The input/target pairs of a [`Series`], the standardisation and the
//! prepared training data (see the module [`crate::forecast`] for the
//! formulas).

use faer::{Mat, MatRef};
use serde::{Deserialize, Serialize};

use super::{Series, Target};
use crate::data::{self, Standardizer};
use crate::error::{check_series, invalid, Error, Result};
use crate::util::mismatch;

/// Raw (unstandardised) pairs. Row `i` of `inputs` is the input at time
/// `t = first + i`; every input has a target except the last `H` (their
/// targets lie past the data: those predictions are forecasts).
#[derive(Debug, Clone, PartialEq)]
pub struct Pairs {
    /// The time of the first input (`H`).
    pub first: usize,
    /// The last one-step change of each input column `c` (of `c`, or of
    /// `ln c` for `return`), one row per time, one column per input.
    pub inputs: Mat<f64>,
    /// The change over the next H steps (what the ESN learns).
    pub targets: Vec<f64>,
    /// Added to a predicted change to report it: `x(t)` for `next`, 0 for
    /// `return`; one per input row.
    pub anchor: Vec<f64>,
    /// The targets in reporting units (`anchor + targets`).
    pub truth: Vec<f64>,
    /// The persistence baseline's prediction, in reporting units.
    pub persistence: Vec<f64>,
    /// Whether "zero return" is a baseline (the `return` target).
    pub zero_baseline: bool,
}

/// `x`, or `ln x` for [`Target::Return`].
fn base(values: &[f64], target: Target) -> Result<Vec<f64>> {
    match target {
        Target::Next => Ok(values.to_vec()),
        Target::Return => data::log(values),
    }
}

/// Builds the pairs of `series` for `target` and `horizon`.
///
/// # Errors
/// An empty or non-finite column, input columns of another length than the
/// target's, `horizon` 0, a series shorter than `2 H + 2`
/// ([`Error::HorizonTooLong`]), or a non-positive value with
/// [`Target::Return`].
pub fn pairs(series: &Series, target: Target, horizon: usize) -> Result<Pairs> {
    let values = &series.values;
    check_series("series", values)?;
    if horizon == 0 {
        return Err(invalid("horizon", 0.0, "must be at least 1"));
    }
    let (n, h) = (values.len(), horizon);
    let needed = h.checked_mul(2).and_then(|v| v.checked_add(2));
    if needed.is_none_or(|needed| n < needed) {
        return Err(Error::HorizonTooLong { horizon, len: n });
    }
    let b = base(values, target)?;
    let columns = (series.input_values.iter())
        .map(|v| {
            check_series("input column", v)?;
            mismatch("rows of an input column", n, v.len())?;
            base(v, target)
        })
        .collect::<Result<Vec<_>>>()?;
    let inputs = Mat::from_fn(n - h, columns.len(), |i, j| {
        columns[j][h + i] - columns[j][h + i - 1]
    });
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
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(from = "StoredTransform")]
pub struct Transform {
    /// What is predicted.
    pub target: Target,
    /// Forecast horizon `H` in steps.
    pub horizon: usize,
    /// Standardiser of each input column's changes.
    pub inputs: Vec<Standardizer>,
    /// Standardiser of the targets (the input's when the only input is the
    /// target and `H = 1`).
    pub output: Standardizer,
    /// Whether outputs can be fed back as inputs (the only input is the
    /// target, `H = 1`).
    pub closed_loop: bool,
}

/// A transform as stored: files written before several inputs have one
/// `input` standardiser (and are closed-loop exactly when `H = 1`).
#[derive(Deserialize)]
struct StoredTransform {
    target: Target,
    horizon: usize,
    #[serde(default)]
    inputs: Vec<Standardizer>,
    input: Option<Standardizer>,
    output: Standardizer,
    closed_loop: Option<bool>,
}

impl From<StoredTransform> for Transform {
    fn from(s: StoredTransform) -> Self {
        let old = s.input.is_some();
        Self {
            target: s.target,
            horizon: s.horizon,
            inputs: s.input.into_iter().chain(s.inputs).collect(),
            output: s.output,
            closed_loop: s.closed_loop.unwrap_or(old && s.horizon == 1),
        }
    }
}

impl Transform {
    /// The model-file metadata key the transform is saved under.
    pub const METADATA_KEY: &'static str = "huashi.transform";

    /// Fits the standardisers on the first `train` pairs of `series`.
    ///
    /// # Errors
    /// The training inputs or targets are constant (or empty).
    pub fn fit(
        p: &Pairs,
        series: &Series,
        target: Target,
        horizon: usize,
        train: usize,
    ) -> Result<Self> {
        let inputs = (0..p.inputs.ncols())
            .map(|j| {
                let col: Vec<f64> = (0..train).map(|i| p.inputs[(i, j)]).collect();
                Standardizer::fit(&col)
            })
            .collect::<Result<Vec<_>>>()?;
        let closed_loop = horizon == 1 && series.input_is_target();
        let output = if closed_loop {
            inputs[0]
        } else {
            Standardizer::fit(&p.targets[..train])?
        };
        Ok(Self {
            target,
            horizon,
            inputs,
            output,
            closed_loop,
        })
    }

    /// Checks a transform read from a model file by the rules
    /// [`Transform::fit`] obeys: horizon at least 1, at least one input,
    /// valid standardisers, a closed-loop model of horizon 1 with one input
    /// standardised as its output.
    ///
    /// # Errors
    /// The first rule broken, naming the value.
    pub fn check(&self) -> Result<()> {
        if self.horizon == 0 {
            return Err(invalid("horizon", 0.0, "must be at least 1"));
        }
        if self.inputs.is_empty() {
            return Err(Error::Format {
                reason: "a transform without input standardisers".into(),
            });
        }
        for s in self.inputs.iter().chain([&self.output]) {
            s.check()?;
        }
        let one = self.horizon == 1 && self.inputs.len() == 1 && self.inputs[0] == self.output;
        if self.closed_loop && !one {
            return Err(Error::Format {
                reason: "a closed-loop transform needs horizon 1 and one input standardised as the output".into(),
            });
        }
        Ok(())
    }

    /// Whether outputs can be fed back as inputs.
    pub fn closed_loop_ok(&self) -> bool {
        self.closed_loop
    }

    /// `inputs` standardised, column by column (as many columns as
    /// standardisers, which [`Prepared::with_transform`] checks).
    fn standardise(&self, inputs: &Mat<f64>) -> Mat<f64> {
        Mat::from_fn(inputs.nrows(), inputs.ncols(), |i, j| {
            let s = &self.inputs[j];
            (inputs[(i, j)] - s.mean) / s.std
        })
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
    /// The standardised inputs, one row per time, one column per input.
    pub z_in: Mat<f64>,
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
        let pairs = pairs(&series, target, horizon)?;
        let (train, _) = data::split_len(pairs.targets.len(), fraction)?;
        let transform = Transform::fit(&pairs, &series, target, horizon, train)?;
        Self::with_transform(series, pairs, transform, train)
    }

    /// Pairs standardised with a given transform (a saved model's).
    ///
    /// # Errors
    /// [`Error::DimensionMismatch`] when the transform has another number of
    /// inputs than the pairs.
    pub fn with_transform(
        series: Series,
        pairs: Pairs,
        transform: Transform,
        train: usize,
    ) -> Result<Self> {
        let (want, have) = (transform.inputs.len(), pairs.inputs.ncols());
        mismatch("input columns of the model", want, have)?;
        let z_in = transform.standardise(&pairs.inputs);
        let z_out = transform.output.transform(&pairs.targets);
        Ok(Self {
            series,
            pairs,
            transform,
            z_in,
            z_out,
            train,
        })
    }

    /// The standardised inputs of rows `from..to`.
    pub fn inputs(&self, from: usize, to: usize) -> MatRef<'_, f64> {
        self.z_in.as_ref().subrows(from, to - from)
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
    use crate::data::CsvTable;
    use crate::util::column_values;

    fn s(values: &[f64]) -> Series {
        Series::single("test", "x", values.to_vec())
    }

    #[test]
    fn next_and_return_pairs() {
        let x = [1.0, 2.0, 4.0, 8.0, 16.0, 32.0];
        let p = pairs(&s(&x), Target::Next, 2).unwrap();
        assert_eq!(p.first, 2);
        assert_eq!(column_values(p.inputs.as_ref(), 0), [2.0, 4.0, 8.0, 16.0]);
        assert_eq!(p.targets, vec![12.0, 24.0]);
        assert_eq!(p.truth, vec![16.0, 32.0]);
        assert_eq!(p.persistence, vec![4.0, 8.0]);
        assert_eq!(p.report(0, &[1.0, 1.0, 1.0]), vec![5.0, 9.0, 17.0]);
        let r = pairs(&s(&x), Target::Return, 1).unwrap();
        let ln2 = 2f64.ln();
        assert_eq!((r.first, r.inputs.nrows(), r.targets.len()), (1, 5, 4));
        assert!(column_values(r.inputs.as_ref(), 0)
            .iter()
            .all(|v| (v - ln2).abs() < 1e-12));
        assert!(r.truth.iter().all(|v| (v - ln2).abs() < 1e-12));
        let r2 = pairs(&s(&x), Target::Return, 2).unwrap();
        assert!((r2.targets[0] - 2.0 * ln2).abs() < 1e-12);
        assert!((r2.persistence[0] - 2.0 * ln2).abs() < 1e-12);
    }

    #[test]
    fn input_columns_give_one_input_each() {
        // Inputs a and b, target x: row i holds the changes of a and b at
        // t = H + i; the targets are x's.
        let table = CsvTable::parse(
            "Date,a,b,x\nd0,1,10,5\nd1,2,20,6\nd2,4,40,8\nd3,7,70,11\nd4,11,110,15\n",
        )
        .unwrap();
        let inputs = ["a".to_string(), "b".to_string()];
        let series = Series::from_table(&table, "t".into(), &inputs, "x").unwrap();
        assert_eq!(series.dates.as_deref().unwrap()[4], "d4");
        assert!(!series.input_is_target());
        let p = pairs(&series, Target::Next, 1).unwrap();
        assert_eq!(column_values(p.inputs.as_ref(), 0), [1.0, 2.0, 3.0, 4.0]);
        assert_eq!(
            column_values(p.inputs.as_ref(), 1),
            [10.0, 20.0, 30.0, 40.0]
        );
        assert_eq!(p.targets, [2.0, 3.0, 4.0]);
        let prep = Prepared::new(series, Target::Next, 1, 0.7).unwrap();
        let t = &prep.transform;
        assert_eq!((t.inputs.len(), t.closed_loop), (2, false));
        assert!(t.check().is_ok());
        let err = series_of(&table, &["a", "nope"]).unwrap_err();
        assert!(err.to_string().contains("nope"), "{err}");
    }

    fn series_of(table: &CsvTable, inputs: &[&str]) -> Result<Series> {
        let inputs: Vec<String> = inputs.iter().map(|c| c.to_string()).collect();
        Series::from_table(table, "t".into(), &inputs, "x")
    }

    #[test]
    fn bad_inputs_are_errors() {
        assert!(pairs(&s(&[1.0, 2.0, 3.0, 4.0, 5.0]), Target::Next, 2).is_err());
        assert!(pairs(&s(&[1.0, 2.0, 3.0]), Target::Next, 0).is_err());
        assert!(pairs(&s(&[]), Target::Next, 1).is_err());
        assert!(pairs(&s(&[1.0, f64::NAN, 2.0, 3.0]), Target::Next, 1).is_err());
        let e = pairs(&s(&[1.0, -2.0, 3.0, 4.0, 5.0]), Target::Return, 1).unwrap_err();
        assert!(e.to_string().contains("positive"), "{e}");
        let mut ragged = s(&[1.0, 2.0, 3.0, 4.0, 5.0]);
        ragged.input_values[0].pop();
        assert!(pairs(&ragged, Target::Next, 1).is_err());
    }

    #[test]
    fn shared_standardiser_for_one_step() {
        let x: Vec<f64> = (0..50).map(|i| 100.0 + (i as f64).sin()).collect();
        let p = Prepared::new(s(&x), Target::Next, 3, 0.8).unwrap();
        assert_ne!(p.transform.inputs[0], p.transform.output);
        assert!(!p.transform.closed_loop);
        let p = Prepared::new(s(&x), Target::Return, 1, 0.8).unwrap();
        assert_eq!(p.transform.inputs[0], p.transform.output);
        assert!(p.transform.closed_loop);
        assert_eq!(p.train, 38);
    }

    #[test]
    fn transforms_saved_with_one_input_still_load() {
        let old = r#"{"target":"next","horizon":1,"input":{"mean":0.5,"std":2.0},"output":{"mean":0.5,"std":2.0}}"#;
        let t: Transform = serde_json::from_str(old).unwrap();
        assert_eq!((t.inputs.len(), t.closed_loop), (1, true));
        assert!(t.check().is_ok());
        let new = serde_json::to_string(&t).unwrap();
        assert_eq!(serde_json::from_str::<Transform>(&new).unwrap(), t);
    }
}
