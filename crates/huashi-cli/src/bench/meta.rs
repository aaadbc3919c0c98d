//! `huashi bench meta`: meta-training throughput (meta-iterations per second
//! and tasks per second) of the papers' two standard cases: sinusoid MAML
//! (1-40-40-1 MLP, meta-batch 25, K = 10, one inner step) and 5-way 1-shot
//! Omniglot MAML (4-block CNN with 64 filters, meta-batch 32, one query per
//! class, one inner step), both second order, plus first-order MAML and
//! Prototypical Networks on the Omniglot case. Beside each, the estimate of
//! `huashi_meta::cost` (MACs, peak memory) and the peak resident memory of
//! the process while the case ran (`VmHWM`, reset before each case).

use crate::report::table;
use crate::report::timing::{self, Timing};
use clap::Args;
use huashi_meta::checkpoint::RunSpec;
use huashi_meta::cost::IterationCost;
use huashi_meta::protocol::{RunOptions, TaskFamily};
use huashi_meta::Algorithm;
use huashi_meta::Trainer;
use serde::Serialize;
use std::cell::RefCell;
use std::time::Duration;

#[derive(Debug, Args)]
pub struct BenchMetaArgs {
    /// Timed meta-iterations per case (after one warm-up); the median is reported.
    #[arg(long, value_name = "N", default_value_t = 5, value_parser = crate::parse::at_least_one)]
    pub runs: usize,
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Serialize)]
struct Row {
    case: String,
    meta_batch: usize,
    timing: Timing,
    iterations_per_second: f64,
    tasks_per_second: f64,
    /// The description's estimate of a meta-iteration ([`IterationCost`]).
    estimate: IterationCost,
    /// Peak resident memory of the process while the case's meta-iterations
    /// ran, above the resident memory before them (model, parameters and
    /// task data), in bytes.
    peak_resident_bytes: Option<u64>,
}

/// The run specification of a case: the papers' protocol for `algo` on `family`.
fn spec(algo: Algorithm, family: TaskFamily) -> anyhow::Result<RunSpec> {
    Ok(RunOptions::new(algo, family).spec()?)
}

fn measure(name: &str, spec: &RunSpec, runs: usize) -> anyhow::Result<Row> {
    let estimate = IterationCost::of_training(&spec.model, &spec.task, &spec.hyper)?;
    let (model, params) = spec.model.build(spec.seed)?;
    let sources = spec.task.sources(spec.seed)?;
    let trainer = Trainer::for_run(spec, &model, &sources);
    let state = RefCell::new(trainer.start(params)?);
    let base = crate::alloc::reset_peak_resident();
    let timing = timing::measure(runs, Duration::from_secs(30), || {
        trainer.step(&mut state.borrow_mut())?;
        Ok(())
    })?;
    let per_second = 1e3 / timing.median_ms;
    Ok(Row {
        case: name.to_string(),
        meta_batch: spec.hyper.meta_batch,
        timing,
        iterations_per_second: per_second,
        tasks_per_second: per_second * spec.hyper.meta_batch as f64,
        estimate,
        peak_resident_bytes: crate::alloc::peak_resident_bytes()
            .zip(base)
            .map(|(peak, base)| peak.saturating_sub(base)),
    })
}

pub fn run(args: &BenchMetaArgs) -> anyhow::Result<()> {
    let cases = [
        (
            "sinusoid MAML (2nd order)",
            Algorithm::Maml,
            TaskFamily::Sinusoid,
        ),
        (
            "Omniglot 5-way 1-shot MAML (2nd order)",
            Algorithm::Maml,
            TaskFamily::Omniglot,
        ),
        (
            "Omniglot 5-way 1-shot first-order MAML",
            Algorithm::Fomaml,
            TaskFamily::Omniglot,
        ),
        (
            "Omniglot 5-way 1-shot ProtoNet",
            Algorithm::Protonet,
            TaskFamily::Omniglot,
        ),
    ];
    let progress = timing::progress(cases.len() as u64, "bench meta");
    let mut rows = Vec::new();
    for (name, algo, task) in cases {
        progress.set_message(name);
        rows.push(measure(name, &spec(algo, task)?, args.runs.max(1))?);
        progress.inc(1);
    }
    progress.finish_and_clear();
    if args.json {
        println!("{}", serde_json::to_string_pretty(&rows)?);
        return Ok(());
    }
    let body: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            vec![
                r.case.clone(),
                r.meta_batch.to_string(),
                format!("{:.2}", r.timing.median_ms),
                format!("{:.2}", r.iterations_per_second),
                format!("{:.0}", r.tasks_per_second),
                format!("{:.2}", r.estimate.macs as f64 / 1e9),
                format!("{:.0}", r.estimate.peak_bytes as f64 / 1e6),
                r.peak_resident_bytes
                    .map_or("?".into(), |b| format!("{:.0}", b as f64 / 1e6)),
            ]
        })
        .collect();
    let headers = [
        "case",
        "meta-batch",
        "ms / iteration (median)",
        "iterations/s",
        "tasks/s",
        "GMAC / iteration",
        "estimated peak MB",
        "peak resident MB (above the data)",
    ];
    print!("{}", table::text(&headers, &body));
    Ok(())
}
