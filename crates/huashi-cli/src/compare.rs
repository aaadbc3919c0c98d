//! `huashi conv compare`: the cost of convolution variants, counted and measured.

use crate::table::{self, thousands};
use crate::timing::{self, Timing};
use candle_core::{DType, Tensor, Var};
use clap::Args;
use huashi_conv::family::variants::{self, Variant, VariantSpec};
use huashi_conv::LayerCost;
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
            mid: self.mid,
        }
    }
}

/// One variant's counted cost and measured times.
#[derive(Debug, Serialize)]
pub struct VariantReport {
    pub name: String,
    pub detail: String,
    pub cost: LayerCost,
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

/// Seeded weights for every parameter of a variant (He-style uniform).
fn weights(variant: &Variant, seed: u64) -> anyhow::Result<Vec<(String, Tensor)>> {
    let specs = variant.layer.params().into_iter().enumerate();
    specs
        .map(|(i, p)| {
            let shape: [usize; 4] = p.shape.as_slice().try_into()?;
            Ok((p.name, crate::rng::conv_weight(shape, seed + i as u64)?))
        })
        .collect()
}

/// The variant's output on `x` with the named weights.
fn forward(variant: &Variant, x: &Tensor, weights: &[(String, Tensor)]) -> anyhow::Result<Tensor> {
    let param = |name: &str| weights.iter().find(|(n, _)| n == name).map(|(_, t)| t);
    Ok(variant.layer.forward(x, param)?)
}

/// Measured forward and forward+backward time of one variant on a batch;
/// forward+backward computes the gradients of `Σ y` for the input and every
/// weight.
pub fn measure_variant(
    variant: &Variant,
    batch: usize,
    size: usize,
    runs: usize,
    seed: u64,
    backward: bool,
) -> anyhow::Result<(Timing, Option<Timing>)> {
    let shape = [batch, variant.in_channels(), size, size];
    let x = crate::rng::uniform(&shape, 1.0, seed, DType::F32)?;
    let ws = weights(variant, seed + 1)?;
    let long = Duration::from_secs(2);
    let forward_time = timing::measure(runs, long, || forward(variant, &x, &ws).map(drop))?;
    if !backward {
        return Ok((forward_time, None));
    }
    let xv = Var::from_tensor(&x)?;
    let wv = ws
        .iter()
        .map(|(n, w)| Ok((n.clone(), Var::from_tensor(w)?.as_tensor().clone())))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let fb = timing::measure(runs, long, || {
        let grads = forward(variant, xv.as_tensor(), &wv)?
            .sum_all()?
            .backward()?;
        anyhow::ensure!(
            grads.get(&xv).is_some(),
            "backward produced no input gradient"
        );
        Ok(())
    })?;
    Ok((forward_time, Some(fb)))
}

/// Checks the memory of every variant's timed runs against the limit
/// ([`huashi_io::check_memory`]) before any is allocated.
fn check_memory(all: &[Variant], args: &CompareArgs) -> anyhow::Result<()> {
    for v in all {
        let bytes = v.memory_estimate(args.batch, args.size)?;
        let what = format!("timing {} on a batch of {}", v.name, args.batch);
        huashi_io::check_memory(&what, bytes)?;
    }
    Ok(())
}

/// Counts (and unless `no_timing`, measures) every variant.
pub fn reports(args: &CompareArgs, bar: &ProgressBar) -> anyhow::Result<Vec<VariantReport>> {
    let spec = args.spec();
    let all = variants::variants(&spec)?;
    let base = all[0].cost(spec.size)?;
    if !args.no_timing {
        anyhow::ensure!(args.runs >= 1, "--runs must be at least 1, got 0");
        anyhow::ensure!(args.batch >= 1, "--batch must be at least 1, got 0");
        check_memory(&all, args)?;
    }
    let mut out = Vec::with_capacity(all.len());
    for v in all {
        bar.set_message(v.name.clone());
        let cost = v.cost(spec.size)?;
        let (forward, forward_backward) = if args.no_timing {
            (None, None)
        } else {
            let (f, fb) = measure_variant(&v, args.batch, spec.size, args.runs, args.seed, true)?;
            (Some(f), fb)
        };
        let [_, c, h, w] = cost.output_shape;
        out.push(VariantReport {
            name: v.name.clone(),
            detail: v.detail.clone(),
            output_shape: [args.batch, c, h, w],
            params_vs_standard: cost.params as f64 / base.params as f64,
            macs_vs_standard: cost.macs as f64 / base.macs as f64,
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
                thousands(r.cost.macs),
                thousands(r.cost.flops()),
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
