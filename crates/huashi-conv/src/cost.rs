//! Parameters, multiply-accumulates (MACs) and FLOPs (= 2·MACs) per layer.
//!
//! For a convolution producing `N × C_out × Ho × Wo` with kernel `kh × kw`
//! and `groups` groups, `MACs = N · C_out · Ho · Wo · (C_in/groups) · kh · kw`;
//! a transposed convolution from `N × C_in × H × W` costs
//! `N · C_in · H · W · (C_out/groups) · kh · kw`. Bias additions and pooling
//! are not counted as MACs (as torchinfo and the papers do). Parameters count
//! weights and biases.

use crate::error::{Error, Result};

/// The cost of one layer for one input shape.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct LayerCost {
    /// Output shape `[N, C, H, W]`.
    pub output_shape: [usize; 4],
    /// Trainable parameters (weights + biases).
    pub params: u64,
    /// Multiply-accumulates for the whole input batch.
    pub macs: u64,
}

impl LayerCost {
    /// Floating-point operations, counted as `2 · MACs` (exact: every
    /// [`Cost::cost`] checks that it fits 64 bits).
    pub fn flops(&self) -> u64 {
        self.macs.saturating_mul(2)
    }

    /// Chains two stages: the second's output, summed params and MACs.
    ///
    /// # Errors
    /// [`Error::CostOverflow`] when a sum (or the FLOPs) does not fit 64 bits.
    pub fn then(self, next: LayerCost) -> Result<LayerCost> {
        let sum = |what, a: u64, b: u64| {
            a.checked_add(b).ok_or_else(|| Error::CostOverflow {
                what,
                detail: format!("the sum of {a} and {b}"),
            })
        };
        checked(LayerCost {
            output_shape: next.output_shape,
            params: sum("the parameter count", self.params, next.params)?,
            macs: sum("the MAC count", self.macs, next.macs)?,
        })
    }
}

/// The product of `factors`, or [`Error::CostOverflow`] naming `what`.
pub(crate) fn product(what: &'static str, factors: &[usize]) -> Result<u64> {
    factors
        .iter()
        .try_fold(1u64, |acc, &f| acc.checked_mul(f as u64))
        .ok_or_else(|| Error::CostOverflow {
            what,
            detail: format!("the product of {factors:?}"),
        })
}

/// `cost` if its FLOPs (`2·MACs`) fit 64 bits.
pub(crate) fn checked(cost: LayerCost) -> Result<LayerCost> {
    match cost.macs.checked_mul(2) {
        Some(_) => Ok(cost),
        None => Err(Error::CostOverflow {
            what: "the FLOP count",
            detail: format!("2·{} MACs", cost.macs),
        }),
    }
}

/// Layers that can report their cost for an input shape `[N, C, H, W]`.
pub trait Cost {
    /// Output shape, parameters and MACs for `input`.
    fn cost(&self, input: [usize; 4]) -> Result<LayerCost>;
}

/// Rejects an input shape whose channel count is not the layer's.
pub(crate) fn check_channels(input: [usize; 4], channels: usize) -> Result<[usize; 4]> {
    if input[1] != channels {
        let expected = vec![input[0], channels, input[2], input[3]];
        return Err(Error::ShapeMismatch {
            what: "input shape",
            expected,
            got: input.to_vec(),
        });
    }
    Ok(input)
}
