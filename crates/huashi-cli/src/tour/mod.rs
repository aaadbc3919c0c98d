//! `huashi tour`: a Markdown report with PNG plots of what each capability
//! does, measured on this machine: convolutions, echo state networks and
//! meta-learning.

use crate::report::variants::{self, Timed, VariantReport};
use crate::report::{plot, table, timing};
use anyhow::{ensure, Context};
use clap::Args;
use huashi_conv::family::variants::VariantSpec;
use std::path::{Path, PathBuf};

#[derive(Debug, Args)]
pub struct TourArgs {
    /// Directory for the report (`report.md`) and its PNG plots; created if missing.
    #[arg(long, value_name = "DIR", default_value = "tour-report")]
    pub out: PathBuf,
    /// Timed runs per measurement (after one warm-up); the median is reported.
    #[arg(long, value_name = "N", default_value_t = 3)]
    pub runs: usize,
}

mod conv;
mod esn;
mod factorize;
mod meta;
mod rf;

fn bars(reports: &[VariantReport], value: impl Fn(&VariantReport) -> f64) -> Vec<(String, f64)> {
    reports.iter().map(|r| (r.name.clone(), value(r))).collect()
}

fn cost_charts(dir: &Path, reports: &[VariantReport]) -> anyhow::Result<()> {
    let title = "64→128 channels, 3×3, 56×56";
    plot::bar_chart(
        &dir.join("conv_params.png"),
        &format!("Parameters — {title}"),
        "parameters",
        &bars(reports, |r| r.cost.params as f64),
    )?;
    plot::bar_chart(
        &dir.join("conv_macs.png"),
        &format!("MACs per sample — {title}"),
        "multiply-accumulates",
        &bars(reports, |r| r.cost.macs as f64),
    )?;
    plot::bar_chart(
        &dir.join("conv_times.png"),
        &format!("Measured time, batch 8 — {title}"),
        "forward median ms",
        &bars(reports, |r| r.forward.map_or(0.0, |t| t.median_ms)),
    )?;
    Ok(())
}

/// Params/MACs table, measured times and their charts.
fn cost_section(dir: &Path, runs: usize) -> anyhow::Result<String> {
    let bar = timing::progress(5, "tour");
    let reports = variants::reports(
        &VariantSpec::default(),
        8,
        Some(Timed { runs, seed: 0 }),
        &bar,
    )?;
    bar.finish_and_clear();
    cost_charts(dir, &reports)?;
    let mut md = String::from("## What separable convolutions save\n\n");
    md += "Five ways to map 64 channels to 128 on a 56×56 map with a 3×3 receptive field per ";
    md += "layer (the 1×1 has none; it is the floor). Params, MACs and FLOPs (= 2·MACs) per ";
    md += "sample (N = 1), no bias, 'same' padding. Times: median on this machine over a batch ";
    md += &format!("of 8 ({runs} runs after a warm-up, {} threads); forward+backward computes the gradients for the input and the weights.\n\n", candle_core::utils::get_num_threads());
    md += &table::markdown(&variants::HEADERS, &variants::rows(&reports));
    md += "\n";
    for r in &reports {
        md += &format!("- **{}**: {}\n", r.name, r.detail);
    }
    md += "\n![parameters](conv_params.png)\n\n![MACs](conv_macs.png)\n\n";
    md += "![forward time](conv_times.png)\n\n";
    md += "Fewer MACs do not translate one-to-one into time: depthwise convolutions are ";
    md += "memory-bound (little arithmetic per byte), dense ones compute-bound. Run ";
    md += "`huashi bench conv` for the comparison against GEMM and memory-copy floors.\n\n";
    Ok(md)
}

fn header() -> String {
    let mut md = String::from("# huashi tour\n\n");
    md += "huashi (花式) is a Rust toolkit for convolutions of every useful shape, echo state ";
    md += "networks and meta-learning, on candle with its own fast CPU kernels. This report was ";
    md += "written by `huashi tour`; every number in it was computed or measured by this run.\n\n";
    md += "Contents: convolution arithmetic · the fast kernels vs a naive loop · receptive ";
    md += "field from the input gradient · receptive fields of MobileNet v1 and VGG-16 · ";
    md += "separable factorisation · parameters, MACs and ";
    md += "measured times of conv variants · echo state networks (Mackey-Glass, S&P 500) · ";
    md += "meta-learning (MAML on sinusoids, Prototypical Networks on Omniglot).\n\n";
    md
}

pub fn run(args: &TourArgs) -> anyhow::Result<()> {
    ensure!(args.runs >= 1, "--runs must be at least 1");
    let dir = &args.out;
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let mut md = header();
    md += &conv::arithmetic_section(dir)?;
    let (check, check_ok) = conv::check_section()?;
    md += &check;
    md += &conv::receptive_field_section(dir)?;
    md += &rf::rf_section(dir)?;
    md += &factorize::factorize_section(dir)?;
    md += &cost_section(dir, args.runs)?;
    md += &esn::esn_section(dir)?;
    md += &meta::meta_section(dir)?;
    let report = dir.join("report.md");
    huashi_io::write_bytes(&report, md.as_bytes())?;
    println!("wrote {} and its plots:", report.display());
    for png in [
        "params_vs_kernel",
        "receptive_field",
        rf::PLOT,
        "conv_params",
        "conv_macs",
        "conv_times",
    ]
    .into_iter()
    .chain(esn::PLOTS)
    .chain(meta::PLOTS)
    {
        println!("  {}", dir.join(format!("{png}.png")).display());
    }
    ensure!(
        check_ok,
        "the fast kernels disagree with the naive loop; see {}",
        report.display()
    );
    Ok(())
}
