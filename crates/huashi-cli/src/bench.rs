//! `huashi bench conv`: huashi's convolution kernels beside candle's built-in
//! conv2d, a GEMM of the same FLOP count and (depthwise) a memory-copy floor,
//! all measured in the same run.

use crate::bench_cases::{cases, Case, Floor};
use crate::table;
use crate::timing::{self, Timing};
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

/// A measurement that may fail (candle's built-in ops, caught and reported).
#[derive(Debug, Clone, Serialize)]
pub struct Outcome {
    pub timing: Option<Timing>,
    pub error: Option<String>,
}

impl Outcome {
    fn from(result: anyhow::Result<Timing>) -> Self {
        match result {
            Ok(t) => Outcome {
                timing: Some(t),
                error: None,
            },
            Err(e) => Outcome {
                timing: None,
                error: Some(format!("{e:#}")),
            },
        }
    }
}

/// A measured ratio against a floor, with its target.
#[derive(Debug, Clone, Serialize)]
pub struct Ratio {
    pub what: String,
    pub ratio: f64,
    pub target: f64,
    pub met: bool,
}

#[derive(Debug, Serialize)]
pub struct CaseReport {
    pub case: Case,
    pub flops_forward: f64,
    /// Forward + input gradient + weight gradient = 3 × forward.
    pub flops_forward_backward: f64,
    pub huashi_forward: Timing,
    pub huashi_forward_backward: Timing,
    /// `conv_input_grad(r, w)` alone.
    pub huashi_input_grad: Timing,
    /// `conv_weight_grad(x, r)` alone.
    pub huashi_weight_grad: Timing,
    pub candle_forward: Outcome,
    pub candle_forward_backward: Outcome,
    pub gemm: Timing,
    /// Copy of x into a fresh buffer plus writing a y-sized buffer (depthwise only).
    pub copy: Option<Timing>,
    pub ratios: Vec<Ratio>,
}

#[derive(Debug, Serialize)]
struct BenchReport {
    threads: usize,
    runs: u64,
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

fn time_gemm(runs: usize, [m, k, n]: [usize; 3], seed: u64) -> anyhow::Result<Timing> {
    let a = crate::rng::uniform(&[m, k], 1.0, seed, DType::F32)?;
    let b = crate::rng::uniform(&[k, n], 1.0, seed + 1, DType::F32)?;
    timing::measure(runs, LONG, || a.matmul(&b).map(drop).map_err(Into::into))
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

/// Ratios against the floor: forward; forward+backward through candle's
/// autograd (what a user's `backward()` costs, including candle's own
/// single-threaded gradient accumulation); and forward plus the two gradient
/// ops called directly (the convolution's own work).
fn ratios(case: &Case, huashi: &[Timing; 4], floor: &Timing) -> Vec<Ratio> {
    let floor_name = match case.floor {
        Floor::Gemm => "GEMM",
        Floor::Copy => "copy floor",
    };
    let r = |what: &str, ms: f64, target: f64| {
        let ratio = ms / floor.median_ms;
        Ratio {
            what: format!("{what} / {floor_name}"),
            ratio,
            target,
            met: ratio <= target,
        }
    };
    let [fwd, fb, dx, dw] = huashi;
    let ops = fwd.median_ms + dx.median_ms + dw.median_ms;
    vec![
        r("huashi forward", fwd.median_ms, case.targets[0]),
        r(
            "huashi forward+backward (autograd)",
            fb.median_ms,
            case.targets[1],
        ),
        r(
            "huashi forward + input grad + weight grad (ops)",
            ops,
            case.targets[1],
        ),
    ]
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

fn run_case(case: &Case, args: &BenchArgs, bar: &ProgressBar) -> anyhow::Result<CaseReport> {
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
    let gemm = time_gemm(runs, case.gemm, args.seed + 10)?;
    let copy = match case.floor {
        Floor::Copy => Some(time_copy(runs, &inp)?),
        Floor::Gemm => None,
    };
    bar.inc(1);
    let flops = case.flops_forward();
    Ok(CaseReport {
        ratios: ratios(case, &huashi, &copy.unwrap_or(gemm)),
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
    let bar = timing::progress(5 * selected.len() as u64, "bench");
    let mut reports = Vec::with_capacity(selected.len());
    for case in &selected {
        let report = run_case(case, args, &bar)?;
        if !args.json {
            bar.suspend(|| print!("{}", render(&report)));
        }
        reports.push(report);
    }
    bar.finish_and_clear();
    let threads = candle_core::utils::get_num_threads();
    if args.json {
        let report = BenchReport {
            threads,
            runs: args.runs,
            cases: reports,
        };
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        println!(
            "{threads} threads, median of {} runs. forward+backward = candle autograd of \
                  sum(conv(x, w)) to x and w; its FLOPs are 3 × forward (forward, input gradient, \
                  weight gradient). The gradient ops alone get r as the output gradient.",
            args.runs
        );
    }
    Ok(())
}

fn row(what: &str, t: Option<&Timing>, flops: f64, floor: &Timing, note: &str) -> Vec<String> {
    let Some(t) = t else {
        return vec![
            what.into(),
            "-".into(),
            "-".into(),
            "-".into(),
            "-".into(),
            note.into(),
        ];
    };
    vec![
        what.into(),
        format!("{:.2}", t.median_ms),
        format!("{:.2}", t.min_ms),
        if flops > 0.0 {
            format!("{:.1}", t.gflops(flops))
        } else {
            "-".into()
        },
        format!("{:.2}×", t.median_ms / floor.median_ms),
        note.into(),
    ]
}

/// `(label, timing, FLOPs, note)` of every measurement of a case.
fn entries(r: &CaseReport) -> Vec<(String, Option<&Timing>, f64, String)> {
    let (f, fb) = (r.flops_forward, r.flops_forward_backward);
    let err = |o: &Outcome| o.error.clone().unwrap_or_default();
    let [m, k, n] = r.case.gemm;
    let mut out = vec![
        (
            "huashi forward".into(),
            Some(&r.huashi_forward),
            f,
            String::new(),
        ),
        (
            "huashi forward+backward".into(),
            Some(&r.huashi_forward_backward),
            fb,
            String::new(),
        ),
        (
            "  of which input grad".into(),
            Some(&r.huashi_input_grad),
            f,
            "conv_input_grad alone".into(),
        ),
        (
            "  of which weight grad".into(),
            Some(&r.huashi_weight_grad),
            f,
            "conv_weight_grad alone".into(),
        ),
        (
            "candle conv2d forward".into(),
            r.candle_forward.timing.as_ref(),
            f,
            err(&r.candle_forward),
        ),
        (
            "candle conv2d fwd+bwd".into(),
            r.candle_forward_backward.timing.as_ref(),
            fb,
            err(&r.candle_forward_backward),
        ),
        (
            format!("GEMM ({m}×{k})·({k}×{n})"),
            Some(&r.gemm),
            f,
            "same FLOPs as forward".into(),
        ),
    ];
    if let Some(copy) = &r.copy {
        let gb = r.case.copy_bytes() as f64 / 1e9 / (copy.median_ms * 1e-3);
        out.push((
            "copy x + write y".into(),
            Some(copy),
            0.0,
            format!("{gb:.1} GB/s"),
        ));
    }
    out
}

/// One case as a text table plus its target checks.
fn render(r: &CaseReport) -> String {
    let floor = r.copy.unwrap_or(r.gemm);
    let rows: Vec<Vec<String>> = entries(r)
        .iter()
        .map(|(label, t, flops, note)| row(label, *t, *flops, &floor, note))
        .collect();
    let headers = [
        "measurement",
        "median ms",
        "min ms",
        "GFLOP/s",
        "vs floor",
        "note",
    ];
    let mut out = format!("\n({}) {}\n", r.case.id, r.case.description);
    out += &table::text(&headers, &rows);
    for ratio in &r.ratios {
        let mark = if ratio.met { "met" } else { "NOT met" };
        let (what, value, target) = (&ratio.what, ratio.ratio, ratio.target);
        out += &format!("  {what}: {value:.2}× (target ≤ {target}×) {mark}\n");
    }
    let reference = r.case.pytorch_reference;
    out + &format!("  PyTorch reference (issue 2, not measured here): {reference}\n")
}
