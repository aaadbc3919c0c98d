//! The 4-layer convolutional network of the MAML papers.

use super::builder::{bn, conv, linear, max_pool, relu, same, valid, Builder};
use crate::desc::{Layer, Network};

/// The two variants of Finn, Abbeel & Levine (2017), §5.2.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FewShotVariant {
    /// Omniglot: 3×3 convolutions with stride 2, no pooling; the last map is
    /// averaged over `H × W` before the linear head (`tf.reduce_mean` in
    /// the reference code).
    StridedConv,
    /// Mini-ImageNet: 3×3 convolutions with stride 1, each block followed by
    /// a 2×2 max-pool (stride 2, 'VALID'); the last map is flattened.
    MaxPool,
}

/// The few-shot CNN of Finn, Abbeel & Levine, "Model-Agnostic Meta-Learning
/// for Fast Adaptation of Deep Networks", ICML 2017, as defined in the
/// authors' code (`cbfinn/maml`, `utils.conv_block` and
/// `models.MAML.forward_conv`): four blocks of 3×3 convolution with
/// `filters` filters, bias and TensorFlow 'SAME' padding, batch norm, ReLU
/// (then a 2×2 max-pool in the [`FewShotVariant::MaxPool`] variant), then a
/// linear head to `ways` classes.
///
/// End-points: `block1` … `block4` (the output of each block), `logits`.
/// Inner nodes are `blockN/conv`, `blockN/bn` (and `blockN/relu` before the
/// pool).
///
/// Parameter count: batch norm is counted with learnable scale and shift
/// (γ, β), as in the PyTorch ports (learn2learn, torchmeta); the authors'
/// TensorFlow code learns β only (`tf.contrib.layers.batch_norm` has
/// `scale=False`), i.e. `filters` fewer parameters per block. The paper
/// used 64 filters for Omniglot and 32 for Mini-ImageNet.
pub fn few_shot_cnn(
    variant: FewShotVariant,
    filters: usize,
    input: [usize; 3],
    ways: usize,
) -> Network {
    let mut b = Builder::new();
    for block in 1..=4 {
        let name = format!("block{block}");
        let stride = match variant {
            FewShotVariant::StridedConv => 2,
            FewShotVariant::MaxPool => 1,
        };
        b.then(
            format!("{name}/conv"),
            conv(filters, [3, 3], stride, same(), true),
        );
        b.then(format!("{name}/bn"), bn());
        match variant {
            FewShotVariant::StridedConv => b.then(name, relu()),
            FewShotVariant::MaxPool => {
                b.then(format!("{name}/relu"), relu());
                b.then(name, max_pool(2, 2, valid()))
            }
        };
    }
    if variant == FewShotVariant::StridedConv {
        b.then("mean", Layer::GlobalAvgPool);
    }
    b.then("flatten", Layer::Flatten);
    b.then("logits", linear(ways));
    let name = match variant {
        FewShotVariant::StridedConv => "maml_omniglot",
        FewShotVariant::MaxPool => "maml_miniimagenet",
    };
    b.finish(name, input)
}
