//! `huashi conv compare`: the cost of convolution variants, counted and measured.

use crate::report::table;
use crate::report::timing;
use crate::report::variants::{self, Timed, VariantReport};
use clap::Args;
use huashi_conv::family::variants::VariantSpec;
use serde::Serialize;

#[derive(Debug, Args)]
pub struct CompareArgs {
    /// Input channels C_in.
    #[arg(long = "in", value_name = "C_IN", default_value_t = VariantSpec::default().c_in)]
    pub in_channels: usize,
    /// Output channels C_out.
    #[arg(long = "out", value_name = "C_OUT", default_value_t = VariantSpec::default().c_out)]
    pub out_channels: usize,
    /// Kernel size k (the standard variant is k×k).
    #[arg(long, value_name = "K", default_value_t = VariantSpec::default().kernel)]
    pub kernel: usize,
    /// Height and width of the (square) input map.
    #[arg(long, value_name = "HW", default_value_t = VariantSpec::default().size)]
    pub size: usize,
    /// Batch size N of the timed runs (costs are reported per sample).
    #[arg(long, value_name = "N", default_value_t = 8)]
    pub batch: usize,
    /// Groups of the grouped variant; must divide C_in and C_out.
    #[arg(long, value_name = "G", default_value_t = VariantSpec::default().groups)]
    pub groups: usize,
    /// Depth multiplier m of the depthwise-separable variant (depthwise
    /// C_in→m·C_in, then 1×1 m·C_in→C_out).
    #[arg(long, value_name = "M", default_value_t = VariantSpec::default().multiplier)]
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
    fn spec(&self) -> VariantSpec {
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

pub fn run(args: &CompareArgs) -> anyhow::Result<()> {
    let bar = timing::progress(5, "compare");
    let timed = (!args.no_timing).then_some(Timed {
        runs: args.runs,
        seed: args.seed,
    });
    let variants = variants::reports(&args.spec(), args.batch, timed, &bar)?;
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
    print!(
        "{}",
        table::text(&variants::HEADERS, &variants::rows(&variants))
    );
    println!();
    for v in &variants {
        println!("  {:<20} {}", v.name, v.detail);
    }
    println!("\nNote: {NOTE}.");
    Ok(())
}
