//! `huashi esn nvar`: next-generation reservoir computing
//! ([`huashi_esn::nvar`], Gauthier et al. 2021): fit on a series, one-step
//! and closed-loop forecasts with their NRMSE, a PNG of the forecast against
//! the truth. By default the paper's Lorenz-63 protocol over its 10 trials.

use crate::report::plot::{self, Series};
use crate::report::table;
use anyhow::{bail, Context};
use clap::{Args, ValueEnum};
use huashi_esn::data::CsvTable;
use huashi_esn::nvar::protocol::{self, LorenzProtocol, NvarRun};
use huashi_esn::nvar::{Monomials, NvarConfig, NvarTarget};
use huashi_esn::Mat;
use serde::Serialize;
use std::path::{Path, PathBuf};

/// The paper's NRMSE over one Lyapunov time (mean ± standard error).
const PAPER: (f64, f64) = (4.51e-3, 0.85e-3);

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum MonomialsArg {
    /// Unique products of two linear features.
    Quadratic,
    /// Unique products of three.
    Cubic,
    /// Both.
    Both,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TargetArg {
    /// x(t+1) − x(t), as the paper.
    Difference,
    /// x(t+1).
    Next,
}

#[derive(Debug, Args)]
pub struct NvarArgs {
    /// CSV file with a header line [default: the paper's Lorenz-63 series,
    /// adaptive RK23 as SciPy, dt = 0.025, 10 trials].
    #[arg(long, value_name = "FILE.csv", requires_all = ["columns", "train", "test"])]
    pub data: Option<PathBuf>,
    /// Comma-separated columns of --data that make up x(t).
    #[arg(long, value_name = "A,B,…", value_delimiter = ',')]
    pub columns: Vec<String>,
    /// Warm-up steps before training, with --data (must exceed (k − 1)·s).
    #[arg(long, value_name = "STEPS", default_value_t = 200)]
    pub warmup: usize,
    /// Training steps, with --data.
    #[arg(long, value_name = "STEPS")]
    pub train: Option<usize>,
    /// Test steps, with --data (the first is the true starting point).
    #[arg(long, value_name = "STEPS")]
    pub test: Option<usize>,
    /// Number of delayed inputs k (including x(t)).
    #[arg(long, value_name = "K", default_value_t = NvarConfig::default().delays)]
    pub delays: usize,
    /// Steps s between the delayed inputs.
    #[arg(long, value_name = "S", default_value_t = NvarConfig::default().skip)]
    pub skip: usize,
    /// The nonlinear monomials of the linear features.
    #[arg(long, value_enum, default_value_t = MonomialsArg::Quadratic)]
    pub monomials: MonomialsArg,
    /// What the readout learns.
    #[arg(long, value_enum, default_value_t = TargetArg::Difference)]
    pub target: TargetArg,
    /// Ridge (Tikhonov) parameter.
    #[arg(long, value_name = "LAMBDA", default_value_t = NvarConfig::default().ridge)]
    pub ridge: f64,
    /// Lorenz-63 trials (warm-ups 10 time units apart), without --data.
    #[arg(long, value_name = "N", default_value_t = LorenzProtocol::default().trials, value_parser = crate::parse::at_least_one)]
    pub trials: usize,
    /// Write a PNG of the (first trial's) test forecast against the truth.
    #[arg(long, value_name = "FILE.png")]
    pub plot: Option<PathBuf>,
    /// Print JSON instead of tables.
    #[arg(long)]
    pub json: bool,
}

impl NvarArgs {
    fn config(&self) -> NvarConfig {
        NvarConfig {
            delays: self.delays,
            skip: self.skip,
            monomials: match self.monomials {
                MonomialsArg::Quadratic => Monomials::Quadratic,
                MonomialsArg::Cubic => Monomials::Cubic,
                MonomialsArg::Both => Monomials::Both,
            },
            ridge: self.ridge,
            target: match self.target {
                TargetArg::Difference => NvarTarget::Difference,
                TargetArg::Next => NvarTarget::Next,
            },
        }
    }
}

#[derive(Debug, Serialize)]
struct Trial {
    warmup_steps: usize,
    train_nrmse: f64,
    one_step_nrmse: f64,
    closed_loop_nrmse: f64,
}

#[derive(Debug, Serialize)]
struct NvarReport {
    data: String,
    config: NvarConfig,
    features: usize,
    trials: Vec<Trial>,
    mean_closed_loop_nrmse: f64,
    std_error: f64,
    /// The paper's value for the default Lorenz-63 protocol.
    paper: Option<(f64, f64)>,
    note: &'static str,
}

/// Fits and tests (each Lorenz trial, or the CSV series once), plots and
/// prints.
///
/// # Errors
/// Unreadable data, invalid hyper-parameters or ranges, or a plot that
/// cannot be written.
pub fn run(args: &NvarArgs) -> anyhow::Result<()> {
    if let (Some(png), Some(data)) = (&args.plot, &args.data) {
        huashi_io::ensure_not_input(png, &[data.as_path()])?;
    }
    let config = args.config();
    let (name, runs, dims) = match &args.data {
        Some(path) => csv_run(args, path, &config)?,
        None => lorenz_runs(args, &config)?,
    };
    if let Some(png) = &args.plot {
        plot_forecast(png, &runs[0].1, &dims)?;
    }
    let report = summarise(name, config, &runs, dims.len(), args.data.is_none());
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print_report(&report, args.plot.as_deref());
    }
    Ok(())
}

/// The report of the runs: each trial, the mean closed-loop NRMSE and its
/// standard error, the paper's value for its own setting.
fn summarise(
    data: String,
    config: NvarConfig,
    runs: &[(usize, NvarRun)],
    dims: usize,
    lorenz: bool,
) -> NvarReport {
    let trials: Vec<Trial> = runs
        .iter()
        .map(|(w, r)| Trial {
            warmup_steps: *w,
            train_nrmse: r.train_nrmse,
            one_step_nrmse: r.one_step_nrmse,
            closed_loop_nrmse: r.closed_loop_nrmse,
        })
        .collect();
    let n = trials.len() as f64;
    let mean = trials.iter().map(|t| t.closed_loop_nrmse).sum::<f64>() / n;
    let var = trials
        .iter()
        .map(|t| (t.closed_loop_nrmse - mean).powi(2))
        .sum::<f64>()
        / n;
    NvarReport {
        data,
        config,
        features: config.features(dims),
        trials,
        mean_closed_loop_nrmse: mean,
        std_error: (var / n).sqrt(),
        paper: (lorenz && config == NvarConfig::default()).then_some(PAPER),
        note: "NRMSE = RMS error over all components and test steps / std of all the series' values (Gauthier et al. 2021)",
    }
}

type Runs = (String, Vec<(usize, NvarRun)>, Vec<String>);

fn lorenz_runs(args: &NvarArgs, config: &NvarConfig) -> anyhow::Result<Runs> {
    let p = LorenzProtocol {
        trials: args.trials,
        ..LorenzProtocol::default()
    };
    p.check()?;
    let mut runs = Vec::new();
    for i in 0..p.trials {
        let warmup = p.warmup + i as f64 * p.spacing;
        let (_, run) = p.trial(config, warmup)?;
        runs.push((p.steps(warmup).0, run));
    }
    let name = format!(
        "Lorenz-63 (dt {}, warm-up {} + 10·i, training {}, test {:.3} time units = one Lyapunov time)",
        p.dt, p.warmup, p.train, p.test
    );
    Ok((name, runs, ["x", "y", "z"].map(String::from).to_vec()))
}

fn csv_run(args: &NvarArgs, path: &Path, config: &NvarConfig) -> anyhow::Result<Runs> {
    let table = CsvTable::from_path(path).with_context(|| format!("reading {}", path.display()))?;
    let columns = args
        .columns
        .iter()
        .map(|c| {
            table
                .column_f64(c)
                .with_context(|| format!("column {c:?} of {}", path.display()))
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    let (Some(train), Some(test)) = (args.train, args.test) else {
        bail!("--train and --test are required with --data");
    };
    let series = Mat::from_fn(columns[0].len(), columns.len(), |t, j| columns[j][t]);
    let (_, run) = protocol::run(config, series.as_ref(), args.warmup, train, test)
        .with_context(|| format!("NVAR on {}", path.display()))?;
    Ok((
        path.display().to_string(),
        vec![(args.warmup, run)],
        args.columns.clone(),
    ))
}

/// Truth and closed-loop forecast of each component over the test steps.
fn plot_forecast(path: &Path, run: &NvarRun, dims: &[String]) -> anyhow::Result<()> {
    let mut series = Vec::new();
    for (j, name) in dims.iter().enumerate() {
        let points = |m: &Mat<f64>| (0..m.nrows()).map(|t| (t as f64, m[(t, j)])).collect();
        series.push(Series {
            name: format!("{name} truth"),
            points: points(&run.truth),
        });
        series.push(Series {
            name: format!("{name} NVAR"),
            points: points(&run.forecast),
        });
    }
    let title = format!(
        "NVAR closed-loop forecast, NRMSE {:.2e}",
        run.closed_loop_nrmse
    );
    plot::series_chart(path, &title, ("test step", "value"), &series)
}

fn print_report(r: &NvarReport, plot: Option<&Path>) {
    let c = &r.config;
    println!("data: {}", r.data);
    println!(
        "NVAR: k = {}, s = {}, {:?} monomials ({} features), ridge {}, target {:?}\n",
        c.delays, c.skip, c.monomials, r.features, c.ridge, c.target
    );
    let e = |v: f64| format!("{v:.3e}");
    let row = |t: &Trial| {
        let nrmse = [t.train_nrmse, t.one_step_nrmse, t.closed_loop_nrmse].map(e);
        std::iter::once(t.warmup_steps.to_string())
            .chain(nrmse)
            .collect()
    };
    let rows: Vec<Vec<String>> = r.trials.iter().map(row).collect();
    let headers = [
        "warm-up steps",
        "train NRMSE",
        "test one-step",
        "test closed loop",
    ];
    print!("{}", table::text(&headers, &rows));
    println!(
        "\nclosed-loop NRMSE: {:.3e} ± {:.3e} (mean ± standard error over {})",
        r.mean_closed_loop_nrmse,
        r.std_error,
        r.trials.len()
    );
    if let Some((m, e)) = r.paper {
        println!("paper (Gauthier et al. 2021, Fig. 2): {m:.2e} ± {e:.2e}");
    }
    println!("Note: {}.", r.note);
    if let Some(p) = plot {
        println!("\nwrote {}", p.display());
    }
}
