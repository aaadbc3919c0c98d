//! `huashi esn …`: echo state networks for time-series prediction.
//!
//! One file per subcommand: [`fit`], [`forecast`], [`search`] and
//! [`bench`](mod@bench) (its cases in [`bench_cases`]). Each parses its options into `huashi_esn` types
//! and calls the library (`huashi_esn::forecast` for the protocol and the
//! scores, `huashi_esn::search` for the search). The options they share are
//! in [`options`], the report lines they share in [`print`].

mod bench;
mod bench_cases;
mod fit;
mod forecast;
mod options;
mod print;
mod search;

use clap::Subcommand;

#[derive(Debug, Subcommand)]
pub enum EsnCommand {
    /// Train an ESN on one column of a CSV file (default: the embedded S&P 500
    /// daily closes, 1999–2018), print NRMSE and R² on the test split beside
    /// the naive baselines, plot forecast vs truth and save the model.
    Fit(fit::FitArgs),
    /// Load a saved ESN, predict a CSV column with it (scored against the
    /// naive baselines) and optionally free-run it beyond the data.
    Forecast(forecast::ForecastArgs),
    /// Random hyper-parameter search (units, spectral radius, leak rate, input
    /// scaling, ridge) in parallel, scored on a validation split; prints the
    /// best parameters and the top trials.
    Search(search::SearchArgs),
    /// Standard ESN benchmarks with timings: Mackey-Glass one-step and
    /// 100-step closed loop, NARMA-10 and the memory capacity of a 100-unit
    /// reservoir.
    Bench(bench::EsnBenchArgs),
}

/// Runs one `huashi esn` subcommand.
///
/// # Errors
/// Those of the subcommand.
pub fn run(command: &EsnCommand) -> anyhow::Result<()> {
    match command {
        EsnCommand::Fit(args) => fit::run(args),
        EsnCommand::Forecast(args) => forecast::run(args),
        EsnCommand::Search(args) => search::run(args),
        EsnCommand::Bench(args) => bench::run(args),
    }
}
