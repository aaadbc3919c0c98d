//! `huashi bench …`: benchmarks beside candle's built-in ops and the
//! machine's floors.

mod cases;
pub mod conv;
mod fma_peak;
mod gemm_floor;
pub mod meta;
mod report;

use clap::Subcommand;

#[derive(Debug, Subcommand)]
pub enum BenchCommand {
    /// Benchmark huashi's convolution kernels (forward and forward+backward)
    /// on three standard cases beside candle's built-in conv2d and the
    /// machine's floors (the FMA peak of all threads, the fastest GEMM
    /// orientation of the same FLOP count and, for depthwise, a memory-copy
    /// floor), and check the targets of the project.
    Conv(conv::BenchArgs),
    /// Meta-training throughput (meta-iterations/s and tasks/s): sinusoid MAML
    /// and 5-way 1-shot Omniglot MAML (second order), first-order MAML and
    /// Prototypical Networks, with the papers' settings.
    Meta(meta::BenchMetaArgs),
}

pub fn run(command: &BenchCommand) -> anyhow::Result<()> {
    match command {
        BenchCommand::Conv(args) => conv::run(args),
        BenchCommand::Meta(args) => meta::run(args),
    }
}
