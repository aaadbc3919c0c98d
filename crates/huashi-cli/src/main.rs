//! `huashi` — the command-line face of the huashi toolkit.
//!
//! The command tree is here (`Cli` and one enum per family); each family
//! has a folder with a file per command. A command parses its options into a
//! library type, calls the library and reports. Commands never import each
//! other's files.
//!
//! - [`tour`]: the report of what each capability does (`huashi tour`);
//! - [`conv`]: `conv compare`, `conv factorize`;
//! - [`net`]: `summary`, `rf`, `erf` on network descriptions (zoo or files);
//! - [`esn`]: echo state networks (`esn fit|forecast|search|bench|classify|nvar`);
//! - [`meta`]: meta-learning (`meta train|eval`);
//! - [`data`]: `data fetch`;
//! - [`bench`](mod@bench): `bench conv|meta` beside the machine's floors.
//!
//! Shared pieces: [`report`] (tables, PNG plots, timings and progress bars),
//! [`parse`] (option parsers), [`rng`] (seeded test data), [`alloc`] (malloc
//! tuning).

mod alloc;
mod bench;
mod conv;
mod data;
mod esn;
mod meta;
mod net;
mod parse;
mod report;
mod rng;
mod tour;

use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};
use std::process::ExitCode;

/// huashi (花式): convolutions of every useful shape, echo state networks and
/// meta-learning on candle, with fast CPU kernels.
///
/// Start with `huashi tour`, which writes a Markdown report with PNG plots of
/// what each capability does, measured on this machine.
#[derive(Debug, Parser)]
#[command(name = "huashi", version, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Write a short report (Markdown + PNG plots) of what each capability
    /// does, with numbers measured on this machine.
    ///
    /// Convolutions: conv arithmetic (output sizes, TensorFlow 'SAME' vs
    /// PyTorch 'same' padding), a check of the fast kernels against a naive
    /// loop, a receptive field drawn from the input gradient, separable
    /// factorisation by SVD, and a params/MACs table with measured times of
    /// standard, grouped, depthwise-separable, spatially separable and 1×1
    /// convolutions. Echo state networks: Mackey-Glass in closed loop, and the
    /// embedded S&P 500 series forecast beside the naive baselines.
    /// Meta-learning: a short MAML run on sinusoids beside the pretrained
    /// baseline, and a Prototypical Network on the embedded Omniglot.
    Tour(tour::TourArgs),
    /// Convolution tools: compare variants, factorise trained kernels.
    #[command(subcommand)]
    Conv(ConvCommand),
    /// Benchmarks against candle's built-in ops and hardware floors.
    #[command(subcommand)]
    Bench(BenchCommand),
    /// Echo state networks (reservoir computing) for time series: fit,
    /// forecast, hyper-parameter search and benchmarks.
    #[command(subcommand)]
    Esn(EsnCommand),
    /// A torchinfo/Keras-like summary of a network (a zoo model or a TOML/JSON
    /// description file): per layer the output shape, parameters, MACs and
    /// receptive field (size, effective stride, effective padding), with
    /// totals (trainable parameters, batch-norm moving statistics separately,
    /// MACs and FLOPs = 2·MACs).
    Summary(net::summary::SummaryArgs),
    /// The receptive field of one end point (or of every node) of a network,
    /// per axis: size, effective stride, effective padding, the centre of the
    /// first output unit and the input region seen by output unit (0, 0).
    Rf(net::rf::RfArgs),
    /// The effective receptive field of an end point (Luo et al., NeurIPS
    /// 2016): the mean |∂y/∂x| of its centre unit over random inputs and
    /// initialisations as a PNG heatmap, with the radius holding 95 % of the
    /// gradient mass and a Gaussian σ beside the theoretical field.
    Erf(net::erf::ErfArgs),
    /// Meta-learning: train MAML, first-order MAML, Reptile, ANIL, Meta-SGD or
    /// Prototypical Networks on sinusoids or few-shot Omniglot, and evaluate.
    #[command(subcommand)]
    Meta(MetaCommand),
    /// Data sets: download those too large to embed (`data fetch omniglot`).
    #[command(subcommand)]
    Data(data::DataCommand),
}

#[derive(Debug, Subcommand)]
enum ConvCommand {
    /// Compare standard, grouped, depthwise-separable, spatially separable and
    /// 1×1 convolutions with the same input and output channels: parameters,
    /// MACs, FLOPs (= 2·MACs), output shape, and measured forward and
    /// forward+backward median times on this machine.
    Compare(conv::compare::CompareArgs),
    /// Factorise a trained k×k convolution kernel into a rank-R bank of
    /// spatially separable filters (k×1 then 1×k, summed) by SVD, report the
    /// relative error per rank and the cost of the bank, and save it.
    Factorize(conv::factorize::FactorizeArgs),
}

#[derive(Debug, Subcommand)]
enum BenchCommand {
    /// Benchmark huashi's convolution kernels (forward and forward+backward)
    /// on three standard cases beside candle's built-in conv2d and the
    /// machine's floors (the FMA peak of all threads, the fastest GEMM
    /// orientation of the same FLOP count and, for depthwise, a memory-copy
    /// floor), and check the targets of the project.
    Conv(bench::conv::BenchArgs),
    /// Meta-training throughput (meta-iterations/s and tasks/s): sinusoid MAML
    /// and 5-way 1-shot Omniglot MAML (second order), first-order MAML and
    /// Prototypical Networks, with the papers' settings.
    Meta(bench::meta::BenchMetaArgs),
}

#[derive(Debug, Subcommand)]
enum EsnCommand {
    /// Train an ESN on one column of a CSV file (default: the embedded S&P 500
    /// daily closes, 1999–2018), print NRMSE and R² on the test split beside
    /// the naive baselines, plot forecast vs truth and save the model.
    Fit(esn::fit::FitArgs),
    /// Load a saved ESN, predict a CSV column with it (scored against the
    /// naive baselines) and optionally free-run it beyond the data.
    Forecast(esn::forecast::ForecastArgs),
    /// Random hyper-parameter search (units, spectral radius, leak rate, input
    /// scaling, ridge) in parallel, scored on a validation split; prints the
    /// best parameters and the top trials.
    Search(esn::search::SearchArgs),
    /// Standard ESN benchmarks with timings: Mackey-Glass one-step and
    /// 100-step closed loop, NARMA-10 and the memory capacity of a 100-unit
    /// reservoir.
    Bench(esn::bench::EsnBenchArgs),
    /// Classify sequences with a reservoir (default: the embedded UCI
    /// Japanese Vowels data): pooled states and a one-hot ridge readout;
    /// accuracy over seeds, per-class precision/recall, confusion PNG.
    Classify(esn::classify::ClassifyArgs),
    /// Next-generation reservoir computing (NVAR, Gauthier et al. 2021):
    /// fit on a series, one-step and closed-loop NRMSE, forecast PNG
    /// (default: the paper's Lorenz-63 protocol).
    Nvar(esn::nvar::NvarArgs),
}

#[derive(Debug, Subcommand)]
enum MetaCommand {
    /// Meta-train a model (MAML, first-order MAML, Reptile, ANIL, Meta-SGD,
    /// Prototypical Networks, or the pretrained baseline) on sinusoid
    /// regression or N-way K-shot Omniglot or an image folder, with
    /// validation, checkpoints (`--resume` continues exactly) and a final
    /// test on ≥ 600 held-out tasks with 95 % confidence intervals.
    Train(Box<meta::train::TrainArgs>),
    /// Evaluate a checkpoint on held-out tasks (mean ± 95 % CI), or on the 20
    /// official one-shot runs of Lake et al. 2015 (`--benchmark lake-runs`);
    /// for sinusoids, also plot the adapted curves after 0, 1 and 10 steps.
    Eval(meta::eval::EvalArgs),
}

fn main() -> ExitCode {
    alloc::tune();
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}

/// Sets `RAYON_NUM_THREADS` (unless the user did) to the thread count
/// rayon's pool uses anyway. Without it candle asks for the number of
/// physical cores on every matrix product, and on Linux that parses
/// `/proc/cpuinfo` each time: 17 % of sinusoid MAML's training time in a
/// profile (PERF.md).
fn fix_thread_count() {
    if std::env::var_os("RAYON_NUM_THREADS").is_none() {
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
        std::env::set_var("RAYON_NUM_THREADS", threads.to_string());
    }
}

fn run() -> anyhow::Result<()> {
    // Second-order gradients need candle not to detach gradients; this must be
    // set before the first backward pass of any thread (huashi_conv::ensure_second_order explains why).
    std::env::set_var("CANDLE_GRAD_DO_NOT_DETACH", "1");
    fix_thread_count();
    report::plot::register_fonts()?;
    let cli = parse_command_line();
    // Ctrl-C or SIGTERM removes the temporary files of writes in progress
    // (and a download's staging folder) before the process exits.
    huashi_io::interrupt::remove_on_interrupt()?;
    if matches!(
        cli.command,
        Command::Meta(_) | Command::Bench(BenchCommand::Meta(_))
    ) && std::env::var_os("CANDLE_NUM_THREADS").is_none()
    {
        // Meta-learning runs many small element-wise ops; candle's spinning
        // worker pool costs more than it gains there on a few shared cores
        // (measured: 2× the CPU time, 1.5–3× the wall time). Our convolution
        // kernels keep all threads.
        std::env::set_var("CANDLE_NUM_THREADS", "1");
    }
    match cli.command {
        Command::Tour(args) => tour::run(&args),
        Command::Conv(ConvCommand::Compare(args)) => conv::compare::run(&args),
        Command::Conv(ConvCommand::Factorize(args)) => conv::factorize::run(&args),
        Command::Bench(BenchCommand::Conv(args)) => bench::conv::run(&args),
        Command::Bench(BenchCommand::Meta(args)) => bench::meta::run(&args),
        Command::Esn(EsnCommand::Fit(args)) => esn::fit::run(&args),
        Command::Esn(EsnCommand::Forecast(args)) => esn::forecast::run(&args),
        Command::Esn(EsnCommand::Search(args)) => esn::search::run(&args),
        Command::Esn(EsnCommand::Bench(args)) => esn::bench::run(&args),
        Command::Esn(EsnCommand::Classify(args)) => esn::classify::run(&args),
        Command::Esn(EsnCommand::Nvar(args)) => esn::nvar::run(&args),
        Command::Summary(args) => net::summary::run(&args),
        Command::Rf(args) => net::rf::run(&args),
        Command::Erf(args) => net::erf::run(&args),
        Command::Meta(MetaCommand::Train(args)) => meta::train::run(&args),
        Command::Meta(MetaCommand::Eval(args)) => meta::eval::run(&args),
        Command::Data(command) => data::run(&command),
    }
}

/// The command line, parsed with negative numbers accepted as values in
/// every subcommand (`--leak -0.5` reaches the check that names the real
/// problem instead of clap's "unexpected argument '-0'").
fn parse_command_line() -> Cli {
    fn allow_negative(command: clap::Command) -> clap::Command {
        command
            .allow_negative_numbers(true)
            .mut_subcommands(allow_negative)
    }
    let matches = allow_negative(Cli::command()).get_matches();
    Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.exit())
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn every_subcommand_and_option_has_help() {
        fn check(cmd: &clap::Command, path: &str) {
            for sub in cmd.get_subcommands() {
                let name = format!("{path} {}", sub.get_name());
                assert!(sub.get_about().is_some(), "`{name}` has no help text");
                for arg in sub.get_arguments() {
                    let id = arg.get_id().as_str();
                    if id == "help" || id == "version" {
                        continue;
                    }
                    assert!(arg.get_help().is_some(), "`{name} --{id}` has no help text");
                }
                check(sub, &name);
            }
        }
        check(&Cli::command(), "huashi");
    }
}
