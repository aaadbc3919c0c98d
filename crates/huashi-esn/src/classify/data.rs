//! Labelled multivariate sequences and the two text layouts they are read
//! from.
//!
//! * sktime's `.ts` format (Löning et al. 2019, sktime; the UEA/UCR archive's
//!   layout): `#` comment lines, `@keyword value` header lines, then after
//!   `@data` one sequence per line, its channels separated by `:` and the
//!   values of a channel by `,`, the class label last. Every channel of a
//!   sequence has the same length; sequences may differ in length.
//! * CSV `sequence_id,label,feature…`: a header line, then one row per time
//!   step; the rows of a sequence share its id (in time order) and its label.

use faer::Mat;

use super::ts::{ts_sequence, TsHeader};
use super::DataError;

/// Labelled sequences (`T_i × d` each, one row per time step).
#[derive(Clone, Debug, PartialEq)]
pub struct Dataset {
    /// Where the sequences come from (named by errors).
    pub name: String,
    /// The sequences, `T_i × d`.
    pub sequences: Vec<Mat<f64>>,
    /// The class label of each sequence.
    pub labels: Vec<String>,
    /// The 1-based line of the file where each sequence starts.
    pub lines: Vec<usize>,
}

impl Dataset {
    /// Number of sequences.
    pub fn len(&self) -> usize {
        self.sequences.len()
    }

    /// Whether there are no sequences.
    pub fn is_empty(&self) -> bool {
        self.sequences.is_empty()
    }

    /// Number of channels `d` (0 when empty).
    pub fn channels(&self) -> usize {
        self.sequences.first().map_or(0, |s| s.ncols())
    }

    /// The distinct labels, sorted: numerically when every label is a
    /// finite number, otherwise as text.
    pub fn classes(&self) -> Vec<String> {
        let mut classes = self.labels.clone();
        let numbers: Option<Vec<f64>> = classes
            .iter()
            .map(|l| l.parse::<f64>().ok().filter(|v| v.is_finite()))
            .collect();
        match numbers {
            Some(_) => classes.sort_by(|a, b| {
                let (x, y) = (a.parse::<f64>(), b.parse::<f64>());
                x.unwrap_or(0.0)
                    .total_cmp(&y.unwrap_or(0.0))
                    .then_with(|| a.cmp(b))
            }),
            None => classes.sort(),
        }
        classes.dedup();
        classes
    }

    /// Reads a file: sktime `.ts` when its name ends in `.ts`, otherwise
    /// CSV `sequence_id,label,feature…`.
    ///
    /// # Errors
    /// An unreadable file, or as [`Dataset::parse_ts`] / [`Dataset::parse_csv`].
    pub fn from_path(path: &std::path::Path) -> crate::Result<Self> {
        let text = huashi_io::read_to_string_capped(path, "a sequence data file")?;
        let name = path.display().to_string();
        let ts = path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("ts"));
        let data = if ts {
            Self::parse_ts(&text, &name)
        } else {
            Self::parse_csv(&text, &name)
        };
        Ok(data?)
    }

    /// Parses sktime `.ts` text; `name` names it in errors.
    ///
    /// # Errors
    /// [`DataError`]: an unknown or missing header line (`@data`, a
    /// `@classLabel true …`), time stamps, a sequence with a different number
    /// of channels than `@dimensions` or than the first sequence, channels of
    /// different lengths, a value that is not a finite number, a label not
    /// declared by `@classLabel`, or no sequence at all.
    pub fn parse_ts(text: &str, name: &str) -> Result<Self, DataError> {
        let mut header = TsHeader::default();
        let mut data = Self::empty(name);
        for (i, line) in text.lines().enumerate() {
            let (line, number) = (line.trim(), i + 1);
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            if !header.data {
                header.read(line, number, name)?;
                continue;
            }
            let (sequence, label) = ts_sequence(line, number, name, &header)?;
            header.check_label(&label, number, name)?;
            if data.channels() != 0 && data.channels() != sequence.ncols() {
                return Err(channels(name, number, data.channels(), sequence.ncols()));
            }
            data.push(sequence, label, number);
        }
        if !header.data && !header.seen.is_empty() {
            return Err(malformed(name, header.last_line, "no @data line"));
        }
        data.non_empty()
    }

    /// Parses CSV text `sequence_id,label,feature…` (a header line, then one
    /// row per time step, the rows of a sequence together); `name` names it
    /// in errors. Cells are separated by commas (no quoting).
    ///
    /// # Errors
    /// [`DataError`]: fewer than three columns, a row with another number of
    /// cells, a value that is not a finite number, a sequence whose label
    /// changes, an id that comes back after another sequence, or no rows.
    pub fn parse_csv(text: &str, name: &str) -> Result<Self, DataError> {
        let mut lines = text
            .lines()
            .enumerate()
            .filter(|(_, l)| !l.trim().is_empty());
        let Some((_, header)) = lines.next() else {
            return Err(DataError::Empty { file: name.into() });
        };
        let width = header.split(',').count();
        if width < 3 {
            let reason = "the header must be sequence_id,label,feature… (at least 3 columns)";
            return Err(malformed(name, 1, reason));
        }
        let mut reader = CsvReader::new(name);
        for (i, line) in lines {
            let cells: Vec<&str> = line
                .split(',')
                .map(|c| c.trim().trim_matches('"'))
                .collect();
            if cells.len() != width {
                let reason = format!("{} cells, the header has {width}", cells.len());
                return Err(malformed(name, i + 1, &reason));
            }
            let values = cells[2..]
                .iter()
                .map(|c| number_at(c, i + 1, name))
                .collect::<Result<Vec<_>, _>>()?;
            reader.row(cells[0], cells[1], values, i + 1)?;
        }
        reader.finish().non_empty()
    }

    fn empty(name: &str) -> Self {
        Self {
            name: name.to_string(),
            sequences: Vec::new(),
            labels: Vec::new(),
            lines: Vec::new(),
        }
    }

    fn push(&mut self, sequence: Mat<f64>, label: String, line: usize) {
        self.sequences.push(sequence);
        self.labels.push(label);
        self.lines.push(line);
    }

    fn non_empty(self) -> Result<Self, DataError> {
        if self.is_empty() {
            return Err(DataError::Empty { file: self.name });
        }
        Ok(self)
    }
}

/// Groups CSV rows into sequences.
struct CsvReader {
    data: Dataset,
    ids: std::collections::HashSet<String>,
    /// The open sequence: id, label, first line, rows.
    open: Option<(String, String, usize, Vec<Vec<f64>>)>,
}

impl CsvReader {
    fn new(name: &str) -> Self {
        Self {
            data: Dataset::empty(name),
            ids: Default::default(),
            open: None,
        }
    }

    fn row(
        &mut self,
        id: &str,
        label: &str,
        values: Vec<f64>,
        line: usize,
    ) -> Result<(), DataError> {
        if let Some((oid, olabel, _, rows)) = &mut self.open {
            if oid == id {
                if olabel != label {
                    let reason =
                        format!("sequence {id:?} changes its label from {olabel:?} to {label:?}");
                    return Err(malformed(&self.data.name, line, &reason));
                }
                rows.push(values);
                return Ok(());
            }
        }
        self.close();
        if !self.ids.insert(id.to_string()) {
            let reason = format!("sequence {id:?} comes back after another sequence");
            return Err(malformed(&self.data.name, line, &reason));
        }
        self.open = Some((id.to_string(), label.to_string(), line, vec![values]));
        Ok(())
    }

    fn close(&mut self) {
        if let Some((_, label, line, rows)) = self.open.take() {
            let d = rows[0].len();
            let m = Mat::from_fn(rows.len(), d, |t, j| rows[t][j]);
            self.data.push(m, label, line);
        }
    }

    fn finish(mut self) -> Dataset {
        self.close();
        self.data
    }
}

/// A finite number, or [`DataError::NotNumber`] naming it and its line.
pub(super) fn number_at(cell: &str, line: usize, file: &str) -> Result<f64, DataError> {
    match cell.parse::<f64>() {
        Ok(v) if v.is_finite() => Ok(v),
        _ => Err(DataError::NotNumber {
            file: file.into(),
            line,
            value: cell.into(),
        }),
    }
}

pub(super) fn malformed(file: &str, line: usize, reason: &str) -> DataError {
    DataError::Malformed {
        file: file.into(),
        line,
        reason: reason.into(),
    }
}

pub(super) fn channels(file: &str, line: usize, expected: usize, found: usize) -> DataError {
    DataError::Channels {
        file: file.into(),
        line,
        expected,
        found,
    }
}
