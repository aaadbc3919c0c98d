//! `huashi meta eval`: a checkpoint on held-out tasks (mean ± 95 % CI over
//! ≥ 600 tasks), or on the 20 one-shot runs of Lake et al. 2015.

use anyhow::{bail, Context};
use clap::{Args, ValueEnum};
use huashi_meta::fewshot::LakeRuns;
use huashi_meta::protocol::TrainedRun;
use huashi_meta::TaskSpec;
use std::path::PathBuf;

#[derive(Debug, Args)]
pub struct EvalArgs {
    /// The run folder written by `huashi meta train --out DIR`.
    #[arg(long, value_name = "DIR")]
    pub checkpoint: PathBuf,
    /// What to evaluate on: `tasks` = held-out tasks of the run's family;
    /// `lake-runs` = the 20 official 20-way one-shot runs (Lake et al.,
    /// Science 2015), scored as the error rate over their 400 test items
    /// (needs a model trained 20-way, or Prototypical Networks).
    #[arg(long, value_enum, default_value_t = Benchmark::Tasks)]
    pub benchmark: Benchmark,
    /// Held-out tasks to evaluate (the literature uses ≥ 600).
    #[arg(long, default_value_t = 600, value_parser = crate::parse::at_least_one)]
    pub tasks: usize,
    /// Support size K at test time [default: the run's; sinusoids: 5 and 10].
    #[arg(long)]
    pub shots: Option<usize>,
    /// Inner steps at test time, comma separated [default: the run's
    /// evaluation steps; sinusoids: 1,10].
    #[arg(long, value_delimiter = ',')]
    pub steps: Option<Vec<usize>>,
    /// The one-shot runs (`all_runs.zip` or its unpacked folder) [default: the embedded copy].
    #[arg(long, value_name = "PATH")]
    pub runs: Option<PathBuf>,
    /// Sinusoids: write the adapted curves after 0, 1 and 10 steps to this PNG
    /// [default: DIR/sinusoid.png].
    #[arg(long, value_name = "FILE.png")]
    pub plot: Option<PathBuf>,
    /// Print the results as JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Benchmark {
    /// Held-out tasks of the run's task family.
    Tasks,
    /// The 20 official one-shot runs of Lake et al. 2015.
    LakeRuns,
}

pub fn run(args: &EvalArgs) -> anyhow::Result<()> {
    let loaded = TrainedRun::load(&args.checkpoint)?;
    let (default_shots, default_steps) = loaded.test_defaults();
    let steps = args.steps.clone().unwrap_or(default_steps);
    if args.benchmark == Benchmark::LakeRuns {
        let step = steps
            .last()
            .copied()
            .unwrap_or(loaded.spec.hyper.eval_inner_steps);
        let runs = match &args.runs {
            Some(path) => LakeRuns::load(path)?,
            None => LakeRuns::embedded()?,
        };
        let report = loaded.lake_runs(&runs, step).context(
            "the one-shot runs are 20-way: train with --ways 20, or with --algo protonet (any number of ways)",
        )?;
        if args.json {
            println!("{}", serde_json::to_string_pretty(&report)?);
        } else {
            println!(
                "Lake et al. (2015) one-shot runs: {} runs, {} test items, {} inner steps",
                report.runs, report.items, report.inner_steps
            );
            println!(
                "error rate: {:.1}% (per run: {})",
                100.0 * report.error_rate,
                report
                    .error_rate_per_run
                    .iter()
                    .map(|e| format!("{:.0}", 100.0 * e))
                    .collect::<Vec<_>>()
                    .join(" ")
            );
        }
        return Ok(());
    }
    if args.tasks == 0 {
        bail!("--tasks must be positive");
    }
    let shots = args.shots.map(|k| vec![k]).unwrap_or(default_shots);
    let rows = loaded.test(&shots, &steps, args.tasks)?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&rows)?);
    } else {
        println!(
            "{} of {} on {}: {} held-out tasks",
            loaded.spec.hyper.algorithm.name(),
            loaded.spec.model.name(),
            loaded.spec.task,
            args.tasks
        );
        print!("{}", crate::report::meta::test_table(&rows));
    }
    if matches!(loaded.spec.task, TaskSpec::Sinusoid { .. }) {
        let path = args
            .plot
            .clone()
            .unwrap_or_else(|| args.checkpoint.join("sinusoid.png"));
        crate::report::meta::sinusoid(&loaded, &path)?;
        if !args.json {
            println!("wrote {}", path.display());
        }
    }
    Ok(())
}
