//! Small helpers that write [`Network`] descriptions in code: a [`Builder`]
//! that appends named nodes, and constructors for the common layers.

use crate::desc::{Layer, Network, Node};
use crate::spec::{Activation, PaddingSpec, Pair};
use huashi_conv::{Padding, PaddingMode};

/// Appends named nodes; each node reads the previous one unless told otherwise.
pub(crate) struct Builder {
    nodes: Vec<Node>,
    last: String,
}

impl Builder {
    /// An empty network whose input is called `"input"`.
    pub(crate) fn new() -> Self {
        Builder {
            nodes: Vec::new(),
            last: "input".to_string(),
        }
    }

    /// The name of the node added last (the input when none was added).
    pub(crate) fn last(&self) -> String {
        self.last.clone()
    }

    /// Adds `layer` as node `name` reading `inputs`; returns the name.
    pub(crate) fn node(
        &mut self,
        name: impl Into<String>,
        inputs: &[String],
        layer: Layer,
    ) -> String {
        let name = name.into();
        self.nodes.push(Node {
            name: name.clone(),
            inputs: Some(inputs.to_vec()),
            layer,
        });
        self.last = name.clone();
        name
    }

    /// Adds `layer` as node `name` reading the node added last.
    pub(crate) fn then(&mut self, name: impl Into<String>, layer: Layer) -> String {
        let input = self.last.clone();
        self.node(name, &[input], layer)
    }

    /// The finished description.
    pub(crate) fn finish(self, name: &str, input_shape: [usize; 3]) -> Network {
        Network {
            name: Some(name.to_string()),
            input: "input".to_string(),
            input_shape: Some(input_shape),
            nodes: self.nodes,
        }
    }
}

/// Explicit symmetric padding `ph` rows, `pw` columns.
pub(crate) fn pad(ph: usize, pw: usize) -> PaddingSpec {
    PaddingSpec(Padding::symmetric(ph, pw))
}

/// TensorFlow 'SAME' padding.
pub(crate) fn same() -> PaddingSpec {
    PaddingSpec(Padding::SameTensorFlow)
}

/// No padding.
pub(crate) fn valid() -> PaddingSpec {
    PaddingSpec(Padding::Valid)
}

/// A convolution with kernel `[kh, kw]`, stride `s` on both axes.
pub(crate) fn conv(out: usize, k: [usize; 2], s: usize, padding: PaddingSpec, bias: bool) -> Layer {
    Layer::Conv {
        out_channels: out,
        kernel: Pair(k),
        stride: Pair::square(s),
        dilation: Pair::square(1),
        padding,
        padding_mode: PaddingMode::Zeros,
        groups: 1,
        bias,
    }
}

/// A depthwise convolution (multiplier 1), square kernel `k`, stride `s`.
pub(crate) fn depthwise(k: usize, s: usize, padding: PaddingSpec, bias: bool) -> Layer {
    Layer::Depthwise {
        kernel: Pair::square(k),
        multiplier: 1,
        stride: Pair::square(s),
        dilation: Pair::square(1),
        padding,
        padding_mode: PaddingMode::Zeros,
        bias,
    }
}

/// A Keras `SeparableConv2D`, 3×3, stride 1, 'same', pointwise without bias.
pub(crate) fn separable(out: usize) -> Layer {
    Layer::Separable {
        out_channels: out,
        kernel: Pair::square(3),
        multiplier: 1,
        stride: Pair::square(1),
        dilation: Pair::square(1),
        padding: same(),
        padding_mode: PaddingMode::Zeros,
        bias: false,
    }
}

/// A 1×1 convolution.
pub(crate) fn pointwise(out: usize, bias: bool) -> Layer {
    Layer::Pointwise {
        out_channels: out,
        bias,
    }
}

/// Max pooling, square window `k`, stride `s`.
pub(crate) fn max_pool(k: usize, s: usize, padding: PaddingSpec) -> Layer {
    Layer::MaxPool {
        kernel: Pair::square(k),
        stride: Some(Pair::square(s)),
        padding,
    }
}

/// Average pooling, square window `k`, stride `s`.
pub(crate) fn avg_pool(k: usize, s: usize, padding: PaddingSpec) -> Layer {
    Layer::AvgPool {
        kernel: Pair::square(k),
        stride: Some(Pair::square(s)),
        padding,
    }
}

/// Batch normalisation with learnable scale and shift.
pub(crate) fn bn() -> Layer {
    Layer::BatchNorm { affine: true }
}

/// An activation layer.
pub(crate) fn act(function: Activation) -> Layer {
    Layer::Activation {
        function,
        alpha: None,
        beta: None,
    }
}

/// ReLU.
pub(crate) fn relu() -> Layer {
    act(Activation::Relu)
}

/// A fully connected layer with bias.
pub(crate) fn linear(out: usize) -> Layer {
    Layer::Linear {
        out_features: out,
        bias: true,
    }
}

/// Dropout with rate `rate`.
pub(crate) fn dropout(rate: f64) -> Layer {
    Layer::Dropout { rate }
}
