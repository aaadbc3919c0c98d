//! [`ConvTranspose2d`]: the transposed convolution (PyTorch
//! `nn.ConvTranspose2d`), i.e. the input gradient of the convolution with the
//! same geometry, used as a layer. Output size per axis:
//! `(i − 1)·s − p_lo − p_hi + d·(k − 1) + 1 + output_padding`.

use super::{add_bias, input_size, make_bias, to_candle};
use crate::error::Result;
use crate::geometry::{check_kernel_stride_dilation, ConvGeometry};
use crate::ops::conv_transpose2d;
use candle_core::{Module, Tensor};
use candle_nn::VarBuilder;

/// Configuration of a [`ConvTranspose2d`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConvTranspose2dConfig {
    /// Stride `[sh, sw]`.
    pub stride: [usize; 2],
    /// Dilation `[dh, dw]`.
    pub dilation: [usize; 2],
    /// Padding `[top, bottom, left, right]` removed from the full output.
    pub padding: [usize; 4],
    /// Extra rows/columns at the bottom/right, `< max(stride, dilation)`.
    pub output_padding: [usize; 2],
    /// Number of groups.
    pub groups: usize,
    /// Whether the layer adds a bias.
    pub bias: bool,
}

impl Default for ConvTranspose2dConfig {
    fn default() -> Self {
        ConvTranspose2dConfig {
            stride: [1, 1],
            dilation: [1, 1],
            padding: [0; 4],
            output_padding: [0, 0],
            groups: 1,
            bias: true,
        }
    }
}

impl ConvTranspose2dConfig {
    /// The shared convolution geometry (without `output_padding`).
    pub fn geometry(&self) -> ConvGeometry {
        ConvGeometry {
            stride: self.stride,
            dilation: self.dilation,
            padding: self.padding,
            groups: self.groups,
        }
    }
}

/// A transposed convolution layer; weight `(C_in, C_out/groups, kh, kw)` as in PyTorch.
#[derive(Debug, Clone)]
pub struct ConvTranspose2d {
    weight: Tensor,
    bias: Option<Tensor>,
    config: ConvTranspose2dConfig,
}

impl ConvTranspose2d {
    /// Creates the layer, parameters `weight` and `bias` under `vb`.
    pub fn new(
        in_channels: usize,
        out_channels: usize,
        kernel: [usize; 2],
        config: ConvTranspose2dConfig,
        vb: VarBuilder,
    ) -> Result<Self> {
        config
            .geometry()
            .check_channels(in_channels, out_channels)?;
        check_kernel_stride_dilation(kernel, config.stride, config.dilation)?;
        config
            .geometry()
            .check_output_padding(config.output_padding)?;
        let per_group = out_channels / config.groups;
        let shape = [in_channels, per_group, kernel[0], kernel[1]];
        // PyTorch computes fan_in from weight.size(1) * kh * kw for transposed convs.
        let fan_in = per_group * kernel[0] * kernel[1];
        let bound = 1.0 / (fan_in.max(1) as f64).sqrt();
        let weight = vb.get_with_hints(
            shape.to_vec(),
            "weight",
            candle_nn::Init::Uniform {
                lo: -bound,
                up: bound,
            },
        )?;
        let bias = config
            .bias
            .then(|| make_bias(&vb, out_channels, fan_in))
            .transpose()?;
        Ok(ConvTranspose2d {
            weight,
            bias,
            config,
        })
    }
    /// The weight `(C_in, C_out/groups, kh, kw)`.
    pub fn weight(&self) -> &Tensor {
        &self.weight
    }
    /// The bias, if any.
    pub fn bias(&self) -> Option<&Tensor> {
        self.bias.as_ref()
    }
    /// The configuration.
    pub fn config(&self) -> &ConvTranspose2dConfig {
        &self.config
    }
    /// The forward pass with typed errors.
    pub fn try_forward(&self, x: &Tensor) -> Result<Tensor> {
        input_size(x, self.weight.dims()[0], "conv_transpose2d input")?;
        let y = conv_transpose2d(
            x,
            &self.weight,
            &self.config.geometry(),
            self.config.output_padding,
        )?;
        add_bias(y, self.bias.as_ref())
    }
}

impl Module for ConvTranspose2d {
    fn forward(&self, x: &Tensor) -> candle_core::Result<Tensor> {
        self.try_forward(x).map_err(to_candle)
    }
}
