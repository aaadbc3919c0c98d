//! VGG-16.

use super::builder::{conv, dropout, linear, max_pool, pad, relu, valid, Builder};
use crate::desc::{Layer, Network};

/// Output channels of the five stages and their number of 3×3 convolutions.
const STAGES: [(usize, usize); 5] = [(64, 2), (128, 2), (256, 3), (512, 3), (512, 3)];

/// VGG-16 (configuration D of Simonyan & Zisserman 2015) as torchvision's
/// `vgg16`: 3×3 convolutions with padding 1 and bias, each followed by
/// ReLU; 2×2 max-pools; then `Linear(25088, 4096)`, ReLU, dropout,
/// `Linear(4096, 4096)`, ReLU, dropout, `Linear(4096, 1000)`. Input 3×224×224.
/// torchvision's `AdaptiveAvgPool2d((7, 7))` is the identity at 224 and is
/// left out.
///
/// End-points are named as in TF-slim `vgg_16` (without the scope):
/// `conv1_1` … `conv5_3` (the convolution; its ReLU is `conv5_3/relu`),
/// `pool1` … `pool5`, `fc6`, `fc7`, `fc8`.
pub fn vgg16() -> Network {
    let mut b = Builder::new();
    for (stage, &(channels, convs)) in STAGES.iter().enumerate() {
        let stage = stage + 1;
        for i in 1..=convs {
            let name = format!("conv{stage}_{i}");
            b.then(&name, conv(channels, [3, 3], 1, pad(1, 1), true));
            b.then(format!("{name}/relu"), relu());
        }
        b.then(format!("pool{stage}"), max_pool(2, 2, valid()));
    }
    b.then("flatten", Layer::Flatten);
    for fc in ["fc6", "fc7"] {
        b.then(fc, linear(4096));
        b.then(format!("{fc}/relu"), relu());
        b.then(format!("{fc}/dropout"), dropout(0.5));
    }
    b.then("fc8", linear(1000));
    b.finish("vgg16", [3, 224, 224])
}
