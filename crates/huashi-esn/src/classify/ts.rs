//! The sktime `.ts` layout: its header and its data lines (see
//! [`super::Dataset::parse_ts`]).

use faer::Mat;

use super::data::{channels, malformed, number_at};
use super::DataError;

/// What the `.ts` header said.
#[derive(Default)]
pub(super) struct TsHeader {
    /// `@dimensions`.
    pub(super) dimensions: Option<usize>,
    /// The labels `@classLabel true …` lists (empty: any label).
    pub(super) labels: Vec<String>,
    /// Whether `@classLabel true` was seen.
    pub(super) labelled: bool,
    /// Whether `@data` was seen.
    pub(super) data: bool,
    /// Keywords seen, and the line of the last header line.
    pub(super) seen: Vec<String>,
    pub(super) last_line: usize,
}

/// The header keywords of sktime's `.ts` format.
const TS_KEYWORDS: [&str; 10] = [
    "problemname",
    "timestamps",
    "missing",
    "univariate",
    "dimensions",
    "equallength",
    "serieslength",
    "classlabel",
    "targetlabel",
    "data",
];

impl TsHeader {
    /// Reads one header line.
    pub(super) fn read(&mut self, line: &str, number: usize, file: &str) -> Result<(), DataError> {
        let Some(rest) = line.strip_prefix('@') else {
            return Err(malformed(file, number, "a data line before @data"));
        };
        let mut words = rest.split_whitespace();
        let keyword = words.next().unwrap_or("").to_ascii_lowercase();
        let values: Vec<&str> = words.collect();
        let bad = |reason: String| Err(malformed(file, number, &reason));
        match keyword.as_str() {
            k if !TS_KEYWORDS.contains(&k) => return bad(format!("unknown header @{k}")),
            "timestamps" if values.first() == Some(&"true") => {
                return bad("time stamps are not supported".into())
            }
            "dimensions" => match values.first().and_then(|v| v.parse().ok()) {
                Some(d) if d > 0 => self.dimensions = Some(d),
                _ => {
                    return bad(format!(
                        "@dimensions needs a positive count, not {values:?}"
                    ))
                }
            },
            "classlabel" if values.first() == Some(&"true") => {
                self.labelled = true;
                self.labels = values[1..].iter().map(|v| v.to_string()).collect();
            }
            "classlabel" => {
                return bad("@classLabel must be true: classification needs labels".into())
            }
            "data" if !self.labelled => return bad("@data before @classLabel true".into()),
            "data" => self.data = true,
            _ => {}
        }
        self.seen.push(keyword);
        self.last_line = number;
        Ok(())
    }

    /// A label `@classLabel` did not declare.
    pub(super) fn check_label(
        &self,
        label: &str,
        line: usize,
        file: &str,
    ) -> Result<(), DataError> {
        if self.labels.is_empty() || self.labels.iter().any(|l| l == label) {
            return Ok(());
        }
        Err(DataError::UnknownLabel {
            file: file.into(),
            line,
            label: label.into(),
            classes: self.labels.clone(),
        })
    }
}

/// One `.ts` data line: the `T × d` sequence and its label.
pub(super) fn ts_sequence(
    line: &str,
    number: usize,
    file: &str,
    header: &TsHeader,
) -> Result<(Mat<f64>, String), DataError> {
    let mut fields: Vec<&str> = line.split(':').collect();
    let label = fields.pop().unwrap_or("").trim().to_string();
    if fields.is_empty() || label.is_empty() {
        return Err(malformed(
            file,
            number,
            "a data line needs channels and a label, separated by ':'",
        ));
    }
    if let Some(d) = header.dimensions {
        if fields.len() != d {
            return Err(channels(file, number, d, fields.len()));
        }
    }
    let columns = ts_channels(&fields, number, file)?;
    let steps = columns_len(&columns);
    Ok((
        Mat::from_fn(steps, columns.len(), |t, j| columns[j][t]),
        label,
    ))
}

/// The values of each `,`-separated channel, all of the same length.
fn ts_channels(fields: &[&str], number: usize, file: &str) -> Result<Vec<Vec<f64>>, DataError> {
    let mut columns: Vec<Vec<f64>> = Vec::with_capacity(fields.len());
    for (c, field) in fields.iter().enumerate() {
        let values = field
            .split(',')
            .map(|v| number_at(v.trim(), number, file))
            .collect::<Result<Vec<_>, _>>()?;
        if c > 0 && values.len() != columns_len(&columns) {
            return Err(DataError::Ragged {
                file: file.into(),
                line: number,
                channel: c + 1,
                expected: columns_len(&columns),
                found: values.len(),
            });
        }
        columns.push(values);
    }
    Ok(columns)
}

fn columns_len(columns: &[Vec<f64>]) -> usize {
    columns.first().map_or(0, Vec::len)
}
