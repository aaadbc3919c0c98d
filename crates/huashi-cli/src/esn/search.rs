//! `huashi esn search`: the random search of [`huashi_esn::search`] on a
//! CSV column (or the embedded S&P 500 closes) with train / validation /
//! test splits ([`Splits`]), a progress bar, and the best trial scored on
//! the test split.

use super::options::{DataArgs, FixedArgs};
use super::print;
use crate::report::table;
use crate::report::timing;
use anyhow::{ensure, Context};
use clap::Args;
use huashi_esn::forecast::{self, ForecastConfig, Prepared, Score, Target, SCORE_NOTE};
use huashi_esn::search::{search, Params, SearchSpace, Splits, Trial};
use serde::Serialize;
use std::time::Instant;

#[derive(Debug, Args)]
pub struct SearchArgs {
    #[command(flatten)]
    pub data: DataArgs,
    /// Number of random trials.
    #[arg(long, value_name = "N", default_value_t = 40, value_parser = crate::parse::at_least_one)]
    pub trials: usize,
    /// Seed of the trial sampling (the reservoir seed is --seed).
    #[arg(long, value_name = "SEED", default_value_t = 0, value_parser = crate::parse::count::<u64>)]
    pub search_seed: u64,
    /// Range of reservoir units, log-uniform.
    #[arg(long, value_name = "MIN,MAX", value_delimiter = ',', default_values_t = SearchSpace::default().units, value_parser = crate::parse::count::<usize>)]
    pub units_range: Vec<usize>,
    /// Range of the spectral radius, log-uniform.
    #[arg(long, value_name = "MIN,MAX", value_delimiter = ',', default_values_t = SearchSpace::default().spectral_radius)]
    pub spectral_radius_range: Vec<f64>,
    /// Range of the leak rate, log-uniform, within (0, 1].
    #[arg(long, value_name = "MIN,MAX", value_delimiter = ',', default_values_t = SearchSpace::default().leak)]
    pub leak_range: Vec<f64>,
    /// Range of the input scaling, log-uniform.
    #[arg(long, value_name = "MIN,MAX", value_delimiter = ',', default_values_t = SearchSpace::default().input_scaling)]
    pub input_scaling_range: Vec<f64>,
    /// Range of the ridge parameter, log-uniform.
    #[arg(long, value_name = "MIN,MAX", value_delimiter = ',', default_values_t = SearchSpace::default().ridge)]
    pub ridge_range: Vec<f64>,
    /// Fraction of the pairs used for training.
    #[arg(long, value_name = "F", default_value_t = 0.7)]
    pub train_fraction: f64,
    /// Fraction used for validation (scores the trials); the rest is the
    /// test split, used once to score the best parameters.
    #[arg(long, value_name = "F", default_value_t = 0.15)]
    pub validation_fraction: f64,
    /// Trials listed (best first).
    #[arg(long, value_name = "N", default_value_t = 10, value_parser = crate::parse::at_least_one)]
    pub top: usize,
    #[command(flatten)]
    pub fixed: FixedArgs,
    /// Seed of the reservoir's random weights (the same for every trial).
    #[arg(long, default_value_t = ForecastConfig::default().seed, value_parser = crate::parse::count::<u64>)]
    pub seed: u64,
    /// Initial training steps left out of the regression.
    #[arg(long, value_name = "STEPS", default_value_t = ForecastConfig::default().washout, value_parser = crate::parse::count::<usize>)]
    pub washout: usize,
    /// Print JSON instead of tables.
    #[arg(long)]
    pub json: bool,
}

fn pair<T: Copy>(name: &str, v: &[T]) -> anyhow::Result<[T; 2]> {
    match v {
        [a, b] => Ok([*a, *b]),
        _ => anyhow::bail!("--{name} takes two values MIN,MAX"),
    }
}

impl SearchArgs {
    fn space(&self) -> anyhow::Result<SearchSpace> {
        Ok(SearchSpace {
            units: pair("units-range", &self.units_range)?,
            spectral_radius: pair("spectral-radius-range", &self.spectral_radius_range)?,
            leak: pair("leak-range", &self.leak_range)?,
            input_scaling: pair("input-scaling-range", &self.input_scaling_range)?,
            ridge: pair("ridge-range", &self.ridge_range)?,
        })
    }

    /// The base ESN the trials modify.
    fn base(&self) -> huashi_esn::EsnConfig {
        self.fixed.config(self.seed, self.washout).esn()
    }
}

#[derive(Serialize)]
struct SearchReport<'a> {
    series: &'a forecast::Series,
    target: Target,
    horizon: usize,
    split: [usize; 3],
    space: SearchSpace,
    best: Option<&'a Trial>,
    /// The best parameters refitted on train + validation, scored on test.
    test: Vec<Score>,
    trials: &'a [Trial],
    seconds: f64,
}

/// The splits: the standardisers are fitted on the training part only.
fn prepare(args: &SearchArgs) -> anyhow::Result<Splits> {
    let d = &args.data;
    let (t, v) = (args.train_fraction, args.validation_fraction);
    ensure!(
        t > 0.0 && v > 0.0 && t + v < 1.0,
        "--train-fraction {t} and --validation-fraction {v} must be > 0 and leave a test split"
    );
    let prep = Prepared::new(d.load()?, d.target.into(), d.horizon, t)?;
    Ok(Splits::new(prep, v)?)
}

/// Runs the trials with a progress bar; returns them and the seconds taken.
fn run_trials(args: &SearchArgs, splits: &Splits) -> anyhow::Result<(Vec<Trial>, f64)> {
    let bar = timing::progress(args.trials as u64, "search");
    let start = Instant::now();
    let done = |t: &Trial| {
        let msg = t
            .nrmse
            .map_or("failed".into(), |v| format!("last NRMSE {v:.4}"));
        bar.set_message(msg);
        bar.inc(1);
    };
    let (space, data) = (args.space()?, splits.data());
    let trials = search(
        &args.base(),
        &space,
        &data,
        args.trials,
        args.search_seed,
        &done,
    )
    .with_context(|| format!("searching with --trials {}", args.trials))?;
    bar.finish_and_clear();
    Ok((trials, start.elapsed().as_secs_f64()))
}

/// Runs the search, scores the best trial on the test split and prints the
/// report.
///
/// # Errors
/// Bad data or options, or every trial failing.
pub fn run(args: &SearchArgs) -> anyhow::Result<()> {
    let splits = prepare(args)?;
    let (trials, seconds) = run_trials(args, &splits)?;
    let best = trials.first().filter(|t| t.nrmse.is_some());
    let test = match best {
        Some(b) => splits
            .test(&args.base(), &b.params)
            .context("scoring the best trial")?,
        None => Vec::new(),
    };
    let report = SearchReport {
        series: &splits.prepared.series,
        target: args.data.target.into(),
        horizon: args.data.horizon,
        split: splits.lengths(),
        space: args.space()?,
        best,
        test,
        trials: &trials,
        seconds,
    };
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print_report(&report, args.top);
    }
    ensure!(best.is_some(), "every trial failed; see the errors above");
    Ok(())
}

/// The command-line options of `p`.
fn options(p: &Params) -> String {
    format!(
        "--units {} --spectral-radius {:.4} --leak {:.4} --input-scaling {:.4} --ridge {:.2e}",
        p.units, p.spectral_radius, p.leak, p.input_scaling, p.ridge
    )
}

const TRIAL_HEADERS: [&str; 8] = [
    "rank",
    "trial",
    "units",
    "spectral radius",
    "leak",
    "input scaling",
    "ridge",
    "val NRMSE",
];

fn trial_rows(trials: &[Trial]) -> Vec<Vec<String>> {
    trials
        .iter()
        .enumerate()
        .map(|(rank, t)| {
            let p = &t.params;
            vec![
                (rank + 1).to_string(),
                t.index.to_string(),
                p.units.to_string(),
                format!("{:.3}", p.spectral_radius),
                format!("{:.3}", p.leak),
                format!("{:.3}", p.input_scaling),
                format!("{:.1e}", p.ridge),
                t.nrmse
                    .map_or_else(|| "failed".into(), |v| format!("{v:.4}")),
            ]
        })
        .collect()
}

fn print_report(r: &SearchReport<'_>, top: usize) {
    println!("{}", print::data_line(r.series));
    let [t, v, s] = r.split;
    println!(
        "target: {}; {t} training, {v} validation, {s} test pairs",
        r.target.describe(r.horizon)
    );
    let failed = r.trials.iter().filter(|t| t.nrmse.is_none()).count();
    println!(
        "{} trials in {:.1} s ({} threads, {failed} failed)\n",
        r.trials.len(),
        r.seconds,
        rayon::current_num_threads()
    );
    let shown = &r.trials[..top.min(r.trials.len())];
    print!("{}", table::text(&TRIAL_HEADERS, &trial_rows(shown)));
    println!(
        "\nval NRMSE: of the predicted change over the horizon (of x for `next`, of ln x for \
         `return`) on the validation split; 1 is no better than predicting its mean."
    );
    if let Some(best) = r.best {
        println!("\nbest: {}", options(&best.params));
        println!("\nBest parameters refitted on train + validation, scored on the test split:");
        print!("{}", print::score_table(&r.test));
        println!("\nNote: {SCORE_NOTE}.");
    }
    for t in r.trials.iter().filter(|t| t.error.is_some()).take(3) {
        println!(
            "trial {} failed: {}",
            t.index,
            t.error.as_deref().unwrap_or("")
        );
    }
}
