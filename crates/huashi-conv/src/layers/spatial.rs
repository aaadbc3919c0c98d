//! [`SpatiallySeparableConv2d`]: a k×1 convolution then a 1×k convolution
//! (Szegedy et al., "Rethinking the Inception Architecture", CVPR 2016, §3.2).
//!
//! With `C_in → C_mid → C_out` channels the cost is
//! `k·C_in·C_mid + k·C_mid·C_out` parameters instead of `k²·C_in·C_out`.
//! With `C_mid = 1` per channel pair it is exactly a k×k convolution whose
//! kernel is the outer product `v hᵀ`; see [`crate::factorize`] for turning a
//! trained k×k kernel into such filters.

use super::{conv_stages, to_candle, Conv2d, Conv2dConfig};
use crate::error::Result;
use crate::family::ConvLayer;
use candle_core::{Module, Tensor};
use candle_nn::VarBuilder;

/// A `[k, 1]` convolution (`vertical`) followed by a `[1, k]` convolution
/// (`horizontal`, which carries the bias). Stride, dilation and padding are
/// split by axis: the vertical stage handles rows, the horizontal columns.
#[derive(Debug, Clone)]
pub struct SpatiallySeparableConv2d {
    vertical: Conv2d,
    horizontal: Conv2d,
}

impl SpatiallySeparableConv2d {
    /// Creates the layer: `vertical.weight (C_mid, C_in/g, k, 1)`,
    /// `horizontal.weight (C_out, C_mid/g, 1, k)`, `horizontal.bias`.
    ///
    /// # Errors
    /// The errors of [`ConvLayer::spatially_separable`]; candle's when `vb` holds a
    /// tensor of another shape.
    pub fn new(
        in_channels: usize,
        mid_channels: usize,
        out_channels: usize,
        kernel: usize,
        config: Conv2dConfig,
        vb: VarBuilder,
    ) -> Result<Self> {
        let layer = ConvLayer::spatially_separable(
            in_channels,
            Some(mid_channels),
            out_channels,
            [kernel, kernel],
            config,
        )?;
        let [vertical, horizontal] = conv_stages(&layer, &vb)?;
        Ok(SpatiallySeparableConv2d {
            vertical,
            horizontal,
        })
    }
    /// The k×1 stage.
    pub fn vertical(&self) -> &Conv2d {
        &self.vertical
    }
    /// The 1×k stage.
    pub fn horizontal(&self) -> &Conv2d {
        &self.horizontal
    }
    /// The forward pass with typed errors.
    ///
    /// # Shapes
    /// `x (N, C_in, H, W)` → `(N, C_out, Ho, Wo)`.
    ///
    /// # Errors
    /// As [`Conv2d::try_forward`] for either stage.
    pub fn try_forward(&self, x: &Tensor) -> Result<Tensor> {
        self.horizontal.try_forward(&self.vertical.try_forward(x)?)
    }
}

impl Module for SpatiallySeparableConv2d {
    fn forward(&self, x: &Tensor) -> candle_core::Result<Tensor> {
        self.try_forward(x).map_err(to_candle)
    }
}
