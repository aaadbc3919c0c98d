//! `huashi esn bench`: the standard ESN benchmarks of `huashi_esn::tasks`
//! with their scores and timings (median of a few runs after a warm-up).
//!
//! The pipelines repeat [`MackeyGlassTask::run`] and [`NarmaTask::run`]
//! stage by stage so that fitting (drawing the reservoir, harvesting states,
//! solving the readout) and predicting can be timed apart; a test checks
//! that they give the library's numbers.

use crate::table;
use crate::timing::{self, Timing};
use clap::Args;
use huashi_esn::data::MinMaxScaler;
use huashi_esn::metrics;
use huashi_esn::tasks::{MackeyGlassTask, MemoryCapacityTask, NarmaTask};
use huashi_esn::{column, column_values, generators, Esn, InputScaling, Sequence};
use serde::Serialize;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

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

/// One benchmark's score and timings.
#[derive(Debug, Clone, Serialize)]
pub struct CaseResult {
    pub name: String,
    /// "NRMSE" (RMSE / std of the target) or "MC" (memory capacity).
    pub metric: &'static str,
    pub value: f64,
    /// The acceptance target, if any.
    pub target: Option<&'static str>,
    pub fit: Option<Timing>,
    pub predict: Option<Timing>,
    pub total: Timing,
    pub detail: String,
}

/// Durations of the stages of each timed run.
#[derive(Default)]
struct Stages {
    fit: Vec<Duration>,
    predict: Vec<Duration>,
    generate: Vec<Duration>,
    /// Fit and predict in one [`Esn::fit_and_run`] call, which overlaps
    /// the test run with the end of the training accumulation.
    combined: Vec<Duration>,
}

impl Stages {
    /// The one-call fit and predict times.
    fn total(&self) -> Timing {
        timing::summarise(&self.combined)
    }
}

/// Times [`Esn::fit_and_run`] on one training sequence and a test input,
/// checking that it predicts what the staged pipeline did.
fn fit_and_run(
    esn: &huashi_esn::EsnConfig,
    train: Sequence<'_>,
    test_in: huashi_esn::MatRef<'_, f64>,
    staged: &[f64],
) -> anyhow::Result<Duration> {
    let t0 = Instant::now();
    let (_, out) = Esn::fit_and_run(esn, train, test_in)?;
    let elapsed = t0.elapsed();
    anyhow::ensure!(
        column_values(out.as_ref(), 0) == staged,
        "fit_and_run predicted other values than fit + run"
    );
    Ok(elapsed)
}

/// Mackey-Glass one-step and closed-loop results of one task.
pub struct MackeyGlassRun {
    pub one_step: CaseResult,
    pub closed_loop: CaseResult,
}

/// Fit, one-step test prediction and closed loop of `task`, timed `runs`
/// times after a warm-up.
pub fn mackey_glass(task: &MackeyGlassTask, runs: usize) -> anyhow::Result<MackeyGlassRun> {
    let (train, steps) = (task.train, task.steps);
    let raw = task.generator.generate(steps)?;
    let scaler = MinMaxScaler::fit(&raw[..=train], -1.0, 1.0)?;
    let s = scaler.transform(&raw);
    let (x, y) = (column(&s[..train]), column(&s[1..=train]));
    let test_in = column(&s[train..steps - 1]);
    let mut stages = Stages::default();
    let mut outputs = (Vec::new(), Vec::new());
    for run in 0..=runs.max(1) {
        let t0 = Instant::now();
        let fit = Esn::fit(&task.esn, &[Sequence::new(x.as_ref(), y.as_ref())])?;
        let t1 = Instant::now();
        let pred = fit
            .esn
            .run(&mut fit.end_states[0].clone(), test_in.as_ref(), None)?;
        let t2 = Instant::now();
        let gen = fit
            .esn
            .generate(&mut fit.end_states[0].clone(), task.generate)?;
        let t3 = Instant::now();
        let train_seq = Sequence::new(x.as_ref(), y.as_ref());
        let staged = column_values(pred.as_ref(), 0);
        let combined = fit_and_run(&task.esn, train_seq, test_in.as_ref(), &staged)?;
        if run > 0 {
            stages.fit.push(t1 - t0);
            stages.predict.push(t2 - t1);
            stages.generate.push(t3 - t2);
            stages.combined.push(combined);
        }
        outputs = (
            column_values(pred.as_ref(), 0),
            column_values(gen.as_ref(), 0),
        );
    }
    let one_step = scaler.inverse(&outputs.0);
    let closed = scaler.inverse(&outputs.1);
    let truth = &raw[train + 1..];
    let closed_truth = &raw[train + 1..train + 1 + task.generate];
    Ok(MackeyGlassRun {
        one_step: mg_case(task, metrics::nrmse(&one_step, truth)?, &stages),
        closed_loop: closed_case(task, metrics::nrmse(&closed, closed_truth)?, &stages),
    })
}

fn mg_case(task: &MackeyGlassTask, nrmse: f64, stages: &Stages) -> CaseResult {
    let r = &task.esn.layers[0];
    CaseResult {
        name: "Mackey-Glass one-step".into(),
        metric: "NRMSE",
        value: nrmse,
        target: Some("≤ 1e-3"),
        fit: Some(timing::summarise(&stages.fit)),
        predict: Some(timing::summarise(&stages.predict)),
        total: stages.total(),
        detail: format!(
            "τ = {}, {} samples scaled to [−1, 1]; {} units, leak {}, spectral radius {}, ridge {:e}; \
             fit on the first {} steps (washout {}), predict the other {} one step ahead",
            task.generator.tau,
            table::thousands(task.steps as u64),
            r.units,
            r.leak_rate,
            r.spectral_radius,
            task.esn.ridge,
            table::thousands(task.train as u64),
            task.esn.washout,
            table::thousands((task.steps - task.train - 1) as u64)
        ),
    }
}

fn closed_case(task: &MackeyGlassTask, nrmse: f64, stages: &Stages) -> CaseResult {
    CaseResult {
        name: format!("Mackey-Glass closed loop {}", task.generate),
        metric: "NRMSE",
        value: nrmse,
        target: Some("≤ 5e-3"),
        fit: None,
        predict: Some(timing::summarise(&stages.generate)),
        total: timing::summarise(&stages.generate),
        detail: format!(
            "the same ESN runs free for {} steps from the end of training, each output fed back as the next input",
            task.generate
        ),
    }
}

/// NARMA-10: fit and test prediction timed.
pub fn narma(task: &NarmaTask, runs: usize) -> anyhow::Result<CaseResult> {
    let data = generators::narma10(task.steps, task.data_seed)?;
    let (u, y, t, n) = (&data.input, &data.output, task.train, task.steps - 1);
    let (x_tr, y_tr, test_in) = (column(&u[..t]), column(&y[1..=t]), column(&u[t..n]));
    let mut stages = Stages::default();
    let mut pred = Vec::new();
    for run in 0..=runs.max(1) {
        let t0 = Instant::now();
        let fit = Esn::fit(&task.esn, &[Sequence::new(x_tr.as_ref(), y_tr.as_ref())])?;
        let t1 = Instant::now();
        let out = fit
            .esn
            .run(&mut fit.end_states[0].clone(), test_in.as_ref(), None)?;
        let t2 = Instant::now();
        pred = column_values(out.as_ref(), 0);
        let train_seq = Sequence::new(x_tr.as_ref(), y_tr.as_ref());
        let combined = fit_and_run(&task.esn, train_seq, test_in.as_ref(), &pred)?;
        if run > 0 {
            stages.fit.push(t1 - t0);
            stages.predict.push(t2 - t1);
            stages.combined.push(combined);
        }
    }
    Ok(CaseResult {
        name: "NARMA-10".into(),
        metric: "NRMSE",
        value: metrics::nrmse(&pred, &y[t + 1..=n])?,
        target: Some("≤ 0.15"),
        fit: Some(timing::summarise(&stages.fit)),
        predict: Some(timing::summarise(&stages.predict)),
        total: stages.total(),
        detail: format!(
            "u(t) → y(t+1); {} units, spectral radius {}, ridge {:e}, direct input to the readout; \
             train {} steps (washout {}), test {}",
            task.esn.layers[0].units,
            task.esn.layers[0].spectral_radius,
            task.esn.ridge,
            t,
            task.esn.washout,
            n - t
        ),
    })
}

/// The memory capacity of the library's 100-unit reservoir, timed.
fn memory(seed: u64, runs: usize) -> anyhow::Result<CaseResult> {
    let task = MemoryCapacityTask {
        seed,
        ..MemoryCapacityTask::default()
    };
    let mut value = 0.0;
    let total = timing::measure(runs, Duration::from_secs(5), || {
        value = task.run()?.total;
        Ok(())
    })?;
    let (r, o) = (&task.reservoir, &task.options);
    let scaling = match &r.input_scaling {
        InputScaling::All(s) => s.to_string(),
        InputScaling::PerFeature(v) => format!("{v:?}"),
    };
    Ok(CaseResult {
        name: format!("memory capacity, {} units", r.units),
        metric: "MC",
        value,
        target: None,
        fit: None,
        predict: None,
        total,
        detail: format!(
            "Σ_k r²(u(t−k), ŷ_k(t)), k = 1..{}; i.i.d. uniform input, spectral radius {}, \
             input scaling {scaling}, bias scaling {}; {} training and {} test steps",
            o.max_delay, r.spectral_radius, r.bias_scaling, o.train, o.test
        ),
    })
}

/// Writes the raw Mackey-Glass series of `task` as CSV (`t,x`).
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
}

pub fn run(args: &EsnBenchArgs) -> anyhow::Result<()> {
    let task = MackeyGlassTask::with_seed(args.seed);
    if let Some(path) = &args.export_mackey_glass {
        export(path, &task)?;
        eprintln!("wrote the Mackey-Glass series to {}", path.display());
    }
    let bar = timing::progress(3, "esn bench");
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
    bar.finish_and_clear();
    let report = BenchReport {
        threads: rayon::current_num_threads(),
        runs: args.runs.max(1),
        cases: vec![mg.one_step, mg.closed_loop, narma, mc],
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
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn staged_pipelines_match_the_library_tasks() {
        let mut task = MackeyGlassTask::default();
        (task.steps, task.train, task.generate) = (1_500, 1_000, 50);
        task.esn.layers[0].units = 60;
        let mine = mackey_glass(&task, 1).unwrap();
        let lib = task.run().unwrap();
        assert_eq!(mine.one_step.value, lib.one_step_nrmse);
        assert_eq!(mine.closed_loop.value, lib.closed_loop_nrmse);
        let mut narma_task = NarmaTask::default();
        (narma_task.steps, narma_task.train) = (1_500, 1_000);
        narma_task.esn.layers[0].units = 60;
        let mine = narma(&narma_task, 1).unwrap();
        assert_eq!(mine.value, narma_task.run().unwrap().nrmse);
    }

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
