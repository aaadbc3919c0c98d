//! A series to forecast: the target column, the input columns (by default
//! the target alone) and the rows' dates, from a CSV table, the embedded
//! S&P 500 table or a benchmark system.

use std::path::Path;

use serde::Serialize;

use crate::data::{self, CsvTable};
use crate::error::Result;

/// A loaded series and where it came from: the target column and the
/// input columns (by default the target alone).
#[derive(Debug, Clone, Serialize)]
pub struct Series {
    /// File path, or a description of the embedded data.
    pub source: String,
    /// The target column.
    pub column: String,
    /// The input columns, in the order the ESN reads them.
    pub inputs: Vec<String>,
    /// Whether the series is the embedded S&P 500 table's.
    pub embedded: bool,
    /// The target's values, one per row.
    #[serde(skip)]
    pub values: Vec<f64>,
    /// Each input column's values, one per row.
    #[serde(skip)]
    pub input_values: Vec<Vec<f64>>,
    /// Each row's date, when the table has a date column.
    #[serde(skip)]
    pub dates: Option<Vec<String>>,
}

/// The source named for the embedded S&P 500 series.
pub const EMBEDDED: &str = "embedded S&P 500 daily prices 1999-01-04..2018-12-31";

/// The column names read as dates, when present (case-insensitive).
pub const DATE_COLUMNS: [&str; 4] = ["date", "time", "datetime", "timestamp"];

impl Series {
    /// One column that is both the input and the target.
    pub fn single(source: impl Into<String>, column: impl Into<String>, values: Vec<f64>) -> Self {
        let column = column.into();
        Self {
            source: source.into(),
            inputs: vec![column.clone()],
            column,
            embedded: false,
            input_values: vec![values.clone()],
            values,
            dates: None,
        }
    }

    /// Reads `column` of the CSV file at `path` (input and target).
    ///
    /// # Errors
    /// As [`Series::from_table`].
    pub fn from_csv(path: &Path, column: &str) -> Result<Self> {
        Self::from_csv_columns(path, &[column.to_string()], column)
    }

    /// Reads the `inputs` columns (the target alone when empty) and the
    /// `target` column of the CSV file at `path`, and its dates (the first column named as in
    /// [`DATE_COLUMNS`]).
    ///
    /// # Errors
    /// As [`Series::from_table`].
    pub fn from_csv_columns(path: &Path, inputs: &[String], target: &str) -> Result<Self> {
        let table = CsvTable::from_path(path)?;
        Self::from_table(&table, path.display().to_string(), inputs, target)
    }

    /// The `inputs` columns (the target alone when empty) and the `target`
    /// column of `table`, and its dates.
    ///
    /// # Errors
    /// A missing column, or a cell that is not a number.
    pub fn from_table(
        table: &CsvTable,
        source: String,
        inputs: &[String],
        target: &str,
    ) -> Result<Self> {
        let own = [target.to_string()];
        let inputs = if inputs.is_empty() { &own[..] } else { inputs };
        let input_values = inputs
            .iter()
            .map(|c| table.column_f64(c))
            .collect::<Result<Vec<_>>>()?;
        let date = table
            .headers()
            .iter()
            .find(|h| DATE_COLUMNS.contains(&h.to_lowercase().as_str()));
        Ok(Self {
            source,
            column: target.to_string(),
            inputs: inputs.to_vec(),
            embedded: false,
            values: table.column_f64(target)?,
            input_values,
            dates: date.map(|d| table.column_text(d)).transpose()?,
        })
    }

    /// `steps` samples of a benchmark series (its first component).
    ///
    /// # Errors
    /// As [`SystemName::generate`](crate::systems::SystemName::generate).
    pub fn generated(name: crate::systems::SystemName, steps: usize) -> Result<Self> {
        let source = format!("generated {name} series ({steps} samples, default parameters)");
        Ok(Self::single(source, "x", name.series(steps)?))
    }

    /// Reads the `inputs` columns (the target alone when empty) and the
    /// `target` column (default `Close`) of the embedded S&P 500 table, with
    /// its dates.
    ///
    /// # Errors
    /// [`crate::Error::MissingColumn`] for a column the table does not have.
    pub fn embedded(inputs: &[String], target: Option<&str>) -> Result<Self> {
        let table = data::sp500()?;
        let target = target.unwrap_or("Close");
        let mut series = Self::from_table(&table, EMBEDDED.to_string(), inputs, target)?;
        series.embedded = true;
        Ok(series)
    }

    /// Whether the ESN's only input is the target column (so an output can
    /// be fed back as the next input).
    pub fn input_is_target(&self) -> bool {
        self.inputs.len() == 1 && self.inputs[0] == self.column
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_series_and_missing_column() {
        let s = Series::embedded(&[], None).unwrap();
        assert!(s.embedded);
        assert_eq!((s.column.as_str(), s.values.len()), ("Close", 5031));
        assert_eq!(s.dates.as_ref().map(Vec::len), Some(5031));
        let e = Series::embedded(&[], Some("Price")).unwrap_err();
        assert!(e.to_string().contains("Price"), "{e}");
    }
}
