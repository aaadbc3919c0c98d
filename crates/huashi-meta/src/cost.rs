//! What one meta-iteration costs, estimated from the network description
//! before anything is built: parameters, multiply-accumulates and the peak
//! memory of activations.
//!
//! With `M` the forward MACs and `A` the activation floats of one example
//! (every node's output and the input, from huashi-net's analysis), `P` the
//! learned parameters, `T` tasks per meta-batch, `k` inner steps, `n_s`
//! support and `n_q` query examples per task, and counting a backward pass
//! as two forward passes (input and weight gradients):
//!
//! | algorithm | MACs per meta-iteration | activation floats at the peak |
//! |---|---|---|
//! | MAML (2nd order), Meta-SGD | `T·M·(9·k·n_s + 3·n_q)` | `T·A·(12 + 10·k·n_s + n_q)` |
//! | first-order MAML, ANIL, Reptile, pretrain | `T·M·3·(k·n_s + n_q)` | `T·A·(16 + k·n_s + 2·n_q)` |
//! | Prototypical Networks | `T·M·3·(n_s + n_q)` | `T·A·(12 + 5·(n_s + n_q))/2` |
//!
//! MACs: an inner step is a forward and a backward pass (3 passes); second
//! order differentiates through it again (6 more). Memory: second order
//! keeps every inner step's forward and backward graph until the
//! meta-gradient. The memory constants are measured, not derived: the peak
//! resident memory of `huashi bench meta` above the task data, divided by
//! `T·A`, on the papers' Omniglot CNN (`A` = 51,797 floats) with 1 and 2 inner
//! steps, 1 and 5 shots, meta-batches 8 to 32 (PERF.md, "Memory of a
//! meta-iteration"). They include what the kernels keep besides each node's
//! output (im2col buffers, gradients, candle's gradient accumulation) and a
//! per-task part. The estimate came within 0.95–1.2× of the measured peak
//! there; a network with other kernels can differ more. Parameters add `P·T·(k + 1)·2` floats (each step's
//! adapted copy and its gradient) for the MAML family, `P·4` otherwise (the
//! parameters, their gradient and Adam's two moments). Bytes are f32.
//! ANIL counts as first order: its inner steps differentiate the head only.

use crate::algorithm::{Algorithm, Hyper};
use crate::error::Result;
use crate::model::ModelSpec;
use crate::tasks::TaskSpec;
use huashi_io::{checked_product, checked_sum};
use serde::Serialize;

/// The estimated cost of one meta-iteration (module docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct IterationCost {
    /// Support examples of one task `n_s`.
    pub support_examples: u64,
    /// Query examples of one task `n_q`.
    pub query_examples: u64,
    /// Learned parameters `P`.
    pub params: u64,
    /// Forward MACs of one example `M`.
    pub macs_per_example: u64,
    /// MACs of one meta-iteration.
    pub macs: u64,
    /// Activation floats of one example `A`.
    pub activations_per_example: u64,
    /// Estimated peak bytes of activations and parameter copies.
    pub peak_bytes: u64,
}

impl IterationCost {
    /// The estimate for `tasks` tasks of `task` on `model` with `steps`
    /// inner steps of `algorithm`.
    ///
    /// # Errors
    /// The network's analysis errors; an overflow error when a count does
    /// not fit 64 bits.
    pub fn estimate(
        model: &ModelSpec,
        task: &TaskSpec,
        algorithm: Algorithm,
        tasks: usize,
        steps: usize,
    ) -> Result<IterationCost> {
        let analysis = model.network().analyse(model.input)?;
        let params = analysis.totals.params;
        let macs_per_example = analysis.totals.macs;
        let outputs: Vec<u64> = (analysis.nodes.iter())
            .map(|n| n.output.numel().map_or(u64::MAX, |v| v as u64))
            .collect();
        let activations = checked_sum("the activations of one example", &outputs)?;
        let (support, query) = task.support_query()?;
        let [t, k] = [tasks as u64, steps as u64];
        let what = "the cost of a meta-iteration";
        let mul = |v: &[u64]| checked_product(what, v);
        let sum = |v: &[u64]| checked_sum(what, v);
        let (passes, kept, param_floats) = match algorithm {
            Algorithm::Maml | Algorithm::Metasgd => (
                sum(&[mul(&[9, k, support])?, mul(&[3, query])?])?,
                sum(&[12, mul(&[10, k, support])?, query])?,
                mul(&[params, t, k + 1, 2])?,
            ),
            Algorithm::Protonet => {
                let all = sum(&[support, query])?;
                (
                    mul(&[3, all])?,
                    sum(&[12, mul(&[5, all])?])? / 2,
                    mul(&[params, 4])?,
                )
            }
            _ => (
                mul(&[3, sum(&[mul(&[k, support])?, query])?])?,
                sum(&[16, mul(&[k, support])?, mul(&[2, query])?])?,
                mul(&[params, 4])?,
            ),
        };
        let activation_floats = mul(&[t, kept, activations])?;
        let floats = checked_sum(what, &[activation_floats, param_floats])?;
        Ok(IterationCost {
            support_examples: support,
            query_examples: query,
            params,
            macs_per_example,
            macs: mul(&[t, macs_per_example, passes])?,
            activations_per_example: activations,
            peak_bytes: mul(&[floats, 4])?,
        })
    }

    /// The estimate for a training meta-iteration of `hyper`.
    ///
    /// # Errors
    /// As [`IterationCost::estimate`].
    pub fn of_training(model: &ModelSpec, task: &TaskSpec, hyper: &Hyper) -> Result<Self> {
        let steps = hyper.train_steps();
        Self::estimate(model, task, hyper.algorithm, hyper.meta_batch, steps)
    }
}
