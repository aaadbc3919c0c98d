//! ONNX `ConvTranspose` with `auto_pad` SAME_UPPER / SAME_LOWER / VALID:
//! the output is `i·s` (SAME), the total padding
//! `s·(i − 1) + output_padding + d·(k − 1) + 1 − i·s` split with the extra
//! row at the end (UPPER) or the start (LOWER), a negative total becoming
//! output padding.

#[path = "onnx_common/mod.rs"]
mod common;

use common::*;
use huashi_conv::Padding;
use huashi_net::{onnx, Layer, Shape};

/// `ConvTranspose` 2 → 4 channels with a `k×k` kernel, stride 2, on 3×3.
fn transposed(k: i64, auto_pad: &str) -> (Layer, Shape) {
    let nodes = vec![node(
        "ConvTranspose",
        "up",
        &["x", "w"],
        &["y"],
        &[("strides", A::Is(&[2, 2])), ("auto_pad", A::S(auto_pad))],
    )];
    let len = (2 * 4 * k * k) as usize;
    let bytes = model([2, 3, 3], nodes, vec![init("w", &[2, 4, k, k], ramp(len))]);
    let m = onnx::from_bytes(&bytes).unwrap();
    let a = m.network.analyse_default().unwrap();
    (m.network.nodes[0].layer.clone(), a.output().output)
}

fn pads_and_output_padding(layer: &Layer) -> (Padding, [usize; 2]) {
    let Layer::ConvTranspose {
        padding,
        output_padding,
        ..
    } = layer
    else {
        panic!("{layer:?}")
    };
    (padding.0, output_padding.0)
}

#[test]
fn same_upper_and_lower_give_i_times_s() {
    // k 3: full output (3 − 1)·2 + 3 = 7, target 6, total 1.
    let upper = Padding::Explicit {
        top: 0,
        left: 0,
        bottom: 1,
        right: 1,
    };
    let lower = Padding::Explicit {
        top: 1,
        left: 1,
        bottom: 0,
        right: 0,
    };
    for (mode, pads) in [("SAME_UPPER", upper), ("SAME_LOWER", lower)] {
        let (layer, out) = transposed(3, mode);
        assert_eq!(out, Shape::map(4, 6, 6), "{mode}");
        assert_eq!(pads_and_output_padding(&layer), (pads, [0, 0]), "{mode}");
    }
    // k 1: full output (3 − 1)·2 + 1 = 5 < 6: one row of output padding.
    let (layer, out) = transposed(1, "SAME_UPPER");
    assert_eq!(out, Shape::map(4, 6, 6));
    assert_eq!(
        pads_and_output_padding(&layer),
        (Padding::symmetric(0, 0), [1, 1])
    );
    // VALID: no padding, the full output 7.
    let (_, out) = transposed(3, "VALID");
    assert_eq!(out, Shape::map(4, 7, 7));
}
