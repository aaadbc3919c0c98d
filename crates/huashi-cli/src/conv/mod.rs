//! `huashi conv …`: convolution tools.

pub mod compare;
pub mod factorize;

use clap::Subcommand;

#[derive(Debug, Subcommand)]
pub enum ConvCommand {
    /// Compare standard, grouped, depthwise-separable, spatially separable and
    /// 1×1 convolutions with the same input and output channels: parameters,
    /// MACs, FLOPs (= 2·MACs), output shape, and measured forward and
    /// forward+backward median times on this machine.
    Compare(compare::CompareArgs),
    /// Factorise a trained k×k convolution kernel into a rank-R bank of
    /// spatially separable filters (k×1 then 1×k, summed) by SVD, report the
    /// relative error per rank and the cost of the bank, and save it.
    Factorize(factorize::FactorizeArgs),
}

pub fn run(command: &ConvCommand) -> anyhow::Result<()> {
    match command {
        ConvCommand::Compare(args) => compare::run(args),
        ConvCommand::Factorize(args) => factorize::run(args),
    }
}
