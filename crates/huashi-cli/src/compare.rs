//! `huashi conv compare`: the cost of convolution variants, counted and measured.

use crate::table::{self, thousands};
use crate::timing::{self, Timing};
use crate::variants::{self, Cost, Variant, VariantSpec};
use candle_core::{DType, Var};
use clap::Args;
use indicatif::ProgressBar;
use serde::Serialize;
use std::time::Duration;

#[derive(Debug, Args)]
pub struct CompareArgs {
    /// Input channels C_in.
    #[arg(long = "in", value_name = "C_IN", default_value_t = 64)]
    pub in_channels: usize,
    /// Output channels C_out.
    #[arg(long = "out", value_name = "C_OUT", default_value_t = 128)]
    pub out_channels: usize,
    /// Kernel size k (the standard variant is k×k).
    #[arg(long, value_name = "K", default_value_t = 3)]
    pub kernel: usize,
    /// Height and width of the (square) input map.
    #[arg(long, value_name = "HW", default_value_t = 56)]
    pub size: usize,
    /// Batch size N of the timed runs (costs are reported per sample).
    #[arg(long, value_name = "N", default_value_t = 8)]
    pub batch: usize,
    /// Groups of the grouped variant; must divide C_in and C_out.
    #[arg(long, value_name = "G", default_value_t = 4)]
    pub groups: usize,
    /// Depth multiplier m of the depthwise-separable variant (depthwise
    /// C_in→m·C_in, then 1×1 m·C_in→C_out).
    #[arg(long, value_name = "M", default_value_t = 1)]
    pub multiplier: usize,
    /// Channels between the k×1 and 1×k stages of the spatially separable
    /// variant [default: C_in].
    #[arg(long, value_name = "C_MID")]
    pub mid: Option<usize>,
    /// Timed runs per measurement (after one warm-up); the median is reported.
    #[arg(long, value_name = "N", default_value_t = 5)]
    pub runs: usize,
    /// Only count parameters and MACs; do not time anything.
    #[arg(long)]
    pub no_timing: bool,
    /// Seed of the random input and weights.
    #[arg(long, default_value_t = 0, value_parser = crate::parse::count::<u64>)]
    pub seed: u64,
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

impl CompareArgs {
    pub fn spec(&self) -> VariantSpec {
        VariantSpec {
            c_in: self.in_channels,
            c_out: self.out_channels,
            kernel: self.kernel,
            size: self.size,
            groups: self.groups,
            multiplier: self.multiplier,
            mid: self.mid.unwrap_or(self.in_channels),
        }
    }
}

/// One variant's counted cost and measured times.
#[derive(Debug, Serialize)]
pub struct VariantReport {
    pub name: String,
    pub detail: String,
    pub cost: Cost,
    /// `[N, C, H, W]` of the timed output.
    pub output_shape: [usize; 4],
    pub params_vs_standard: f64,
    pub macs_vs_standard: f64,
    pub forward: Option<Timing>,
    pub forward_backward: Option<Timing>,
    pub variant: Variant,
}

#[derive(Debug, Serialize)]
struct CompareReport {
    spec: VariantSpec,
    batch: usize,
    runs: usize,
    threads: usize,
    note: &'static str,
    variants: Vec<VariantReport>,
}

const NOTE: &str = "params, MACs and FLOPs (= 2·MACs) are per sample (N = 1), no bias; \
times are medians for the whole batch; forward+backward computes the gradients of \
sum(y) for the input and every weight (candle autograd); 'same' padding, stride 1, f32";

/// Measured forward and forward+backward time of one variant on a batch.
pub fn measure_variant(
    variant: &Variant,
    batch: usize,
    size: usize,
    runs: usize,
    seed: u64,
    backward: bool,
) -> anyhow::Result<(Timing, Option<Timing>)> {
    let c_in = variant.stages.first().map_or(0, |s| s.c_in);
    let x = crate::rng::uniform(&[batch, c_in, size, size], 1.0, seed, DType::F32)?;
    let ws = variants::weights(&variant.stages, seed + 1)?;
    let long = Duration::from_secs(2);
    let forward = timing::measure(runs, long, || {
        variants::forward(&variant.stages, &x, &ws).map(drop)
    })?;
    if !backward {
        return Ok((forward, None));
    }
    let xv = Var::from_tensor(&x)?;
    let wv = ws
        .iter()
        .map(Var::from_tensor)
        .collect::<candle_core::Result<Vec<_>>>()?;
    let fb = timing::measure(runs, long, || {
        variants::forward_backward(&variant.stages, &xv, &wv)
    })?;
    Ok((forward, Some(fb)))
}

/// Bytes the timed runs of `variant` need, estimated before allocating:
/// the f32 input, weights and every stage's output of the batch, three
/// times over (values, gradients, temporaries of the backward pass).
/// Saturating: an estimate that does not fit 64 bits is above any limit.
pub fn memory_estimate(variant: &Variant, batch: usize, size: usize) -> anyhow::Result<u64> {
    let per_map = |c: usize, hw: [usize; 2]| {
        [batch, c, hw[0], hw[1]]
            .iter()
            .fold(1u64, |n, &d| n.saturating_mul(d as u64))
    };
    let c_in = variant.stages.first().map_or(0, |s| s.c_in);
    let (mut hw, mut values) = ([size; 2], per_map(c_in, [size; 2]));
    for stage in &variant.stages {
        hw = stage.output_hw(hw)?;
        values = values
            .saturating_add(stage.params()?)
            .saturating_add(per_map(stage.c_out, hw));
    }
    Ok(values.saturating_mul(3 * 4))
}

/// Checks the memory of every variant's timed runs against the limit
/// ([`huashi_io::check_memory`]) before any is allocated.
fn check_memory(all: &[Variant], args: &CompareArgs) -> anyhow::Result<()> {
    for v in all {
        let bytes = memory_estimate(v, args.batch, args.size)?;
        let what = format!("timing {} on a batch of {}", v.name, args.batch);
        huashi_io::check_memory(&what, bytes)?;
    }
    Ok(())
}

/// Counts (and unless `no_timing`, measures) every variant.
pub fn reports(args: &CompareArgs, bar: &ProgressBar) -> anyhow::Result<Vec<VariantReport>> {
    let spec = args.spec();
    let all = variants::variants(&spec)?;
    let base = all[0].cost([spec.size; 2])?;
    if !args.no_timing {
        anyhow::ensure!(args.runs >= 1, "--runs must be at least 1, got 0");
        anyhow::ensure!(args.batch >= 1, "--batch must be at least 1, got 0");
        check_memory(&all, args)?;
    }
    let mut out = Vec::with_capacity(all.len());
    for v in all {
        bar.set_message(v.name.clone());
        let cost = v.cost([spec.size; 2])?;
        let (forward, forward_backward) = if args.no_timing {
            (None, None)
        } else {
            let (f, fb) = measure_variant(&v, args.batch, spec.size, args.runs, args.seed, true)?;
            (Some(f), fb)
        };
        let [c, h, w] = cost.output_chw;
        out.push(VariantReport {
            name: v.name.clone(),
            detail: v.detail.clone(),
            output_shape: [args.batch, c, h, w],
            params_vs_standard: cost.params as f64 / base.params as f64,
            macs_vs_standard: cost.macs_per_sample as f64 / base.macs_per_sample as f64,
            cost,
            forward,
            forward_backward,
            variant: v,
        });
        bar.inc(1);
    }
    Ok(out)
}

fn ms(t: Option<Timing>) -> String {
    t.map_or("-".into(), |t| format!("{:.2}", t.median_ms))
}

/// The comparison as table rows (shared with the tour's Markdown).
pub fn rows(reports: &[VariantReport]) -> Vec<Vec<String>> {
    reports
        .iter()
        .map(|r| {
            vec![
                r.name.clone(),
                thousands(r.cost.params),
                format!("{:.1}%", 100.0 * r.params_vs_standard),
                thousands(r.cost.macs_per_sample),
                thousands(r.cost.flops_per_sample),
                format!("{:?}", r.output_shape),
                ms(r.forward),
                ms(r.forward_backward),
            ]
        })
        .collect()
}

pub const HEADERS: [&str; 8] = [
    "variant",
    "params",
    "vs standard",
    "MACs/sample",
    "FLOPs/sample (2·MACs)",
    "output [N,C,H,W]",
    "fwd ms",
    "fwd+bwd ms",
];

pub fn run(args: &CompareArgs) -> anyhow::Result<()> {
    let bar = timing::progress(5, "compare");
    let variants = reports(args, &bar)?;
    bar.finish_and_clear();
    if args.json {
        let report = CompareReport {
            spec: args.spec(),
            batch: args.batch,
            runs: args.runs,
            threads: candle_core::utils::get_num_threads(),
            note: NOTE,
            variants,
        };
        println!("{}", serde_json::to_string_pretty(&report)?);
        return Ok(());
    }
    let s = args.spec();
    let timed = if args.no_timing {
        "not timed".to_string()
    } else {
        let threads = candle_core::utils::get_num_threads();
        format!(
            "batch {}, median of {} runs, {threads} threads",
            args.batch, args.runs
        )
    };
    let (k, n) = (s.kernel, s.size);
    println!(
        "{}→{} channels, {k}×{k} kernel, {n}×{n} input; {timed}\n",
        s.c_in, s.c_out
    );
    print!("{}", table::text(&HEADERS, &rows(&variants)));
    println!();
    for v in &variants {
        println!("  {:<20} {}", v.name, v.detail);
    }
    println!("\nNote: {NOTE}.");
    Ok(())
}
