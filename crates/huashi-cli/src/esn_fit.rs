//! `huashi esn fit`: train on the first part of a series, score the rest
//! beside the naive baselines, plot, save the model.

use crate::esn::{DataArgs, ReservoirArgs};
use crate::esn_data::{self, Pairs, Prepared, Target, Transform};
use crate::plot::{self, Series};
use crate::table;
use anyhow::Context;
use clap::Args;
use huashi_esn::{column, column_values, metrics, Esn, EsnConfig, Sequence};
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

#[derive(Debug, Args)]
pub struct FitArgs {
    #[command(flatten)]
    pub data: DataArgs,
    #[command(flatten)]
    pub reservoir: ReservoirArgs,
    /// Fraction of the pairs used for training; the rest is the test split.
    #[arg(long, value_name = "F", default_value_t = 0.8)]
    pub train_fraction: f64,
    /// Directory for the model (`model.safetensors`) and the plot
    /// (`forecast.png`); created if missing.
    #[arg(long, value_name = "DIR", default_value = "esn-out")]
    pub out: PathBuf,
    /// Print JSON instead of tables.
    #[arg(long)]
    pub json: bool,
}

/// Error measures of one model on the test split.
#[derive(Debug, Clone, Serialize)]
pub struct Score {
    pub model: String,
    /// RMSE / standard deviation of the test targets.
    pub nrmse: f64,
    pub r2: f64,
    pub rmse: f64,
}

pub fn score(model: &str, prediction: &[f64], truth: &[f64]) -> anyhow::Result<Score> {
    Ok(Score {
        model: model.to_string(),
        nrmse: metrics::nrmse(prediction, truth)?,
        r2: metrics::r2(prediction, truth)?,
        rmse: metrics::rmse(prediction, truth)?,
    })
}

/// The naive baselines' scores on the targets `from..`.
pub fn baseline_scores(p: &Pairs, from: usize) -> anyhow::Result<Vec<Score>> {
    let truth = &p.truth[from..];
    let mut out = vec![score(
        "persistence (same as last)",
        &p.persistence[from..],
        truth,
    )?];
    if p.zero_baseline {
        out.push(score("zero return", &vec![0.0; truth.len()], truth)?);
    }
    Ok(out)
}

/// A trained ESN and its test-split results (in the target's units).
pub struct Evaluation {
    pub esn: Esn,
    pub prediction: Vec<f64>,
    pub truth: Vec<f64>,
    /// ESN first, then the baselines.
    pub scores: Vec<Score>,
    pub fit_ms: f64,
    pub predict_ms: f64,
}

/// Fits on the training pairs, then predicts the test pairs one step at a
/// time from the end-of-training state (true inputs, open loop). Results
/// are in reporting units (see [`crate::esn_data`]).
pub fn evaluate(config: &EsnConfig, prep: &Prepared) -> anyhow::Result<Evaluation> {
    let (train, n) = (prep.train, prep.len());
    let (x, y) = (column(&prep.z_in[..train]), column(&prep.z_out[..train]));
    let start = Instant::now();
    let fit =
        Esn::fit(config, &[Sequence::new(x.as_ref(), y.as_ref())]).context("training the ESN")?;
    let fit_ms = start.elapsed().as_secs_f64() * 1e3;
    let start = Instant::now();
    let mut state = fit.end_states[0].clone();
    let test_in = column(&prep.z_in[train..n]);
    let out = fit.esn.run(&mut state, test_in.as_ref(), None)?;
    let predict_ms = start.elapsed().as_secs_f64() * 1e3;
    let changes = prep
        .transform
        .output
        .inverse(&column_values(out.as_ref(), 0));
    let prediction = prep.pairs.report(train, &changes);
    let truth = prep.pairs.truth[train..].to_vec();
    let mut scores = vec![score("ESN", &prediction, &truth)?];
    scores.extend(baseline_scores(&prep.pairs, train)?);
    Ok(Evaluation {
        esn: fit.esn,
        prediction,
        truth,
        scores,
        fit_ms,
        predict_ms,
    })
}

pub const SCORE_HEADERS: [&str; 4] = ["model", "NRMSE", "R²", "RMSE"];

pub fn score_rows(scores: &[Score]) -> Vec<Vec<String>> {
    let g = |v: f64| format!("{v:.4e}");
    scores
        .iter()
        .map(|s| {
            let nrmse = format!("{:.4}", s.nrmse);
            vec![s.model.clone(), nrmse, format!("{:.4}", s.r2), g(s.rmse)]
        })
        .collect()
}

/// "value 1 step ahead" / "log-return over the next 5 steps".
pub fn target_text(target: Target, horizon: usize) -> String {
    let steps = if horizon == 1 {
        "1 step".to_string()
    } else {
        format!("{horizon} steps")
    };
    match target {
        Target::Next => format!("value {steps} ahead"),
        Target::Return => format!("log-return over the next {steps}"),
    }
}

/// Forecast vs truth on the test split; x is the row of the target.
pub fn plot_test(path: &Path, prep: &Prepared, eval: &Evaluation) -> anyhow::Result<()> {
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
        target_text(t.target, t.horizon)
    );
    let y = match t.target {
        Target::Next => prep.series.column.as_str(),
        Target::Return => "log-return",
    };
    plot::series_chart(path, &title, ("row", y), &series)
}

/// Saves the model with the transform and data description as metadata.
pub fn save(path: &Path, esn: &Esn, prep: &Prepared) -> anyhow::Result<()> {
    let meta = BTreeMap::from([
        (
            Transform::METADATA_KEY.to_string(),
            serde_json::to_string(&prep.transform)?,
        ),
        ("huashi.column".to_string(), prep.series.column.clone()),
        ("huashi.source".to_string(), prep.series.source.clone()),
    ]);
    esn.save_with_metadata(path, &meta)
        .with_context(|| format!("saving the model to {}", path.display()))
}

#[derive(Serialize)]
struct FitReport<'a> {
    series: &'a esn_data::Series,
    rows: usize,
    target: Target,
    horizon: usize,
    train_pairs: usize,
    test_pairs: usize,
    config: &'a EsnConfig,
    fit_ms: f64,
    predict_ms: f64,
    scores: &'a [Score],
    model: PathBuf,
    plot: PathBuf,
    note: &'static str,
}

pub const NOTE: &str = "NRMSE = RMSE / standard deviation of the scored targets; R² = 1 − NRMSE²; \
scores in the target's units (series units for `next`, log-returns for `return`); \
persistence repeats the last value (`next`) or the last return (`return`)";

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
    let series = esn_data::load(d.data.as_deref(), d.column.as_deref())?;
    let prep = Prepared::new(series, d.target, d.horizon, args.train_fraction)?;
    let config = args.reservoir.config();
    let eval = evaluate(&config, &prep)?;
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("creating {}", args.out.display()))?;
    save(&model, &eval.esn, &prep)?;
    plot_test(&png, &prep, &eval)?;
    let report = FitReport {
        series: &prep.series,
        rows: prep.series.values.len(),
        target: d.target,
        horizon: d.horizon,
        train_pairs: prep.train,
        test_pairs: prep.len() - prep.train,
        config: &config,
        fit_ms: eval.fit_ms,
        predict_ms: eval.predict_ms,
        scores: &eval.scores,
        model,
        plot: png,
        note: NOTE,
    };
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print_report(&report, &args.reservoir);
    }
    Ok(())
}

/// One line describing where the data came from.
pub fn data_line(s: &esn_data::Series) -> String {
    let n = table::thousands(s.values.len() as u64);
    if s.embedded {
        format!(
            "data: {}, column {} ({n} rows) — no --data given, so the embedded series is used",
            s.source, s.column
        )
    } else {
        format!("data: {}, column {} ({n} rows)", s.source, s.column)
    }
}

pub fn reservoir_line(r: &ReservoirArgs) -> String {
    format!(
        "ESN: {} units, spectral radius {}, leak {}, input scaling {}, ridge {:e}, \
         connectivity {}, washout {}, seed {}",
        r.units,
        r.spectral_radius,
        r.leak,
        r.input_scaling,
        r.ridge,
        r.connectivity,
        r.washout,
        r.seed
    )
}

fn print_report(r: &FitReport<'_>, res: &ReservoirArgs) {
    println!("{}", data_line(r.series));
    println!(
        "target: {}; {} training pairs, {} test pairs",
        target_text(r.target, r.horizon),
        r.train_pairs,
        r.test_pairs
    );
    println!("{}", reservoir_line(res));
    println!(
        "fit {:.1} ms, predict (test split) {:.1} ms\n",
        r.fit_ms, r.predict_ms
    );
    print!("{}", table::text(&SCORE_HEADERS, &score_rows(r.scores)));
    println!("\nNote: {NOTE}.");
    println!("wrote {} and {}", r.model.display(), r.plot.display());
}
