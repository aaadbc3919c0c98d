//! The convolution family, each variant defined once: its parameter names
//! and shapes, PyTorch's initialisation, the forward pass over explicit
//! parameters and its [`Cost`].
//!
//! A [`ConvLayer`] is a chain of named [`Stage`]s; a stage is one
//! convolution `y = conv(x, w) (+ b)` or one transposed convolution:
//!
//! | variant | stages (name: weight shape) | reference |
//! |---|---|---|
//! | [standard / grouped](ConvLayer::conv) | `weight (C_out, C_in/g, kh, kw)` | PyTorch `Conv2d` |
//! | [depthwise](ConvLayer::depthwise) | `weight (C·m, 1, kh, kw)`, `g = C` | Keras `DepthwiseConv2D` |
//! | [pointwise](ConvLayer::pointwise) | `weight (C_out, C_in, 1, 1)` | Lin et al. 2014 |
//! | [separable](ConvLayer::separable) | `depthwise.weight (C·m, 1, kh, kw)`, `pointwise.weight (C_out, C·m, 1, 1)` | Chollet 2017 |
//! | [spatially separable](ConvLayer::spatially_separable) | `vertical.weight (C_mid, C_in, kh, 1)`, `horizontal.weight (C_out, C_mid, 1, kw)` | Szegedy et al. 2016, §3.2 |
//! | [transposed](ConvLayer::transpose) | `weight (C_in, C_out/g, kh, kw)` | PyTorch `ConvTranspose2d` |
//!
//! The bias, when the layer has one, is `bias (C_out)` on the last stage
//! (`pointwise.bias`, `horizontal.bias`). Every tensor starts uniform in
//! `±1/√fan_in` with PyTorch's `fan_in = weight.size(1)·kh·kw`.
//!
//! The candle [`Module`](candle_core::Module) layers of [`crate::layers`],
//! huashi-net's compiled model and the CLI's `conv compare` are all built on
//! these definitions.
//!
//! ```
//! use candle_core::{DType, Device, Tensor};
//! use huashi_conv::{Conv2dConfig, ConvLayer, Cost, Padding};
//!
//! let same = Conv2dConfig { padding: Padding::SamePyTorch, ..Default::default() };
//! let layer = ConvLayer::separable(32, 64, [3, 3], 1, same)?;
//! let names: Vec<String> = layer.params().into_iter().map(|p| p.name).collect();
//! assert_eq!(names, ["depthwise.weight", "pointwise.weight", "pointwise.bias"]);
//! // 32·9 + 32·64 + 64 parameters, 8×8 output per sample.
//! let cost = layer.cost([1, 32, 8, 8])?;
//! assert_eq!((cost.params, cost.output_shape), (2_400, [1, 64, 8, 8]));
//! // The forward pass takes the parameters by name.
//! let tensors: Vec<(String, Tensor)> = layer
//!     .params()
//!     .into_iter()
//!     .map(|p| Ok((p.name, Tensor::zeros(p.shape, DType::F32, &Device::Cpu)?)))
//!     .collect::<candle_core::Result<_>>()?;
//! let get = |name: &str| tensors.iter().find(|(n, _)| n == name).map(|(_, t)| t);
//! let x = Tensor::ones((2, 32, 8, 8), DType::F32, &Device::Cpu)?;
//! assert_eq!(layer.forward(&x, get)?.dims(), &[2, 64, 8, 8]);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use crate::cost::{check_channels, checked, product, Cost, LayerCost};
use crate::error::{Error, Result};
use crate::geometry::{check_kernel_stride_dilation, ConvGeometry};
use crate::ops::{conv2d, conv_transpose2d};
use candle_core::Tensor;

/// One parameter tensor of a layer, as PyTorch creates it.
#[derive(Debug, Clone, PartialEq)]
pub struct ParamSpec {
    /// Name under the layer, e.g. `weight` or `pointwise.bias`.
    pub name: String,
    /// Shape.
    pub shape: Vec<usize>,
    /// PyTorch's initialisation: uniform in `±bound`, `bound = 1/√fan_in`.
    pub bound: f64,
}

/// A convolution stage: weight `(C_out, C_in/groups, kh, kw)`, optional bias.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct ConvStage {
    /// Input channels `C_in`.
    pub in_channels: usize,
    /// Output channels `C_out`.
    pub out_channels: usize,
    /// Kernel `[kh, kw]`.
    pub kernel: [usize; 2],
    /// Stride, dilation, padding rule, groups and bias.
    pub config: Conv2dConfig,
}

/// A transposed-convolution stage: weight `(C_in, C_out/groups, kh, kw)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct TransposeStage {
    /// Input channels `C_in`.
    pub in_channels: usize,
    /// Output channels `C_out`.
    pub out_channels: usize,
    /// Kernel `[kh, kw]`.
    pub kernel: [usize; 2],
    /// Stride, dilation, padding, output padding, groups and bias.
    pub config: ConvTranspose2dConfig,
}

/// One stage of a [`ConvLayer`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum Stage {
    /// A convolution.
    Conv(ConvStage),
    /// A transposed convolution.
    Transpose(TransposeStage),
}

impl ConvStage {
    /// A checked stage: stride, dilation, kernel, groups against channels and
    /// the PyTorch 'same' stride rule.
    ///
    /// # Errors
    /// The geometry errors of [`Conv2dConfig::check`].
    pub fn new(
        in_channels: usize,
        out_channels: usize,
        kernel: [usize; 2],
        config: Conv2dConfig,
    ) -> Result<Self> {
        config.check(in_channels, out_channels, kernel)?;
        Ok(ConvStage {
            in_channels,
            out_channels,
            kernel,
            config,
        })
    }

    /// `(C_out, C_in/groups, kh, kw)`.
    pub fn weight_shape(&self) -> [usize; 4] {
        let [kh, kw] = self.kernel;
        [
            self.out_channels,
            self.in_channels / self.config.groups,
            kh,
            kw,
        ]
    }

    /// The geometry for an input of spatial size `input` (resolves 'same').
    ///
    /// # Errors
    /// [`Error`] when the padding rule cannot be resolved for `input`.
    pub fn geometry(&self, input: [usize; 2]) -> Result<ConvGeometry> {
        self.config.geometry(input, self.kernel)
    }

    /// `conv(x, weight) (+ bias)`.
    ///
    /// # Shapes
    /// `x (N, C_in, H, W)`, `weight` as [`Self::weight_shape`], `bias (C_out)`
    /// → `(N, C_out, Ho, Wo)`.
    ///
    /// # Errors
    /// A wrong input shape or geometry that does not fit the input.
    pub fn forward(&self, x: &Tensor, weight: &Tensor, bias: Option<&Tensor>) -> Result<Tensor> {
        let size = input_size(x, self.in_channels, "conv2d input")?;
        let geometry = self.geometry(size)?;
        let mode = self.config.padding_mode;
        if mode.is_zeros() || geometry.padding == [0; 4] {
            return add_bias(conv2d(x, weight, &geometry)?, bias);
        }
        // PyTorch's non-zero modes: pad explicitly, then convolve unpadded.
        let padded = crate::pad::pad2d(x, geometry.padding, mode)?;
        let unpadded = ConvGeometry {
            padding: [0; 4],
            ..geometry
        };
        add_bias(conv2d(&padded, weight, &unpadded)?, bias)
    }

    /// Output shape, parameters and MACs for `input = [N, C_in, H, W]`.
    ///
    /// # Errors
    /// A channel mismatch, geometry that does not fit, or counts over 64 bits.
    pub fn cost(&self, input: [usize; 4]) -> Result<LayerCost> {
        let [n, _, h, w] = check_channels(input, self.in_channels)?;
        let [ho, wo] = self.geometry([h, w])?.output_size([h, w], self.kernel)?;
        let [c_out, c_g, kh, kw] = self.weight_shape();
        let weights = product("the weight count", &[c_out, c_g, kh, kw])?;
        checked(LayerCost {
            output_shape: [n, c_out, ho, wo],
            params: weights + if self.config.bias { c_out as u64 } else { 0 },
            macs: product("the MAC count", &[n, c_out, ho, wo, c_g, kh, kw])?,
        })
    }
}

impl TransposeStage {
    /// A checked stage: channels against groups, kernel, stride, dilation and
    /// output padding.
    ///
    /// # Errors
    /// The geometry errors of [`ConvGeometry::check_channels`],
    /// [`check_kernel_stride_dilation`] and
    /// [`ConvGeometry::check_output_padding`].
    pub fn new(
        in_channels: usize,
        out_channels: usize,
        kernel: [usize; 2],
        config: ConvTranspose2dConfig,
    ) -> Result<Self> {
        let geometry = config.geometry();
        geometry.check_channels(in_channels, out_channels)?;
        check_kernel_stride_dilation(kernel, config.stride, config.dilation)?;
        geometry.check_output_padding(config.output_padding)?;
        Ok(TransposeStage {
            in_channels,
            out_channels,
            kernel,
            config,
        })
    }

    /// `(C_in, C_out/groups, kh, kw)`.
    pub fn weight_shape(&self) -> [usize; 4] {
        let [kh, kw] = self.kernel;
        [
            self.in_channels,
            self.out_channels / self.config.groups,
            kh,
            kw,
        ]
    }

    /// `conv_transpose(x, weight) (+ bias)`.
    ///
    /// # Shapes
    /// `x (N, C_in, H, W)`, `weight` as [`Self::weight_shape`], `bias (C_out)`
    /// → `(N, C_out, Ho, Wo)`.
    ///
    /// # Errors
    /// A wrong input shape.
    pub fn forward(&self, x: &Tensor, weight: &Tensor, bias: Option<&Tensor>) -> Result<Tensor> {
        input_size(x, self.in_channels, "conv_transpose2d input")?;
        let c = &self.config;
        add_bias(
            conv_transpose2d(x, weight, &c.geometry(), c.output_padding)?,
            bias,
        )
    }

    /// Output shape, parameters and MACs for `input = [N, C_in, H, W]`
    /// (`MACs = N·C_in·H·W·(C_out/g)·kh·kw`).
    ///
    /// # Errors
    /// A channel mismatch, an empty output, or counts over 64 bits.
    pub fn cost(&self, input: [usize; 4]) -> Result<LayerCost> {
        let [n, _, h, w] = check_channels(input, self.in_channels)?;
        let c = &self.config;
        let [ho, wo] =
            c.geometry()
                .transposed_output_size([h, w], self.kernel, c.output_padding)?;
        let [c_in, per_group, kh, kw] = self.weight_shape();
        let weights = product("the weight count", &[c_in, per_group, kh, kw])?;
        checked(LayerCost {
            output_shape: [n, self.out_channels, ho, wo],
            params: weights + if c.bias { self.out_channels as u64 } else { 0 },
            macs: product("the MAC count", &[n, c_in, h, w, per_group, kh, kw])?,
        })
    }
}

impl Stage {
    /// The weight shape.
    pub fn weight_shape(&self) -> [usize; 4] {
        match self {
            Stage::Conv(s) => s.weight_shape(),
            Stage::Transpose(s) => s.weight_shape(),
        }
    }

    /// Whether the stage adds a bias.
    pub fn has_bias(&self) -> bool {
        match self {
            Stage::Conv(s) => s.config.bias,
            Stage::Transpose(s) => s.config.bias,
        }
    }

    /// Output channels.
    pub fn out_channels(&self) -> usize {
        match self {
            Stage::Conv(s) => s.out_channels,
            Stage::Transpose(s) => s.out_channels,
        }
    }

    /// The stage's parameters, named under `prefix` (`""` for none).
    pub fn params(&self, prefix: &str) -> Vec<ParamSpec> {
        let bias = self.bias_spec(prefix);
        std::iter::once(self.weight_spec(prefix))
            .chain(bias)
            .collect()
    }

    /// The weight, named under `prefix`.
    pub fn weight_spec(&self, prefix: &str) -> ParamSpec {
        let shape = self.weight_shape();
        ParamSpec {
            name: param_name(prefix, "weight"),
            shape: shape.to_vec(),
            bound: self.init_bound(),
        }
    }

    /// The bias `(C_out)`, named under `prefix`, if the stage has one.
    pub fn bias_spec(&self, prefix: &str) -> Option<ParamSpec> {
        self.has_bias().then(|| ParamSpec {
            name: param_name(prefix, "bias"),
            shape: vec![self.out_channels()],
            bound: self.init_bound(),
        })
    }

    /// PyTorch's `1/√fan_in` with `fan_in = weight.size(1)·kh·kw`.
    fn init_bound(&self) -> f64 {
        let [_, per_group, kh, kw] = self.weight_shape();
        1.0 / ((per_group * kh * kw).max(1) as f64).sqrt()
    }

    /// # Shapes
    /// `x (N, C_in, H, W)` → `(N, C_out, Ho, Wo)`.
    ///
    /// # Errors
    /// As [`ConvStage::forward`] and [`TransposeStage::forward`].
    pub fn forward(&self, x: &Tensor, weight: &Tensor, bias: Option<&Tensor>) -> Result<Tensor> {
        match self {
            Stage::Conv(s) => s.forward(x, weight, bias),
            Stage::Transpose(s) => s.forward(x, weight, bias),
        }
    }
}

impl Cost for Stage {
    fn cost(&self, input: [usize; 4]) -> Result<LayerCost> {
        match self {
            Stage::Conv(s) => s.cost(input),
            Stage::Transpose(s) => s.cost(input),
        }
    }
}

/// The name of parameter `name` (`weight`, `bias`) under `prefix`.
pub(crate) fn param_name(prefix: &str, name: &str) -> String {
    match prefix {
        "" => name.to_string(),
        p => format!("{p}.{name}"),
    }
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

mod config;
mod layer;
pub mod variants;
pub use config::{Conv2dConfig, ConvTranspose2dConfig};
pub use layer::ConvLayer;
