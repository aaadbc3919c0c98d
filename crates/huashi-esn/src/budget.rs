//! Memory estimates, checked before a reservoir or a readout is allocated.
//!
//! Sizes come from users and files, so every product is checked
//! ([`huashi_io::checked_product`]) and the total is compared with the
//! memory limit ([`huashi_io::check_memory`]) before anything is drawn.
//!
//! A sparse matrix with `nnz` non-zeros costs about [`BYTES_PER_NONZERO`]
//! bytes per non-zero while it is built (the rows as `(usize, f64)` pairs,
//! the CSR arrays and the SIMD copy); the normal equations of the ridge
//! readout hold `XᵀX` (`F × F`) and a copy for the solve.

use crate::config::ReservoirConfig;
use crate::error::Result;
use huashi_io::{check_memory, checked_product, checked_sum};

/// Bytes per non-zero of a sparse matrix while it is built and kept.
pub const BYTES_PER_NONZERO: u64 = 48;

/// Non-zeros per row for connectivity `c` over `n` slots (as drawn).
fn fan(c: f64, n: u64) -> u64 {
    ((c * n as f64).round() as u64).clamp(1, n.max(1))
}

/// Bytes one reservoir of `config` needs with `inputs` input features and
/// `feedback` outputs fed back.
///
/// # Errors
/// [`crate::Error::File`] with an overflow when a size does not fit 64 bits.
pub fn reservoir_bytes(config: &ReservoirConfig, inputs: usize, feedback: usize) -> Result<u64> {
    let n = config.units as u64;
    let what = "the reservoir matrices";
    let w = checked_product(what, &[n, fan(config.connectivity, n), BYTES_PER_NONZERO])?;
    let k_in = fan(config.input_connectivity, n);
    let w_in = checked_product(what, &[inputs as u64, k_in, BYTES_PER_NONZERO])?;
    let w_fb = checked_product(what, &[feedback as u64, n, BYTES_PER_NONZERO])?;
    let vectors = checked_product(what, &[n, 8 * 8])?;
    Ok(checked_sum(what, &[w, w_in, w_fb, vectors])?)
}

/// Fails when one reservoir of `config` would need more memory than the
/// limit.
///
/// # Errors
/// [`crate::Error::File`] naming the reservoir, the estimate and the limit.
pub fn check_reservoir(config: &ReservoirConfig, inputs: usize, feedback: usize) -> Result<()> {
    let bytes = reservoir_bytes(config, inputs, feedback)?;
    let what = format!("a reservoir of {} units", config.units);
    Ok(check_memory(&what, bytes)?)
}

/// What the memory of training depends on: the reservoir layers, whether
/// the outputs feed back and whether the inputs reach the readout directly
/// (the fields of an [`crate::EsnConfig`]).
#[derive(Debug, Clone, Copy)]
pub struct TrainingShape<'a> {
    /// The reservoir layers.
    pub layers: &'a [ReservoirConfig],
    /// Output feedback into the first layer.
    pub feedback: bool,
    /// Inputs fed directly to the readout.
    pub input_to_readout: bool,
}

/// Features `F` of the readout of `config` with `inputs` inputs, checked.
///
/// # Errors
/// [`crate::Error::File`] with an overflow when the sum does not fit.
pub fn readout_features(config: TrainingShape, inputs: usize) -> Result<u64> {
    let what = "the readout's features";
    let direct = if config.input_to_readout { inputs } else { 0 } as u64;
    let states = config
        .layers
        .iter()
        .try_fold(0u64, |a, l| checked_sum(what, &[a, l.units as u64]))?;
    Ok(checked_sum(what, &[states, direct, 1])?)
}

/// Bytes [`crate::EsnTrainer::new`] and the ridge solve need for `config`
/// with `inputs` inputs and `outputs` outputs: every reservoir, and the
/// normal equations (`XᵀX` twice, `XᵀY`, the weights).
///
/// # Errors
/// [`crate::Error::File`] with an overflow when a size does not fit.
pub fn training_bytes(config: TrainingShape, inputs: usize, outputs: usize) -> Result<u64> {
    let what = "the ESN's training memory";
    let fb = if config.feedback { outputs } else { 0 };
    let mut total = 0u64;
    let (mut layer_inputs, mut layer_fb) = (inputs, fb);
    for layer in config.layers {
        total = checked_sum(
            what,
            &[total, reservoir_bytes(layer, layer_inputs, layer_fb)?],
        )?;
        (layer_inputs, layer_fb) = (layer.units, 0);
    }
    let f = readout_features(config, inputs)?;
    let xtx = checked_product(what, &[f, f, 2 * 8])?;
    let xty = checked_product(what, &[f, outputs as u64, 3 * 8])?;
    Ok(checked_sum(what, &[total, xtx, xty])?)
}

/// Fails when training `config` would need more memory than the limit.
///
/// # Errors
/// [`crate::Error::File`] naming the ESN, the estimate and the limit (or
/// an overflow).
pub fn check_training(config: TrainingShape, inputs: usize, outputs: usize) -> Result<()> {
    let bytes = training_bytes(config, inputs, outputs)?;
    let units: Vec<usize> = config.layers.iter().map(|l| l.units).collect();
    let what = format!("an ESN with {units:?} units (reservoir and XᵀX)");
    Ok(check_memory(&what, bytes)?)
}

/// Fails when a `rows × cols` matrix of f64 (`what`) would not fit.
///
/// # Errors
/// [`crate::Error::File`] with an overflow or the memory limit.
pub fn check_matrix(what: &str, rows: usize, cols: usize) -> Result<()> {
    let bytes = checked_product(what, &[rows as u64, cols as u64, 8])?;
    Ok(check_memory(what, bytes)?)
}
