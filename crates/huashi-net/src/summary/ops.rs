//! What the summary adds per node beyond the analysis: the layer's
//! geometry, the FLOPs outside the MAC count, and which tensors its
//! backward pass keeps.
//!
//! FLOPs outside the MACs, per sample, with `E` the node's output elements:
//!
//! - element-wise: an activation `E` (one operation per element, as
//!   ptflops counts ReLU; the identity 0), `add` of `k` inputs `(k − 1)·E`,
//!   the bias of a convolution or linear layer `E`;
//! - pooling: max pooling `(kh·kw − 1)·E` comparisons, average pooling
//!   `kh·kw·E` (`kh·kw − 1` additions and a division), global average
//!   pooling `H·W·C` (fvcore's `adaptive_avg_pool2d` count: the input elements);
//! - normalisation: batch norm at inference `2·E` when affine, else `E`
//!   (fvcore's `batchnorm_flop_jit` in eval mode).
//!
//! Kept for backward (PyTorch's saved tensors): a convolution, linear layer,
//! batch norm or max pooling keeps its input; an activation other than the
//! identity keeps one tensor of its output's size; dropout with a rate
//! above 0 keeps its mask (output-sized). Average pooling, global pooling,
//! `add`, `concat` and `flatten` keep nothing. A separable node's internal
//! depthwise output is not counted.

use crate::desc::Layer;
use crate::shape::Shape;
use crate::spec::Activation;
use serde::Serialize;

/// Kernel, stride, dilation and groups of a windowed layer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct LayerGeometry {
    /// Kernel `[kh, kw]` (of the spatial stage for separable layers).
    pub kernel: [usize; 2],
    /// Stride `[sh, sw]`.
    pub stride: [usize; 2],
    /// Dilation `[dh, dw]`.
    pub dilation: [usize; 2],
    /// Groups (the input channels for depthwise stages).
    pub groups: usize,
}

/// FLOPs that are not multiply-accumulates, by kind (per sample).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct OtherFlops {
    /// Activations, element-wise merges (add, sub, mul, div), scales and
    /// bias additions.
    pub elementwise: u64,
    /// Max, average and global average pooling.
    pub pooling: u64,
    /// Batch normalisation.
    pub normalisation: u64,
}

impl OtherFlops {
    /// The sum of the three kinds, `None` on overflow.
    pub fn total(&self) -> Option<u64> {
        self.elementwise
            .checked_add(self.pooling)?
            .checked_add(self.normalisation)
    }

    /// Kind-wise sum, `None` on overflow.
    pub fn checked_add(&self, other: &OtherFlops) -> Option<OtherFlops> {
        Some(OtherFlops {
            elementwise: self.elementwise.checked_add(other.elementwise)?,
            pooling: self.pooling.checked_add(other.pooling)?,
            normalisation: self.normalisation.checked_add(other.normalisation)?,
        })
    }
}

/// Which tensor a node's backward pass keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kept {
    /// Nothing.
    Nothing,
    /// Its (first) input.
    Input,
    /// A tensor of its output's size.
    Output,
}

/// The geometry of `layer` reading `in_channels` channels, `None` for
/// layers without a window.
pub(crate) fn geometry(layer: &Layer, in_channels: usize) -> Option<LayerGeometry> {
    let g = |kernel: [usize; 2], stride: [usize; 2], dilation: [usize; 2], groups| {
        Some(LayerGeometry {
            kernel,
            stride,
            dilation,
            groups,
        })
    };
    match *layer {
        Layer::Conv {
            kernel,
            stride,
            dilation,
            groups,
            ..
        }
        | Layer::ConvTranspose {
            kernel,
            stride,
            dilation,
            groups,
            ..
        } => g(kernel.0, stride.0, dilation.0, groups),
        Layer::Depthwise {
            kernel,
            stride,
            dilation,
            ..
        }
        | Layer::Separable {
            kernel,
            stride,
            dilation,
            ..
        } => g(kernel.0, stride.0, dilation.0, in_channels),
        Layer::SpatiallySeparable {
            kernel,
            stride,
            dilation,
            ..
        } => g(kernel.0, stride.0, dilation.0, 1),
        Layer::Pointwise { .. } => g([1, 1], [1, 1], [1, 1], 1),
        Layer::MaxPool { kernel, stride, .. } | Layer::AvgPool { kernel, stride, .. } => {
            g(kernel.0, stride.unwrap_or(kernel).0, [1, 1], 1)
        }
        _ => None,
    }
}

/// Whether `layer` adds a bias after its MACs.
fn has_bias(layer: &Layer) -> bool {
    match *layer {
        Layer::Conv { bias, .. }
        | Layer::Depthwise { bias, .. }
        | Layer::Separable { bias, .. }
        | Layer::SpatiallySeparable { bias, .. }
        | Layer::ConvTranspose { bias, .. }
        | Layer::Pointwise { bias, .. }
        | Layer::Linear { bias, .. } => bias,
        _ => false,
    }
}

/// The FLOPs of `layer` outside its MACs (module docs), `None` on overflow.
pub(crate) fn other_flops(layer: &Layer, inputs: &[Shape], output: Shape) -> Option<OtherFlops> {
    let e = output.numel()? as u64;
    let mut f = OtherFlops::default();
    let window = |kernel: [usize; 2]| (kernel[0] as u64).checked_mul(kernel[1] as u64);
    match *layer {
        Layer::Activation {
            function: Activation::Identity,
            ..
        } => {}
        Layer::Activation { .. } => f.elementwise = e,
        Layer::Add | Layer::Sub | Layer::Div | Layer::Mul => {
            f.elementwise = e.checked_mul(inputs.len().saturating_sub(1) as u64)?
        }
        Layer::ChannelAffine { mul, add } => {
            f.elementwise = e.checked_mul(u64::from(mul) + u64::from(add))?
        }
        Layer::Scale { mul, add } => {
            f.elementwise = e.checked_mul(u64::from(mul != 1.0) + u64::from(add != 0.0))?
        }
        Layer::Upsample { bilinear: true, .. } => f.elementwise = e,
        Layer::MaxPool { kernel, .. } => f.pooling = e.checked_mul(window(kernel.0)? - 1)?,
        Layer::AvgPool { kernel, .. } => f.pooling = e.checked_mul(window(kernel.0)?)?,
        Layer::GlobalAvgPool => f.pooling = inputs.first()?.numel()? as u64,
        Layer::BatchNorm { affine } => f.normalisation = e.checked_mul(1 + u64::from(affine))?,
        _ if has_bias(layer) => f.elementwise = e,
        _ => {}
    }
    Some(f)
}

/// Which tensor the backward pass of `layer` keeps (module docs).
pub(crate) fn kept(layer: &Layer) -> Kept {
    match *layer {
        Layer::Conv { .. }
        | Layer::Depthwise { .. }
        | Layer::Separable { .. }
        | Layer::SpatiallySeparable { .. }
        | Layer::ConvTranspose { .. }
        | Layer::Pointwise { .. }
        | Layer::Linear { .. }
        | Layer::BatchNorm { .. }
        | Layer::MaxPool { .. } => Kept::Input,
        Layer::Activation {
            function: Activation::Identity,
            ..
        } => Kept::Nothing,
        Layer::Activation { .. } => Kept::Output,
        Layer::Dropout { rate } if rate > 0.0 => Kept::Output,
        _ => Kept::Nothing,
    }
}
