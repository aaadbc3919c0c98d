//! The convolution variants of huashi-conv's `family::variants`, counted
//! and timed: the report of `conv compare` and of the tour.

use crate::report::table::thousands;
use crate::report::timing::{self, Timing};
use candle_core::{DType, Tensor, Var};
use huashi_conv::family::variants::{self, Variant, VariantSpec};
use huashi_conv::LayerCost;
use indicatif::ProgressBar;
use serde::Serialize;
use std::time::Duration;

/// How to time the variants: runs per measurement (after a warm-up) and
/// the seed of the random input and weights.
#[derive(Debug, Clone, Copy)]
pub struct Timed {
    pub runs: usize,
    pub seed: u64,
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
fn check_memory(all: &[Variant], size: usize, batch: usize) -> anyhow::Result<()> {
    for v in all {
        let bytes = v.memory_estimate(batch, size)?;
        let what = format!("timing {} on a batch of {batch}", v.name);
        huashi_io::check_memory(&what, bytes)?;
    }
    Ok(())
}

/// Counts (and unless `no_timing`, measures) every variant.
pub fn reports(
    spec: &VariantSpec,
    batch: usize,
    timed: Option<Timed>,
    bar: &ProgressBar,
) -> anyhow::Result<Vec<VariantReport>> {
    let all = variants::variants(spec)?;
    let base = all[0].cost(spec.size)?;
    if let Some(t) = timed {
        anyhow::ensure!(t.runs >= 1, "--runs must be at least 1, got 0");
        anyhow::ensure!(batch >= 1, "--batch must be at least 1, got 0");
        check_memory(&all, spec.size, batch)?;
    }
    let mut out = Vec::with_capacity(all.len());
    for v in all {
        bar.set_message(v.name.clone());
        let cost = v.cost(spec.size)?;
        let (forward, forward_backward) = match timed {
            None => (None, None),
            Some(t) => {
                let (f, fb) = measure_variant(&v, batch, spec.size, t.runs, t.seed, true)?;
                (Some(f), fb)
            }
        };
        let [_, c, h, w] = cost.output_shape;
        out.push(VariantReport {
            name: v.name.clone(),
            detail: v.detail.clone(),
            output_shape: [batch, c, h, w],
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
