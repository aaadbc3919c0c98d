//! `huashi summary`: a torchinfo/Keras-like table of a network — per layer
//! the output shape, parameters, MACs and receptive field — with totals.

use crate::report::fields::field_cells;
use crate::report::plot::short_number;
use crate::report::table::{self, thousands};
use clap::Args;
use huashi_net::{Analysis, NodeReport};
use serde::Serialize;

#[derive(Debug, Args)]
pub struct SummaryArgs {
    #[command(flatten)]
    pub net: super::ModelArgs,
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

pub const HEADERS: [&str; 8] = [
    "layer",
    "op",
    "output shape",
    "params",
    "MACs",
    "receptive field",
    "eff. stride",
    "eff. padding",
];

/// One table row per node (the input first).
pub fn row(n: &NodeReport) -> Vec<String> {
    let [size, stride, padding] = field_cells(&n.field);
    vec![
        n.name.clone(),
        n.op.to_string(),
        n.output.to_string(),
        thousands(n.params),
        thousands(n.macs),
        size,
        stride,
        padding,
    ]
}

#[derive(Debug, Serialize)]
struct TotalsJson {
    trainable_params: u64,
    bn_moving_statistics: u64,
    macs: u64,
    flops: u64,
}

#[derive(Debug, Serialize)]
struct SummaryJson<'a> {
    model: &'a str,
    name: Option<&'a str>,
    input_shape: [usize; 3],
    note: &'static str,
    totals: TotalsJson,
    nodes: &'a [NodeReport],
}

const NOTE: &str = "per sample (batch 1); params are trainable; batch-norm moving mean and \
variance are counted separately as bn_moving_statistics; FLOPs = 2·MACs; pooling, \
activations, add and concat count no MACs; fields are [height, width] in input pixels";

/// The totals lines under the table.
fn totals_text(a: &Analysis) -> String {
    let t = &a.totals;
    let flops = 2 * t.macs;
    let mut out = format!("Trainable params:      {}\n", thousands(t.params));
    out += &format!(
        "BN moving statistics:  {} (non-trainable mean and variance; not in the total above)\n",
        thousands(t.moving_stats)
    );
    out += &format!(
        "MACs per sample:       {} ({})\n",
        thousands(t.macs),
        short_number(t.macs as f64)
    );
    out += &format!(
        "FLOPs per sample:      {} ({}; FLOPs = 2·MACs)\n",
        thousands(flops),
        short_number(flops as f64)
    );
    out
}

pub fn run(args: &SummaryArgs) -> anyhow::Result<()> {
    let (net, shape, analysis) = super::analyse_model(&args.net)?;
    if args.json {
        let t = &analysis.totals;
        let report = SummaryJson {
            model: &args.net.model,
            name: net.name.as_deref(),
            input_shape: shape,
            note: NOTE,
            totals: TotalsJson {
                trainable_params: t.params,
                bn_moving_statistics: t.moving_stats,
                macs: t.macs,
                flops: 2 * t.macs,
            },
            nodes: &analysis.nodes,
        };
        println!("{}", serde_json::to_string_pretty(&report)?);
        return Ok(());
    }
    let name = net.name.as_deref().unwrap_or(&args.net.model);
    let [c, h, w] = shape;
    println!(
        "{name}: input ({c}, {h}, {w}), {} nodes\n",
        analysis.nodes.len() - 1
    );
    let rows: Vec<Vec<String>> = analysis.nodes.iter().map(row).collect();
    print!("{}", table::text(&HEADERS, &rows));
    println!();
    print!("{}", totals_text(&analysis));
    println!("\nNote: {NOTE}.");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vgg16_rows_and_totals() {
        let (_, _, a) = crate::net::analyse("vgg16", None).unwrap();
        let conv = a.node("conv5_3").unwrap();
        let r = row(conv);
        assert_eq!(r[0], "conv5_3");
        assert_eq!(&r[5..], &["196", "16", "90"]);
        let text = totals_text(&a);
        assert!(text.contains("138,357,544"), "{text}");
        assert!(text.contains("FLOPs = 2·MACs"));
    }
}
