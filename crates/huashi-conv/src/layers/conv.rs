//! [`Conv2d`] (standard and grouped) and [`PointwiseConv2d`] (1×1).

use super::{conv_stages, make_params, to_candle, Conv2dConfig};
use crate::error::{Error, Result};
use crate::family::{ConvLayer, ConvStage, Stage};
use candle_core::{Module, Tensor};
use candle_nn::VarBuilder;

/// A 2-D convolution layer (PyTorch `nn.Conv2d`), weight
/// `(C_out, C_in/groups, kh, kw)`, optional bias `(C_out)`: the
/// [`ConvStage`] of [`crate::family`] with its tensors.
#[derive(Debug, Clone)]
pub struct Conv2d {
    stage: ConvStage,
    weight: Tensor,
    bias: Option<Tensor>,
}

impl Conv2d {
    /// Creates the layer, its parameters named `weight` and `bias` under `vb`.
    ///
    /// # Errors
    /// The geometry errors of [`Conv2dConfig::check`]; candle's when `vb`
    /// holds a tensor of another shape.
    pub fn new(
        in_channels: usize,
        out_channels: usize,
        kernel: [usize; 2],
        config: Conv2dConfig,
        vb: VarBuilder,
    ) -> Result<Self> {
        Self::from_stage(
            ConvStage::new(in_channels, out_channels, kernel, config)?,
            vb,
        )
    }

    /// Creates the parameters of `stage` under `vb`.
    ///
    /// # Errors
    /// Candle's when `vb` holds a tensor of another shape.
    pub fn from_stage(stage: ConvStage, vb: VarBuilder) -> Result<Self> {
        let (weight, bias) = make_params(&vb, &Stage::Conv(stage))?;
        Ok(Conv2d {
            stage,
            weight,
            bias,
        })
    }

    /// Wraps existing tensors; checks their shapes against `config`. The layer
    /// has a bias exactly when `bias` is given (`config.bias` is ignored).
    ///
    /// # Errors
    /// A weight that is not 4-D, a bias that is not `(C_out)`, or the geometry
    /// errors of [`Conv2dConfig::check`].
    pub fn from_tensors(
        weight: Tensor,
        bias: Option<Tensor>,
        config: Conv2dConfig,
    ) -> Result<Self> {
        let [out_channels, per_group, kh, kw] = match *weight.dims() {
            [a, b, c, d] => [a, b, c, d],
            _ => {
                return Err(Error::WrongRank {
                    what: "weight",
                    expected: 4,
                    got: weight.dims().to_vec(),
                })
            }
        };
        if let Some(b) = &bias {
            if b.dims() != [out_channels] {
                return Err(Error::ShapeMismatch {
                    what: "bias",
                    expected: vec![out_channels],
                    got: b.dims().to_vec(),
                });
            }
        }
        let config = Conv2dConfig {
            bias: bias.is_some(),
            ..config
        };
        let in_channels = per_group.saturating_mul(config.groups);
        let stage = ConvStage::new(in_channels, out_channels, [kh, kw], config)?;
        Ok(Conv2d {
            stage,
            weight,
            bias,
        })
    }

    /// The stage this layer runs.
    pub fn stage(&self) -> &ConvStage {
        &self.stage
    }
    /// The weight `(C_out, C_in/groups, kh, kw)`.
    pub fn weight(&self) -> &Tensor {
        &self.weight
    }
    /// The bias, if any.
    pub fn bias(&self) -> Option<&Tensor> {
        self.bias.as_ref()
    }
    /// The layer's configuration.
    pub fn config(&self) -> &Conv2dConfig {
        &self.stage.config
    }
    /// Input channels.
    pub fn in_channels(&self) -> usize {
        self.stage.in_channels
    }
    /// Output channels.
    pub fn out_channels(&self) -> usize {
        self.stage.out_channels
    }
    /// Kernel `[kh, kw]`.
    pub fn kernel(&self) -> [usize; 2] {
        self.stage.kernel
    }

    /// The forward pass with typed errors.
    ///
    /// # Shapes
    /// `x (N, C_in, H, W)` → `(N, C_out, Ho, Wo)`.
    ///
    /// # Errors
    /// A wrong input shape or a geometry that does not fit the input.
    pub fn try_forward(&self, x: &Tensor) -> Result<Tensor> {
        self.stage.forward(x, &self.weight, self.bias.as_ref())
    }
}

impl Module for Conv2d {
    fn forward(&self, x: &Tensor) -> candle_core::Result<Tensor> {
        self.try_forward(x).map_err(to_candle)
    }
}

/// A pointwise (1×1) convolution: a per-pixel linear map of channels, run as
/// one matrix product per sample with no im2col.
#[derive(Debug, Clone)]
pub struct PointwiseConv2d {
    inner: Conv2d,
}

impl PointwiseConv2d {
    /// Creates the layer (`weight (C_out, C_in, 1, 1)`, optional `bias`).
    ///
    /// # Errors
    /// The errors of [`ConvLayer::pointwise`]; candle's when `vb` holds a tensor of
    /// another shape.
    pub fn new(
        in_channels: usize,
        out_channels: usize,
        bias: bool,
        vb: VarBuilder,
    ) -> Result<Self> {
        let layer = ConvLayer::pointwise(in_channels, out_channels, bias)?;
        let [inner] = conv_stages(&layer, &vb)?;
        Ok(PointwiseConv2d { inner })
    }
    /// The underlying convolution.
    pub fn conv(&self) -> &Conv2d {
        &self.inner
    }
    /// The forward pass with typed errors.
    ///
    /// # Shapes
    /// `x (N, C_in, H, W)` → `(N, C_out, H, W)`.
    ///
    /// # Errors
    /// As [`Conv2d::try_forward`].
    pub fn try_forward(&self, x: &Tensor) -> Result<Tensor> {
        self.inner.try_forward(x)
    }
}

impl Module for PointwiseConv2d {
    fn forward(&self, x: &Tensor) -> candle_core::Result<Tensor> {
        self.try_forward(x).map_err(to_candle)
    }
}
