//! The tour's section on echo state networks: Mackey-Glass in closed loop,
//! and the embedded S&P 500 series forecast beside the naive baselines.

use crate::report::plot::{self, Series};
use crate::report::table;
use huashi_esn::forecast::{
    self, Evaluation, ForecastConfig, Prepared, Score, Target, SCORE_HEADERS, SCORE_NOTE,
};
use huashi_esn::metrics;
use huashi_esn::tasks::MackeyGlassTask;
use std::path::Path;
use std::time::Instant;

/// Steps of free run drawn (the benchmark scores the first 100).
const FREE_RUN: usize = 300;
/// Test days drawn in the stock plot.
const STOCK_DAYS: usize = 150;

fn points(from: usize, v: &[f64]) -> Vec<(f64, f64)> {
    (from..).map(|i| i as f64).zip(v.iter().copied()).collect()
}

fn curve(name: &str, from: usize, v: &[f64]) -> Series {
    Series {
        name: name.into(),
        points: points(from, v),
    }
}

/// Mackey-Glass: the acceptance setting, free-running for 300 steps.
fn mackey_glass(dir: &Path) -> anyhow::Result<String> {
    let task = MackeyGlassTask {
        generate: FREE_RUN,
        ..MackeyGlassTask::default()
    };
    let start = Instant::now();
    let r = task.run()?;
    let seconds = start.elapsed().as_secs_f64();
    let first = metrics::nrmse(&r.closed_loop[..100], &r.closed_loop_truth[..100])?;
    plot::series_chart(
        &dir.join("esn_mackey_glass.png"),
        "Mackey-Glass τ = 17: ESN running free after training",
        ("steps after the end of training", "x(t)"),
        &[
            curve("truth", 1, &r.closed_loop_truth),
            curve("ESN closed loop", 1, &r.closed_loop),
        ],
    )?;
    let l = &task.esn.layers[0];
    let mut md = String::from("### Mackey-Glass: one step ahead and running free\n\n");
    md += &format!(
        "The Mackey-Glass series (τ = 17, {} samples, RK4 with step 1 as in ReservoirPy) \
         scaled to [−1, 1]. An ESN with {} units, leak {}, spectral radius {} and ridge {:e} is \
         trained on the first {} steps (washout {}) in {seconds:.2} s including the test \
         below. One step ahead on the remaining {} steps its NRMSE is **{:.2e}**. Then it \
         runs free, each output fed back as the next input: NRMSE **{first:.2e}** over the \
         first 100 steps, {:.2e} over all {FREE_RUN}.\n\n",
        table::thousands(task.steps as u64),
        l.units,
        l.leak_rate,
        l.spectral_radius,
        task.esn.ridge,
        table::thousands(task.train as u64),
        task.esn.washout,
        table::thousands(r.one_step.len() as u64),
        r.one_step_nrmse,
        r.closed_loop_nrmse,
    );
    Ok(md + "![Mackey-Glass free run](esn_mackey_glass.png)\n\n")
}

/// The embedded S&P 500 closes with one target, default CLI options.
fn stock(target: Target) -> anyhow::Result<(Prepared, Evaluation)> {
    let series = forecast::Series::embedded(&[], None)?;
    let prep = Prepared::new(series, target, 1, forecast::TRAIN_FRACTION)?;
    let eval = forecast::evaluate(&ForecastConfig::default().esn(), &prep)?;
    Ok((prep, eval))
}

fn stock_plot(path: &Path, prep: &Prepared, eval: &Evaluation) -> anyhow::Result<()> {
    let n = eval.truth.len();
    let skip = n.saturating_sub(STOCK_DAYS);
    let row0 = prep.pairs.first + prep.train + 1 + skip;
    let persistence = &prep.pairs.persistence[prep.train + skip..];
    plot::series_chart(
        path,
        &format!("S&P 500 close, last {} test days: one day ahead", n - skip),
        ("trading day (row)", "close"),
        &[
            curve("truth", row0, &eval.truth[skip..]),
            curve("ESN", row0, &eval.prediction[skip..]),
            curve("persistence", row0, persistence),
        ],
    )
}

/// The S&P 500 section: both targets, a table and a plot.
fn stock_section(dir: &Path) -> anyhow::Result<String> {
    let start = Instant::now();
    let (next, next_eval) = stock(Target::Next)?;
    let (_, ret_eval) = stock(Target::Return)?;
    let seconds = start.elapsed().as_secs_f64();
    stock_plot(&dir.join("esn_stock.png"), &next, &next_eval)?;
    let mut rows = Vec::new();
    for (label, eval) in [("close", &next_eval), ("log-return", &ret_eval)] {
        for mut row in eval.scores.iter().map(Score::cells) {
            row.insert(0, label.to_string());
            rows.push(row);
        }
    }
    let r = ForecastConfig::default();
    let mut md = String::from("### S&P 500: one day ahead vs the naive baselines\n\n");
    md += &format!(
        "The embedded S&P 500 daily closes ({} trading days, 1999–2018; see \
         `crates/huashi-esn/data/README.md`). The first 80% of the days train, the last 20% \
         ({} days) test, as `huashi esn fit` does with its defaults: {} units, leak {}, \
         spectral radius {}, input scaling {}, ridge {:e}, readout with direct input. \
         Two targets: tomorrow's close (persistence = today's close) and tomorrow's \
         log-return (baselines: zero, and today's return). Both fits and tests took \
         {seconds:.2} s.\n\n",
        table::thousands(next.series.values.len() as u64),
        next_eval.truth.len(),
        r.units,
        r.leak,
        r.spectral_radius,
        r.input_scaling,
        r.ridge
    );
    let mut headers = vec!["target"];
    headers.extend(SCORE_HEADERS);
    md += &table::markdown(&headers, &rows);
    md += &format!("\n{SCORE_NOTE}. ");
    md += "Daily prices are close to a random walk, so persistence is a strong baseline ";
    md += "for the close and the return is close to unpredictable (R² near 0): read the table as ";
    md += "what the ESN adds, if anything, over the naive forecasts.\n\n";
    Ok(md + "![S&P 500 forecast](esn_stock.png)\n\n")
}

/// The whole ESN section.
///
/// # Errors
/// A task, a fit or a plot fails.
pub fn esn_section(dir: &Path) -> anyhow::Result<String> {
    let mut md = String::from("## Echo state networks\n\n");
    md += &mackey_glass(dir)?;
    md += &stock_section(dir)?;
    md += "Run `huashi esn bench` for NARMA-10, the memory capacity and timings, and ";
    md += "`huashi esn fit` / `search` / `forecast` on your own CSV files.\n\n";
    Ok(md)
}

/// The plots this section writes.
pub const PLOTS: [&str; 2] = ["esn_mackey_glass", "esn_stock"];
