//! `huashi esn classify`: sequence classification with a reservoir
//! ([`huashi_esn::classify`]): accuracy over one or more reservoir seeds
//! (mean ± 95 % CI), per-class precision and recall, a confusion-matrix PNG.

use super::options::FixedArgs;
use crate::report::{plot, table};
use anyhow::{bail, Context};
use clap::{Args, ValueEnum};
use huashi_esn::classify::{
    japanese_vowels, over_seeds, ClassifyConfig, Dataset, Evaluation, Pooling, SeedSummary,
};
use huashi_esn::forecast::ForecastConfig;
use serde::Serialize;
use std::path::{Path, PathBuf};

/// The library's defaults, shown by `--help`.
fn defaults() -> ForecastConfig {
    ClassifyConfig::default().reservoir
}

/// How the states of a sequence reach the readout.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReadoutArg {
    /// The last state.
    Last,
    /// The mean state.
    Mean,
    /// The states at 1/3, 2/3 and the end, concatenated.
    Concat,
    /// A readout at every step; the steps vote.
    Vote,
}

impl From<ReadoutArg> for Pooling {
    fn from(r: ReadoutArg) -> Self {
        match r {
            ReadoutArg::Last => Pooling::Last,
            ReadoutArg::Mean => Pooling::Mean,
            ReadoutArg::Concat => Pooling::Concat,
            ReadoutArg::Vote => Pooling::Vote,
        }
    }
}

#[derive(Debug, Args)]
pub struct ClassifyArgs {
    /// Training sequences: sktime `.ts` (by extension) or CSV
    /// `sequence_id,label,feature…` [default: the embedded UCI Japanese
    /// Vowels training set, 270 utterances].
    #[arg(long, value_name = "FILE")]
    pub data: Option<PathBuf>,
    /// Test sequences, in the same layout (required with --data).
    #[arg(long, value_name = "FILE")]
    pub test: Option<PathBuf>,
    /// How the states reach the readout: `last` state, `mean` state,
    /// `concat` (states at 1/3, 2/3 and the end), or `vote` (a readout at
    /// every step, majority vote).
    #[arg(long, value_enum, default_value_t = ReadoutArg::Last)]
    pub readout: ReadoutArg,
    /// Reservoir units N.
    #[arg(long, value_name = "N", default_value_t = defaults().units, value_parser = crate::parse::count::<usize>)]
    pub units: usize,
    /// Spectral radius the recurrent matrix is rescaled to.
    #[arg(long, value_name = "RHO", default_value_t = defaults().spectral_radius)]
    pub spectral_radius: f64,
    /// Leak rate a in (0, 1] (1 = no leak).
    #[arg(long, value_name = "A", default_value_t = defaults().leak)]
    pub leak: f64,
    /// Scaling of the input weights (each channel is standardised first).
    #[arg(long, value_name = "S", default_value_t = defaults().input_scaling)]
    pub input_scaling: f64,
    /// Ridge (Tikhonov) parameter of the one-hot readout.
    #[arg(long, value_name = "LAMBDA", default_value_t = defaults().ridge)]
    pub ridge: f64,
    #[command(flatten)]
    pub fixed: FixedArgs,
    /// Seed of the reservoir's random weights (the first of --seeds).
    #[arg(long, default_value_t = defaults().seed, value_parser = crate::parse::count::<u64>)]
    pub seed: u64,
    /// Run this many reservoir seeds (--seed, --seed + 1, …) and report the
    /// mean test accuracy ± its 95 % confidence interval.
    #[arg(long, value_name = "N", default_value_t = 1, value_parser = crate::parse::at_least_one)]
    pub seeds: usize,
    /// Initial steps of each sequence left out of the readout.
    #[arg(long, value_name = "STEPS", default_value_t = defaults().washout, value_parser = crate::parse::count::<usize>)]
    pub washout: usize,
    /// Write the confusion matrix of the first seed as a PNG to FILE.
    #[arg(long, value_name = "FILE.png")]
    pub plot: Option<PathBuf>,
    /// Print JSON instead of tables.
    #[arg(long)]
    pub json: bool,
}

impl ClassifyArgs {
    fn config(&self) -> ClassifyConfig {
        let reservoir = ForecastConfig {
            units: self.units,
            spectral_radius: self.spectral_radius,
            leak: self.leak,
            input_scaling: self.input_scaling,
            ridge: self.ridge,
            ..self.fixed.config(self.seed, self.washout)
        };
        ClassifyConfig {
            reservoir,
            pooling: self.readout.into(),
        }
    }

    fn load(&self) -> anyhow::Result<(Dataset, Dataset)> {
        let read =
            |p: &Path| Dataset::from_path(p).with_context(|| format!("reading {}", p.display()));
        match (&self.data, &self.test) {
            (Some(train), Some(test)) => Ok((read(train)?, read(test)?)),
            (None, None) => Ok(japanese_vowels()?),
            _ => bail!("--data and --test go together"),
        }
    }
}

#[derive(Debug, Serialize)]
struct ClassifyReport<'a> {
    train: &'a str,
    test: &'a str,
    config: ClassifyConfig,
    summary: &'a SeedSummary,
}

/// Loads the data, fits and tests over the seeds, plots and prints.
///
/// # Errors
/// Unreadable or malformed data, invalid hyper-parameters, or a plot that
/// cannot be written.
pub fn run(args: &ClassifyArgs) -> anyhow::Result<()> {
    if let Some(png) = &args.plot {
        let inputs: Vec<&Path> = args
            .data
            .iter()
            .chain(&args.test)
            .map(PathBuf::as_path)
            .collect();
        huashi_io::ensure_not_input(png, &inputs)?;
    }
    let (train, test) = args.load()?;
    let config = args.config();
    let summary = over_seeds(&config, &train, &test, args.seeds)?;
    let first = &summary.runs[0];
    if let Some(png) = &args.plot {
        plot_confusion(png, first)?;
    }
    let report = ClassifyReport {
        train: &train.name,
        test: &test.name,
        config,
        summary: &summary,
    };
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print_report(&report, &train, &test, args.plot.as_deref());
    }
    Ok(())
}

/// The confusion matrix as a heatmap: rows are the true classes, columns
/// the predicted ones (in the order of `classes`).
fn plot_confusion(path: &Path, e: &Evaluation) -> anyhow::Result<()> {
    let values: Vec<Vec<f64>> = e
        .confusion
        .iter()
        .map(|r| r.iter().map(|&v| v as f64).collect())
        .collect();
    let title = format!(
        "confusion (row: true, column: predicted class {}–{}), accuracy {:.2} %",
        e.classes[0],
        e.classes[e.classes.len() - 1],
        100.0 * e.accuracy
    );
    plot::heatmap(path, &title, &values)
}

fn print_report(r: &ClassifyReport<'_>, train: &Dataset, test: &Dataset, plot: Option<&Path>) {
    let s = r.summary;
    let (name, channels) = (r.train, train.channels());
    println!(
        "train: {name} ({} sequences, {channels} channels)",
        train.len()
    );
    println!("test:  {} ({} sequences)", r.test, test.len());
    let c = &r.config.reservoir;
    println!(
        "readout {:?}; {} units, spectral radius {}, leak {}, input scaling {}, ridge {}, washout {}\n",
        r.config.pooling, c.units, c.spectral_radius, c.leak, c.input_scaling, c.ridge, c.washout
    );
    print!("{}", seed_table(&s.runs));
    if s.runs.len() > 1 {
        println!(
            "\nmean test accuracy over {} seeds: {:.2} % ± {:.2} % (95 % CI), min {:.2} %, max {:.2} %",
            s.runs.len(),
            100.0 * s.mean,
            100.0 * s.ci95,
            100.0 * s.min,
            100.0 * s.max
        );
    }
    println!("\nper class (seed {}):", s.runs[0].seed);
    print!("{}", class_table(&s.runs[0]));
    if let Some(p) = plot {
        println!("\nwrote {}", p.display());
    }
}

fn seed_table(runs: &[Evaluation]) -> String {
    let rows: Vec<Vec<String>> = runs
        .iter()
        .map(|e| {
            vec![
                e.seed.to_string(),
                format!("{:.2} %", 100.0 * e.accuracy),
                (e.total - e.correct).to_string(),
                format!("{:.2} %", 100.0 * e.train_accuracy),
                format!("{:.1}", 1e3 * e.fit_seconds),
                format!("{:.1}", 1e3 * e.test_seconds),
            ]
        })
        .collect();
    let headers = [
        "seed",
        "test accuracy",
        "wrong",
        "train accuracy",
        "fit ms",
        "test ms",
    ];
    table::text(&headers, &rows)
}

fn class_table(e: &Evaluation) -> String {
    let pct = |v: f64| format!("{:.1} %", 100.0 * v);
    let rows: Vec<Vec<String>> = e
        .per_class
        .iter()
        .map(|c| {
            vec![
                c.label.clone(),
                c.support.to_string(),
                pct(c.precision),
                pct(c.recall),
            ]
        })
        .collect();
    table::text(&["class", "test sequences", "precision", "recall"], &rows)
}
