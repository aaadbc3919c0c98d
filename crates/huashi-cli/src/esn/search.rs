//! `huashi esn search`: the hyper-parameter search of [`huashi_esn::search`]
//! (random search or successive halving, each trial under several reservoir
//! seeds) on a CSV column, a benchmark series or the embedded S&P 500
//! closes, with train / validation / test splits ([`Splits`]), a progress
//! bar, a trial log that `--resume` continues, and the best trial scored on
//! the test split. The report, the CSV and the PNG are in
//! [`search_report`](super::search_report).

use super::options::{DataArgs, FixedArgs};
use super::search_report::{self as report, SearchReport};
use crate::report::timing;
use anyhow::{bail, ensure, Context};
use clap::{Args, ValueEnum};
use huashi_esn::forecast::{ForecastConfig, Prepared};
use huashi_esn::metrics::Normalisation;
use huashi_esn::search::log::LOG_VERSION;
use huashi_esn::search::{
    check, search, LogHeader, Outcome, SearchOptions, SearchSpace, Splits, Strategy, Trial,
    TrialLog,
};
use std::path::PathBuf;
use std::time::Instant;

/// How the trials are run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum StrategyArg {
    /// Every trial on the whole training split.
    Random,
    /// Successive halving: all trials on a short end of the training split,
    /// the best 1/eta go on with eta times more, up to the whole split.
    Halving,
}

#[derive(Debug, Args)]
pub struct SearchArgs {
    #[command(flatten)]
    pub data: DataArgs,
    /// Number of trials drawn.
    #[arg(long, value_name = "N", default_value_t = 40, value_parser = crate::parse::at_least_one)]
    pub trials: usize,
    /// `random` search, or successive `halving` (see --eta).
    #[arg(long, value_enum, default_value_t = StrategyArg::Random)]
    pub strategy: StrategyArg,
    /// Successive halving's factor: each rung keeps the best 1/eta of its
    /// trials and trains them on eta times more steps.
    #[arg(long, value_name = "ETA", default_value_t = 3, value_parser = crate::parse::count::<usize>)]
    pub eta: usize,
    /// Reservoir seeds per trial (--seed, --seed + 1, …): a trial's score is
    /// the mean validation NRMSE over them, with its 95 % interval.
    #[arg(long, value_name = "K", default_value_t = 3, value_parser = crate::parse::at_least_one)]
    pub seeds: usize,
    /// Folder of the outputs: `trials.jsonl` (the log, one line per
    /// evaluation as it finishes), `trials.csv` and `search.png` (validation
    /// NRMSE against each hyper-parameter); created if missing.
    #[arg(long, value_name = "DIR", default_value = "esn-search")]
    pub out: PathBuf,
    /// Continue the log in --out: evaluations it holds are not rerun. The
    /// search must be the same (data, ranges, seeds, strategy); a random
    /// search may ask for more --trials.
    #[arg(long)]
    pub resume: bool,
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
    /// Seed of the first reservoir (the trials' reservoirs use --seeds seeds
    /// from it; the test split is scored with this one).
    #[arg(long, default_value_t = ForecastConfig::default().seed, value_parser = crate::parse::count::<u64>)]
    pub seed: u64,
    /// Initial training steps left out of the regression.
    #[arg(long, value_name = "STEPS", default_value_t = ForecastConfig::default().washout, value_parser = crate::parse::count::<usize>)]
    pub washout: usize,
    /// What the validation NRMSE is normalised by: std (the default),
    /// range (max − min, ReservoirPy's default), var, mean, or q1q3.
    #[arg(long, value_name = "NORM", default_value_t = Normalisation::Std, value_parser = super::options::parse_norm)]
    pub nrmse: Normalisation,
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

    fn options(&self) -> SearchOptions {
        SearchOptions {
            trials: self.trials,
            search_seed: self.search_seed,
            seeds: (0..self.seeds as u64)
                .map(|i| self.seed.wrapping_add(i))
                .collect(),
            strategy: match self.strategy {
                StrategyArg::Random => Strategy::Random,
                StrategyArg::Halving => Strategy::Halving { eta: self.eta },
            },
            nrmse: self.nrmse,
        }
    }
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

/// The log in --out: a new one, or with --resume the one there and the
/// evaluations it holds.
fn open_log(args: &SearchArgs, header: &LogHeader) -> anyhow::Result<(TrialLog, Vec<Trial>)> {
    check(&header.base, &header.space, &header.options)
        .with_context(|| format!("checking the search of --trials {}", args.trials))?;
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("creating {}", args.out.display()))?;
    let path = args.out.join(report::LOG_FILE);
    if args.resume {
        return TrialLog::resume(&path, header).context("resuming the search (--resume)");
    }
    match TrialLog::create(&path, header) {
        Err(huashi_esn::Error::File(huashi_io::Error::Exists { path })) => bail!(
            "{} holds a search already: pass --resume to continue it, or choose another --out",
            path.display()
        ),
        log => Ok((log?, Vec::new())),
    }
}

/// Runs the search with a progress bar; returns it and the seconds taken.
fn run_search(
    args: &SearchArgs,
    header: &LogHeader,
    splits: &Splits,
) -> anyhow::Result<(Outcome, f64)> {
    let (log, known) = open_log(args, header)?;
    let planned = header
        .options
        .evaluations(splits.data().train, header.base.washout);
    let bar = timing::progress(planned.saturating_sub(known.len()) as u64, "search");
    let start = Instant::now();
    let done = |t: &Trial| {
        let msg = t.nrmse.map_or("failed".into(), |v| {
            format!("rung {} last NRMSE {:.4}", t.rung, v.mean)
        });
        bar.set_message(msg);
        bar.inc(1);
        log.append(t)
    };
    let outcome = search(
        &header.base,
        &header.space,
        &splits.data(),
        &header.options,
        &known,
        &done,
    )
    .with_context(|| format!("searching with --trials {}", args.trials))?;
    bar.finish_and_clear();
    Ok((outcome, start.elapsed().as_secs_f64()))
}

/// Runs the search, scores the best trial on the test split, writes the
/// CSV and the PNG and prints the report.
///
/// # Errors
/// Bad data or options, a log of another search, a failed write, or every
/// trial failing.
pub fn run(args: &SearchArgs) -> anyhow::Result<()> {
    let splits = prepare(args)?;
    let header = LogHeader {
        version: LOG_VERSION,
        base: args.base(),
        space: args.space()?,
        options: args.options(),
        data: splits.data().fingerprint(),
    };
    let (outcome, seconds) = run_search(args, &header, &splits)?;
    let best = outcome.ranked.first().filter(|t| t.nrmse.is_some());
    let test = match best {
        Some(b) => splits
            .test(&header.base, &b.params)
            .context("scoring the best trial")?,
        None => Vec::new(),
    };
    let files = report::write_files(&args.out, &outcome)?;
    let report = SearchReport {
        series: &splits.prepared.series,
        target: args.data.target.into(),
        horizon: args.data.horizon,
        split: splits.lengths(),
        header: &header,
        outcome: &outcome,
        best,
        test,
        seconds,
        files,
    };
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        report::print(&report, args.top);
    }
    ensure!(best.is_some(), "every trial failed; see the errors above");
    Ok(())
}
