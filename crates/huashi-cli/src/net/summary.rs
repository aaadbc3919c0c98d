//! `huashi summary`: a torchinfo/fvcore-like table of a network — per row
//! the columns chosen with `--columns` (shapes, geometry, params, MACs,
//! their shares, other FLOPs, activations, receptive field), rows folded
//! with `--depth`, and totals for `--batch` and `--dtype` (huashi-net's
//! `summary` module holds the formulas).

use crate::report::plot::short_number;
use crate::report::table::{self, thousands};
use clap::{Args, ValueEnum};
use huashi_net::summary::OperatorTotals;
use huashi_net::{Analysis, Column, ElementType, NodeReport, Summary, SummaryOptions};
use serde::Serialize;
use std::collections::BTreeMap;

/// `--dtype`: the element type sizes are given in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DtypeArg {
    /// 4 bytes per element.
    F32,
    /// 2 bytes per element.
    F16,
    /// 2 bytes per element.
    Bf16,
}

#[derive(Debug, Args)]
pub struct SummaryArgs {
    #[command(flatten)]
    pub net: super::ModelArgs,
    /// Print JSON instead of a table (every row, total and per-op total).
    #[arg(long)]
    pub json: bool,
    /// Comma-separated columns of the table, from: name, op, input, output,
    /// kernel, stride, dilation, groups, params, params_percent, macs,
    /// macs_percent, other_flops, activations, activation_mb, field,
    /// field_stride, field_padding [default: name,op,output,params,macs,
    /// field,field_stride,field_padding].
    #[arg(long, value_name = "LIST")]
    pub columns: Option<String>,
    /// Fold nodes whose names share their first N dot-separated components
    /// (`layer1.0.conv1` → `layer1.0` at depth 2) into one row, as
    /// torchinfo's depth [default: one row per node].
    #[arg(long, value_name = "N")]
    pub depth: Option<usize>,
    /// Batch size for activation memory and the training estimate (MACs
    /// and FLOPs stay per sample).
    #[arg(long, value_name = "N", default_value_t = 1)]
    pub batch: usize,
    /// Element type for the sizes of parameters and activations.
    #[arg(long, value_enum, default_value_t = DtypeArg::F32)]
    pub dtype: DtypeArg,
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
    summary: &'a Summary,
    nodes: &'a [NodeReport],
}

const NOTE: &str = "MACs and FLOPs per sample; params are trainable; batch-norm moving mean and \
variance are counted separately as bn_moving_statistics; FLOPs = 2·MACs; the FLOPs of \
activations, add, biases, pooling and batch norm are listed apart (other FLOPs), not in the MACs; \
MB = 10^6 bytes; activations and memory are for the batch; fields are [height, width] in input pixels";

fn mb(bytes: u64) -> String {
    format!("{:.2} MB", bytes as f64 / 1e6)
}

/// The totals lines under the table.
fn totals_text(s: &Summary) -> String {
    let t = &s.totals;
    let o = &t.other_flops;
    let SummaryOptions { batch, dtype, .. } = s.options;
    let dtype = format!("{dtype:?}").to_lowercase();
    let mut out = format!("Trainable params:      {}\n", thousands(t.params));
    out += &format!(
        "BN moving statistics:  {} (non-trainable mean and variance; not in the total above)\n",
        thousands(t.moving_stats)
    );
    out += &format!("Params size ({dtype}):    {}\n", mb(t.params_bytes));
    out += &format!(
        "MACs per sample:       {} ({})\n",
        thousands(t.macs),
        short_number(t.macs as f64)
    );
    out += &format!(
        "FLOPs per sample:      {} ({}; FLOPs = 2·MACs)\n",
        thousands(t.flops),
        short_number(t.flops as f64)
    );
    out += &format!(
        "Other FLOPs per sample: element-wise {}, pooling {}, normalisation {} (not in the MACs)\n",
        thousands(o.elementwise),
        thousands(o.pooling),
        thousands(o.normalisation)
    );
    out += &format!("Batch {batch}, {dtype}:\n");
    out += &format!("  input:                 {}\n", mb(t.input_bytes));
    out += &format!(
        "  forward activations:   {}\n",
        mb(t.forward_activation_bytes)
    );
    out += &format!("  kept for backward:     {}\n", mb(t.backward_kept_bytes));
    out += &format!(
        "  training estimate:     {} (weights + gradients + kept activations)\n",
        mb(t.training_bytes)
    );
    out
}

/// The table of totals by op (fvcore's `by_operator`).
fn operators_text(by_operator: &BTreeMap<String, OperatorTotals>) -> String {
    let rows: Vec<Vec<String>> = by_operator
        .iter()
        .map(|(op, t)| {
            vec![
                op.clone(),
                t.count.to_string(),
                thousands(t.params),
                thousands(t.macs),
                thousands(t.other_flops),
            ]
        })
        .collect();
    table::text(&["op", "nodes", "params", "MACs", "other FLOPs"], &rows)
}

fn options(args: &SummaryArgs) -> SummaryOptions {
    SummaryOptions {
        batch: args.batch,
        dtype: match args.dtype {
            DtypeArg::F32 => ElementType::F32,
            DtypeArg::F16 => ElementType::F16,
            DtypeArg::Bf16 => ElementType::Bf16,
        },
        depth: args.depth,
    }
}

pub fn run(args: &SummaryArgs) -> anyhow::Result<()> {
    let columns = match &args.columns {
        Some(list) => Column::parse_list(list)?,
        None => Column::DEFAULT.to_vec(),
    };
    let (net, shape, analysis) = super::analyse_model(&args.net)?;
    let summary = Summary::build(&net, &analysis, options(args))?;
    if args.json {
        let report = json_report(args, net.name.as_deref(), shape, &analysis, &summary);
        println!("{}", serde_json::to_string_pretty(&report)?);
        return Ok(());
    }
    let name = net.name.as_deref().unwrap_or(&args.net.model);
    let [c, h, w] = shape;
    println!(
        "{name}: input ({c}, {h}, {w}), {} nodes\n",
        analysis.nodes.len() - 1
    );
    let headers: Vec<&str> = columns.iter().map(|c| c.header()).collect();
    let rows: Vec<Vec<String>> = summary
        .rows
        .iter()
        .map(|r| columns.iter().map(|c| c.cell(r)).collect())
        .collect();
    print!("{}", table::text(&headers, &rows));
    println!();
    print!("{}", totals_text(&summary));
    println!("\nBy op:");
    print!("{}", operators_text(&summary.by_operator));
    println!("\nNote: {NOTE}.");
    Ok(())
}

fn json_report<'a>(
    args: &'a SummaryArgs,
    name: Option<&'a str>,
    input_shape: [usize; 3],
    analysis: &'a Analysis,
    summary: &'a Summary,
) -> SummaryJson<'a> {
    let t = &analysis.totals;
    SummaryJson {
        model: &args.net.model,
        name,
        input_shape,
        note: NOTE,
        totals: TotalsJson {
            trainable_params: t.params,
            bn_moving_statistics: t.moving_stats,
            macs: t.macs,
            flops: 2 * t.macs,
        },
        summary,
        nodes: &analysis.nodes,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vgg16_rows_and_totals() {
        let (net, _, a) = crate::net::analyse("vgg16", None).unwrap();
        let s = Summary::build(&net, &a, SummaryOptions::default()).unwrap();
        let conv = s.rows.iter().find(|r| r.name == "conv5_3").unwrap();
        let r: Vec<String> = Column::DEFAULT.iter().map(|c| c.cell(conv)).collect();
        assert_eq!(r[0], "conv5_3");
        assert_eq!(&r[5..], &["196", "16", "90"]);
        let text = totals_text(&s);
        assert!(text.contains("138,357,544"), "{text}");
        assert!(text.contains("FLOPs = 2·MACs"));
        // 138,357,544 · 4 bytes = 553.43 MB.
        assert!(text.contains("553.43 MB"), "{text}");
        assert!(operators_text(&s.by_operator).contains("conv"));
    }
}
