//! `huashi esn fit`: train on the first part of a series, score the rest
//! beside the naive baselines ([`huashi_esn::forecast::evaluate`]), plot,
//! save the model ([`SavedModel::save`]).

use super::options::{DataArgs, ReservoirArgs};
use super::print;
use crate::report::plot::{self, Series};
use anyhow::Context;
use clap::Args;
use huashi_esn::forecast::{
    self, Evaluation, ForecastConfig, Prepared, SavedModel, Score, Target, SCORE_NOTE,
};
use serde::Serialize;
use std::path::{Path, PathBuf};

#[derive(Debug, Args)]
pub struct FitArgs {
    #[command(flatten)]
    pub data: DataArgs,
    #[command(flatten)]
    pub reservoir: ReservoirArgs,
    /// Fraction of the pairs used for training; the rest is the test split.
    #[arg(long, value_name = "F", default_value_t = forecast::TRAIN_FRACTION)]
    pub train_fraction: f64,
    /// Directory for the model (`model.safetensors`) and the plot
    /// (`forecast.png`); created if missing.
    #[arg(long, value_name = "DIR", default_value = "esn-out")]
    pub out: PathBuf,
    /// Print JSON instead of tables.
    #[arg(long)]
    pub json: bool,
}

/// Forecast vs truth on the test split; x is the row of the target.
fn plot_test(path: &Path, prep: &Prepared, eval: &Evaluation) -> anyhow::Result<()> {
    let t = prep.transform;
    let row0 = prep.pairs.first + prep.train + t.horizon;
    let points = |v: &[f64]| -> Vec<(f64, f64)> {
        v.iter()
            .enumerate()
            .map(|(i, y)| ((row0 + i) as f64, *y))
            .collect()
    };
    let series = [
        Series {
            name: "truth".into(),
            points: points(&eval.truth),
        },
        Series {
            name: "ESN forecast".into(),
            points: points(&eval.prediction),
        },
    ];
    let title = format!(
        "{}: {}, test split",
        prep.series.column,
        t.target.describe(t.horizon)
    );
    let y = match t.target {
        Target::Next => prep.series.column.as_str(),
        Target::Return => "log-return",
    };
    plot::series_chart(path, &title, ("row", y), &series)
}

#[derive(Serialize)]
struct FitReport<'a> {
    series: &'a forecast::Series,
    rows: usize,
    target: Target,
    horizon: usize,
    train_pairs: usize,
    test_pairs: usize,
    config: &'a huashi_esn::EsnConfig,
    fit_ms: f64,
    predict_ms: f64,
    scores: &'a [Score],
    model: PathBuf,
    plot: PathBuf,
    note: &'static str,
}

/// Fits, scores, plots and saves as `args` say, then prints the report.
///
/// # Errors
/// Bad data or options, a failed fit, or a file that cannot be written.
pub fn run(args: &FitArgs) -> anyhow::Result<()> {
    let d = &args.data;
    let (model, png) = (
        args.out.join("model.safetensors"),
        args.out.join("forecast.png"),
    );
    if let Some(data) = &d.data {
        huashi_io::ensure_not_input(&model, &[data])?;
        huashi_io::ensure_not_input(&png, &[data])?;
    }
    let target = Target::from(d.target);
    let prep = Prepared::new(d.load()?, target, d.horizon, args.train_fraction)?;
    let hyper = args.reservoir.config();
    let config = hyper.esn();
    let eval = forecast::evaluate(&config, &prep).context("training the ESN")?;
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("creating {}", args.out.display()))?;
    SavedModel::save(&model, &eval.esn, &prep)
        .with_context(|| format!("saving the model to {}", model.display()))?;
    plot_test(&png, &prep, &eval)?;
    let report = FitReport {
        series: &prep.series,
        rows: prep.series.values.len(),
        target,
        horizon: d.horizon,
        train_pairs: prep.train,
        test_pairs: prep.len() - prep.train,
        config: &config,
        fit_ms: eval.fit_ms,
        predict_ms: eval.predict_ms,
        scores: &eval.scores,
        model,
        plot: png,
        note: SCORE_NOTE,
    };
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print_report(&report, &hyper);
    }
    Ok(())
}

fn print_report(r: &FitReport<'_>, hyper: &ForecastConfig) {
    println!("{}", print::data_line(r.series));
    println!(
        "target: {}; {} training pairs, {} test pairs",
        r.target.describe(r.horizon),
        r.train_pairs,
        r.test_pairs
    );
    println!("{}", print::config_line(hyper));
    println!(
        "fit {:.1} ms, predict (test split) {:.1} ms\n",
        r.fit_ms, r.predict_ms
    );
    print!("{}", print::score_table(r.scores));
    println!("\nNote: {SCORE_NOTE}.");
    println!("wrote {} and {}", r.model.display(), r.plot.display());
}
