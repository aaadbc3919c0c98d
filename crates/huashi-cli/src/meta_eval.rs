//! `huashi meta eval`: a checkpoint on held-out tasks (mean ± 95 % CI over
//! ≥ 600 tasks), or on the 20 one-shot runs of Lake et al. 2015.

use crate::table;
use anyhow::{bail, Context};
use clap::{Args, ValueEnum};
use huashi_meta::checkpoint::{self, RunSpec};
use huashi_meta::eval::score_tasks;
use huashi_meta::fewshot::LakeRuns;
use huashi_meta::{evaluate, Algorithm, EvalReport, MetaModel, ParamSet, TaskSpec};
use serde::Serialize;
use std::path::{Path, PathBuf};

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

/// One line of a test report.
#[derive(Debug, Clone, Serialize)]
pub struct TestRow {
    pub shots: usize,
    pub report: EvalReport,
}

/// A checkpoint's model and parameters.
pub struct Loaded {
    pub spec: RunSpec,
    pub model: MetaModel,
    pub params: ParamSet,
}

pub fn load(dir: &Path) -> anyhow::Result<Loaded> {
    let (state, (model, params)) = checkpoint::read_consistent(dir, |state| {
        huashi_meta::budget::check_run(&state.spec)?;
        let (model, fresh) = state.spec.model.build(state.spec.seed)?;
        let fresh = state.spec.hyper.initial_params(fresh)?;
        let params = checkpoint::load_params(dir, state, &fresh)?;
        Ok((model, params))
    })?;
    Ok(Loaded {
        spec: state.spec,
        model,
        params,
    })
}

/// The test family with `shots` support points (sinusoids: 100 query points).
fn test_task(spec: &RunSpec, shots: usize) -> TaskSpec {
    match &spec.task {
        TaskSpec::Sinusoid { .. } => TaskSpec::Sinusoid {
            shots,
            queries: 100,
        },
        TaskSpec::Omniglot {
            ways,
            queries,
            data_dir,
            ..
        } => TaskSpec::Omniglot {
            ways: *ways,
            shots,
            queries: *queries,
            data_dir: data_dir.clone(),
        },
    }
}

/// Default shots and steps of a test report (Prototypical Networks take no
/// steps).
pub fn defaults(spec: &RunSpec) -> (Vec<usize>, Vec<usize>) {
    if spec.hyper.algorithm == Algorithm::Protonet {
        let shots = match spec.task {
            TaskSpec::Omniglot { shots, .. } => shots,
            TaskSpec::Sinusoid { shots, .. } => shots,
        };
        return (vec![shots], vec![0]);
    }
    match spec.task {
        TaskSpec::Sinusoid { .. } => (vec![5, 10], vec![1, 10]),
        TaskSpec::Omniglot { shots, .. } => (vec![shots], vec![spec.hyper.eval_inner_steps]),
    }
}

/// Test reports for each (shots, steps) on `tasks` held-out tasks.
pub fn test(
    loaded: &Loaded,
    shots: &[usize],
    steps: &[usize],
    tasks: usize,
) -> anyhow::Result<Vec<TestRow>> {
    let mut rows = Vec::new();
    let head = loaded.model.head_names();
    for &k in shots {
        let task = test_task(&loaded.spec, k);
        let spec = &loaded.spec;
        huashi_meta::budget::check_batch(&task, &spec.model, spec.hyper.meta_batch, 1)?;
        let sources = task.sources(loaded.spec.seed)?;
        for &s in steps {
            let report = evaluate(
                &loaded.spec.hyper,
                &loaded.model,
                &head,
                &loaded.params,
                sources.test.as_ref(),
                0,
                tasks,
                s,
            )?;
            rows.push(TestRow { shots: k, report });
        }
    }
    Ok(rows)
}

/// The test rows as a text table.
pub fn table(rows: &[TestRow]) -> String {
    let headers = [
        "K",
        "steps",
        "tasks",
        "query loss (± 95% CI)",
        "accuracy (± 95% CI)",
    ];
    let body: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            let e = &r.report;
            vec![
                r.shots.to_string(),
                e.inner_steps.to_string(),
                e.tasks.to_string(),
                format!("{:.4} ± {:.4}", e.loss.mean, e.loss.ci95),
                e.accuracy.map_or("—".into(), |a| {
                    format!("{:.2}% ± {:.2}", 100.0 * a.mean, 100.0 * a.ci95)
                }),
            ]
        })
        .collect();
    table::text(&headers, &body)
}

/// The Lake et al. one-shot runs: per-run error rates and the overall rate.
#[derive(Debug, Clone, Serialize)]
pub struct LakeReport {
    pub runs: usize,
    pub items: usize,
    pub inner_steps: usize,
    pub error_rate_per_run: Vec<f64>,
    pub error_rate: f64,
}

pub fn lake(loaded: &Loaded, runs: Option<&Path>, steps: usize) -> anyhow::Result<LakeReport> {
    let runs = match runs {
        Some(path) => LakeRuns::load(path)?,
        None => LakeRuns::embedded()?,
    };
    let tasks = runs.tasks(&candle_core::Device::Cpu)?;
    let ways = tasks
        .first()
        .map(|t| t.support.y.dim(0))
        .transpose()?
        .unwrap_or(0);
    let trained_ways = match &loaded.spec.task {
        TaskSpec::Omniglot { ways, .. } => *ways,
        TaskSpec::Sinusoid { .. } => {
            bail!("the one-shot runs need an Omniglot checkpoint, this one is sinusoid regression")
        }
    };
    if loaded.spec.hyper.algorithm != Algorithm::Protonet && trained_ways != ways {
        bail!("the one-shot runs are {ways}-way but this model's head has {trained_ways} outputs: train with --ways {ways} (or use --algo protonet, which takes any number of ways)");
    }
    let mut hyper = loaded.spec.hyper.clone();
    hyper.loss = huashi_meta::LossKind::CrossEntropy { ways };
    let steps = hyper.eval_steps(steps);
    let head = loaded.model.head_names();
    let (_, accuracies) = score_tasks(&hyper, &loaded.model, &head, &loaded.params, &tasks, steps)?;
    let accuracies = accuracies.context("classification accuracies")?;
    let per_run: Vec<f64> = accuracies.iter().map(|a| 1.0 - a).collect();
    let items: usize = tasks
        .iter()
        .map(|t| t.query.y.dim(0))
        .sum::<candle_core::Result<usize>>()?;
    Ok(LakeReport {
        runs: tasks.len(),
        items,
        inner_steps: steps,
        error_rate: per_run.iter().sum::<f64>() / per_run.len().max(1) as f64,
        error_rate_per_run: per_run,
    })
}

pub fn run(args: &EvalArgs) -> anyhow::Result<()> {
    let loaded = load(&args.checkpoint)?;
    let (default_shots, default_steps) = defaults(&loaded.spec);
    let steps = args.steps.clone().unwrap_or(default_steps);
    if args.benchmark == Benchmark::LakeRuns {
        let step = steps
            .last()
            .copied()
            .unwrap_or(loaded.spec.hyper.eval_inner_steps);
        let report = lake(&loaded, args.runs.as_deref(), step)?;
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
    let rows = test(&loaded, &shots, &steps, args.tasks)?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&rows)?);
    } else {
        println!(
            "{} on {:?}: {} held-out tasks",
            loaded.spec.hyper.algorithm.name(),
            loaded.spec.task,
            args.tasks
        );
        print!("{}", table(&rows));
    }
    if matches!(loaded.spec.task, TaskSpec::Sinusoid { .. }) {
        let path = args
            .plot
            .clone()
            .unwrap_or_else(|| args.checkpoint.join("sinusoid.png"));
        crate::meta_plot::sinusoid(&loaded, &path)?;
        if !args.json {
            println!("wrote {}", path.display());
        }
    }
    Ok(())
}
