//! A small CSV reader: comma-separated, first line is the header, fields may
//! be double-quoted (`""` escapes a quote inside quotes), `\n` or `\r\n` line
//! ends, blank lines skipped. Columns are read by header name; a date or any
//! other text column is allowed as long as it is not read as numbers.

use crate::error::{Error, Result};

/// A parsed CSV table of text cells.
#[derive(Clone, Debug, PartialEq)]
pub struct CsvTable {
    headers: Vec<String>,
    /// `(line number, cells)` of every data row.
    rows: Vec<(usize, Vec<String>)>,
}

impl CsvTable {
    /// Parses CSV text.
    ///
    /// # Errors
    /// [`crate::Error::Csv`] for malformed text, [`crate::Error::EmptySeries`]
    /// without a header.
    pub fn parse(text: &str) -> Result<Self> {
        let mut lines = text
            .lines()
            .enumerate()
            .map(|(i, l)| (i + 1, l))
            .filter(|(_, l)| !l.trim().is_empty());
        let (first, header) = lines
            .next()
            .ok_or(Error::EmptySeries { what: "CSV file" })?;
        let headers: Vec<String> = split_line(header, first)?
            .into_iter()
            .map(|h| h.trim().to_string())
            .collect();
        let rows = lines
            .map(|(n, l)| split_line(l, n).map(|cells| (n, cells)))
            .collect::<Result<Vec<_>>>()?;
        Ok(Self { headers, rows })
    }

    /// Reads and parses a CSV file.
    ///
    /// # Errors
    /// The file cannot be read (or exceeds the size limit), or as
    /// [`CsvTable::parse`].
    pub fn from_path(path: impl AsRef<std::path::Path>) -> Result<Self> {
        let path = path.as_ref();
        let text = huashi_io::read_to_string_capped(path, "a CSV file")?;
        Self::parse(&text)
    }

    /// The header names.
    pub fn headers(&self) -> &[String] {
        &self.headers
    }

    /// Number of data rows.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// Whether there are no data rows.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    fn index(&self, name: &str) -> Result<usize> {
        self.headers
            .iter()
            .position(|h| h == name)
            .ok_or_else(|| Error::MissingColumn {
                name: name.to_string(),
                available: self.headers.clone(),
            })
    }

    /// The raw text cells of a column (e.g. dates); a short row is an error.
    ///
    /// # Errors
    /// [`crate::Error::MissingColumn`] or [`crate::Error::MissingValue`].
    pub fn column_text(&self, name: &str) -> Result<Vec<String>> {
        let j = self.index(name)?;
        self.rows
            .iter()
            .map(|(line, cells)| {
                cells
                    .get(j)
                    .map(|c| c.trim().to_string())
                    .ok_or_else(|| Error::MissingValue {
                        line: *line,
                        column: name.to_string(),
                    })
            })
            .collect()
    }

    /// A column parsed as finite numbers. Empty cells are
    /// [`Error::MissingValue`]; text, NaN and infinities are
    /// [`Error::InvalidNumber`], each naming the line and column.
    ///
    /// # Errors
    /// As [`CsvTable::column_text`], and [`crate::Error::InvalidNumber`] for a
    /// cell that is not a finite number.
    pub fn column_f64(&self, name: &str) -> Result<Vec<f64>> {
        if self.rows.is_empty() {
            return Err(Error::EmptySeries { what: "CSV column" });
        }
        let cells = self.column_text(name)?;
        cells
            .iter()
            .zip(&self.rows)
            .map(|(cell, (line, _))| parse_cell(cell, *line, name))
            .collect()
    }
}

fn parse_cell(cell: &str, line: usize, column: &str) -> Result<f64> {
    if cell.is_empty() {
        return Err(Error::MissingValue {
            line,
            column: column.to_string(),
        });
    }
    match cell.parse::<f64>() {
        Ok(v) if v.is_finite() => Ok(v),
        _ => Err(Error::InvalidNumber {
            line,
            column: column.to_string(),
            value: cell.to_string(),
        }),
    }
}

/// Splits one line into fields, honouring double quotes.
fn split_line(line: &str, number: usize) -> Result<Vec<String>> {
    let line = line.strip_suffix('\r').unwrap_or(line);
    let mut fields = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                field.push('"');
                chars.next();
            }
            ('"', true) => quoted = false,
            ('"', false) if field.trim().is_empty() => quoted = true,
            (',', false) => fields.push(std::mem::take(&mut field)),
            (c, _) => field.push(c),
        }
    }
    if quoted {
        return Err(Error::Csv {
            line: number,
            reason: "unterminated quote",
        });
    }
    fields.push(field);
    Ok(fields)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_and_columns() {
        let t = CsvTable::parse("Date,\"Close, adj\"\n1/4/1999,\"1,5\"\n1/5/1999,2\n").unwrap();
        assert_eq!(t.headers()[1], "Close, adj");
        assert_eq!(t.column_text("Date").unwrap(), vec!["1/4/1999", "1/5/1999"]);
        assert!(matches!(
            t.column_f64("Close, adj"),
            Err(Error::InvalidNumber { line: 2, .. })
        ));
        assert!(matches!(
            CsvTable::parse("a\n\"x\n"),
            Err(Error::Csv { line: 2, .. })
        ));
    }
}
