//! MobileNet v1 and v2.

use super::builder::{act, bn, conv, depthwise, dropout, linear, pad, pointwise, same, Builder};
use crate::desc::{Layer, Network};
use crate::spec::{Activation, PaddingSpec};

/// Strides and output channels of MobileNet v1's 13 separable layers.
const V1_LAYERS: [(usize, usize); 13] = [
    (1, 64),
    (2, 128),
    (1, 128),
    (2, 256),
    (1, 256),
    (2, 512),
    (1, 512),
    (1, 512),
    (1, 512),
    (1, 512),
    (1, 512),
    (2, 1024),
    (1, 1024),
];

/// Adds batch norm and ReLU6 after the node `name` (slim's scopes).
fn bn_relu6(b: &mut Builder, name: &str) {
    b.then(format!("{name}/BatchNorm"), bn());
    b.then(format!("{name}/Relu6"), act(Activation::Relu6));
}

/// MobileNet v1, width 1.0, input 3×224×224, as TF-slim
/// `nets/mobilenet_v1.py` `mobilenet_v1` with 1000 classes (Howard et al.
/// 2017): `Conv2d_0` 3×3/2 32, then 13 layers `Conv2d_N_depthwise` (3×3)
/// and `Conv2d_N_pointwise` (1×1), every convolution without bias and
/// followed by batch norm (scale and shift) and ReLU6 (`NAME/BatchNorm`,
/// `NAME/Relu6`), TensorFlow 'SAME' padding; then `AvgPool_1a`,
/// `Dropout_1b`, `Conv2d_1c_1x1` (1000, with bias) and `SpatialSqueeze`.
/// Keras `MobileNet(alpha=1.0)` has the same layers and counts
/// (its stride-2 `ZeroPadding2D((0, 1), (0, 1))` equals 'SAME' at 224).
pub fn mobilenet_v1() -> Network {
    let mut b = Builder::new();
    b.then("Conv2d_0", conv(32, [3, 3], 2, same(), false));
    bn_relu6(&mut b, "Conv2d_0");
    for (i, &(stride, out)) in V1_LAYERS.iter().enumerate() {
        let dw = format!("Conv2d_{}_depthwise", i + 1);
        b.then(&dw, depthwise(3, stride, same(), false));
        bn_relu6(&mut b, &dw);
        let pw = format!("Conv2d_{}_pointwise", i + 1);
        b.then(&pw, pointwise(out, false));
        bn_relu6(&mut b, &pw);
    }
    b.then("AvgPool_1a", Layer::GlobalAvgPool);
    b.then("Dropout_1b", dropout(0.001));
    b.then("Conv2d_1c_1x1", pointwise(1000, true));
    b.then("SpatialSqueeze", Layer::Flatten);
    b.finish("mobilenet_v1", [3, 224, 224])
}

/// torchvision's `ConvBNActivation` under `prefix`: conv `prefix.0`, batch
/// norm `prefix.1`, ReLU6 named `out`.
fn conv_bn_relu6(b: &mut Builder, prefix: &str, out: &str, layer: Layer) {
    b.then(format!("{prefix}.0"), layer);
    b.then(format!("{prefix}.1"), bn());
    b.then(out, act(Activation::Relu6));
}

/// One inverted residual block `features.{index}` (torchvision
/// `InvertedResidual`): expand 1×1 (when `t > 1`), depthwise 3×3, project 1×1.
fn inverted_residual(
    b: &mut Builder,
    index: usize,
    cin: usize,
    (t, cout, stride): (usize, usize, usize),
) {
    let block = format!("features.{index}");
    let input = b.last();
    let mut part = 0;
    if t != 1 {
        let p = format!("{block}.conv.0");
        conv_bn_relu6(b, &p, &format!("{p}.2"), pointwise(cin * t, false));
        part = 1;
    }
    let p = format!("{block}.conv.{part}");
    let k: PaddingSpec = pad(1, 1);
    conv_bn_relu6(b, &p, &format!("{p}.2"), depthwise(3, stride, k, false));
    b.then(format!("{block}.conv.{}", part + 1), pointwise(cout, false));
    let projected = b.then(format!("{block}.conv.{}", part + 2), bn());
    if stride == 1 && cin == cout {
        b.node(block, &[input, projected], Layer::Add);
    } else {
        b.then(block, act(Activation::Identity));
    }
}

/// `(t, c, n, s)` of MobileNet v2: expansion, channels, repeats, first stride.
const V2_SETTINGS: [(usize, usize, usize, usize); 7] = [
    (1, 16, 1, 1),
    (6, 24, 2, 2),
    (6, 32, 3, 2),
    (6, 64, 4, 2),
    (6, 96, 3, 1),
    (6, 160, 3, 2),
    (6, 320, 1, 1),
];

/// MobileNet v2, width 1.0, input 3×224×224, as torchvision's
/// `mobilenet_v2` (Sandler et al. 2018): `features.0` 3×3/2 32, 17
/// inverted residual blocks `features.1` … `features.17`, `features.18`
/// 1×1 1280, global average pool, `classifier.0` dropout and
/// `classifier.1` `Linear(1280, 1000)`. Convolutions have no bias and are
/// followed by batch norm (affine); padding is explicit `(k − 1)/2`.
/// Node names are torchvision's module paths; each block's output is the
/// node `features.N` (the residual sum, or an identity where there is none).
pub fn mobilenet_v2() -> Network {
    let mut b = Builder::new();
    conv_bn_relu6(
        &mut b,
        "features.0",
        "features.0",
        conv(32, [3, 3], 2, pad(1, 1), false),
    );
    let (mut cin, mut index) = (32, 1);
    for &(t, c, n, s) in &V2_SETTINGS {
        for i in 0..n {
            let stride = if i == 0 { s } else { 1 };
            inverted_residual(&mut b, index, cin, (t, c, stride));
            cin = c;
            index += 1;
        }
    }
    conv_bn_relu6(&mut b, "features.18", "features.18", pointwise(1280, false));
    b.then("avgpool", Layer::GlobalAvgPool);
    b.then("flatten", Layer::Flatten);
    b.then("classifier.0", dropout(0.2));
    b.then("classifier.1", linear(1000));
    b.finish("mobilenet_v2", [3, 224, 224])
}
