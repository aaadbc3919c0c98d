//! The cases of `huashi esn bench`: the pipelines repeat
//! [`MackeyGlassTask::run`] and [`NarmaTask::run`] stage by stage so that
//! fitting (drawing the reservoir, harvesting states, solving the readout)
//! and predicting can be timed apart; a test checks that they give the
//! library's numbers. The Mackey-Glass case also times
//! [`Esn::fit_and_run_with`] on the pipelined and the serial accumulation.

use crate::report::table;
use crate::report::timing::{self, Timing};
use huashi_esn::data::MinMaxScaler;
use huashi_esn::metrics;
use huashi_esn::tasks::{LaserTask, MackeyGlassTask, MemoryCapacityTask, NarmaTask};
use huashi_esn::{column, column_values, generators, Accumulation, Esn, InputScaling, Sequence};
use serde::Serialize;
use std::time::{Duration, Instant};

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
    /// The same call on the serial path ([`Accumulation::Serial`]).
    serial: Vec<Duration>,
}

impl Stages {
    /// The one-call fit and predict times.
    fn total(&self) -> Timing {
        timing::summarise(&self.combined)
    }
}

/// Fit + predict of the pipelined and the serial accumulation, timed in
/// the same runs.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct PipelineGain {
    /// [`Accumulation::Auto`]: pipelined when a core is spare.
    pub pipelined: Timing,
    /// [`Accumulation::Serial`].
    pub serial: Timing,
}

/// Times [`Esn::fit_and_run_with`] on one training sequence and a test
/// input, checking that it predicts what the staged pipeline did.
fn fit_and_run(
    esn: &huashi_esn::EsnConfig,
    train: Sequence<'_>,
    test_in: huashi_esn::MatRef<'_, f64>,
    staged: &[f64],
    accumulation: Accumulation,
) -> anyhow::Result<Duration> {
    let t0 = Instant::now();
    let (_, out) = Esn::fit_and_run_with(esn, train, test_in, accumulation)?;
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
    pub pipeline: PipelineGain,
}

/// Fit, one-step test prediction and closed loop of `task`, timed `runs`
/// times after a warm-up.
///
/// # Errors
/// A fit or run fails, or `fit_and_run` predicts other values than fit + run.
pub fn mackey_glass(task: &MackeyGlassTask, runs: usize) -> anyhow::Result<MackeyGlassRun> {
    let (train, steps) = (task.train, task.steps);
    let raw = task.generator.generate(steps)?;
    let scaler = MinMaxScaler::fit(&raw[..=train], -1.0, 1.0)?;
    let s = scaler.transform(&raw);
    let (x, y) = (column(&s[..train]), column(&s[1..=train]));
    let test_in = column(&s[train..steps - 1]);
    let train_seq = Sequence::new(x.as_ref(), y.as_ref());
    let mut stages = Stages::default();
    let mut outputs = (Vec::new(), Vec::new());
    for run in 0..=runs.max(1) {
        let (times, pred, gen) = staged_run(task, train_seq, test_in.as_ref())?;
        let [combined, serial] = both_paths(run, |a| {
            fit_and_run(&task.esn, train_seq, test_in.as_ref(), &pred, a)
        })?;
        if run > 0 {
            let [fit, predict, generate] = times;
            stages.fit.push(fit);
            stages.predict.push(predict);
            stages.generate.push(generate);
            stages.combined.push(combined);
            stages.serial.push(serial);
        }
        outputs = (pred, gen);
    }
    let one_step = scaler.inverse(&outputs.0);
    let closed = scaler.inverse(&outputs.1);
    let truth = &raw[train + 1..];
    let closed_truth = &raw[train + 1..train + 1 + task.generate];
    Ok(MackeyGlassRun {
        one_step: mg_case(task, metrics::nrmse(&one_step, truth)?, &stages),
        closed_loop: closed_case(task, metrics::nrmse(&closed, closed_truth)?, &stages),
        pipeline: PipelineGain {
            pipelined: stages.total(),
            serial: timing::summarise(&stages.serial),
        },
    })
}

/// One run of the staged Mackey-Glass pipeline: the times of fitting, of
/// the one-step test prediction and of the closed loop, and the outputs of
/// the last two.
fn staged_run(
    task: &MackeyGlassTask,
    train: Sequence<'_>,
    test_in: huashi_esn::MatRef<'_, f64>,
) -> anyhow::Result<([Duration; 3], Vec<f64>, Vec<f64>)> {
    let t0 = Instant::now();
    let fit = Esn::fit(&task.esn, &[train])?;
    let t1 = Instant::now();
    let pred = fit.esn.run(&mut fit.end_states[0].clone(), test_in, None)?;
    let t2 = Instant::now();
    let gen = fit
        .esn
        .generate(&mut fit.end_states[0].clone(), task.generate)?;
    let t3 = Instant::now();
    let outputs = (
        column_values(pred.as_ref(), 0),
        column_values(gen.as_ref(), 0),
    );
    Ok(([t1 - t0, t2 - t1, t3 - t2], outputs.0, outputs.1))
}

/// Times `time` on the pipelined path and on the serial one, in an order
/// that alternates with `run`; returns `[pipelined, serial]`.
fn both_paths(
    run: usize,
    mut time: impl FnMut(Accumulation) -> anyhow::Result<Duration>,
) -> anyhow::Result<[Duration; 2]> {
    if run.is_multiple_of(2) {
        let pipelined = time(Accumulation::Auto)?;
        Ok([pipelined, time(Accumulation::Serial)?])
    } else {
        let serial = time(Accumulation::Serial)?;
        Ok([time(Accumulation::Auto)?, serial])
    }
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
///
/// # Errors
/// A fit or run fails, or `fit_and_run` predicts other values than fit + run.
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
        let combined = fit_and_run(
            &task.esn,
            train_seq,
            test_in.as_ref(),
            &pred,
            Accumulation::Auto,
        )?;
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
///
/// # Errors
/// The task fails.
pub fn memory(seed: u64, runs: usize) -> anyhow::Result<CaseResult> {
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

/// The Santa Fe laser one-step task ([`LaserTask::run`]), timed whole.
///
/// # Errors
/// The task fails.
pub fn laser(task: &LaserTask, runs: usize) -> anyhow::Result<CaseResult> {
    let mut value = 0.0;
    let total = timing::measure(runs, Duration::from_secs(5), || {
        value = task.run()?.nrmse;
        Ok(())
    })?;
    let r = &task.esn.layers[0];
    Ok(CaseResult {
        name: "Santa Fe laser one-step".into(),
        metric: "NRMSE",
        value,
        target: None,
        fit: None,
        predict: None,
        total,
        detail: format!(
            "10,093 samples scaled to [−1, 1]; {} units, leak {}, spectral radius {}, ridge {:e}, \
             direct input to the readout; train {} steps (washout {}), test {}",
            r.units,
            r.leak_rate,
            r.spectral_radius,
            task.esn.ridge,
            task.train,
            task.esn.washout,
            10_093 - task.train - 1
        ),
    })
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
}
