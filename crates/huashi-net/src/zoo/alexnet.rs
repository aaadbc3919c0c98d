//! AlexNet v2.

use super::builder::{conv, dropout, max_pool, relu, same, valid, Builder};
use crate::desc::{Layer, Network};
use crate::spec::PaddingSpec;

/// One convolution (with bias) of `alexnet_v2` and its ReLU.
fn conv_relu(b: &mut Builder, name: &str, out: usize, k: usize, s: usize, p: PaddingSpec) {
    b.then(name, conv(out, [k, k], s, p, true));
    b.then(format!("{name}/relu"), relu());
}

/// AlexNet v2 as TF-slim `nets/alexnet.py` `alexnet_v2` (the "one weird
/// trick" variant, Krizhevsky 2014), 1000 classes, input 3×224×224:
/// `conv1` 11×11/4 'VALID' 64, `pool1` 3×3/2, `conv2` 5×5 192, `pool2`,
/// `conv3` 384, `conv4` 384, `conv5` 256 (3×3 'SAME'), `pool5`, then the
/// fully convolutional head `fc6` 5×5 'VALID' 4096, `fc7` 1×1 4096,
/// `fc8` 1×1 1000 (no ReLU), and `SpatialSqueeze`. Every convolution has a
/// bias and (except `fc8`) a ReLU, named `NAME/relu`; there is no batch
/// norm. The end-points are named as in slim, without the scope.
pub fn alexnet_v2() -> Network {
    let mut b = Builder::new();
    conv_relu(&mut b, "conv1", 64, 11, 4, valid());
    b.then("pool1", max_pool(3, 2, valid()));
    conv_relu(&mut b, "conv2", 192, 5, 1, same());
    b.then("pool2", max_pool(3, 2, valid()));
    conv_relu(&mut b, "conv3", 384, 3, 1, same());
    conv_relu(&mut b, "conv4", 384, 3, 1, same());
    conv_relu(&mut b, "conv5", 256, 3, 1, same());
    b.then("pool5", max_pool(3, 2, valid()));
    conv_relu(&mut b, "fc6", 4096, 5, 1, valid());
    b.then("dropout6", dropout(0.5));
    conv_relu(&mut b, "fc7", 4096, 1, 1, same());
    b.then("dropout7", dropout(0.5));
    b.then("fc8", conv(1000, [1, 1], 1, same(), true));
    b.then("SpatialSqueeze", Layer::Flatten);
    b.finish("alexnet_v2", [3, 224, 224])
}
