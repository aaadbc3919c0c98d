//! `huashi esn nvar`: next-generation reservoir computing
//! ([`huashi_esn::nvar`], Gauthier et al. 2021): fit on a series, one-step
//! and closed-loop forecasts with their NRMSE, a PNG of the forecast against
//! the truth. By default the paper's Lorenz-63 protocol over its 10 trials;
//! `--system doublescroll` runs its double-scroll protocol.

use crate::report::plot::{self, Series};
use crate::report::table;
use anyhow::{bail, Context};
use clap::{Args, ValueEnum};
use huashi_esn::data::CsvTable;
use huashi_esn::nvar::protocol::{self, NvarRun, PaperProtocol, PaperSystem, Variance};
use huashi_esn::nvar::{Monomials, NvarConfig, NvarTarget};
use huashi_esn::Mat;
use serde::Serialize;
use std::path::{Path, PathBuf};

/// A published or reproduced NRMSE over one Lyapunov time (mean ±
/// standard error over 10 trials).
#[derive(Debug, Clone, Copy, Serialize)]
struct Reference {
    source: &'static str,
    mean: f64,
    std_error: f64,
}

/// The references for a paper protocol run with the paper's NVAR.
fn references(system: PaperSystem) -> Vec<Reference> {
    let script = "the authors' protocol in Python with SciPy 1.17.1's RK23 \
                  (crates/huashi-esn/tests/reference/ngrc_protocols.py)";
    match system {
        PaperSystem::Lorenz63 => vec![
            Reference {
                source: "paper (Gauthier et al. 2021, Fig. 2)",
                mean: 4.51e-3,
                std_error: 0.85e-3,
            },
            Reference {
                source: script,
                mean: 2.07e-3,
                std_error: 0.44e-3,
            },
        ],
        PaperSystem::DoubleScroll => {
            vec![Reference {
                source: script,
                mean: 7.43e-3,
                std_error: 3.68e-3,
            }]
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SystemArg {
    /// Lorenz-63 (the paper's Fig. 2).
    Lorenz,
    /// The double-scroll circuit (the paper's Fig. 3).
    Doublescroll,
}

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
    /// CSV file with a header line [default: the paper's series of
    /// --system, adaptive RK23 as SciPy, 10 trials].
    #[arg(long, value_name = "FILE.csv", requires_all = ["columns", "train", "test"], conflicts_with = "system")]
    pub data: Option<PathBuf>,
    /// The paper's protocol to run without --data: `lorenz` (dt 0.025,
    /// warm-up 5, training 10, test one Lyapunov time) or `doublescroll`
    /// (dt 0.25, warm-up 1, training 100, test 7.8125); the NVAR options
    /// default to the paper's for that system.
    #[arg(long, value_enum, default_value_t = SystemArg::Lorenz)]
    pub system: SystemArg,
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
    /// Number of delayed inputs k (including x(t)) [default: 2].
    #[arg(long, value_name = "K")]
    pub delays: Option<usize>,
    /// Steps s between the delayed inputs [default: 1].
    #[arg(long, value_name = "S")]
    pub skip: Option<usize>,
    /// The nonlinear monomials of the linear features [default: quadratic;
    /// cubic for the double scroll].
    #[arg(long, value_enum)]
    pub monomials: Option<MonomialsArg>,
    /// Whether the features start with a constant 1 [default: true; false
    /// for the double scroll].
    #[arg(long, value_name = "BOOL")]
    pub constant: Option<bool>,
    /// What the readout learns [default: difference].
    #[arg(long, value_enum)]
    pub target: Option<TargetArg>,
    /// Ridge (Tikhonov) parameter [default: 2.5e-6; 1e-3 for the double
    /// scroll].
    #[arg(long, value_name = "LAMBDA")]
    pub ridge: Option<f64>,
    /// Trials of the paper protocol (warm-ups a fixed time apart), without
    /// --data.
    #[arg(long, value_name = "N", default_value_t = PaperProtocol::default().trials, value_parser = crate::parse::at_least_one)]
    pub trials: usize,
    /// Write a PNG of the (first trial's) test forecast against the truth.
    #[arg(long, value_name = "FILE.png")]
    pub plot: Option<PathBuf>,
    /// Print JSON instead of tables.
    #[arg(long)]
    pub json: bool,
}

impl NvarArgs {
    /// The paper protocol of --system.
    fn protocol(&self) -> PaperProtocol {
        let p = match self.system {
            SystemArg::Lorenz => PaperProtocol::default(),
            SystemArg::Doublescroll => PaperProtocol::double_scroll(),
        };
        PaperProtocol {
            trials: self.trials,
            ..p
        }
    }

    /// `protocol`'s NVAR (the Lorenz-63 one with --data), with the options
    /// given.
    fn config(&self, protocol: &PaperProtocol) -> NvarConfig {
        let base = protocol.nvar();
        NvarConfig {
            delays: self.delays.unwrap_or(base.delays),
            skip: self.skip.unwrap_or(base.skip),
            monomials: self.monomials.map_or(base.monomials, |m| match m {
                MonomialsArg::Quadratic => Monomials::Quadratic,
                MonomialsArg::Cubic => Monomials::Cubic,
                MonomialsArg::Both => Monomials::Both,
            }),
            ridge: self.ridge.unwrap_or(base.ridge),
            target: self.target.map_or(base.target, |t| match t {
                TargetArg::Difference => NvarTarget::Difference,
                TargetArg::Next => NvarTarget::Next,
            }),
            constant: self.constant.unwrap_or(base.constant),
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
    /// Published and reproduced values for the paper protocol with the
    /// paper's NVAR.
    references: Vec<Reference>,
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
    let protocol = args.protocol();
    let config = args.config(&protocol);
    let (name, runs, dims) = match &args.data {
        Some(path) => csv_run(args, path, &config)?,
        None => paper_runs(&protocol, &config)?,
    };
    if let Some(png) = &args.plot {
        plot_forecast(png, &runs[0].1, &dims)?;
    }
    let mut report = summarise(name, config, &runs, dims.len());
    if args.data.is_none() && config == protocol.nvar() {
        report.references = references(protocol.system);
    }
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
        references: Vec::new(),
        note: "NRMSE = RMS error over all components and test steps / the square root of the \
               series' variance (of all values together for Lorenz-63 and --data, the sum of the \
               components' for the double scroll, as the authors' scripts)",
    }
}

type Runs = (String, Vec<(usize, NvarRun)>, Vec<String>);

fn paper_runs(p: &PaperProtocol, config: &NvarConfig) -> anyhow::Result<Runs> {
    p.check()?;
    let mut runs = Vec::new();
    for i in 0..p.trials {
        let warmup = p.warmup + i as f64 * p.spacing;
        let (_, run) = p.trial(config, warmup)?;
        runs.push((p.steps(warmup).0, run));
    }
    let (system, dims) = match p.system {
        PaperSystem::Lorenz63 => ("Lorenz-63", ["x", "y", "z"]),
        PaperSystem::DoubleScroll => ("double scroll", ["V1", "V2", "I"]),
    };
    let name = format!(
        "{system} (dt {}, warm-up {} + {}·i, training {}, test {:.4} time units = one Lyapunov time)",
        p.dt, p.warmup, p.spacing, p.train, p.test
    );
    Ok((name, runs, dims.map(String::from).to_vec()))
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
    let parts = [args.warmup, train, test];
    let (_, run) = protocol::run(config, series.as_ref(), parts, Variance::Pooled)
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
        "NVAR: k = {}, s = {}, {}{:?} monomials ({} features), ridge {}, target {:?}\n",
        c.delays,
        c.skip,
        if c.constant { "a constant, " } else { "" },
        c.monomials,
        r.features,
        c.ridge,
        c.target
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
    for reference in &r.references {
        let (m, e) = (reference.mean, reference.std_error);
        println!("{}: {m:.2e} ± {e:.2e}", reference.source);
    }
    println!("Note: {}.", r.note);
    if let Some(p) = plot {
        println!("\nwrote {}", p.display());
    }
}
