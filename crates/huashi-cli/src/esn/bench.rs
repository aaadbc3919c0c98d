//! `huashi esn bench`: the standard ESN benchmarks of `huashi_esn::tasks`
//! with their scores and timings (median of a few runs after a warm-up),
//! measured in [`super::bench_cases`], and what the pipelined accumulation
//! gains over the serial path.

use super::bench_cases::{laser, mackey_glass, memory, narma, CaseResult, PipelineGain};
use crate::report::table;
use crate::report::timing::{self, Timing};
use clap::Args;
use huashi_esn::tasks::{LaserTask, MackeyGlassTask, NarmaTask};
use serde::Serialize;
use std::path::{Path, PathBuf};

#[derive(Debug, Args)]
pub struct EsnBenchArgs {
    /// Timed runs per case (after one warm-up); the median is reported.
    #[arg(long, value_name = "N", default_value_t = 3, value_parser = crate::parse::at_least_one)]
    pub runs: usize,
    /// Seed of the reservoirs.
    #[arg(long, default_value_t = 0, value_parser = crate::parse::count::<u64>)]
    pub seed: u64,
    /// Also write the Mackey-Glass series used (10,000 raw samples, column
    /// `x`) to FILE.csv, e.g. for bench/reservoirpy_mackey_glass.py.
    #[arg(long, value_name = "FILE.csv")]
    pub export_mackey_glass: Option<PathBuf>,
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// Writes the raw Mackey-Glass series of `task` as CSV (`t,x`).
///
/// # Errors
/// The series cannot be generated or the file written.
pub fn export(path: &Path, task: &MackeyGlassTask) -> anyhow::Result<()> {
    let raw = task.generator.generate(task.steps)?;
    let mut csv = String::from("t,x\n");
    for (t, x) in raw.iter().enumerate() {
        csv += &format!("{t},{x:?}\n");
    }
    Ok(huashi_io::write_bytes(path, csv.as_bytes())?)
}

#[derive(Serialize)]
struct BenchReport {
    threads: usize,
    runs: usize,
    cases: Vec<CaseResult>,
    /// Mackey-Glass fit + predict, pipelined vs serial accumulation.
    pipeline: PipelineGain,
}

/// Runs the benchmarks and prints their table (or JSON).
///
/// # Errors
/// A benchmark fails, or the series cannot be exported.
pub fn run(args: &EsnBenchArgs) -> anyhow::Result<()> {
    let task = MackeyGlassTask::with_seed(args.seed);
    if let Some(path) = &args.export_mackey_glass {
        export(path, &task)?;
        eprintln!("wrote the Mackey-Glass series to {}", path.display());
    }
    let bar = timing::progress(4, "esn bench");
    bar.set_message("Mackey-Glass");
    let mg = mackey_glass(&task, args.runs)?;
    bar.inc(1);
    bar.set_message("NARMA-10");
    let mut narma_task = NarmaTask::default();
    narma_task.esn.seed = args.seed;
    let narma = narma(&narma_task, args.runs)?;
    bar.inc(1);
    bar.set_message("memory capacity");
    let mc = memory(args.seed, args.runs)?;
    bar.inc(1);
    bar.set_message("Santa Fe laser");
    let mut laser_task = LaserTask::default();
    laser_task.esn.seed = args.seed;
    let laser = laser(&laser_task, args.runs)?;
    bar.finish_and_clear();
    let report = BenchReport {
        threads: rayon::current_num_threads(),
        runs: args.runs.max(1),
        cases: vec![mg.one_step, mg.closed_loop, narma, mc, laser],
        pipeline: mg.pipeline,
    };
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print_report(&report);
    }
    Ok(())
}

pub const HEADERS: [&str; 7] = [
    "case",
    "metric",
    "value",
    "target",
    "fit ms",
    "predict ms",
    "total ms",
];

pub fn rows(cases: &[CaseResult]) -> Vec<Vec<String>> {
    let ms = |t: Option<Timing>| t.map_or("-".into(), |t| format!("{:.1}", t.median_ms));
    cases
        .iter()
        .map(|c| {
            let value = match c.metric {
                "MC" => format!("{:.2}", c.value),
                _ => format!("{:.3e}", c.value),
            };
            vec![
                c.name.clone(),
                c.metric.to_string(),
                value,
                c.target.unwrap_or("-").to_string(),
                ms(c.fit),
                ms(c.predict),
                ms(Some(c.total)),
            ]
        })
        .collect()
}

fn print_report(r: &BenchReport) {
    println!(
        "ESN benchmarks: median of {} runs after a warm-up, {} threads\n",
        r.runs, r.threads
    );
    print!("{}", table::text(&HEADERS, &rows(&r.cases)));
    println!();
    for c in &r.cases {
        println!("  {}: {}", c.name, c.detail);
    }
    println!(
        "\nNote: NRMSE = RMSE / standard deviation of the target; fit = drawing the reservoir \
         (spectral radius included), harvesting the states and solving the readout; \
         total = fit and predict in one call (Esn::fit_and_run, which runs the test inputs \
         while the last training sums are added); fit and predict are timed apart in \
         separate runs."
    );
    let p = &r.pipeline;
    println!(
        "Pipeline: Mackey-Glass fit + predict {:.1} ms with the sums pipelined on a helper \
         thread, {:.1} ms serial (same runs, alternating): {:.2}× ({} threads).",
        p.pipelined.median_ms,
        p.serial.median_ms,
        p.serial.median_ms / p.pipelined.median_ms,
        r.threads
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn export_writes_the_series() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("mg.csv");
        let task = MackeyGlassTask {
            steps: 20,
            ..MackeyGlassTask::default()
        };
        export(&path, &task).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.starts_with("t,x\n0,1.2\n"), "{text}");
        assert_eq!(text.lines().count(), 21);
    }
}
