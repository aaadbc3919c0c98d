//! Receptive-field tables: the rows of `huashi rf` and of the tour, and the
//! cells `huashi summary` shows per layer.

use huashi_net::{AxisField, Field, NodeReport};

/// One number when both axes agree, else `h×w`.
pub fn per_axis(f: &[AxisField; 2], value: impl Fn(&AxisField) -> String) -> String {
    let (h, w) = (value(&f[0]), value(&f[1]));
    if h == w {
        h
    } else {
        format!("{h}×{w}")
    }
}

/// Size, stride and padding cells of a field; "misaligned" or "undefined
/// (reason)" when there is none.
pub fn field_cells(field: &Field) -> [String; 3] {
    match field {
        Field::Defined(f) => [
            per_axis(f, |a| a.size.to_string()),
            per_axis(f, |a| a.stride.to_string()),
            per_axis(f, |a| a.padding.to_string()),
        ],
        Field::Misaligned { .. } => ["misaligned".into(), "-".into(), "-".into()],
        Field::Undefined { reason, .. } => {
            [format!("undefined ({reason})"), "-".into(), "-".into()]
        }
    }
}

pub fn fmt_num(x: f64) -> String {
    if x.fract() == 0.0 {
        format!("{x:.0}")
    } else {
        format!("{x:.1}")
    }
}

/// `[a, b]` (or `[a, b] × [c, d]` when the axes differ).
fn region_cell(f: &[AxisField; 2]) -> String {
    per_axis(f, |a| format!("[{}, {}]", a.start(), a.end()))
}

/// Table rows of every node (shared with the tour).
pub fn rows<'a>(nodes: impl Iterator<Item = &'a NodeReport>) -> Vec<Vec<String>> {
    nodes
        .map(|n| {
            let [size, stride, padding] = field_cells(&n.field);
            let (centre, region) = match &n.field {
                Field::Defined(f) => (per_axis(f, |a| fmt_num(a.centre())), region_cell(f)),
                Field::Misaligned { merge, .. } => ("-".into(), format!("(merge \"{merge}\")")),
                Field::Undefined { node, .. } => ("-".into(), format!("(at \"{node}\")")),
            };
            vec![
                n.name.clone(),
                n.output.to_string(),
                size,
                stride,
                padding,
                centre,
                region,
            ]
        })
        .collect()
}

pub const HEADERS: [&str; 7] = [
    "layer",
    "output shape",
    "RF size",
    "eff. stride",
    "eff. padding",
    "centre of unit 0",
    "unit (0,0) sees",
];
