//! Convolution and pooling layers as candle [`Module`](candle_core::Module)s.
//!
//! Parameters are created through candle-nn's `VarBuilder` under PyTorch
//! names (`weight`, `bias`; `depthwise.weight`, `pointwise.weight`,
//! `pointwise.bias` for [`SeparableConv2d`]), initialised as PyTorch does
//! (uniform in `±1/√fan_in`), so safetensors checkpoints round-trip and
//! PyTorch state dicts load. Every layer also has `try_forward`, which returns
//! the typed [`Error`]; `Module::forward` wraps it.

mod conv;
mod depthwise;
mod pool;
mod spatial;
mod transpose;

pub use conv::{Conv2d, PointwiseConv2d};
pub use depthwise::{DepthwiseConv2d, SeparableConv2d};
pub use pool::{AvgPool2d, GlobalAvgPool, MaxPool2d};
pub use spatial::SpatiallySeparableConv2d;
pub use transpose::{ConvTranspose2d, ConvTranspose2dConfig};

use crate::error::{Error, Result};
use crate::geometry::{ConvGeometry, Padding};
use candle_core::Tensor;
use candle_nn::{Init, VarBuilder};

/// Stride, dilation, padding rule, groups and bias of a convolution layer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Conv2dConfig {
    /// Stride `[sh, sw]`.
    pub stride: [usize; 2],
    /// Dilation `[dh, dw]`.
    pub dilation: [usize; 2],
    /// Padding rule.
    pub padding: Padding,
    /// Number of groups.
    pub groups: usize,
    /// Whether the layer adds a bias.
    pub bias: bool,
}

impl Default for Conv2dConfig {
    fn default() -> Self {
        Conv2dConfig {
            stride: [1, 1],
            dilation: [1, 1],
            padding: Padding::Valid,
            groups: 1,
            bias: true,
        }
    }
}

impl Conv2dConfig {
    /// Checks what can be checked before an input is seen: stride, dilation,
    /// kernel, groups against channels, and the PyTorch 'same' stride rule.
    pub fn check(&self, in_channels: usize, out_channels: usize, kernel: [usize; 2]) -> Result<()> {
        ConvGeometry::new()
            .with_groups(self.groups)
            .check_channels(in_channels, out_channels)?;
        crate::geometry::check_kernel_stride_dilation(kernel, self.stride, self.dilation)?;
        if self.padding == Padding::SamePyTorch && self.stride != [1, 1] {
            return Err(Error::SameNeedsStrideOne {
                stride: self.stride,
            });
        }
        Ok(())
    }

    /// Resolves the padding rule for an input of spatial size `input`.
    pub fn geometry(&self, input: [usize; 2], kernel: [usize; 2]) -> Result<ConvGeometry> {
        let padding = self
            .padding
            .resolve(input, kernel, self.stride, self.dilation)?;
        Ok(ConvGeometry {
            stride: self.stride,
            dilation: self.dilation,
            padding,
            groups: self.groups,
        })
    }
}

/// PyTorch's default initialisation: uniform in `±1/√fan_in`.
fn torch_uniform(fan_in: usize) -> Init {
    let bound = 1.0 / (fan_in.max(1) as f64).sqrt();
    Init::Uniform {
        lo: -bound,
        up: bound,
    }
}

/// Creates (or loads) a weight of `shape` named `weight` under `vb`.
fn make_weight(vb: &VarBuilder, shape: [usize; 4]) -> Result<Tensor> {
    let fan_in = shape[1] * shape[2] * shape[3];
    Ok(vb.get_with_hints(shape.to_vec(), "weight", torch_uniform(fan_in))?)
}

/// Creates (or loads) a bias of `channels` named `bias` under `vb`.
fn make_bias(vb: &VarBuilder, channels: usize, fan_in: usize) -> Result<Tensor> {
    Ok(vb.get_with_hints(channels, "bias", torch_uniform(fan_in))?)
}

/// `y + bias` broadcast over N, H, W.
fn add_bias(y: Tensor, bias: Option<&Tensor>) -> Result<Tensor> {
    match bias {
        None => Ok(y),
        Some(b) => Ok(y.broadcast_add(&b.reshape((1, b.elem_count(), 1, 1))?)?),
    }
}

/// Spatial size of an NCHW input with `channels` channels.
fn input_size(x: &Tensor, channels: usize, what: &'static str) -> Result<[usize; 2]> {
    match *x.dims() {
        [_, c, h, w] if c == channels => Ok([h, w]),
        [n, _, h, w] => Err(Error::ShapeMismatch {
            what,
            expected: vec![n, channels, h, w],
            got: x.dims().to_vec(),
        }),
        _ => Err(Error::WrongRank {
            what,
            expected: 4,
            got: x.dims().to_vec(),
        }),
    }
}

/// Converts a typed error into candle's, for [`candle_core::Module`].
fn to_candle(e: Error) -> candle_core::Error {
    match e {
        Error::Candle(inner) => inner,
        other => candle_core::Error::wrap(other),
    }
}
