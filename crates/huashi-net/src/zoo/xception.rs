//! Xception.

use super::builder::{bn, conv, linear, max_pool, relu, same, separable, valid, Builder};
use crate::desc::{Layer, Network};

/// `block{n}_sepconv{i}` (Keras `SeparableConv2D`, 3×3 'same', no bias)
/// and its batch norm `…_bn`, optionally preceded by ReLU `…_act`.
fn sepconv(b: &mut Builder, block: usize, i: usize, out: usize, relu_first: bool) -> String {
    let name = format!("block{block}_sepconv{i}");
    if relu_first {
        b.then(format!("{name}_act"), relu());
    }
    b.then(&name, separable(out));
    b.then(format!("{name}_bn"), bn())
}

/// A strided block `block{n}` of the entry (and exit) flow: two separable
/// convolutions, a 3×3/2 max-pool, and a 1×1/2 projection of the input
/// added to it.
fn strided_block(b: &mut Builder, block: usize, outs: [usize; 2], relu_first: bool) -> String {
    let input = b.last();
    sepconv(b, block, 1, outs[0], relu_first);
    sepconv(b, block, 2, outs[1], true);
    let pooled = b.then(format!("block{block}_pool"), max_pool(3, 2, same()));
    let residual = format!("block{block}_residual");
    b.node(&residual, &[input], conv(outs[1], [1, 1], 2, same(), false));
    let residual = b.then(format!("{residual}_bn"), bn());
    b.node(format!("block{block}_add"), &[pooled, residual], Layer::Add)
}

/// Xception (Chollet 2017) as Keras `keras.applications.Xception`, input
/// 3×299×299, `classes` outputs. Node names are Keras's layer names
/// (`block1_conv1`, `block1_conv1_bn`, `block1_conv1_act`, …,
/// `block14_sepconv2_act`, `avg_pool`, `predictions`); the layers Keras
/// leaves unnamed are called `blockN_residual`, `blockN_residual_bn`
/// (the 1×1/2 projections) and `blockN_add` (the sums, the block outputs).
/// Every convolution is without bias and followed by batch norm with scale
/// and shift.
pub fn xception(classes: usize) -> Network {
    let mut b = Builder::new();
    for (i, out) in [(1, 32), (2, 64)] {
        let stride = if i == 1 { 2 } else { 1 };
        b.then(
            format!("block1_conv{i}"),
            conv(out, [3, 3], stride, valid(), false),
        );
        b.then(format!("block1_conv{i}_bn"), bn());
        b.then(format!("block1_conv{i}_act"), relu());
    }
    strided_block(&mut b, 2, [128, 128], false);
    strided_block(&mut b, 3, [256, 256], true);
    strided_block(&mut b, 4, [728, 728], true);
    for block in 5..=12 {
        let input = b.last();
        for i in 1..=3 {
            sepconv(&mut b, block, i, 728, true);
        }
        let last = b.last();
        b.node(format!("block{block}_add"), &[last, input], Layer::Add);
    }
    strided_block(&mut b, 13, [728, 1024], true);
    for (i, out) in [(1, 1536), (2, 2048)] {
        sepconv(&mut b, 14, i, out, false);
        b.then(format!("block14_sepconv{i}_act"), relu());
    }
    b.then("avg_pool", Layer::GlobalAvgPool);
    b.then("flatten", Layer::Flatten);
    b.then("predictions", linear(classes));
    b.finish("xception", [3, 299, 299])
}
