//! The 4-layer convolutional network of the MAML papers.

use super::builder::{bn, conv, linear, max_pool, pad, relu, valid, Builder};
use crate::desc::{Layer, Network};

/// The two variants of Finn, Abbeel & Levine (2017), §5.2.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FewShotVariant {
    /// Omniglot: 3×3 convolutions with stride 2, no pooling; the last map is
    /// averaged over `H × W` before the linear head (`tf.reduce_mean` in
    /// the reference code). This is the network `huashi meta train` trains.
    StridedConv,
    /// Mini-ImageNet: 3×3 convolutions with stride 1, each block followed by
    /// a 2×2 max-pool (stride 2, 'VALID'); the last map is flattened.
    MaxPool,
}

/// The few-shot CNN of Finn, Abbeel & Levine, "Model-Agnostic Meta-Learning
/// for Fast Adaptation of Deep Networks", ICML 2017 (§5.2), exactly as
/// huashi-meta's `ConvNet` (and learn2learn's `OmniglotCNN`) defines it, so
/// that a `huashi meta train` checkpoint loads into it: four blocks of 3×3
/// convolution with `filters` filters, padding 1 and **no bias** (under batch
/// statistics a bias is subtracted again by the mean), batch norm, ReLU (then
/// a 2×2 max-pool in the [`FewShotVariant::MaxPool`] variant), then a linear
/// head to `ways` classes. Padding 1 gives the same map sizes as the
/// authors' TensorFlow 'SAME' (28 → 14 → 7 → 4 → 2).
///
/// End-points: `blocks.0` … `blocks.3` (the output of each block), `head`.
/// Inner nodes are `blocks.N.conv`, `blocks.N.bn` (and `blocks.N.relu`
/// before the pool); parameters are `blocks.N.conv.weight`,
/// `blocks.N.bn.{weight, bias, running_mean, running_var}`, `head.weight`,
/// `head.bias`.
///
/// Parameter count: batch norm is counted with learnable scale and shift
/// (γ, β), as in the PyTorch ports (learn2learn, torchmeta); the authors'
/// TensorFlow code learns β only (`tf.contrib.layers.batch_norm` has
/// `scale=False`). The paper used 64 filters for Omniglot and 32 for
/// Mini-ImageNet.
pub fn few_shot_cnn(
    variant: FewShotVariant,
    filters: usize,
    input: [usize; 3],
    ways: usize,
) -> Network {
    few_shot_cnn_with(variant, filters, 4, input, Some(ways))
}

/// [`few_shot_cnn`] with `blocks` blocks and, when `ways` is `None`, no
/// head: the flattened features are the output (the embedding of
/// Prototypical Networks, Snell et al. 2017).
pub fn few_shot_cnn_with(
    variant: FewShotVariant,
    filters: usize,
    blocks: usize,
    input: [usize; 3],
    ways: Option<usize>,
) -> Network {
    let mut b = Builder::new();
    for block in 0..blocks {
        let name = format!("blocks.{block}");
        let stride = match variant {
            FewShotVariant::StridedConv => 2,
            FewShotVariant::MaxPool => 1,
        };
        b.then(
            format!("{name}.conv"),
            conv(filters, [3, 3], stride, pad(1, 1), false),
        );
        b.then(format!("{name}.bn"), bn());
        match variant {
            FewShotVariant::StridedConv => b.then(name, relu()),
            FewShotVariant::MaxPool => {
                b.then(format!("{name}.relu"), relu());
                b.then(name, max_pool(2, 2, valid()))
            }
        };
    }
    if variant == FewShotVariant::StridedConv {
        b.then("mean", Layer::GlobalAvgPool);
    }
    b.then("flatten", Layer::Flatten);
    if let Some(ways) = ways {
        b.then("head", linear(ways));
    }
    let name = match variant {
        FewShotVariant::StridedConv => "maml_omniglot",
        FewShotVariant::MaxPool => "maml_miniimagenet",
    };
    b.finish(name, input)
}

/// The ReLU MLP of Finn, Abbeel & Levine (2017), §5.1 (sinusoid regression,
/// `sizes = [1, 40, 40, 1]`): the input `(sizes[0], 1, 1)` is flattened,
/// then linear layers `layers.i` (`sizes[i] → sizes[i+1]`, PyTorch's
/// `nn.Linear` layout), each but the last followed by a ReLU `layers.i.relu`.
/// Parameters: `layers.i.weight`, `layers.i.bias`.
pub fn mlp(sizes: &[usize]) -> Network {
    let mut b = Builder::new();
    b.then("flatten", Layer::Flatten);
    let layers = sizes.len().saturating_sub(1);
    for (i, &out) in sizes.iter().skip(1).enumerate() {
        let name = format!("layers.{i}");
        b.then(&name, linear(out));
        if i + 1 < layers {
            b.then(format!("{name}.relu"), relu());
        }
    }
    b.finish("maml_sinusoid", [sizes.first().copied().unwrap_or(1), 1, 1])
}
