//! [`DepthwiseConv2d`] (with depth multiplier) and [`SeparableConv2d`]
//! (depthwise then pointwise, Keras `SeparableConv2D`; Chollet, "Xception",
//! CVPR 2017; Howard et al., "MobileNets", 2017).

use super::{conv_stages, to_candle, Conv2d, Conv2dConfig};
use crate::error::Result;
use crate::family::ConvLayer;
use candle_core::{Module, Tensor};
use candle_nn::VarBuilder;

/// A depthwise convolution: each input channel `c` is convolved with
/// `depth_multiplier` kernels of its own, giving output channels
/// `c·m + q` (PyTorch `Conv2d(groups=C_in)`, Keras `DepthwiseConv2D`).
#[derive(Debug, Clone)]
pub struct DepthwiseConv2d {
    inner: Conv2d,
}

impl DepthwiseConv2d {
    /// Creates the layer; `config.groups` is ignored (it is `in_channels`).
    ///
    /// # Errors
    /// The errors of [`ConvLayer::depthwise`]; candle's when `vb` holds a tensor of
    /// another shape.
    pub fn new(
        in_channels: usize,
        depth_multiplier: usize,
        kernel: [usize; 2],
        config: Conv2dConfig,
        vb: VarBuilder,
    ) -> Result<Self> {
        let layer = ConvLayer::depthwise(in_channels, depth_multiplier, kernel, config)?;
        let [inner] = conv_stages(&layer, &vb)?;
        Ok(DepthwiseConv2d { inner })
    }
    /// The depth multiplier `C_out / C_in`.
    pub fn depth_multiplier(&self) -> usize {
        self.inner.out_channels() / self.inner.in_channels()
    }
    /// The underlying grouped convolution.
    pub fn conv(&self) -> &Conv2d {
        &self.inner
    }
    /// The forward pass with typed errors.
    ///
    /// # Shapes
    /// `x (N, C_in, H, W)` → `(N, C_in·m, Ho, Wo)`.
    ///
    /// # Errors
    /// As [`Conv2d::try_forward`].
    pub fn try_forward(&self, x: &Tensor) -> Result<Tensor> {
        self.inner.try_forward(x)
    }
}

impl Module for DepthwiseConv2d {
    fn forward(&self, x: &Tensor) -> candle_core::Result<Tensor> {
        self.try_forward(x).map_err(to_candle)
    }
}

/// Depthwise-separable convolution as Keras `SeparableConv2D`: a depthwise
/// convolution (multiplier `m`, no bias) then a pointwise 1×1 convolution
/// from `m·C_in` to `C_out` channels with the bias, no activation between.
///
/// Parameters: `C_in·m·kh·kw + m·C_in·C_out (+ C_out)` instead of
/// `C_in·C_out·kh·kw (+ C_out)`; names `depthwise.weight`,
/// `pointwise.weight`, `pointwise.bias`.
#[derive(Debug, Clone)]
pub struct SeparableConv2d {
    depthwise: DepthwiseConv2d,
    pointwise: Conv2d,
}

impl SeparableConv2d {
    /// Creates the layer; `config` applies to the depthwise stage, its `bias`
    /// to the pointwise stage.
    ///
    /// # Errors
    /// The errors of [`ConvLayer::separable`]; candle's when `vb` holds a tensor of
    /// another shape.
    pub fn new(
        in_channels: usize,
        out_channels: usize,
        kernel: [usize; 2],
        depth_multiplier: usize,
        config: Conv2dConfig,
        vb: VarBuilder,
    ) -> Result<Self> {
        let layer =
            ConvLayer::separable(in_channels, out_channels, kernel, depth_multiplier, config)?;
        let [depthwise, pointwise] = conv_stages(&layer, &vb)?;
        let depthwise = DepthwiseConv2d { inner: depthwise };
        Ok(SeparableConv2d {
            depthwise,
            pointwise,
        })
    }
    /// The depthwise stage.
    pub fn depthwise(&self) -> &DepthwiseConv2d {
        &self.depthwise
    }
    /// The pointwise stage.
    pub fn pointwise(&self) -> &Conv2d {
        &self.pointwise
    }
    /// The forward pass with typed errors.
    ///
    /// # Shapes
    /// `x (N, C_in, H, W)` → `(N, C_out, Ho, Wo)`.
    ///
    /// # Errors
    /// As [`Conv2d::try_forward`] for either stage.
    pub fn try_forward(&self, x: &Tensor) -> Result<Tensor> {
        self.pointwise.try_forward(&self.depthwise.try_forward(x)?)
    }
}

impl Module for SeparableConv2d {
    fn forward(&self, x: &Tensor) -> candle_core::Result<Tensor> {
        self.try_forward(x).map_err(to_candle)
    }
}
