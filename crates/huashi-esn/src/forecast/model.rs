//! A forecasting ESN saved with its [`Transform`] and data description, and
//! its predictions in reporting units: open loop over a whole series, past
//! its end from the last `H` inputs, and a closed-loop free run.
//!
//! The free run (`H = 1` only) feeds each standardised output back as the
//! next input ([`Esn::forecast`]) and reports `x̂(t+1) = x̂(t) + ŷ(t)`
//! (`next`) or the log-return `ŷ(t)` with the implied value
//! `x̂(t+1) = x̂(t) e^{ŷ(t)}` (`return`).

use std::collections::BTreeMap;
use std::path::Path;

use serde::Serialize;

use super::{Prepared, Target, Transform};
use crate::data;
use crate::error::{invalid, Error, Result};
use crate::esn::Esn;
use crate::util::column_values;

/// Metadata key of the column a model was trained on.
pub const COLUMN_KEY: &str = "huashi.column";
/// Metadata key of the input columns a model reads (a JSON list).
pub const INPUTS_KEY: &str = "huashi.inputs";
/// Metadata key of the source a model was trained on.
pub const SOURCE_KEY: &str = "huashi.source";

/// Memory per generated step: the outputs and their report rows.
const AHEAD_BYTES: u64 = 8 * 8;

/// A loaded forecasting model and what was stored beside it.
#[derive(Debug, Clone)]
pub struct SavedModel {
    /// The network (one input per input column, one output).
    pub esn: Esn,
    /// The transform it was trained with.
    pub transform: Transform,
    /// The target column it was trained on, if recorded.
    pub column: Option<String>,
    /// The input columns it reads, if recorded (files written before
    /// several inputs read the target column alone).
    pub inputs: Option<Vec<String>>,
    /// The source it was trained on, if recorded.
    pub source: Option<String>,
}

/// One value predicted past the end of the data.
#[derive(Debug, Clone, Serialize)]
pub struct Ahead {
    /// Row of the series the value belongs to (rows count from 0).
    pub row: usize,
    /// In the target's units (series units or log-return).
    pub value: f64,
    /// For the `return` target: the implied value (series units).
    pub implied: Option<f64>,
}

impl SavedModel {
    /// Saves `esn` with the transform and data description of `prep` as
    /// metadata.
    ///
    /// # Errors
    /// The file cannot be written.
    pub fn save(path: &Path, esn: &Esn, prep: &Prepared) -> Result<()> {
        let transform = serde_json::to_string(&prep.transform).map_err(|e| Error::Format {
            reason: format!("cannot encode the transform: {e}"),
        })?;
        let inputs = serde_json::to_string(&prep.series.inputs).map_err(|e| Error::Format {
            reason: format!("cannot encode the input columns: {e}"),
        })?;
        let meta = BTreeMap::from([
            (Transform::METADATA_KEY.to_string(), transform),
            (INPUTS_KEY.to_string(), inputs),
            (COLUMN_KEY.to_string(), prep.series.column.clone()),
            (SOURCE_KEY.to_string(), prep.series.source.clone()),
        ]);
        esn.save_with_metadata(path, &meta)
    }

    /// Loads a model saved by [`SavedModel::save`], checking its transform
    /// and that it has one input per input standardiser and one output.
    ///
    /// # Errors
    /// The file cannot be read or is not a model ([`Error::Format`]), or its
    /// transform is missing or breaks a rule of [`Transform::check`].
    pub fn load(path: &Path) -> Result<Self> {
        let (esn, meta) = Esn::load_with_metadata(path)?;
        let key = Transform::METADATA_KEY;
        let format = |reason: String| Error::Format { reason };
        let text = meta.get(key).ok_or_else(|| {
            format(format!(
                "no {key:?} metadata (models saved for forecasting have it)"
            ))
        })?;
        let transform: Transform =
            serde_json::from_str(text).map_err(|e| format(format!("bad {key:?} metadata: {e}")))?;
        transform.check()?;
        let (d, m, want) = (esn.inputs(), esn.outputs(), transform.inputs.len());
        if d != want || m != 1 {
            let reason = format!(
                "{d} inputs and {m} outputs; its transform standardises {want} inputs and a \
                 forecasting model has one output"
            );
            return Err(format(reason));
        }
        let inputs: Option<Vec<String>> = match meta.get(INPUTS_KEY) {
            Some(text) => Some(
                serde_json::from_str(text)
                    .map_err(|e| format(format!("bad {INPUTS_KEY:?} metadata: {e}")))?,
            ),
            None => None,
        };
        if inputs.as_ref().is_some_and(|i| i.len() != want) {
            return Err(format(format!(
                "{INPUTS_KEY:?} names another number of columns than {want}"
            )));
        }
        Ok(Self {
            esn,
            transform,
            inputs,
            column: meta.get(COLUMN_KEY).cloned(),
            source: meta.get(SOURCE_KEY).cloned(),
        })
    }

    /// Open-loop predictions of every input of `prep` from the zero state,
    /// in reporting units (one per input: the last `H` lie past the data).
    ///
    /// # Errors
    /// As [`Esn::predict`].
    pub fn predict_all(&self, prep: &Prepared) -> Result<Vec<f64>> {
        let out = self.esn.predict(prep.z_in.as_ref())?;
        let changes = self
            .transform
            .output
            .inverse(&column_values(out.as_ref(), 0));
        Ok(prep.pairs.report(0, &changes))
    }

    /// Closed-loop free run of `steps` steps past the data of `prep`.
    ///
    /// # Errors
    /// A model that does not read its own target alone at horizon 1, `steps` 0, more steps than memory holds,
    /// or as [`Esn::forecast`].
    pub fn free_run(&self, prep: &Prepared, steps: usize) -> Result<Vec<Ahead>> {
        if !self.transform.closed_loop_ok() {
            let inputs = self.transform.inputs.len() as f64;
            let reason = "a free run needs a model of horizon 1 whose only input is its target";
            return Err(if self.transform.horizon == 1 {
                invalid("input columns", inputs, reason)
            } else {
                invalid("horizon", self.transform.horizon as f64, reason)
            });
        }
        if steps == 0 {
            return Err(invalid("free-run steps", 0.0, "must be at least 1"));
        }
        let what = format!("a free run of {steps} steps");
        let bytes = huashi_io::checked_product(&what, &[steps as u64, AHEAD_BYTES])?;
        huashi_io::check_memory(&what, bytes)?;
        let out = self.esn.forecast(prep.z_in.as_ref(), steps)?;
        let changes = self
            .transform
            .output
            .inverse(&column_values(out.as_ref(), 0));
        Ok(ahead(prep, self.transform.target, &changes))
    }
}

/// The free run's changes as values past the data.
fn ahead(prep: &Prepared, target: Target, changes: &[f64]) -> Vec<Ahead> {
    let n = prep.series.values.len();
    let last = prep.series.values[n - 1];
    let (values, implied): (Vec<f64>, Vec<Option<f64>>) = match target {
        Target::Next => {
            let path = changes.iter().scan(last, |x, c| {
                *x += c;
                Some(*x)
            });
            (path.collect(), vec![None; changes.len()])
        }
        Target::Return => {
            let prices = data::from_log_returns(last, changes);
            (
                changes.to_vec(),
                prices[1..].iter().map(|p| Some(*p)).collect(),
            )
        }
    };
    (0..changes.len())
        .map(|i| Ahead {
            row: n + i,
            value: values[i],
            implied: implied[i],
        })
        .collect()
}

/// The predictions made from the last H inputs (`prediction` holds one per
/// input, as [`SavedModel::predict_all`] returns), whose targets lie past
/// the data.
pub fn beyond(prep: &Prepared, prediction: &[f64]) -> Vec<Ahead> {
    let (n, h) = (prep.series.values.len(), prep.transform.horizon);
    let implied = |from: usize, value: f64| {
        (prep.transform.target == Target::Return).then(|| prep.series.values[from] * value.exp())
    };
    prediction[prep.len()..]
        .iter()
        .enumerate()
        .map(|(i, v)| Ahead {
            row: n + i,
            value: *v,
            implied: implied(n - h + i, *v),
        })
        .collect()
}
