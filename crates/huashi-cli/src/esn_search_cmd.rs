//! `huashi esn search`: the random search of [`crate::esn_search`] on a
//! CSV column (or the embedded S&P 500 closes) with train / validation /
//! test splits, a progress bar, and the best trial scored on the test split.

use crate::esn::{DataArgs, ReservoirArgs};
use crate::esn_data::{self, Prepared};
use crate::esn_fit::{self, Score};
use crate::esn_search::{search, SearchData, SearchSpace, Trial};
use crate::table;
use crate::timing;
use anyhow::{ensure, Context};
use clap::Args;
use huashi_esn::EsnConfig;
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
    #[arg(long, value_name = "MIN,MAX", value_delimiter = ',', default_values_t = [50usize, 400], value_parser = crate::parse::count::<usize>)]
    pub units_range: Vec<usize>,
    /// Range of the spectral radius, log-uniform.
    #[arg(long, value_name = "MIN,MAX", value_delimiter = ',', default_values_t = [0.1, 1.5])]
    pub spectral_radius_range: Vec<f64>,
    /// Range of the leak rate, log-uniform, within (0, 1].
    #[arg(long, value_name = "MIN,MAX", value_delimiter = ',', default_values_t = [0.05, 1.0])]
    pub leak_range: Vec<f64>,
    /// Range of the input scaling, log-uniform.
    #[arg(long, value_name = "MIN,MAX", value_delimiter = ',', default_values_t = [0.05, 5.0])]
    pub input_scaling_range: Vec<f64>,
    /// Range of the ridge parameter, log-uniform.
    #[arg(long, value_name = "MIN,MAX", value_delimiter = ',', default_values_t = [1e-9, 1e-1])]
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
    /// Print JSON instead of tables.
    #[arg(long)]
    pub json: bool,
}

/// The reservoir options that stay fixed during the search.
#[derive(Debug, Args)]
pub struct FixedArgs {
    /// Fraction of non-zero recurrent weights, in (0, 1].
    #[arg(long, value_name = "C", default_value_t = 0.1)]
    pub connectivity: f64,
    /// Fraction of units that receive the input, in (0, 1].
    #[arg(long, value_name = "C", default_value_t = 1.0)]
    pub input_connectivity: f64,
    /// Scale of the (Bernoulli ±1) unit biases.
    #[arg(long, value_name = "B", default_value_t = 0.2)]
    pub bias_scaling: f64,
    /// Seed of the reservoir's random weights (the same for every trial).
    #[arg(long, default_value_t = 0, value_parser = crate::parse::count::<u64>)]
    pub seed: u64,
    /// Initial training steps left out of the regression.
    #[arg(long, value_name = "STEPS", default_value_t = 100, value_parser = crate::parse::count::<usize>)]
    pub washout: usize,
}

impl FixedArgs {
    /// The base ESN the trials modify.
    pub fn config(&self) -> EsnConfig {
        ReservoirArgs {
            connectivity: self.connectivity,
            input_connectivity: self.input_connectivity,
            bias_scaling: self.bias_scaling,
            seed: self.seed,
            washout: self.washout,
            ..ReservoirArgs::default()
        }
        .config()
    }
}

fn pair<T: Copy>(name: &str, v: &[T]) -> anyhow::Result<[T; 2]> {
    match v {
        [a, b] => Ok([*a, *b]),
        _ => anyhow::bail!("--{name} takes two values MIN,MAX"),
    }
}

impl SearchArgs {
    pub fn space(&self) -> anyhow::Result<SearchSpace> {
        Ok(SearchSpace {
            units: pair("units-range", &self.units_range)?,
            spectral_radius: pair("spectral-radius-range", &self.spectral_radius_range)?,
            leak: pair("leak-range", &self.leak_range)?,
            input_scaling: pair("input-scaling-range", &self.input_scaling_range)?,
            ridge: pair("ridge-range", &self.ridge_range)?,
        })
    }
}

#[derive(Serialize)]
struct SearchReport<'a> {
    series: &'a esn_data::Series,
    target: esn_data::Target,
    horizon: usize,
    split: [usize; 3],
    space: SearchSpace,
    best: Option<&'a Trial>,
    /// The best parameters refitted on train + validation, scored on test.
    test: Vec<Score>,
    trials: &'a [Trial],
    seconds: f64,
}

/// Splits: the standardisers are fitted on the training part only.
fn prepare(args: &SearchArgs) -> anyhow::Result<(Prepared, usize)> {
    let d = &args.data;
    let (t, v) = (args.train_fraction, args.validation_fraction);
    ensure!(
        t > 0.0 && v > 0.0 && t + v < 1.0,
        "--train-fraction {t} and --validation-fraction {v} must be > 0 and leave a test split"
    );
    let series = esn_data::load(d.data.as_deref(), d.column.as_deref())?;
    let prep = Prepared::new(series, d.target, d.horizon, t)?;
    let validation = ((prep.len() as f64) * v).round() as usize;
    ensure!(
        validation >= 2 && prep.train + validation + 2 <= prep.len(),
        "{} pairs are too few for these splits",
        prep.len()
    );
    Ok((prep, validation))
}

/// The best parameters refitted on train + validation, scored on the test
/// split beside the baselines.
fn test_best(
    args: &SearchArgs,
    prep: &Prepared,
    val: usize,
    best: &Trial,
) -> anyhow::Result<Vec<Score>> {
    let config = best.params.apply(&args.fixed.config());
    let mut refit = prep.clone();
    refit.train = prep.train + val;
    Ok(esn_fit::evaluate(&config, &refit)?.scores)
}

/// Runs the trials with a progress bar; returns them and the seconds taken.
fn run_trials(args: &SearchArgs, data: &SearchData<'_>) -> anyhow::Result<(Vec<Trial>, f64)> {
    let bar = timing::progress(args.trials as u64, "search");
    let start = Instant::now();
    let done = |t: &Trial| {
        let msg = t
            .nrmse
            .map_or("failed".into(), |v| format!("last NRMSE {v:.4}"));
        bar.set_message(msg);
        bar.inc(1);
    };
    let base = args.fixed.config();
    let space = args.space()?;
    let trials = search(&base, &space, data, args.trials, args.search_seed, &done)?;
    bar.finish_and_clear();
    Ok((trials, start.elapsed().as_secs_f64()))
}

pub fn run(args: &SearchArgs) -> anyhow::Result<()> {
    let (prep, validation) = prepare(args)?;
    let data = SearchData {
        inputs: &prep.z_in,
        targets: &prep.z_out,
        train: prep.train,
        validation,
    };
    let (trials, seconds) = run_trials(args, &data)?;
    let best = trials.first().filter(|t| t.nrmse.is_some());
    let test = match best {
        Some(b) => test_best(args, &prep, validation, b).context("scoring the best trial")?,
        None => Vec::new(),
    };
    let report = SearchReport {
        series: &prep.series,
        target: args.data.target,
        horizon: args.data.horizon,
        split: [prep.train, validation, prep.len() - prep.train - validation],
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
    println!("{}", esn_fit::data_line(r.series));
    let [t, v, s] = r.split;
    println!(
        "target: {}; {t} training, {v} validation, {s} test pairs",
        esn_fit::target_text(r.target, r.horizon)
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
        println!("\nbest: {}", best.params.options());
        println!("\nBest parameters refitted on train + validation, scored on the test split:");
        print!(
            "{}",
            table::text(&esn_fit::SCORE_HEADERS, &esn_fit::score_rows(&r.test))
        );
        println!("\nNote: {}.", esn_fit::NOTE);
    }
    for t in r.trials.iter().filter(|t| t.error.is_some()).take(3) {
        println!(
            "trial {} failed: {}",
            t.index,
            t.error.as_deref().unwrap_or("")
        );
    }
}
