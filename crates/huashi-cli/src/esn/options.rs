//! The options `huashi esn fit`, `forecast` and `search` share, and the
//! loading of the series they name. Defaults come from
//! [`ForecastConfig::default`], so they are written once, in the library.

use anyhow::{bail, Context};
use clap::{Args, ValueEnum};
use huashi_esn::data::CsvTable;
use huashi_esn::forecast::{ForecastConfig, Series, Target};
use huashi_esn::systems::SystemName;
use std::path::{Path, PathBuf};

/// What the ESN predicts (`huashi_esn::forecast::Target`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TargetArg {
    /// The value H steps ahead.
    Next,
    /// The log-return over the next H steps.
    Return,
}

impl From<TargetArg> for Target {
    fn from(t: TargetArg) -> Self {
        match t {
            TargetArg::Next => Target::Next,
            TargetArg::Return => Target::Return,
        }
    }
}

/// Where the series comes from and what is predicted.
#[derive(Debug, Clone, Args)]
pub struct DataArgs {
    /// CSV file with a header line [default: the embedded S&P 500 daily
    /// prices 1999–2018, 5,031 rows].
    #[arg(long, value_name = "FILE.csv")]
    pub data: Option<PathBuf>,
    /// The target column (by header name): what is predicted, and the input
    /// unless --columns is given; required with --data. A column named
    /// Date (or Time, Datetime, Timestamp) labels the plots' x axis; other
    /// columns are ignored [default for the embedded data: Close].
    #[arg(long, visible_alias = "target-column", value_name = "NAME")]
    pub column: Option<String>,
    /// Input columns (comma-separated header names), when the ESN should
    /// read other columns than the target, or several: each enters as its
    /// last one-step change (of x, or of ln x for `return`), standardised
    /// on the training split. A free run needs the target as the only input.
    #[arg(long, value_name = "A,B,…", value_delimiter = ',')]
    pub columns: Vec<String>,
    /// What to predict: `next` = the value H steps ahead, x(t+H), in the
    /// series' units; `return` = the log-return ln x(t+H) − ln x(t). Either
    /// way the ESN reads the last one-step change (of x, or of ln x) and
    /// learns the change over the next H steps.
    #[arg(long, value_enum, default_value_t = TargetArg::Next)]
    pub target: TargetArg,
    /// Forecast horizon H in steps (rows).
    #[arg(long, value_name = "H", default_value_t = 1, value_parser = crate::parse::at_least_one)]
    pub horizon: usize,
    /// A benchmark series instead of a CSV file (its first component, default
    /// parameters): mackey-glass, lorenz, henon, logistic, rossler, lorenz96,
    /// multiscroll, doublescroll, rabinovich-fabrikant, ks, mso1..mso12, or
    /// laser (the embedded Santa Fe laser data).
    #[arg(long, value_name = "NAME", conflicts_with_all = ["data", "column", "columns"], value_parser = parse_series)]
    pub series: Option<SystemName>,
    /// Samples of the --series to generate (at most 10,093 for laser).
    #[arg(long, value_name = "N", default_value_t = 5000, value_parser = crate::parse::at_least_one)]
    pub steps: usize,
}

/// Parses an NRMSE normalisation name (`--nrmse`).
pub fn parse_norm(s: &str) -> Result<huashi_esn::metrics::Normalisation, String> {
    s.parse().map_err(|e: huashi_esn::Error| e.to_string())
}

fn parse_series(s: &str) -> Result<SystemName, String> {
    s.parse().map_err(|e: huashi_esn::Error| e.to_string())
}

impl DataArgs {
    /// The series these options name.
    ///
    /// # Errors
    /// As [`load_series`].
    pub fn load(&self) -> anyhow::Result<Series> {
        if let Some(name) = self.series {
            return Ok(Series::generated(name, self.steps)?);
        }
        load_series(self.data.as_deref(), &self.columns, self.column.as_deref())
    }
}

/// Reads the `inputs` columns (the target alone when empty) and the
/// `target` column of `path`, or of the embedded S&P 500 table (default
/// target `Close`) when `path` is `None`.
///
/// # Errors
/// A file that cannot be read, a missing column (or no --column with --data),
/// or a cell that is not a number.
pub fn load_series(
    path: Option<&Path>,
    inputs: &[String],
    target: Option<&str>,
) -> anyhow::Result<Series> {
    match (path, target) {
        (None, c) => Ok(Series::embedded(inputs, c)?),
        (Some(p), Some(c)) => Series::from_csv_columns(p, inputs, c)
            .with_context(|| format!("reading the columns of {}", p.display())),
        (Some(p), None) => {
            let table =
                CsvTable::from_path(p).with_context(|| format!("reading {}", p.display()))?;
            bail!(
                "--column is required with --data; the columns of {} are {:?}",
                p.display(),
                table.headers()
            )
        }
    }
}

/// Hyper-parameters of the reservoir and readout.
#[derive(Debug, Clone, Args)]
pub struct ReservoirArgs {
    /// Reservoir units N.
    #[arg(long, value_name = "N", default_value_t = ForecastConfig::default().units, value_parser = crate::parse::count::<usize>)]
    pub units: usize,
    /// Spectral radius the recurrent matrix is rescaled to.
    #[arg(long, value_name = "RHO", default_value_t = ForecastConfig::default().spectral_radius)]
    pub spectral_radius: f64,
    /// Leak rate a in (0, 1] (1 = no leak).
    #[arg(long, value_name = "A", default_value_t = ForecastConfig::default().leak)]
    pub leak: f64,
    /// Scaling of the input weights (inputs are standardised first).
    #[arg(long, value_name = "S", default_value_t = ForecastConfig::default().input_scaling)]
    pub input_scaling: f64,
    /// Ridge (Tikhonov) parameter of the readout (the default suits noisy
    /// daily prices; smooth signals such as Mackey-Glass want ~1e-6), or
    /// `auto`: chosen on the training pairs by leave-one-out error or GCV
    /// (see --ridge-criterion).
    #[arg(long, value_name = "LAMBDA|auto", default_value_t = RidgeArg::Fixed(ForecastConfig::default().ridge), value_parser = parse_ridge)]
    pub ridge: RidgeArg,
    #[command(flatten)]
    pub fixed: FixedArgs,
    /// Seed of the reservoir's random weights.
    #[arg(long, default_value_t = ForecastConfig::default().seed, value_parser = crate::parse::count::<u64>)]
    pub seed: u64,
    /// Initial training steps left out of the regression.
    #[arg(long, value_name = "STEPS", default_value_t = ForecastConfig::default().washout, value_parser = crate::parse::count::<usize>)]
    pub washout: usize,
}

impl ReservoirArgs {
    /// The library's hyper-parameters.
    pub fn config(&self) -> ForecastConfig {
        ForecastConfig {
            units: self.units,
            spectral_radius: self.spectral_radius,
            leak: self.leak,
            input_scaling: self.input_scaling,
            ridge: match self.ridge {
                RidgeArg::Fixed(r) => r,
                RidgeArg::Auto => ForecastConfig::default().ridge,
            },
            ..self.fixed.config(self.seed, self.washout)
        }
    }
}

/// `--ridge`: a value, or chosen automatically.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum RidgeArg {
    /// This ridge parameter.
    Fixed(f64),
    /// Chosen on the training pairs.
    Auto,
}

impl std::fmt::Display for RidgeArg {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RidgeArg::Fixed(r) => write!(f, "{r}"),
            RidgeArg::Auto => write!(f, "auto"),
        }
    }
}

fn parse_ridge(s: &str) -> Result<RidgeArg, String> {
    if s.eq_ignore_ascii_case("auto") {
        return Ok(RidgeArg::Auto);
    }
    match s.parse::<f64>() {
        Ok(r) if r.is_finite() && r >= 0.0 => Ok(RidgeArg::Fixed(r)),
        _ => Err(format!("{s:?} is neither `auto` nor a finite number >= 0")),
    }
}

/// Reservoir options that `huashi esn search` keeps fixed (with the seed
/// and the washout, which each command documents in its own words).
#[derive(Debug, Clone, Args)]
pub struct FixedArgs {
    /// Fraction of non-zero recurrent weights, in (0, 1].
    #[arg(long, value_name = "C", default_value_t = ForecastConfig::default().connectivity)]
    pub connectivity: f64,
    /// Fraction of units that receive the input, in (0, 1].
    #[arg(long, value_name = "C", default_value_t = ForecastConfig::default().input_connectivity)]
    pub input_connectivity: f64,
    /// Scale of the (Bernoulli ±1) unit biases.
    #[arg(long, value_name = "B", default_value_t = ForecastConfig::default().bias_scaling)]
    pub bias_scaling: f64,
}

impl FixedArgs {
    /// The library's default hyper-parameters with these options, `seed`
    /// and `washout`.
    pub fn config(&self, seed: u64, washout: usize) -> ForecastConfig {
        ForecastConfig {
            connectivity: self.connectivity,
            input_connectivity: self.input_connectivity,
            bias_scaling: self.bias_scaling,
            seed,
            washout,
            ..ForecastConfig::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Debug, Parser)]
    struct Wrapper {
        #[command(flatten)]
        reservoir: ReservoirArgs,
    }

    #[test]
    fn clap_defaults_are_the_library_defaults() {
        let parsed = Wrapper::parse_from(["x"]).reservoir.config();
        assert_eq!(parsed, ForecastConfig::default());
    }
}
