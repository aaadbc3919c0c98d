//! `huashi meta train`: meta-training with a progress bar (loss, accuracy,
//! tasks/s, ETA), validation lines, atomic checkpoints, `--resume`, and a
//! final test on held-out tasks.

use super::SpecArgs;
use clap::Args;
use huashi_meta::checkpoint::{self, RunFolder, RunSpec};
use huashi_meta::cost::IterationCost;
use huashi_meta::protocol::{TestRow, TrainedRun};
use huashi_meta::CheckpointPolicy;
use huashi_meta::{Record, StepReport, TaskSpec, TrainState, Trainer};
use indicatif::{ProgressBar, ProgressStyle};
use serde::Serialize;
use std::path::PathBuf;
use std::time::Instant;

#[derive(Debug, Args)]
pub struct TrainArgs {
    #[command(flatten)]
    pub spec: SpecArgs,
    /// Run folder: checkpoint (state.json + safetensors), report.json and,
    /// for sinusoids, sinusoid.png.
    #[arg(long, value_name = "DIR", default_value = "meta-run")]
    pub out: PathBuf,
    /// Continue the run in --out from its last checkpoint, exactly as if it
    /// had never stopped (its saved settings are used; --iterations may
    /// extend it).
    #[arg(long)]
    pub resume: bool,
    /// Write a new run into an --out folder that already holds other files
    /// (by default such a folder is refused, so no file of yours is replaced).
    #[arg(long)]
    pub allow_other_files: bool,
    /// Checkpoint every this many iterations (and always at the end).
    #[arg(long, default_value_t = 1000, value_parser = crate::parse::count::<u64>)]
    pub checkpoint_every: u64,
    /// Held-out tasks of the final test (the literature uses ≥ 600; 0 skips it).
    #[arg(long, default_value_t = 600)]
    pub test_tasks: usize,
    /// Print the final report as JSON on stdout.
    #[arg(long)]
    pub json: bool,
    /// Check the run and print what one meta-iteration will cost (MACs,
    /// parameters, estimated peak memory), then stop without training or
    /// touching --out.
    #[arg(long)]
    pub dry_run: bool,
}

/// What `report.json` holds.
#[derive(Debug, Serialize)]
struct Report<'a> {
    spec: &'a RunSpec,
    /// The estimated cost of one meta-iteration.
    cost: IterationCost,
    iterations: u64,
    wall_seconds: f64,
    iterations_per_second: f64,
    history: &'a [Record],
    test: Vec<TestRow>,
}

/// The run folder (locked for this process), the run and, for `--resume`,
/// its saved state.
fn starting_point(
    args: &TrainArgs,
) -> anyhow::Result<(RunFolder, RunSpec, Option<checkpoint::CheckpointState>)> {
    if args.resume {
        let (folder, saved) = RunFolder::resume(&args.out)?;
        let mut spec = saved.spec.clone();
        if let Some(iterations) = args.spec.iterations {
            spec.hyper.iterations = iterations;
        }
        return Ok((folder, spec, Some(saved)));
    }
    let spec = args.spec.options().spec()?;
    huashi_meta::budget::check_run(&spec)?;
    let folder = RunFolder::create(&args.out, args.allow_other_files)?;
    Ok((folder, spec, None))
}

fn bar(iterations: u64, done: u64) -> ProgressBar {
    let bar = ProgressBar::new(iterations);
    let style = ProgressStyle::with_template(
        "{prefix} [{elapsed_precise}] {bar:30.cyan/blue} {pos}/{len} ETA {eta} {wide_msg}",
    )
    .unwrap_or_else(|_| ProgressStyle::default_bar())
    .progress_chars("=> ");
    bar.set_style(style);
    bar.set_prefix("meta-train");
    bar.set_position(done);
    bar
}

fn message(report: &StepReport, tasks_per_second: f64) -> String {
    let accuracy = report
        .accuracy
        .map_or(String::new(), |a| format!(" acc {:.1}%", 100.0 * a));
    format!(
        "loss {:.4}{accuracy} | {tasks_per_second:.0} tasks/s",
        report.loss
    )
}

fn record_line(record: &Record) -> String {
    let v = &record.validation;
    let accuracy = v.accuracy.map_or(String::new(), |a| {
        format!(", accuracy {:.2}% ± {:.2}", 100.0 * a.mean, 100.0 * a.ci95)
    });
    format!(
        "iteration {:>6}: train loss {:.4} | validation ({} tasks, {} steps) loss {:.4} ± {:.4}{accuracy}",
        record.iteration, record.train_loss, v.tasks, v.inner_steps, v.loss.mean, v.loss.ci95
    )
}

/// Checks the run without touching --out and prints its cost.
fn dry_run(args: &TrainArgs) -> anyhow::Result<()> {
    let spec = match args.resume {
        true => checkpoint::read_state(&args.out)?.spec,
        false => args.spec.options().spec()?,
    };
    huashi_meta::budget::check_run(&spec)?;
    spec.model.build(spec.seed)?;
    let cost = IterationCost::of_training(&spec.model, &spec.task, &spec.hyper)?;
    match args.json {
        true => println!("{}", serde_json::to_string_pretty(&cost)?),
        false => println!("{}", crate::report::meta::cost_line(&spec, &cost)),
    }
    Ok(())
}

pub fn run(args: &TrainArgs) -> anyhow::Result<()> {
    if args.dry_run {
        return dry_run(args);
    }
    let (folder, spec, saved) = starting_point(args)?;
    huashi_meta::budget::check_run(&spec)?;
    let (model, fresh) = spec.model.build(spec.seed)?;
    let cost = IterationCost::of_training(&spec.model, &spec.task, &spec.hyper)?;
    if !args.json {
        println!("{}", crate::report::meta::cost_line(&spec, &cost));
    }
    let sources = spec.task.sources(spec.seed)?;
    let trainer = Trainer::for_run(&spec, &model, &sources);
    let mut state: TrainState = match &saved {
        Some(saved) => checkpoint::load(folder.dir(), saved, &spec.hyper.initial_params(fresh)?)?,
        None => trainer.start(fresh)?,
    };
    let start_iteration = state.iteration;
    let progress = bar(spec.hyper.iterations, start_iteration);
    let save = checkpoint::saver(folder.dir(), &spec);
    let policy = CheckpointPolicy {
        every: args.checkpoint_every,
        save: &save,
    };
    let started = Instant::now();
    let meta_batch = spec.hyper.meta_batch as f64;
    trainer.run(&spec, &mut state, Some(&policy), &mut |report, record| {
        let done = (report.iteration + 1 - start_iteration) as f64;
        let rate = done * meta_batch / started.elapsed().as_secs_f64().max(1e-9);
        progress.set_position(report.iteration + 1);
        progress.set_message(message(report, rate));
        if let Some(record) = record {
            if progress.is_hidden() {
                eprintln!("{}", record_line(record));
            } else {
                progress.println(record_line(record));
            }
        }
    })?;
    progress.finish();
    let wall = started.elapsed().as_secs_f64();
    let ran = state.iteration - start_iteration;
    let loaded = TrainedRun {
        spec: spec.clone(),
        model,
        params: state.params.clone(),
    };
    let test = if args.test_tasks > 0 {
        let (shots, steps) = loaded.test_defaults();
        loaded.test(&shots, &steps, args.test_tasks)?
    } else {
        Vec::new()
    };
    let report = Report {
        spec: &spec,
        cost,
        iterations: state.iteration,
        wall_seconds: wall,
        iterations_per_second: ran as f64 / wall.max(1e-9),
        history: &state.history,
        test,
    };
    let text = serde_json::to_string_pretty(&report)?;
    huashi_io::write_bytes(folder.dir().join("report.json"), text.as_bytes())?;
    if matches!(spec.task, TaskSpec::Sinusoid { .. }) {
        crate::report::meta::sinusoid(&loaded, &folder.dir().join("sinusoid.png"))?;
    }
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
        return Ok(());
    }
    let wrote = if checkpoint::state_path(folder.dir()).exists() {
        "checkpoint and report"
    } else {
        "report (no iterations, no checkpoint)"
    };
    println!(
        "{} iterations in {wall:.1} s ({:.1} it/s, {:.0} tasks/s); {wrote} in {}",
        ran,
        report.iterations_per_second,
        report.iterations_per_second * meta_batch,
        args.out.display()
    );
    if !report.test.is_empty() {
        println!("test on {} held-out tasks:", args.test_tasks);
        print!("{}", crate::report::meta::test_table(&report.test));
    }
    Ok(())
}
