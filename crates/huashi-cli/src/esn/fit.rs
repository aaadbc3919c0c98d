//! `huashi esn fit`: train on the first part of a series, score the rest
//! beside the naive baselines ([`huashi_esn::forecast::evaluate`]), plot,
//! save the model ([`SavedModel::save`]). With `--ridge auto` the ridge
//! parameter is chosen first ([`huashi_esn::forecast::ridge_curve`]) and its
//! curve plotted.

use super::options::{DataArgs, ReservoirArgs, RidgeArg, TargetArg};
use super::print;
use crate::report::plot::{self, Series};
use anyhow::Context;
use clap::Args;
use huashi_esn::diagnostics::effective_spectral_radius;
use huashi_esn::forecast::{
    self, Evaluation, ForecastConfig, Prepared, SavedModel, Score, Target, SCORE_NOTE,
};
use huashi_esn::metrics::Normalisation;
use huashi_esn::readout::select::{log_grid, Criterion, RidgeCurve};
use huashi_esn::systems::lyapunov::LyapunovOptions;
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
    /// How `--ridge auto` scores each ridge parameter: `loo` = exact
    /// leave-one-out error, `gcv` = generalised cross-validation.
    #[arg(long, value_enum, default_value_t = CriterionArg::Loo)]
    pub ridge_criterion: CriterionArg,
    /// What NRMSE is normalised by: std (standard deviation, the usual one),
    /// range (max − min, ReservoirPy's default), var, mean, or q1q3
    /// (interquartile range).
    #[arg(long, value_name = "NORM", default_value_t = Normalisation::Std, value_parser = super::options::parse_norm)]
    pub nrmse: Normalisation,
    /// Print JSON instead of tables.
    #[arg(long)]
    pub json: bool,
}

/// `--ridge-criterion`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum CriterionArg {
    /// Exact leave-one-out mean squared error.
    Loo,
    /// Generalised cross-validation.
    Gcv,
}

/// Largest reservoir whose effective spectral radius is reported.
const DENSE_EIG_LIMIT: usize = 2000;

/// The grid `--ridge auto` searches: 1e-10 to 1e2, 25 points.
const RIDGE_GRID: (f64, f64, usize) = (1e-10, 1e2, 25);

/// Chooses the ridge parameter on the training pairs.
fn choose_ridge(
    args: &FitArgs,
    config: &huashi_esn::EsnConfig,
    prep: &Prepared,
) -> anyhow::Result<RidgeCurve> {
    let criterion = match args.ridge_criterion {
        CriterionArg::Loo => Criterion::Loo,
        CriterionArg::Gcv => Criterion::Gcv,
    };
    let grid = log_grid(RIDGE_GRID.0, RIDGE_GRID.1, RIDGE_GRID.2)?;
    forecast::ridge_curve(config, prep, grid, criterion).context("choosing the ridge")
}

/// The criterion over the grid, in decades.
fn plot_ridge(png: &Path, curve: &RidgeCurve) -> anyhow::Result<()> {
    let name = format!("{:?}", curve.criterion).to_uppercase();
    let points = curve
        .lambdas
        .iter()
        .zip(&curve.values)
        .map(|(l, v)| (l.log10(), v.log10()))
        .collect();
    let series = [Series {
        name: name.clone(),
        points,
    }];
    let title = format!(
        "{name} of the readout (standardised units); best λ = {:.3e}",
        curve.best
    );
    let axes = ("log10 λ", format!("log10 {name} MSE"));
    plot::series_chart(png, &title, (axes.0, &axes.1), &series)
}

/// Forecast vs truth on the test split; x is the row of the target.
fn plot_test(path: &Path, prep: &Prepared, eval: &Evaluation) -> anyhow::Result<()> {
    let t = &prep.transform;
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
    plot::row_chart(path, &title, y, &series, prep.series.dates.as_deref())
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
    ridge_selection: Option<RidgeCurve>,
    ridge_plot: Option<PathBuf>,
    /// Spectral radius of the leaky map `(1 − a) I + a W` (up to
    /// [`DENSE_EIG_LIMIT`] units).
    effective_spectral_radius: Option<f64>,
    /// With --series (one-step `next` models): the test split in closed loop.
    closed_loop: Option<ClosedLoop>,
    /// Why the closed-loop test failed (e.g. the free run diverged).
    closed_loop_error: Option<String>,
    note: &'static str,
}

/// The valid prediction time of the closed-loop test (error threshold 0.5).
#[derive(Serialize)]
struct ClosedLoop {
    steps: usize,
    time: f64,
    lyapunov_exponent: Option<f64>,
    lyapunov_times: Option<f64>,
}

/// The closed-loop test of a one-step `next` model of a `--series`.
fn closed_loop(
    args: &FitArgs,
    eval: &Evaluation,
    prep: &Prepared,
) -> anyhow::Result<Option<ClosedLoop>> {
    let d = &args.data;
    let Some(name) = d
        .series
        .filter(|_| d.horizon == 1 && d.target == TargetArg::Next)
    else {
        return Ok(None);
    };
    let lyapunov = name.lyapunov(&LyapunovOptions::default())?;
    let v = forecast::closed_loop_test(&eval.esn, prep, 2000, 0.5, name.dt(), lyapunov)?;
    Ok(Some(ClosedLoop {
        steps: v.steps,
        time: v.time,
        lyapunov_exponent: lyapunov,
        lyapunov_times: v.lyapunov_times,
    }))
}

/// Fits, scores, plots and saves as `args` say, then prints the report.
///
/// # Errors
/// Bad data or options, a failed fit, or a file that cannot be written.
pub fn run(args: &FitArgs) -> anyhow::Result<()> {
    let d = &args.data;
    let [model, png, ridge_png] =
        ["model.safetensors", "forecast.png", "ridge.png"].map(|f| args.out.join(f));
    if let Some(data) = &d.data {
        for out in [&model, &png, &ridge_png] {
            huashi_io::ensure_not_input(out, &[data])?;
        }
    }
    let target = Target::from(d.target);
    let prep = Prepared::new(d.load()?, target, d.horizon, args.train_fraction)?;
    let mut hyper = args.reservoir.config();
    let selection = match args.reservoir.ridge {
        RidgeArg::Fixed(_) => None,
        RidgeArg::Auto => Some(choose_ridge(args, &hyper.esn(), &prep)?),
    };
    hyper.ridge = selection.as_ref().map_or(hyper.ridge, |c| c.best);
    let config = hyper.esn();
    let mut eval = forecast::evaluate(&config, &prep).context("training the ESN")?;
    eval.scores = forecast::scores_by(&prep.pairs, &eval.prediction, prep.train, args.nrmse)?;
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("creating {}", args.out.display()))?;
    if let Some(curve) = &selection {
        plot_ridge(&ridge_png, curve)?;
    }
    SavedModel::save(&model, &eval.esn, &prep)
        .with_context(|| format!("saving the model to {}", model.display()))?;
    plot_test(&png, &prep, &eval)?;
    let w = eval.esn.reservoir().layers()[0].w();
    // All eigenvalues of a dense N × N matrix: skipped for large reservoirs.
    let effective_spectral_radius = (hyper.units <= DENSE_EIG_LIMIT)
        .then(|| effective_spectral_radius(w, hyper.leak))
        .transpose()?;
    // A closed loop that diverges is a result, reported as such.
    let (closed_loop, closed_loop_error) = match closed_loop(args, &eval, &prep) {
        Ok(c) => (c, None),
        Err(e) => (None, Some(format!("{e:#}"))),
    };
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
        ridge_plot: selection.is_some().then_some(ridge_png),
        ridge_selection: selection,
        effective_spectral_radius,
        closed_loop,
        closed_loop_error,
        note: SCORE_NOTE,
    };
    match args.json {
        true => println!("{}", serde_json::to_string_pretty(&report)?),
        false => print_report(&report, &hyper),
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
    if let Some(c) = &r.ridge_selection {
        println!(
            "ridge chosen by {:?} over {} values in [{:e}, {:e}]: λ = {:.3e}",
            c.criterion,
            c.lambdas.len(),
            RIDGE_GRID.0,
            RIDGE_GRID.1,
            c.best
        );
    }
    println!("{}", print::config_line(hyper));
    if let Some(rho) = r.effective_spectral_radius {
        println!("effective spectral radius of the leaky map (1 − a)I + aW: {rho:.4}");
    }
    println!(
        "fit {:.1} ms, predict (test split) {:.1} ms\n",
        r.fit_ms, r.predict_ms
    );
    print!("{}", print::score_table(r.scores));
    println!("\nNote: {SCORE_NOTE}.");
    print!("{}", print::normalisation_note(r.scores));
    println!("wrote {} and {}", r.model.display(), r.plot.display());
    if let Some(p) = &r.ridge_plot {
        println!("wrote {}", p.display());
    }
    if let Some(c) = &r.closed_loop {
        print_closed_loop(c);
    }
    if let Some(e) = &r.closed_loop_error {
        println!("closed loop from the end of training: {e}");
    }
}

fn print_closed_loop(c: &ClosedLoop) {
    let lyap = c
        .lyapunov_times
        .zip(c.lyapunov_exponent)
        .map_or(String::new(), |(n, l)| {
            format!(" = {n:.2} Lyapunov times (largest exponent {l:.3}, Benettin)")
        });
    println!(
        "closed loop from the end of training: valid for {} steps, time {:.3}{lyap} \
         (normalised error ≤ 0.5)",
        c.steps, c.time
    );
}
