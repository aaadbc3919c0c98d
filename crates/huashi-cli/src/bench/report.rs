//! The report of one `huashi bench conv` case: its measurements, huashi's
//! ratios against the floors, the checks against the project's targets, and
//! the text table.
//!
//! A dense case is compared with the fastest GEMM orientation of the same
//! FLOP count (forward+backward, at 3 × those FLOPs, with 3 × that GEMM's
//! time) and judged by the fraction of the all-thread FMA peak it reaches
//! (achieved GFLOP/s ÷ peak GFLOP/s, target ≥ 80 %). The depthwise case is
//! judged by its forward's time over the memory-copy floor (target ≤ 1.1×);
//! its forward+backward is shown against the same floor, without a target.

use super::cases::{Case, Target};
use super::fma_peak::FmaPeak;
use super::gemm_floor::GemmFloor;
use crate::report::table;
use crate::report::timing::Timing;
use serde::Serialize;

/// A measurement that may fail (candle's built-in ops, caught and reported).
#[derive(Debug, Clone, Serialize)]
pub struct Outcome {
    pub timing: Option<Timing>,
    pub error: Option<String>,
}

impl Outcome {
    pub fn from(result: anyhow::Result<Timing>) -> Self {
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

/// One of huashi's times against the floors, and the target check.
#[derive(Debug, Clone, Serialize)]
pub struct Ratio {
    pub what: String,
    /// huashi's median ms over the floor's (see `floor`).
    pub vs_floor: f64,
    pub floor: String,
    /// Achieved GFLOP/s over the all-thread FMA peak.
    pub fma_fraction: f64,
    /// The project's target, where it judges this measurement.
    pub target: Option<String>,
    pub met: Option<bool>,
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
    /// Every GEMM orientation of the forward's FLOP count, and the fastest.
    pub gemm: GemmFloor,
    /// Copy of x into a fresh buffer plus writing a y-sized buffer (depthwise only).
    pub copy: Option<Timing>,
    pub ratios: Vec<Ratio>,
}

/// huashi's forward, forward+backward through candle's autograd (what a
/// user's `backward()` costs, including candle's own single-threaded gradient
/// accumulation), and forward plus the two gradient ops called directly (the
/// convolution's own work), each against the floors.
pub fn ratios(
    case: &Case,
    huashi: &[Timing; 4],
    peak: &FmaPeak,
    gemm: &GemmFloor,
    copy: Option<&Timing>,
) -> Vec<Ratio> {
    let [fwd, fb, dx, dw] = huashi;
    let flops = case.flops_forward();
    let ops = fwd.median_ms + dx.median_ms + dw.median_ms;
    let dense = matches!(case.target, Target::FmaFraction(_));
    let ratio = |what: &str, ms: f64, passes: f64, judged: bool| {
        let (floor, floor_ms) = match (copy, passes > 1.0) {
            (Some(c), _) => ("copy floor".to_string(), c.median_ms),
            (None, false) => ("best GEMM".into(), gemm.best().timing.median_ms),
            (None, true) => ("(3 × best GEMM)".into(), 3.0 * gemm.best().timing.median_ms),
        };
        let fma_fraction = passes * flops / (ms * 1e-3) / 1e9 / peak.gflops;
        let vs_floor = ms / floor_ms;
        Ratio {
            what: what.into(),
            vs_floor,
            floor,
            fma_fraction,
            target: judged.then(|| case.target.describe()),
            met: judged.then(|| case.target.met(fma_fraction, vs_floor)),
        }
    };
    vec![
        ratio("huashi forward", fwd.median_ms, 1.0, true),
        ratio(
            "huashi forward+backward (autograd)",
            fb.median_ms,
            3.0,
            dense,
        ),
        ratio(
            "huashi forward + input grad + weight grad (ops)",
            ops,
            3.0,
            dense,
        ),
    ]
}

/// One table row: label, median and min ms, GFLOP/s and a note.
struct Entry {
    label: String,
    median_ms: Option<f64>,
    min_ms: Option<f64>,
    gflops: Option<f64>,
    note: String,
}

impl Entry {
    fn timed(label: impl Into<String>, t: Option<&Timing>, flops: f64, note: String) -> Self {
        Entry {
            label: label.into(),
            median_ms: t.map(|t| t.median_ms),
            min_ms: t.map(|t| t.min_ms),
            gflops: t.filter(|_| flops > 0.0).map(|t| t.gflops(flops)),
            note,
        }
    }

    fn cells(&self, floor_ms: f64) -> Vec<String> {
        let num = |v: Option<f64>, digits: usize| v.map_or("-".into(), |v| format!("{v:.digits$}"));
        vec![
            self.label.clone(),
            num(self.median_ms, 2),
            num(self.min_ms, 2),
            num(self.gflops, 1),
            self.median_ms
                .map_or("-".into(), |ms| format!("{:.2}×", ms / floor_ms)),
            self.note.clone(),
        ]
    }
}

/// huashi's and candle's measurements of a case.
fn conv_entries(r: &CaseReport) -> Vec<Entry> {
    let (f, fb) = (r.flops_forward, r.flops_forward_backward);
    let err = |o: &Outcome| o.error.clone().unwrap_or_default();
    vec![
        Entry::timed("huashi forward", Some(&r.huashi_forward), f, String::new()),
        Entry::timed(
            "huashi forward+backward",
            Some(&r.huashi_forward_backward),
            fb,
            String::new(),
        ),
        Entry::timed(
            "  of which input grad",
            Some(&r.huashi_input_grad),
            f,
            "conv_input_grad alone".into(),
        ),
        Entry::timed(
            "  of which weight grad",
            Some(&r.huashi_weight_grad),
            f,
            "conv_weight_grad alone".into(),
        ),
        Entry::timed(
            "candle conv2d forward",
            r.candle_forward.timing.as_ref(),
            f,
            err(&r.candle_forward),
        ),
        Entry::timed(
            "candle conv2d fwd+bwd",
            r.candle_forward_backward.timing.as_ref(),
            fb,
            err(&r.candle_forward_backward),
        ),
    ]
}

/// The floors of a case: FMA peak, best GEMM and (depthwise) the copy.
fn floor_entries(r: &CaseReport, peak: &FmaPeak) -> Vec<Entry> {
    let f = r.flops_forward;
    let best = r.gemm.best();
    let slowest = r.gemm.orientations.iter().map(|o| o.gflops);
    let slowest = slowest.fold(f64::INFINITY, f64::min);
    let mut out = vec![
        Entry {
            label: "FMA peak (all threads)".into(),
            median_ms: Some(peak.ms_for(f)),
            min_ms: None,
            gflops: Some(peak.gflops),
            note: format!(
                "forward's FLOPs at the peak: {}, {} threads, register-only loop",
                peak.isa.name(),
                peak.threads
            ),
        },
        Entry::timed(
            format!("best GEMM {}", best.label()),
            Some(&best.timing),
            f,
            format!(
                "same FLOPs as forward; fastest of {} orientations (slowest {slowest:.1} GFLOP/s)",
                r.gemm.orientations.len()
            ),
        ),
    ];
    if let Some(copy) = &r.copy {
        let gb = r.case.copy_bytes() as f64 / 1e9 / (copy.median_ms * 1e-3);
        out.push(Entry::timed(
            "copy x + write y",
            Some(copy),
            0.0,
            format!("{gb:.1} GB/s"),
        ));
    }
    out
}

/// One ratio line: `what: 1.23× floor, 45 % of FMA peak; target …: met`.
fn ratio_line(ratio: &Ratio) -> String {
    let (what, value, floor) = (&ratio.what, ratio.vs_floor, &ratio.floor);
    let pct = 100.0 * ratio.fma_fraction;
    let check = match (&ratio.target, ratio.met) {
        (Some(target), Some(met)) => {
            let mark = if met { "met" } else { "missed" };
            format!("; target {target}: {mark}")
        }
        _ => " (no target)".into(),
    };
    format!("  {what}: {value:.2}× {floor}, {pct:.1} % of FMA peak{check}\n")
}

/// One case as a text table plus its target checks.
pub fn render(r: &CaseReport, peak: &FmaPeak) -> String {
    let floor_ms = r
        .copy
        .map_or(r.gemm.best().timing.median_ms, |c| c.median_ms);
    let rows: Vec<Vec<String>> = conv_entries(r)
        .iter()
        .chain(&floor_entries(r, peak))
        .map(|e| e.cells(floor_ms))
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
    r.ratios
        .iter()
        .fold(out, |out, ratio| out + &ratio_line(ratio))
}
