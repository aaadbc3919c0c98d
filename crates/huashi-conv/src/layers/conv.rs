//! [`Conv2d`] (standard and grouped) and [`PointwiseConv2d`] (1×1).

use super::{add_bias, input_size, make_bias, make_weight, to_candle, Conv2dConfig};
use crate::error::{Error, Result};
use crate::ops::conv2d;
use candle_core::{Module, Tensor};
use candle_nn::VarBuilder;

/// A 2-D convolution layer (PyTorch `nn.Conv2d`), weight
/// `(C_out, C_in/groups, kh, kw)`, optional bias `(C_out)`.
#[derive(Debug, Clone)]
pub struct Conv2d {
    weight: Tensor,
    bias: Option<Tensor>,
    config: Conv2dConfig,
}

impl Conv2d {
    /// Creates the layer, its parameters named `weight` and `bias` under `vb`.
    pub fn new(
        in_channels: usize,
        out_channels: usize,
        kernel: [usize; 2],
        config: Conv2dConfig,
        vb: VarBuilder,
    ) -> Result<Self> {
        config.check(in_channels, out_channels, kernel)?;
        let shape = [
            out_channels,
            in_channels / config.groups,
            kernel[0],
            kernel[1],
        ];
        let weight = make_weight(&vb, shape)?;
        let fan_in = shape[1] * kernel[0] * kernel[1];
        let bias = config
            .bias
            .then(|| make_bias(&vb, out_channels, fan_in))
            .transpose()?;
        Ok(Conv2d {
            weight,
            bias,
            config,
        })
    }

    /// Wraps existing tensors; checks their shapes against `config`. The layer
    /// has a bias exactly when `bias` is given (`config.bias` is ignored).
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
        config.check(per_group * config.groups, out_channels, [kh, kw])?;
        if let Some(b) = &bias {
            if b.dims() != [out_channels] {
                return Err(Error::ShapeMismatch {
                    what: "bias",
                    expected: vec![out_channels],
                    got: b.dims().to_vec(),
                });
            }
        }
        Ok(Conv2d {
            weight,
            bias: bias.filter(|_| config.bias),
            config,
        })
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
        &self.config
    }
    /// Input channels.
    pub fn in_channels(&self) -> usize {
        self.weight.dims()[1] * self.config.groups
    }
    /// Output channels.
    pub fn out_channels(&self) -> usize {
        self.weight.dims()[0]
    }
    /// Kernel `[kh, kw]`.
    pub fn kernel(&self) -> [usize; 2] {
        [self.weight.dims()[2], self.weight.dims()[3]]
    }

    /// The forward pass with typed errors.
    pub fn try_forward(&self, x: &Tensor) -> Result<Tensor> {
        let size = input_size(x, self.in_channels(), "conv2d input")?;
        let geometry = self.config.geometry(size, self.kernel())?;
        add_bias(conv2d(x, &self.weight, &geometry)?, self.bias.as_ref())
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
    pub fn new(
        in_channels: usize,
        out_channels: usize,
        bias: bool,
        vb: VarBuilder,
    ) -> Result<Self> {
        let config = Conv2dConfig {
            bias,
            ..Conv2dConfig::default()
        };
        Ok(PointwiseConv2d {
            inner: Conv2d::new(in_channels, out_channels, [1, 1], config, vb)?,
        })
    }
    /// The underlying convolution.
    pub fn conv(&self) -> &Conv2d {
        &self.inner
    }
    /// The forward pass with typed errors.
    pub fn try_forward(&self, x: &Tensor) -> Result<Tensor> {
        self.inner.try_forward(x)
    }
}

impl Module for PointwiseConv2d {
    fn forward(&self, x: &Tensor) -> candle_core::Result<Tensor> {
        self.try_forward(x).map_err(to_candle)
    }
}
