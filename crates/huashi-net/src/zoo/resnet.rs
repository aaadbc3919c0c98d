//! ResNet-50 v1, torchvision and TF-slim variants.

use super::builder::{act, bn, conv, linear, max_pool, pad, pointwise, relu, same, valid, Builder};
use crate::desc::{Layer, Network};
use crate::spec::Activation;

/// Bottleneck width, units and stride of the four stages of ResNet-50.
const STAGES: [(usize, usize, usize); 4] = [(64, 3, 2), (128, 4, 2), (256, 6, 2), (512, 3, 1)];

/// One torchvision `Bottleneck` named `name` (e.g. `layer2.0`), stride in
/// the 3×3 convolution, projection `downsample` when the shape changes.
fn torch_bottleneck(b: &mut Builder, name: &str, cin: usize, width: usize, stride: usize) {
    let input = b.last();
    b.then(format!("{name}.conv1"), pointwise(width, false));
    b.then(format!("{name}.bn1"), bn());
    b.then(format!("{name}.relu1"), relu());
    b.then(
        format!("{name}.conv2"),
        conv(width, [3, 3], stride, pad(1, 1), false),
    );
    b.then(format!("{name}.bn2"), bn());
    b.then(format!("{name}.relu2"), relu());
    b.then(format!("{name}.conv3"), pointwise(4 * width, false));
    let residual = b.then(format!("{name}.bn3"), bn());
    let shortcut = if stride != 1 || cin != 4 * width {
        let ds = conv(4 * width, [1, 1], stride, valid(), false);
        b.node(format!("{name}.downsample.0"), &[input], ds);
        b.then(format!("{name}.downsample.1"), bn())
    } else {
        input
    };
    b.node(format!("{name}.add"), &[residual, shortcut], Layer::Add);
    b.then(name, relu());
}

/// ResNet-50 v1 as torchvision's `resnet50` (He et al. 2016, "v1.5": the
/// stride of a stage is in the 3×3 convolution of its first block), input
/// 3×224×224, 1000 classes. Node names are torchvision's module paths
/// (`conv1`, `bn1`, `maxpool`, `layer1.0.conv1`, …, `fc`); each block's
/// output is `layerN.i` and each stage's output is `layerN`. Convolutions
/// have no bias; batch norm is affine.
pub fn resnet50_torchvision() -> Network {
    let mut b = Builder::new();
    b.then("conv1", conv(64, [7, 7], 2, pad(3, 3), false));
    b.then("bn1", bn());
    b.then("relu", relu());
    b.then("maxpool", max_pool(3, 2, pad(1, 1)));
    let mut cin = 64;
    for (stage, &(width, units, _)) in STAGES.iter().enumerate() {
        let layer = format!("layer{}", stage + 1);
        // torchvision: stride 2 in the first block of stages 2-4.
        let stride = if stage == 0 { 1 } else { 2 };
        for i in 0..units {
            let s = if i == 0 { stride } else { 1 };
            torch_bottleneck(&mut b, &format!("{layer}.{i}"), cin, width, s);
            cin = 4 * width;
        }
        b.then(layer, act(Activation::Identity));
    }
    b.then("avgpool", Layer::GlobalAvgPool);
    b.then("flatten", Layer::Flatten);
    b.then("fc", linear(1000));
    b.finish("resnet50", [3, 224, 224])
}

/// slim's `conv2d_same`: 'SAME' at stride 1, else explicit `(k − 1)/2`
/// padding and 'VALID'; no bias; then batch norm and (optionally) ReLU.
fn slim_conv(
    b: &mut Builder,
    name: &str,
    out: usize,
    k: usize,
    stride: usize,
    relu_after: bool,
) -> String {
    let padding = if stride == 1 {
        same()
    } else {
        pad((k - 1) / 2, (k - 1) / 2)
    };
    b.then(name, conv(out, [k, k], stride, padding, false));
    let normed = b.then(format!("{name}/BatchNorm"), bn());
    if relu_after {
        b.then(format!("{name}/Relu"), relu())
    } else {
        normed
    }
}

/// One slim `bottleneck` (v1) unit named `name`, stride in its 3×3 conv.
fn slim_bottleneck(b: &mut Builder, name: &str, cin: usize, width: usize, stride: usize) -> String {
    let input = b.last();
    let depth = 4 * width;
    let shortcut = if cin == depth && stride == 1 {
        input.clone()
    } else if cin == depth {
        b.then(format!("{name}/shortcut"), max_pool(1, stride, same()))
    } else {
        b.then(
            format!("{name}/shortcut"),
            conv(depth, [1, 1], stride, same(), false),
        );
        b.then(format!("{name}/shortcut/BatchNorm"), bn())
    };
    b.node(format!("{name}/conv1"), &[input], pointwise(width, false));
    b.then(format!("{name}/conv1/BatchNorm"), bn());
    b.then(format!("{name}/conv1/Relu"), relu());
    slim_conv(b, &format!("{name}/conv2"), width, 3, stride, true);
    let residual = slim_conv(b, &format!("{name}/conv3"), depth, 1, 1, false);
    b.node(format!("{name}/add"), &[shortcut, residual], Layer::Add);
    b.then(name, relu())
}

/// ResNet-50 v1 as TF-slim `nets/resnet_v1.py` `resnet_v1_50`, 1000
/// classes, input 3×224×224: `conv1` (7×7/2 via `conv2d_same`), `pool1`
/// (3×3/2 'SAME'), blocks `block1` … `block4` whose *last* unit carries the
/// stride (2, 2, 2, 1), `pool5` (global mean), `logits` (1×1 with bias),
/// `SpatialSqueeze`. Units are `blockN/unit_i/bottleneck_v1`; convolutions
/// have no bias and are followed by batch norm with scale.
pub fn resnet_v1_50_slim() -> Network {
    let mut b = Builder::new();
    slim_conv(&mut b, "conv1", 64, 7, 2, true);
    b.then("pool1", max_pool(3, 2, same()));
    let mut cin = 64;
    for (stage, &(width, units, stride)) in STAGES.iter().enumerate() {
        let block = format!("block{}", stage + 1);
        for i in 1..=units {
            let s = if i == units { stride } else { 1 };
            let unit = format!("{block}/unit_{i}/bottleneck_v1");
            slim_bottleneck(&mut b, &unit, cin, width, s);
            cin = 4 * width;
        }
        b.then(block, act(Activation::Identity));
    }
    b.then("pool5", Layer::GlobalAvgPool);
    b.then("logits", pointwise(1000, true));
    b.then("SpatialSqueeze", Layer::Flatten);
    b.finish("resnet_v1_50", [3, 224, 224])
}
