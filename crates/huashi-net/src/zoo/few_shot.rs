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
    let mut b = Builder::new();
    for block in 0..4 {
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
    b.then("head", linear(ways));
    let name = match variant {
        FewShotVariant::StridedConv => "maml_omniglot",
        FewShotVariant::MaxPool => "maml_miniimagenet",
    };
    b.finish(name, input)
}
