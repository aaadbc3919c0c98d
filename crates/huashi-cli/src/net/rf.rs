//! `huashi rf`: the receptive field of one end point (or of every node) per
//! axis — size, effective stride, effective padding, the centre of the first
//! output unit and the input region seen by output unit (0, 0).

use super::{find, misaligned_message};
use crate::report::fields::{fmt_num, rows, HEADERS};
use crate::report::table;
use clap::Args;
use huashi_net::{AxisField, Field, NodeReport};
use serde::Serialize;

#[derive(Debug, Args)]
pub struct RfArgs {
    #[command(flatten)]
    pub net: super::ModelArgs,
    /// The end point (node name, e.g. conv5_3, Mixed_7c) [default: every node].
    #[arg(long, value_name = "END_POINT")]
    pub layer: Option<String>,
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

/// One axis of a field, with the derived centre and region of unit 0.
#[derive(Debug, Serialize)]
pub struct AxisReport {
    pub size: usize,
    pub stride: usize,
    pub padding: usize,
    /// Centre of output unit 0's field: `(r − 1)/2 − P`.
    pub centre: f64,
    /// Input positions `[−P, r − 1 − P]` seen by output unit 0.
    pub region: [i64; 2],
}

impl From<&AxisField> for AxisReport {
    fn from(f: &AxisField) -> Self {
        AxisReport {
            size: f.size,
            stride: f.stride,
            padding: f.padding,
            centre: f.centre(),
            region: [f.start(), f.end()],
        }
    }
}

/// The field of one node as JSON: per axis, or why it is undefined.
#[derive(Debug, Serialize)]
struct NodeField<'a> {
    layer: &'a str,
    op: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    height: Option<AxisReport>,
    #[serde(skip_serializing_if = "Option::is_none")]
    width: Option<AxisReport>,
    #[serde(skip_serializing_if = "Option::is_none")]
    misaligned: Option<&'a Field>,
    #[serde(skip_serializing_if = "Option::is_none")]
    undefined: Option<&'a Field>,
}

fn node_field(n: &NodeReport) -> NodeField<'_> {
    let (height, width, misaligned, undefined) = match &n.field {
        Field::Defined(f) => (Some((&f[0]).into()), Some((&f[1]).into()), None, None),
        other @ Field::Misaligned { .. } => (None, None, Some(other), None),
        other @ Field::Undefined { .. } => (None, None, None, Some(other)),
    };
    NodeField {
        layer: &n.name,
        op: n.op,
        height,
        width,
        misaligned,
        undefined,
    }
}

/// Text for one end point: a row per axis.
fn one_text(n: &NodeReport) -> String {
    let mut out = format!(
        "receptive field of \"{}\" ({}), output {}\n\n",
        n.name, n.op, n.output
    );
    let f = match &n.field {
        Field::Defined(f) => f,
        field => return out + &misaligned_message(field).unwrap_or_default() + "\n",
    };
    let headers = [
        "axis",
        "size",
        "stride",
        "padding",
        "centre of unit 0",
        "unit (0,0) sees",
    ];
    let rows: Vec<Vec<String>> = ["height", "width"]
        .iter()
        .zip(f)
        .map(|(axis, a)| {
            vec![
                axis.to_string(),
                a.size.to_string(),
                a.stride.to_string(),
                a.padding.to_string(),
                fmt_num(a.centre()),
                format!("[{}, {}]", a.start(), a.end()),
            ]
        })
        .collect();
    out += &table::text(&headers, &rows);
    out + "\nUnit j along an axis sees input positions [j·stride − padding, j·stride − padding + size − 1].\n"
}

pub fn run(args: &RfArgs) -> anyhow::Result<()> {
    let (_, shape, a) = super::analyse_model(&args.net)?;
    let selected: Vec<&NodeReport> = match &args.layer {
        Some(name) => vec![find(&a, name, &args.net.model)?],
        None => a.nodes.iter().collect(),
    };
    if args.json {
        let fields: Vec<NodeField> = selected.iter().map(|n| node_field(n)).collect();
        let value =
            serde_json::json!({ "model": args.net.model, "input_shape": shape, "nodes": fields });
        println!("{}", serde_json::to_string_pretty(&value)?);
        return Ok(());
    }
    println!(
        "{}: input {shape:?}; sizes in input pixels, h×w where the axes differ\n",
        args.net.model
    );
    match selected.as_slice() {
        [one] if args.layer.is_some() => print!("{}", one_text(one)),
        all => print!("{}", table::text(&HEADERS, &rows(all.iter().copied()))),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vgg_conv5_3_text() {
        let (_, _, a) = crate::net::analyse("vgg16", None).unwrap();
        let text = one_text(find(&a, "conv5_3", "vgg16").unwrap());
        assert!(
            text.contains("196") && text.contains("[-90, 105]"),
            "{text}"
        );
        let err = find(&a, "conv5_4", "vgg16").unwrap_err().to_string();
        assert!(err.contains("conv5_3"), "{err}");
    }
}
