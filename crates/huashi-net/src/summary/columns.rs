//! The columns a summary table can show, by name (`--columns` in the CLI),
//! and the text of each cell.

use super::SummaryRow;
use crate::error::{Error, Result};
use crate::field::{AxisField, Field};

/// One column of the summary table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Column {
    /// The node name or folded prefix.
    Name,
    /// The op.
    Op,
    /// Input shape(s).
    Input,
    /// Output shape.
    Output,
    /// Kernel `kh×kw`.
    Kernel,
    /// Stride.
    Stride,
    /// Dilation.
    Dilation,
    /// Groups.
    Groups,
    /// Trainable parameters.
    Params,
    /// Share of the parameters, percent.
    ParamsPercent,
    /// MACs per sample.
    Macs,
    /// Share of the MACs, percent.
    MacsPercent,
    /// FLOPs outside the MACs (element-wise + pooling + normalisation).
    OtherFlops,
    /// Output activation elements for the batch.
    Activations,
    /// Output activation size in MB for the batch and dtype.
    ActivationMb,
    /// Receptive-field size.
    Field,
    /// Effective stride of the field.
    FieldStride,
    /// Effective padding of the field.
    FieldPadding,
}

/// Every column with its name and header, in the order they are listed.
const ALL: [(Column, &str, &str); 18] = [
    (Column::Name, "name", "layer"),
    (Column::Op, "op", "op"),
    (Column::Input, "input", "input shape"),
    (Column::Output, "output", "output shape"),
    (Column::Kernel, "kernel", "kernel"),
    (Column::Stride, "stride", "stride"),
    (Column::Dilation, "dilation", "dilation"),
    (Column::Groups, "groups", "groups"),
    (Column::Params, "params", "params"),
    (Column::ParamsPercent, "params_percent", "params %"),
    (Column::Macs, "macs", "MACs"),
    (Column::MacsPercent, "macs_percent", "MACs %"),
    (Column::OtherFlops, "other_flops", "other FLOPs"),
    (Column::Activations, "activations", "activations"),
    (Column::ActivationMb, "activation_mb", "act. MB"),
    (Column::Field, "field", "receptive field"),
    (Column::FieldStride, "field_stride", "eff. stride"),
    (Column::FieldPadding, "field_padding", "eff. padding"),
];

impl Column {
    /// The columns shown by default (those of `huashi summary` before
    /// `--columns` existed).
    pub const DEFAULT: [Column; 8] = [
        Column::Name,
        Column::Op,
        Column::Output,
        Column::Params,
        Column::Macs,
        Column::Field,
        Column::FieldStride,
        Column::FieldPadding,
    ];

    /// Every column name, for help texts and errors.
    pub fn names() -> Vec<&'static str> {
        ALL.iter().map(|(_, name, _)| *name).collect()
    }

    fn entry(self) -> &'static (Column, &'static str, &'static str) {
        ALL.iter()
            .find(|(c, _, _)| *c == self)
            .expect("every column is listed")
    }

    /// The name used by `--columns`.
    pub fn name(self) -> &'static str {
        self.entry().1
    }

    /// The table header.
    pub fn header(self) -> &'static str {
        self.entry().2
    }

    /// Parses a comma-separated list of column names (`"name,output,macs"`).
    ///
    /// # Errors
    /// [`Error::InvalidField`] naming an unknown or repeated column and
    /// listing the known ones, or an empty list.
    pub fn parse_list(text: &str) -> Result<Vec<Column>> {
        let invalid = |detail: String| Error::InvalidField {
            node: "--columns".into(),
            field: "columns",
            detail,
        };
        let mut out = Vec::new();
        for word in text.split(',').map(str::trim).filter(|w| !w.is_empty()) {
            let column = ALL
                .iter()
                .find(|(_, name, _)| *name == word)
                .map(|(c, _, _)| *c)
                .ok_or_else(|| {
                    let known = Column::names().join(", ");
                    invalid(format!("unknown column `{word}`; known: {known}"))
                })?;
            if out.contains(&column) {
                return Err(invalid(format!("column `{word}` is given twice")));
            }
            out.push(column);
        }
        if out.is_empty() {
            return Err(invalid("no column given".into()));
        }
        Ok(out)
    }

    /// The cell of `row` in this column.
    pub fn cell(self, row: &SummaryRow) -> String {
        let geometry =
            |f: fn(&super::LayerGeometry) -> String| row.geometry.as_ref().map_or("-".into(), f);
        match self {
            Column::Name => row.name.clone(),
            Column::Op => row.op.clone(),
            Column::Input => {
                let shapes: Vec<String> = row.input_shapes.iter().map(|s| s.to_string()).collect();
                if shapes.is_empty() {
                    "-".into()
                } else {
                    shapes.join(" + ")
                }
            }
            Column::Output => row.output.to_string(),
            Column::Kernel => geometry(|g| pair(g.kernel)),
            Column::Stride => geometry(|g| pair(g.stride)),
            Column::Dilation => geometry(|g| pair(g.dilation)),
            Column::Groups => geometry(|g| g.groups.to_string()),
            Column::Params => thousands(row.params),
            Column::ParamsPercent => format!("{:.2}", row.params_percent),
            Column::Macs => thousands(row.macs),
            Column::MacsPercent => format!("{:.2}", row.macs_percent),
            Column::OtherFlops => thousands(row.other_flops.total().unwrap_or(u64::MAX)),
            Column::Activations => thousands(row.activation_elements),
            Column::ActivationMb => format!("{:.2}", row.activation_bytes as f64 / 1e6),
            Column::Field => field_cell(&row.field, |a| a.size),
            Column::FieldStride => field_cell(&row.field, |a| a.stride),
            Column::FieldPadding => field_cell(&row.field, |a| a.padding),
        }
    }
}

/// `k` when both axes agree, else `kh×kw`.
fn pair([h, w]: [usize; 2]) -> String {
    if h == w {
        h.to_string()
    } else {
        format!("{h}×{w}")
    }
}

fn field_cell(field: &Field, value: fn(&AxisField) -> usize) -> String {
    match field {
        Field::Defined([h, w]) => pair([value(h), value(w)]),
        Field::Misaligned { .. } => "misaligned".into(),
        Field::Undefined { reason, .. } => format!("undefined ({reason})"),
    }
}

/// `1234567` → `"1,234,567"`.
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_parse_and_errors_name_the_column() {
        let cols = Column::parse_list("name, macs,params_percent").unwrap();
        assert_eq!(cols, [Column::Name, Column::Macs, Column::ParamsPercent]);
        let err = Column::parse_list("name,flops").unwrap_err().to_string();
        assert!(
            err.contains("`flops`") && err.contains("activation_mb"),
            "{err}"
        );
        assert!(Column::parse_list("name,name").is_err());
        assert!(Column::parse_list(" , ").is_err());
        assert_eq!(thousands(1_234_567), "1,234,567");
        assert_eq!(thousands(12), "12");
        for (c, name, header) in ALL {
            assert_eq!((c.name(), c.header()), (name, header));
        }
    }
}
