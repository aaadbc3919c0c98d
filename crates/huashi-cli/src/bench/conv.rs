//! `huashi bench conv`: huashi's convolution kernels beside candle's built-in
//! conv2d and the machine's floors, all measured in the same run: the f32 FMA
//! peak of all threads ([`super::fma_peak`]), the fastest orientation of a GEMM
//! with the forward's FLOP count ([`super::gemm_floor`]) and, for the
//! depthwise case, a memory-copy floor. Every time is the median of `--runs`
//! runs after a warm-up; [`super::report`] prints the ratios and checks
//! the project's targets.

use super::cases::{cases, Case, Floor};
use super::fma_peak::{self, FmaPeak};
use super::gemm_floor;
use super::report::{ratios, render, CaseReport, Outcome};
use crate::report::timing::{self, Timing};
use candle_core::{DType, Tensor, Var};
use clap::Args;
use indicatif::ProgressBar;
use rayon::prelude::*;
use serde::Serialize;
use std::time::Duration;

#[derive(Debug, Args)]
pub struct BenchArgs {
    /// Timed runs per measurement (after one warm-up; a warm-up longer than
    /// 2 s counts as the first run); the median is reported. At least 5.
    #[arg(long, value_name = "N", default_value_t = 5, value_parser = clap::value_parser!(u64).range(5..))]
    pub runs: u64,
    /// Cases to run: a = 3×3 64→64, b = depthwise 3×3 C=256, c = 1×1 256→256
    /// (all N=8, 56×56). Repeat or comma-separate [default: all].
    #[arg(long = "case", value_name = "a|b|c", value_delimiter = ',')]
    pub cases: Vec<char>,
    /// Skip candle's built-in backward (its grouped/depthwise backward takes
    /// seconds per run).
    #[arg(long)]
    pub no_candle_backward: bool,
    /// Seed of the random inputs and weights.
    #[arg(long, default_value_t = 0, value_parser = crate::parse::count::<u64>)]
    pub seed: u64,
    /// Print JSON instead of tables.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Serialize)]
struct BenchReport {
    threads: usize,
    runs: u64,
    fma_peak_gflops: f64,
    fma_peak: FmaPeak,
    cases: Vec<CaseReport>,
}

const LONG: Duration = Duration::from_secs(2);

/// The inputs of one case: x, w and the upstream gradient r, all f32.
struct Inputs {
    x: Tensor,
    w: Tensor,
    r: Tensor,
}

fn inputs(case: &Case, seed: u64) -> anyhow::Result<Inputs> {
    let x = crate::rng::uniform(&case.input_shape(), 1.0, seed, DType::F32)?;
    let w = crate::rng::conv_weight(case.weight_shape(), seed + 1)?;
    let r = crate::rng::uniform(&case.output_shape()?, 1.0, seed + 2, DType::F32)?;
    Ok(Inputs { x, w, r })
}

/// Times `conv` forward, and forward+backward of `Σ conv(x, w)` to x and w
/// (candle's autograd; the output gradient is all ones).
fn time_conv<F>(runs: usize, inp: &Inputs, backward: bool, conv: F) -> (Outcome, Outcome)
where
    F: Fn(&Tensor, &Tensor) -> anyhow::Result<Tensor>,
{
    let fwd = timing::measure(runs, LONG, || conv(&inp.x, &inp.w).map(drop));
    if !backward {
        let skipped = Outcome {
            timing: None,
            error: Some("skipped".into()),
        };
        return (Outcome::from(fwd), skipped);
    }
    let fb = (|| {
        let (xv, wv) = (Var::from_tensor(&inp.x)?, Var::from_tensor(&inp.w)?);
        timing::measure(runs, LONG, || {
            let y = conv(xv.as_tensor(), wv.as_tensor())?;
            let grads = y.sum_all()?.backward()?;
            anyhow::ensure!(grads.get(wv.as_tensor()).is_some(), "no weight gradient");
            Ok(())
        })
    })();
    (Outcome::from(fwd), Outcome::from(fb))
}

/// Copies `x` into a fresh buffer and writes a fresh `y_len` buffer, in parallel.
fn copy_floor(x: &[f32], y_len: usize) -> (Vec<f32>, Vec<f32>) {
    const CHUNK: usize = 1 << 16;
    let mut copy = vec![0f32; x.len()];
    copy.par_chunks_mut(CHUNK)
        .zip(x.par_chunks(CHUNK))
        .for_each(|(d, s)| d.copy_from_slice(s));
    let mut y = vec![0f32; y_len];
    y.par_chunks_mut(CHUNK).for_each(|d| d.fill(1.0));
    (copy, y)
}

fn time_copy(runs: usize, inp: &Inputs) -> anyhow::Result<Timing> {
    let x = inp.x.flatten_all()?.to_vec1::<f32>()?;
    let y_len = inp.r.elem_count();
    timing::measure(runs, LONG, || {
        let buffers = copy_floor(&x, y_len);
        anyhow::ensure!(buffers.0.len() == x.len(), "copy has the wrong length");
        Ok(())
    })
}

/// huashi's forward, forward+backward, and the two gradient ops on their own.
fn time_huashi(case: &Case, inp: &Inputs, runs: usize) -> anyhow::Result<[Timing; 4]> {
    let g = case.geometry();
    let (fwd, fb) = time_conv(runs, inp, true, |x, w| Ok(huashi_conv::conv2d(x, w, &g)?));
    let required = |o: Outcome, what: &str| {
        o.timing
            .ok_or_else(|| anyhow::anyhow!("huashi {what}: {}", o.error.unwrap_or_default()))
    };
    let (fwd, fb) = (required(fwd, "forward")?, required(fb, "forward+backward")?);
    let hw = [case.size; 2];
    let dx = timing::measure(runs, LONG, || {
        huashi_conv::conv_input_grad(&inp.r, &inp.w, &g, hw)?;
        Ok(())
    })?;
    let kernel = [case.kernel; 2];
    let dw = timing::measure(runs, LONG, || {
        huashi_conv::conv_weight_grad(&inp.x, &inp.r, &g, kernel)?;
        Ok(())
    })?;
    Ok([fwd, fb, dx, dw])
}

fn run_case(
    case: &Case,
    args: &BenchArgs,
    peak: &FmaPeak,
    bar: &ProgressBar,
) -> anyhow::Result<CaseReport> {
    let runs = args.runs as usize;
    let inp = inputs(case, args.seed)?;
    bar.set_message(format!("({}) huashi", case.id));
    let huashi = time_huashi(case, &inp, runs)?;
    let [hf, hfb, dx, dw] = huashi;
    bar.inc(2);
    bar.set_message(format!("({}) candle built-in conv2d", case.id));
    let (pad, groups) = (case.padding, case.groups);
    let (cf, cfb) = time_conv(runs, &inp, !args.no_candle_backward, |x, w| {
        Ok(x.conv2d(w, pad, 1, 1, groups)?)
    });
    bar.inc(2);
    bar.set_message(format!("({}) GEMM and floors", case.id));
    let gemm = gemm_floor::measure(case.gemm, runs, args.seed + 10)?;
    let copy = match case.floor {
        Floor::Copy => Some(time_copy(runs, &inp)?),
        Floor::Gemm => None,
    };
    bar.inc(1);
    let flops = case.flops_forward();
    Ok(CaseReport {
        ratios: ratios(case, &huashi, peak, &gemm, copy.as_ref()),
        case: case.clone(),
        flops_forward: flops,
        flops_forward_backward: 3.0 * flops,
        huashi_forward: hf,
        huashi_forward_backward: hfb,
        huashi_input_grad: dx,
        huashi_weight_grad: dw,
        candle_forward: cf,
        candle_forward_backward: cfb,
        gemm,
        copy,
    })
}

pub fn run(args: &BenchArgs) -> anyhow::Result<()> {
    let selected = cases(&args.cases)?;
    let bar = timing::progress(1 + 5 * selected.len() as u64, "bench");
    bar.set_message("FMA peak");
    let peak = fma_peak::measure(args.runs as usize)?;
    bar.inc(1);
    let mut reports = Vec::with_capacity(selected.len());
    for case in &selected {
        let report = run_case(case, args, &peak, &bar)?;
        if !args.json {
            bar.suspend(|| print!("{}", render(&report, &peak)));
        }
        reports.push(report);
    }
    bar.finish_and_clear();
    let threads = candle_core::utils::get_num_threads();
    if args.json {
        let report = BenchReport {
            threads,
            runs: args.runs,
            fma_peak_gflops: peak.gflops,
            fma_peak: peak,
            cases: reports,
        };
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        println!(
            "{threads} threads, median of {} runs. forward+backward = candle autograd of \
                  sum(conv(x, w)) to x and w; its FLOPs are 3 × forward (forward, input gradient, \
                  weight gradient). The gradient ops alone get r as the output gradient. \
                  FMA peak: {:.0} GFLOP/s on {} threads ({:.0} on one; {}, {} accumulators).",
            args.runs,
            peak.gflops,
            peak.threads,
            peak.single_thread_gflops,
            peak.isa.name(),
            peak.accumulators
        );
    }
    Ok(())
}
