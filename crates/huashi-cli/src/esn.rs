//! `huashi esn …`: echo state networks for time-series prediction.
//!
//! The subcommands live in their own files: [`crate::esn_fit`],
//! [`crate::esn_forecast`], [`crate::esn_search_cmd`] (with [`crate::esn_search`]) and [`crate::esn_bench`];
//! the data preparation they share is in [`crate::esn_data`]. This file holds
//! the clap definitions shared between them.

use crate::esn_data::Target;
use clap::{Args, Subcommand};
use huashi_esn::{EsnConfig, InputScaling, ReservoirConfig};
use std::path::PathBuf;

#[derive(Debug, Subcommand)]
pub enum EsnCommand {
    /// Train an ESN on one column of a CSV file (default: the embedded S&P 500
    /// daily closes, 1999–2018), print NRMSE and R² on the test split beside
    /// the naive baselines, plot forecast vs truth and save the model.
    Fit(crate::esn_fit::FitArgs),
    /// Load a saved ESN, predict a CSV column with it (scored against the
    /// naive baselines) and optionally free-run it beyond the data.
    Forecast(crate::esn_forecast::ForecastArgs),
    /// Random hyper-parameter search (units, spectral radius, leak rate, input
    /// scaling, ridge) in parallel, scored on a validation split; prints the
    /// best parameters and the top trials.
    Search(crate::esn_search_cmd::SearchArgs),
    /// Standard ESN benchmarks with timings: Mackey-Glass one-step and
    /// 100-step closed loop, NARMA-10 and the memory capacity of a 100-unit
    /// reservoir.
    Bench(crate::esn_bench::EsnBenchArgs),
}

pub fn run(command: &EsnCommand) -> anyhow::Result<()> {
    match command {
        EsnCommand::Fit(args) => crate::esn_fit::run(args),
        EsnCommand::Forecast(args) => crate::esn_forecast::run(args),
        EsnCommand::Search(args) => crate::esn_search_cmd::run(args),
        EsnCommand::Bench(args) => crate::esn_bench::run(args),
    }
}

/// Where the series comes from and what is predicted.
#[derive(Debug, Clone, Args)]
pub struct DataArgs {
    /// CSV file with a header line [default: the embedded S&P 500 daily
    /// prices 1999–2018, 5,031 rows].
    #[arg(long, value_name = "FILE.csv")]
    pub data: Option<PathBuf>,
    /// Column to read (by header name); required with --data. Other columns
    /// (e.g. dates) are ignored [default for the embedded data: Close].
    #[arg(long, value_name = "NAME")]
    pub column: Option<String>,
    /// What to predict: `next` = the value H steps ahead, x(t+H), in the
    /// series' units; `return` = the log-return ln x(t+H) − ln x(t). Either
    /// way the ESN reads the last one-step change (of x, or of ln x) and
    /// learns the change over the next H steps.
    #[arg(long, value_enum, default_value_t = Target::Next)]
    pub target: Target,
    /// Forecast horizon H in steps (rows).
    #[arg(long, value_name = "H", default_value_t = 1, value_parser = crate::parse::at_least_one)]
    pub horizon: usize,
}

/// Hyper-parameters of the reservoir and readout.
#[derive(Debug, Clone, Args)]
pub struct ReservoirArgs {
    /// Reservoir units N.
    #[arg(long, value_name = "N", default_value_t = 200, value_parser = crate::parse::count::<usize>)]
    pub units: usize,
    /// Spectral radius the recurrent matrix is rescaled to.
    #[arg(long, value_name = "RHO", default_value_t = 0.9)]
    pub spectral_radius: f64,
    /// Leak rate a in (0, 1] (1 = no leak).
    #[arg(long, value_name = "A", default_value_t = 0.3)]
    pub leak: f64,
    /// Scaling of the input weights (inputs are standardised first).
    #[arg(long, value_name = "S", default_value_t = 0.5)]
    pub input_scaling: f64,
    /// Ridge (Tikhonov) parameter of the readout (the default suits noisy
    /// daily prices; smooth signals such as Mackey-Glass want ~1e-6).
    #[arg(long, value_name = "LAMBDA", default_value_t = 1e-2)]
    pub ridge: f64,
    /// Fraction of non-zero recurrent weights, in (0, 1].
    #[arg(long, value_name = "C", default_value_t = 0.1)]
    pub connectivity: f64,
    /// Fraction of units that receive the input, in (0, 1].
    #[arg(long, value_name = "C", default_value_t = 1.0)]
    pub input_connectivity: f64,
    /// Scale of the (Bernoulli ±1) unit biases.
    #[arg(long, value_name = "B", default_value_t = 0.2)]
    pub bias_scaling: f64,
    /// Seed of the reservoir's random weights.
    #[arg(long, default_value_t = 0, value_parser = crate::parse::count::<u64>)]
    pub seed: u64,
    /// Initial training steps left out of the regression.
    #[arg(long, value_name = "STEPS", default_value_t = 100, value_parser = crate::parse::count::<usize>)]
    pub washout: usize,
}

impl ReservoirArgs {
    /// The ESN these options describe. The readout has a bias and also sees
    /// the input directly (so it can fall back on persistence).
    pub fn config(&self) -> EsnConfig {
        let reservoir = ReservoirConfig {
            units: self.units,
            spectral_radius: self.spectral_radius,
            leak_rate: self.leak,
            input_scaling: InputScaling::All(self.input_scaling),
            connectivity: self.connectivity,
            input_connectivity: self.input_connectivity,
            bias_scaling: self.bias_scaling,
            ..ReservoirConfig::default()
        };
        let mut config = EsnConfig::new(reservoir);
        config.ridge = self.ridge;
        config.seed = self.seed;
        config.washout = self.washout;
        config.input_to_readout = true;
        config
    }
}

impl Default for ReservoirArgs {
    fn default() -> Self {
        Self {
            units: 200,
            spectral_radius: 0.9,
            leak: 0.3,
            input_scaling: 0.5,
            ridge: 1e-2,
            connectivity: 0.1,
            input_connectivity: 1.0,
            bias_scaling: 0.2,
            seed: 0,
            washout: 100,
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
    fn clap_defaults_match_default_impl() {
        let parsed = Wrapper::parse_from(["x"]).reservoir.config();
        assert_eq!(parsed, ReservoirArgs::default().config());
        assert!(parsed.input_to_readout);
        assert_eq!(parsed.layers[0].units, 200);
    }
}
