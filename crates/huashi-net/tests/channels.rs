//! The channel rearrangements `slice` and `channel_shuffle`: shapes, no
//! cost, receptive fields kept, values worked out by hand, errors; and
//! their ONNX forms (ShuffleNet's `Reshape → Transpose → Reshape`, `Slice`
//! and `Split` on channels).

mod common;
#[path = "onnx_common/mod.rs"]
mod onnx_common;

use candle_core::{Device, Tensor};
use common::{rf, toml};
use huashi_net::{onnx, Error, Layer, Model, ParamSet, Shape};
use onnx_common::{init_ints, model, node, A};

const NET: &str = r#"
    [[nodes]]
    name = "conv"
    op = "conv"
    out_channels = 6
    kernel = 3
    bias = false
    [[nodes]]
    name = "shuffle"
    op = "channel_shuffle"
    groups = 2
    [[nodes]]
    name = "part"
    op = "slice"
    start = 1
    end = 4
    [[nodes]]
    name = "conv2"
    op = "conv"
    out_channels = 1
    kernel = 3
    bias = false
"#;

#[test]
fn shapes_cost_and_fields() {
    let net = toml(NET);
    let a = net.analyse([1, 9, 9]).unwrap();
    assert_eq!(a.node("shuffle").unwrap().output, Shape::map(6, 7, 7));
    assert_eq!(a.node("part").unwrap().output, Shape::map(3, 7, 7));
    for name in ["shuffle", "part"] {
        let r = a.node(name).unwrap();
        assert_eq!((r.params, r.macs), (0, 0), "{name}");
    }
    // Two 3×3 convolutions around them: 3 + 2 = 5, stride 1, no padding.
    assert_eq!(rf(&net, [1, 9, 9], "conv2"), (5, 1, 0));
}

/// `(1, C, 1, 1)` with channel `i` holding `i`.
fn ramp_channels(c: usize) -> Tensor {
    let v: Vec<f32> = (0..c).map(|i| i as f32).collect();
    Tensor::from_vec(v, (1, c, 1, 1), &Device::Cpu).unwrap()
}

#[test]
fn shuffle_and_slice_values_by_hand() {
    let net = toml(
        r#"
        [[nodes]]
        name = "shuffle"
        op = "channel_shuffle"
        groups = 2
        [[nodes]]
        name = "part"
        op = "slice"
        start = 1
        end = 4
    "#,
    );
    let model = Model::compile(&net, [6, 1, 1]).unwrap();
    let x = ramp_channels(6);
    let params = ParamSet::new();
    let values = |node: &str| -> Vec<f32> {
        let y = model.forward_to(&params, &x, node).unwrap();
        y.flatten_all().unwrap().to_vec1().unwrap()
    };
    // (2 groups, 3) → (3, 2): output j·2 + i is input i·3 + j.
    assert_eq!(values("shuffle"), [0., 3., 1., 4., 2., 5.]);
    assert_eq!(values("part"), [3., 1., 4.]);
}

#[test]
fn bad_groups_and_ranges_are_errors() {
    let shuffle = NET.replace("groups = 2", "groups = 4");
    let e = toml(&shuffle).analyse([1, 9, 9]).unwrap_err();
    assert!(
        matches!(
            e,
            Error::InvalidField {
                field: "groups",
                ..
            }
        ),
        "{e}"
    );
    for (start, end) in [(3, 3), (2, 7)] {
        let part = NET.replace(
            "start = 1\n    end = 4",
            &format!("start = {start}\n    end = {end}"),
        );
        let e = toml(&part).analyse([1, 9, 9]).unwrap_err();
        assert!(matches!(e, Error::InvalidField { field: "end", .. }), "{e}");
    }
}

/// The exporter's channel shuffle of `x` (6 channels, groups 2) with the
/// target shapes as constants, then `Split` into 2 + 4 and a `Slice` of
/// channels 1..3 of the first part.
fn shuffle_graph(perm: &[i64]) -> Vec<u8> {
    let nodes = vec![
        node("Reshape", "view", &["x", "five"], &["v"], &[]),
        node(
            "Transpose",
            "swap",
            &["v"],
            &["t"],
            &[("perm", A::Is(perm))],
        ),
        node("Reshape", "back", &["t", "four"], &["s"], &[]),
        node(
            "Split",
            "chunk",
            &["s", "sizes"],
            &["a", "b"],
            &[("axis", A::I(1))],
        ),
        node("Slice", "cut", &["a", "lo", "hi", "axes"], &["y"], &[]),
    ];
    let inits = vec![
        init_ints("five", vec![1, 2, 3, 4, 4]),
        init_ints("four", vec![0, -1, 4, 4]),
        init_ints("sizes", vec![2, 4]),
        init_ints("lo", vec![1]),
        init_ints("hi", vec![i64::MAX]),
        init_ints("axes", vec![1]),
    ];
    model([6, 4, 4], nodes, inits)
}

#[test]
fn onnx_shuffle_split_and_slice_import() {
    let m = onnx::from_bytes(&shuffle_graph(&[0, 2, 1, 3, 4])).unwrap();
    let layers: Vec<(&str, &Layer)> = m
        .network
        .nodes
        .iter()
        .map(|n| (n.name.as_str(), &n.layer))
        .collect();
    assert_eq!(
        layers,
        [
            ("back", &Layer::ChannelShuffle { groups: 2 }),
            ("chunk", &Layer::Slice { start: 0, end: 2 }),
            ("chunk_1", &Layer::Slice { start: 2, end: 6 }),
            ("cut", &Layer::Slice { start: 1, end: 2 }),
        ]
    );
    // The channel-ramp input: shuffle → 0 3 1 4 2 5, first part 0 3, cut 3.
    let model = Model::compile(&m.network, [6, 4, 4]).unwrap();
    let x = ramp_channels(6).repeat((1, 1, 4, 4)).unwrap();
    let y = model.forward_to(&m.params, &x, "chunk_1").unwrap();
    let first: Vec<f32> = y.get(0).unwrap().flatten_all().unwrap().to_vec1().unwrap();
    assert_eq!(
        first.chunks(16).map(|c| c[0]).collect::<Vec<_>>(),
        [1., 4., 2., 5.]
    );
    let y = model.forward(&m.params, &x).unwrap();
    assert_eq!(y.dims(), [1, 1, 4, 4]);
    assert_eq!(
        y.flatten_all().unwrap().to_vec1::<f32>().unwrap(),
        [3.0; 16]
    );
}

#[test]
fn other_transposes_are_unsupported() {
    let e = onnx::from_bytes(&shuffle_graph(&[0, 1, 3, 2, 4])).unwrap_err();
    assert!(
        matches!(&e, Error::UnsupportedOp { op, node, position: 1, .. } if op == "Transpose" && node == "swap"),
        "{e}"
    );
}
