//! `huashi esn forecast`: predict a series with a saved ESN
//! ([`SavedModel`]), score it against the naive baselines
//! ([`huashi_esn::forecast::scores`]) and optionally free-run it past the
//! data.

use super::options::load_series;
use super::print;
use crate::report::plot::{self, Series};
use crate::report::table;
use anyhow::{ensure, Context};
use clap::Args;
use huashi_esn::forecast::{self, Ahead, Prepared, SavedModel, Score, Target, SCORE_NOTE};
use huashi_esn::metrics::Normalisation;
use huashi_esn::systems::SystemName;
use serde::Serialize;
use std::path::{Path, PathBuf};

#[derive(Debug, Args)]
pub struct ForecastArgs {
    /// Model saved by `huashi esn fit` (its `model.safetensors`).
    #[arg(long, value_name = "FILE")]
    pub model: PathBuf,
    /// CSV file with a header line [default: the embedded S&P 500 daily
    /// prices 1999–2018].
    #[arg(long, value_name = "FILE.csv")]
    pub data: Option<PathBuf>,
    /// Column to read [default: the column the model was trained on].
    #[arg(long, value_name = "NAME")]
    pub column: Option<String>,
    /// Also free-run H steps past the end of the data (closed loop: each
    /// output is fed back as the next input; needs a model with horizon 1).
    #[arg(long, value_name = "H")]
    pub generate: Option<usize>,
    /// A benchmark series instead of a CSV file (as `esn fit --series`).
    #[arg(long, value_name = "NAME", conflicts_with_all = ["data", "column"], value_parser = parse_series)]
    pub series: Option<SystemName>,
    /// Samples of the --series to generate.
    #[arg(long, value_name = "N", default_value_t = 5000, value_parser = crate::parse::at_least_one)]
    pub steps: usize,
    /// What NRMSE is normalised by: std (the default), range, var, mean or
    /// q1q3.
    #[arg(long, value_name = "NORM", default_value_t = Normalisation::Std, value_parser = super::options::parse_norm)]
    pub nrmse: Normalisation,
    /// Write a PNG of the predictions vs truth (and the free run) to FILE.
    #[arg(long, value_name = "FILE.png")]
    pub plot: Option<PathBuf>,
    /// Print JSON instead of tables.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Serialize)]
struct ForecastReport<'a> {
    model: &'a Path,
    series: &'a forecast::Series,
    target: Target,
    horizon: usize,
    washout: usize,
    scored_pairs: usize,
    scores: Vec<Score>,
    /// Open-loop predictions whose targets lie past the data.
    beyond: Vec<Ahead>,
    /// Closed-loop free run past the data (`--generate`).
    generated: Vec<Ahead>,
    note: &'static str,
}

fn parse_series(s: &str) -> Result<SystemName, String> {
    s.parse().map_err(|e: huashi_esn::Error| e.to_string())
}

/// The series `args` names (by default the model's column), standardised
/// with the model's transform and long enough for its washout.
fn prepare(args: &ForecastArgs, saved: &SavedModel) -> anyhow::Result<Prepared> {
    let column = args.column.as_deref().or(saved.column.as_deref());
    let inputs = saved.inputs.clone().unwrap_or_default();
    let series = match args.series {
        Some(name) => forecast::Series::generated(name, args.steps)?,
        None => load_series(args.data.as_deref(), &inputs, column)?,
    };
    let t = saved.transform.clone();
    let pairs = forecast::pairs(&series, t.target, t.horizon)?;
    let prep = Prepared::with_transform(series, pairs, t, 0)?;
    let washout = saved.esn.config().washout;
    ensure!(
        washout.checked_add(2).is_some_and(|needed| prep.len() >= needed),
        "the data gives {} pairs; the model's washout of {washout} steps needs at least {washout} + 2",
        prep.len(),
    );
    Ok(prep)
}

/// Predicts with the saved model, scores, optionally free-runs and plots, then
/// prints the report.
///
/// # Errors
/// An unreadable or invalid model, bad data, or a plot that cannot be written.
pub fn run(args: &ForecastArgs) -> anyhow::Result<()> {
    if let Some(png) = &args.plot {
        let mut inputs = vec![args.model.as_path()];
        inputs.extend(args.data.as_deref());
        huashi_io::ensure_not_input(png, &inputs)?;
    }
    let saved = SavedModel::load(&args.model)
        .with_context(|| format!("loading the model {}", args.model.display()))?;
    let prep = prepare(args, &saved)?;
    let washout = saved.esn.config().washout;
    let prediction = saved.predict_all(&prep)?;
    let generated = match args.generate {
        Some(steps) => saved
            .free_run(&prep, steps)
            .with_context(|| format!("--generate {steps}"))?,
        None => Vec::new(),
    };
    if let Some(png) = &args.plot {
        plot_forecast(png, &prep, &prediction, washout, &generated)?;
    }
    let report = ForecastReport {
        model: &args.model,
        series: &prep.series,
        target: saved.transform.target,
        horizon: saved.transform.horizon,
        washout,
        scored_pairs: prep.len() - washout,
        scores: forecast::scores_by(&prep.pairs, &prediction[washout..], washout, args.nrmse)?,
        beyond: forecast::beyond(&prep, &prediction),
        generated,
        note: SCORE_NOTE,
    };
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print_report(&report, &saved, args.plot.as_deref());
    }
    Ok(())
}

fn plot_forecast(
    path: &Path,
    prep: &Prepared,
    prediction: &[f64],
    from: usize,
    generated: &[Ahead],
) -> anyhow::Result<()> {
    let row0 = prep.pairs.first + prep.transform.horizon;
    let points = |v: &[f64], skip: usize| -> Vec<(f64, f64)> {
        let rows = (row0 + skip..).map(|r| r as f64);
        rows.zip(v[skip..].iter().copied()).collect()
    };
    let mut series = vec![
        Series {
            name: "truth".into(),
            points: points(&prep.pairs.truth, from),
        },
        Series {
            name: "ESN (open loop)".into(),
            points: points(prediction, from),
        },
    ];
    if !generated.is_empty() {
        series.push(Series {
            name: "ESN free run".into(),
            points: generated.iter().map(|a| (a.row as f64, a.value)).collect(),
        });
    }
    let t = &prep.transform;
    let title = format!("{}: {}", prep.series.column, t.target.describe(t.horizon));
    let y = match t.target {
        Target::Next => prep.series.column.as_str(),
        Target::Return => "log-return",
    };
    plot::row_chart(path, &title, y, &series, prep.series.dates.as_deref())
}

fn ahead_rows(values: &[Ahead]) -> Vec<Vec<String>> {
    values
        .iter()
        .map(|a| {
            let mut row = vec![a.row.to_string(), format!("{:.6}", a.value)];
            row.extend(a.implied.map(|p| format!("{p:.4}")));
            row
        })
        .collect()
}

fn print_ahead(title: &str, values: &[Ahead], target: Target) {
    if values.is_empty() {
        return;
    }
    println!("\n{title}");
    let headers: &[&str] = match target {
        Target::Next => &["row", "value"],
        Target::Return => &["row", "log-return", "implied value"],
    };
    print!("{}", table::text(headers, &ahead_rows(values)));
}

fn print_report(r: &ForecastReport<'_>, saved: &SavedModel, plot: Option<&Path>) {
    let trained_on = match (&saved.column, &saved.source) {
        (Some(c), Some(s)) => format!("; trained on column {c} of {s}"),
        _ => String::new(),
    };
    println!("model: {}{trained_on}", r.model.display());
    println!("{}", print::data_line(r.series));
    println!(
        "target: {}; scored on {} pairs after the model's washout of {} steps (open loop from the zero state)\n",
        r.target.describe(r.horizon),
        r.scored_pairs,
        r.washout
    );
    print!("{}", print::score_table(&r.scores));
    println!("\nNote: {}.", r.note);
    print!("{}", print::normalisation_note(&r.scores));
    print_ahead(
        "Forecast past the data (open loop, from the last inputs):",
        &r.beyond,
        r.target,
    );
    print_ahead(
        "Free run past the data (closed loop):",
        &r.generated,
        r.target,
    );
    if let Some(p) = plot {
        println!("\nwrote {}", p.display());
    }
}
