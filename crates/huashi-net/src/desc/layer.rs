//! The layers a description node can hold ([`Layer`], tagged by `op`),
//! with their fields' defaults; the op list is in the [`super`] docs.

use crate::spec::{Activation, PaddingSpec, Pair};
use huashi_conv::PaddingMode;
use serde::{Deserialize, Serialize};

fn yes() -> bool {
    true
}

fn one() -> usize {
    1
}

fn is_false(b: &bool) -> bool {
    !b
}

fn unit() -> f64 {
    1.0
}

fn zero_pair() -> Pair {
    Pair([0, 0])
}

/// The layer of a node, tagged by `op`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case", deny_unknown_fields)]
pub enum Layer {
    /// A (grouped, dilated, strided) 2-D convolution.
    Conv {
        /// Output channels.
        out_channels: usize,
        /// Kernel `[kh, kw]`.
        kernel: Pair,
        /// Stride (default 1).
        #[serde(default)]
        stride: Pair,
        /// Dilation (default 1).
        #[serde(default)]
        dilation: Pair,
        /// Padding rule (default valid).
        #[serde(default)]
        padding: PaddingSpec,
        /// How the padded border is filled (default zeros).
        #[serde(default, skip_serializing_if = "PaddingMode::is_zeros")]
        padding_mode: PaddingMode,
        /// Groups (default 1).
        #[serde(default = "one")]
        groups: usize,
        /// Whether a bias is added (default true).
        #[serde(default = "yes")]
        bias: bool,
    },
    /// A depthwise convolution: `groups = C_in`, `C_out = multiplier · C_in`.
    Depthwise {
        /// Kernel `[kh, kw]`.
        kernel: Pair,
        /// Depth multiplier (default 1).
        #[serde(default = "one")]
        multiplier: usize,
        /// Stride (default 1).
        #[serde(default)]
        stride: Pair,
        /// Dilation (default 1).
        #[serde(default)]
        dilation: Pair,
        /// Padding rule (default valid).
        #[serde(default)]
        padding: PaddingSpec,
        /// How the padded border is filled (default zeros).
        #[serde(default, skip_serializing_if = "PaddingMode::is_zeros")]
        padding_mode: PaddingMode,
        /// Whether a bias is added (default true).
        #[serde(default = "yes")]
        bias: bool,
    },
    /// Depthwise (no bias) then pointwise 1×1 (Keras `SeparableConv2D`).
    Separable {
        /// Output channels of the pointwise stage.
        out_channels: usize,
        /// Depthwise kernel `[kh, kw]`.
        kernel: Pair,
        /// Depth multiplier (default 1).
        #[serde(default = "one")]
        multiplier: usize,
        /// Stride of the depthwise stage (default 1).
        #[serde(default)]
        stride: Pair,
        /// Dilation of the depthwise stage (default 1).
        #[serde(default)]
        dilation: Pair,
        /// Padding rule of the depthwise stage (default valid).
        #[serde(default)]
        padding: PaddingSpec,
        /// How the depthwise stage's padded border is filled (default zeros).
        #[serde(default, skip_serializing_if = "PaddingMode::is_zeros")]
        padding_mode: PaddingMode,
        /// Whether the pointwise stage adds a bias (default true).
        #[serde(default = "yes")]
        bias: bool,
    },
    /// A spatially separable convolution (huashi-conv's
    /// `SpatiallySeparableConv2d`): a `[kh, 1]` convolution `C_in → C_mid`
    /// without bias, then a `[1, kw]` convolution `C_mid → C_out` with the
    /// bias. Stride, dilation and padding are split by axis: the vertical
    /// stage takes the rows', the horizontal stage the columns'.
    SpatiallySeparable {
        /// Output channels.
        out_channels: usize,
        /// Channels between the two stages (default: the input channels,
        /// huashi-conv's `ConvLayer::default_mid`).
        #[serde(default, alias = "mid", skip_serializing_if = "Option::is_none")]
        mid_channels: Option<usize>,
        /// Kernel `k` (both stages) or `[kh, kw]`.
        kernel: Pair,
        /// Stride (default 1).
        #[serde(default)]
        stride: Pair,
        /// Dilation (default 1).
        #[serde(default)]
        dilation: Pair,
        /// Padding rule (default valid).
        #[serde(default)]
        padding: PaddingSpec,
        /// How the padded border is filled (default zeros).
        #[serde(default, skip_serializing_if = "PaddingMode::is_zeros")]
        padding_mode: PaddingMode,
        /// Whether the horizontal stage adds a bias (default true).
        #[serde(default = "yes")]
        bias: bool,
    },
    /// A transposed convolution (PyTorch `ConvTranspose2d`, huashi-conv's
    /// `ConvTranspose2d`): weight `(C_in, C_out/groups, kh, kw)`, output
    /// size `(i − 1)·s − p_lo − p_hi + d·(k − 1) + 1 + output_padding`.
    ConvTranspose {
        /// Output channels.
        out_channels: usize,
        /// Kernel `[kh, kw]`.
        kernel: Pair,
        /// Stride (default 1).
        #[serde(default)]
        stride: Pair,
        /// Dilation (default 1).
        #[serde(default)]
        dilation: Pair,
        /// Explicit padding removed from the full output (default 0):
        /// `p`, `[ph, pw]` or `[top, bottom, left, right]`; `"same_*"`
        /// rules are rejected.
        #[serde(default)]
        padding: PaddingSpec,
        /// Extra rows / columns at the bottom / right (default 0), less
        /// than `max(stride, dilation)` per axis.
        #[serde(default = "zero_pair")]
        output_padding: Pair,
        /// Groups (default 1).
        #[serde(default = "one")]
        groups: usize,
        /// Whether a bias is added (default true).
        #[serde(default = "yes")]
        bias: bool,
    },
    /// A 1×1 convolution.
    Pointwise {
        /// Output channels.
        out_channels: usize,
        /// Whether a bias is added (default true).
        #[serde(default = "yes")]
        bias: bool,
    },
    /// Max pooling.
    MaxPool {
        /// Window `[kh, kw]`.
        kernel: Pair,
        /// Stride (default: the window).
        #[serde(default)]
        stride: Option<Pair>,
        /// Padding rule (default valid).
        #[serde(default)]
        padding: PaddingSpec,
    },
    /// Average pooling.
    AvgPool {
        /// Window `[kh, kw]`.
        kernel: Pair,
        /// Stride (default: the window).
        #[serde(default)]
        stride: Option<Pair>,
        /// Padding rule (default valid).
        #[serde(default)]
        padding: PaddingSpec,
    },
    /// Mean over H and W, to `(C, 1, 1)`.
    GlobalAvgPool,
    /// Batch normalisation over channels.
    BatchNorm {
        /// Learnable scale and shift (default true).
        #[serde(default = "yes")]
        affine: bool,
    },
    /// An element-wise activation.
    Activation {
        /// Which function.
        function: Activation,
        /// `leaky_relu`'s negative slope (default 0.01), `elu`'s α (default
        /// 1), `hard_sigmoid`'s slope (default 1/6); other functions take none.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        alpha: Option<f64>,
        /// `hard_sigmoid`'s offset (default 1/2); other functions take none.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        beta: Option<f64>,
    },
    /// Dropout (the identity at analysis time).
    Dropout {
        /// Drop probability.
        #[serde(default)]
        rate: f64,
    },
    /// Element-wise sum of two or more inputs of equal shape.
    Add,
    /// Concatenation along channels of inputs of equal `H × W`.
    Concat,
    /// Element-wise product of two or more inputs of equal shape, or of a
    /// map `(C, H, W)` and a per-channel gate `(C, 1, 1)` broadcast over it
    /// (squeeze-and-excitation). The receptive field is that of the
    /// full-size inputs: a gate scales channels, its global context is not
    /// counted (the convention for SE networks' receptive fields).
    Mul,
    /// The first input minus the second (shapes as for `mul`: equal, or a
    /// `(C, 1, 1)` second input broadcast over a map).
    Sub,
    /// The first input divided by the second (shapes as for `sub`).
    Div,
    /// `y = mul·x + add` with constants (ONNX `Add`, `Sub`, `Mul`, `Div` by a
    /// single value). Pointwise: the field is kept.
    Scale {
        /// The factor (default 1).
        #[serde(default = "unit")]
        mul: f64,
        /// The offset (default 0).
        #[serde(default)]
        add: f64,
    },
    /// A per-channel affine map `y = w ⊙ x + b` with learnable `(C)`
    /// vectors: `w` (`<node>.weight`, initialised to 1) when `mul`, `b`
    /// (`<node>.bias`, 0) when `add` (ONNX `Mul`/`Add`/`Sub`/`Div` by a
    /// `(C, 1, 1)` constant, e.g. ConvNeXt's layer scale). Counted as
    /// parameters, as PyTorch counts an `nn.Parameter` (a constant PyTorch
    /// keeps as a buffer is counted too). Pointwise: the field is kept.
    ChannelAffine {
        /// Whether a per-channel factor is applied (default true).
        #[serde(default = "yes")]
        mul: bool,
        /// Whether a per-channel offset is added (default false).
        #[serde(default)]
        add: bool,
    },
    /// `(C, H, W)` to `C·H·W` features.
    Flatten,
    /// Nearest-neighbour upsampling by integer factors `[sh, sw]`
    /// (PyTorch `nn.Upsample(scale_factor, mode="nearest")`, ONNX `Resize`):
    /// output pixel `(i, j)` copies input `(⌊i/sh⌋, ⌊j/sw⌋)`. Like a
    /// transposed convolution of stride `s`, its receptive field is
    /// undefined for `s > 1`. Gradients need `sh = sw` (candle's backward of
    /// nearest upsampling).
    Upsample {
        /// The factors `[sh, sw]` (or one for both).
        scale: Pair,
        /// Bilinear instead of nearest (PyTorch `mode="bilinear"`,
        /// `align_corners=False`; ONNX `linear` with `half_pixel`): each
        /// output pixel mixes its 2×2 nearest inputs. Same shape and field
        /// rules; costed as a pointwise op; a model with it runs forward
        /// only (candle has no gradient for it, so `erf` refuses it).
        #[serde(default, skip_serializing_if = "is_false")]
        bilinear: bool,
    },
    /// Channels `start..end` of a map (features of a vector): PyTorch's
    /// `x[:, start:end]`, `chunk` and `split` along channels (ONNX `Slice`
    /// and `Split`). No cost; pixels keep their alignment.
    Slice {
        /// The first channel kept.
        start: usize,
        /// One past the last channel kept.
        end: usize,
    },
    /// ShuffleNet's channel shuffle: `C = groups·k` channels viewed as
    /// `(groups, k)`, transposed to `(k, groups)` and flattened back, so
    /// output channel `j·groups + i` is input channel `i·k + j`. No cost;
    /// pixels keep their alignment.
    ChannelShuffle {
        /// The number of groups (dividing the channels).
        groups: usize,
    },
    /// An op huashi-net does not model, kept from an imported ONNX graph
    /// (`--allow-unknown`): its output shape is ONNX's `value_info`, its cost
    /// unknown (counted 0), the receptive field undefined downstream, and a
    /// model containing it cannot run.
    Opaque {
        /// The ONNX op type.
        onnx_op: String,
        /// Output shape of one sample: `[C, H, W]` or `[features]`.
        output: Vec<usize>,
    },
    /// A fully connected layer on features.
    Linear {
        /// Output features.
        out_features: usize,
        /// Whether a bias is added (default true).
        #[serde(default = "yes")]
        bias: bool,
    },
}

impl Layer {
    /// The `op` name as written in descriptions.
    pub fn op(&self) -> &'static str {
        match self {
            Layer::Conv { .. } => "conv",
            Layer::Depthwise { .. } => "depthwise",
            Layer::Separable { .. } => "separable",
            Layer::SpatiallySeparable { .. } => "spatially_separable",
            Layer::ConvTranspose { .. } => "conv_transpose",
            Layer::Pointwise { .. } => "pointwise",
            Layer::MaxPool { .. } => "max_pool",
            Layer::AvgPool { .. } => "avg_pool",
            Layer::GlobalAvgPool => "global_avg_pool",
            Layer::BatchNorm { .. } => "batch_norm",
            Layer::Activation { .. } => "activation",
            Layer::Dropout { .. } => "dropout",
            Layer::Add => "add",
            Layer::Concat => "concat",
            Layer::Mul => "mul",
            Layer::Sub => "sub",
            Layer::Div => "div",
            Layer::Scale { .. } => "scale",
            Layer::ChannelAffine { .. } => "channel_affine",
            Layer::Upsample { .. } => "upsample",
            Layer::Flatten => "flatten",
            Layer::Slice { .. } => "slice",
            Layer::ChannelShuffle { .. } => "channel_shuffle",
            Layer::Linear { .. } => "linear",
            Layer::Opaque { .. } => "opaque",
        }
    }

    /// Whether the layer merges several inputs (`add`, `concat`, `mul`,
    /// `sub`, `div`).
    pub fn is_merge(&self) -> bool {
        matches!(
            self,
            Layer::Add | Layer::Concat | Layer::Mul | Layer::Sub | Layer::Div
        )
    }
}
