//! Element-wise layers: activation constants (`alpha`, `beta`), `erf`,
//! `scale`, `sub` and `div`, with values worked out by hand; and their ONNX
//! forms (LeakyRelu/Elu/HardSigmoid attributes, `Erf`, the exported exact
//! GELU `Div → Erf → Add → Mul → Mul`, SiLU, arithmetic with a single or a
//! per-channel constant).

mod common;
#[path = "onnx_common/mod.rs"]
mod onnx_common;

use candle_core::{Device, Tensor};
use common::{rf, toml};
use huashi_net::{onnx, Error, Layer, Model, ParamSet, Shape};
use onnx_common::{init, model, node, A};

/// `net`'s output on a `(1, 1, 1, n)` input holding `xs`.
fn run(net: &huashi_net::Network, xs: &[f32]) -> Vec<f32> {
    let x = Tensor::from_vec(xs.to_vec(), (1, 1, 1, xs.len()), &Device::Cpu).unwrap();
    let model = Model::compile(net, [1, 1, xs.len()]).unwrap();
    let y = model.forward(&ParamSet::new(), &x).unwrap();
    y.flatten_all().unwrap().to_vec1().unwrap()
}

fn close(a: &[f32], b: &[f32]) {
    assert_eq!(a.len(), b.len());
    for (x, y) in a.iter().zip(b) {
        assert!((x - y).abs() < 1e-6, "{a:?} vs {b:?}");
    }
}

fn activation(function: &str, constants: &str) -> huashi_net::Network {
    toml(&format!(
        "[[nodes]]\nname = \"f\"\nop = \"activation\"\nfunction = \"{function}\"\n{constants}"
    ))
}

#[test]
fn activation_constants_by_hand() {
    let xs = [-2.0, -1.0, 0.0, 1.0, 4.0];
    close(
        &run(&activation("leaky_relu", "alpha = 0.2"), &xs),
        &[-0.4, -0.2, 0.0, 1.0, 4.0],
    );
    // The default slope stays 0.01.
    close(
        &run(&activation("leaky_relu", ""), &xs),
        &[-0.02, -0.01, 0.0, 1.0, 4.0],
    );
    // 0.5·(e^{−2} − 1) = −0.432332, 0.5·(e^{−1} − 1) = −0.316060.
    close(
        &run(&activation("elu", "alpha = 0.5"), &xs),
        &[-0.432_332_4, -0.316_060_3, 0.0, 1.0, 4.0],
    );
    // ONNX's default HardSigmoid: clamp(0.2·x + 0.5, 0, 1).
    close(
        &run(&activation("hard_sigmoid", "alpha = 0.2\nbeta = 0.5"), &xs),
        &[0.1, 0.3, 0.5, 0.7, 1.0],
    );
    // erf(1) = 0.842701, erf(2) = 0.995322, erf(4) = 0.99999998.
    close(
        &run(&activation("erf", ""), &xs),
        &[-0.995_322_3, -0.842_700_8, 0.0, 0.842_700_8, 1.0],
    );
}

#[test]
fn constants_a_function_does_not_take_are_errors() {
    for (function, constants, field) in [
        ("relu", "alpha = 0.1", "alpha"),
        ("leaky_relu", "beta = 0.1", "beta"),
        ("elu", "alpha = nan", "alpha"),
    ] {
        let e = activation(function, constants)
            .analyse([1, 1, 4])
            .unwrap_err();
        assert!(
            matches!(e, Error::InvalidField { field: f, .. } if f == field),
            "{function}: {e}"
        );
    }
}

const ARITH: &str = r#"
    [[nodes]]
    name = "conv"
    op = "conv"
    out_channels = 2
    kernel = 3
    bias = false
    [[nodes]]
    name = "half"
    op = "scale"
    mul = 0.5
    add = 1.0
    [[nodes]]
    name = "gap"
    op = "global_avg_pool"
    [[nodes]]
    name = "centred"
    op = "sub"
    inputs = ["half", "gap"]
    [[nodes]]
    name = "ratio"
    op = "div"
    inputs = ["centred", "half"]
"#;

#[test]
fn scale_sub_and_div_shapes_cost_and_fields() {
    let net = toml(ARITH);
    let a = net.analyse([1, 5, 5]).unwrap();
    assert_eq!(a.node("centred").unwrap().output, Shape::map(2, 3, 3));
    assert_eq!(a.node("ratio").unwrap().output, Shape::map(2, 3, 3));
    // A pointwise scale and the merges keep the 3×3 conv's field; the gate
    // (global context) is not counted, as for `mul`.
    assert_eq!(rf(&net, [1, 5, 5], "ratio"), (3, 1, 0));
    let s = huashi_net::Summary::build(&net, &a, huashi_net::SummaryOptions::default()).unwrap();
    // Scale: 2·(2·3·3) = 36 FLOPs (a multiply and an add); sub, div 18 each.
    let other = |name: &str| {
        s.rows
            .iter()
            .find(|r| r.name == name)
            .unwrap()
            .other_flops
            .elementwise
    };
    assert_eq!(
        (other("half"), other("centred"), other("ratio")),
        (36, 18, 18)
    );
}

#[test]
fn scale_sub_and_div_values_by_hand() {
    let net = toml(
        r#"
        [[nodes]]
        name = "half"
        op = "scale"
        mul = 0.5
        add = 1.0
        [[nodes]]
        name = "centred"
        op = "sub"
        inputs = ["half", "input"]
        [[nodes]]
        name = "ratio"
        op = "div"
        inputs = ["centred", "half"]
    "#,
    );
    // x = 2: half 2, centred 0, ratio 0; x = −4: half −1, centred 3, ratio −3.
    close(&run(&net, &[2.0, -4.0]), &[0.0, -3.0]);
}

/// `x (1, 2, 2, 2) → onnx ops → y` with initializers.
fn onnx_graph(
    nodes: Vec<huashi_net::onnx::proto::NodeProto>,
    inits: Vec<huashi_net::onnx::proto::TensorProto>,
) -> Vec<u8> {
    model([2, 2, 2], nodes, inits)
}

/// torch.nn.GELU() exported at opset 17: x · (erf(x / √2) + 1) · 0.5; with
/// `also` another node reading the chain's value `also` (`""`: none).
fn gelu_graph(also: &str) -> Vec<u8> {
    let mut nodes = vec![
        node("Div", "/act/Div", &["x", "sqrt2"], &["d"], &[]),
        node("Erf", "/act/Erf", &["d"], &["e"], &[]),
        node("Add", "/act/Add", &["e", "one"], &["p"], &[]),
        node("Mul", "/act/Mul", &["x", "p"], &["m"], &[]),
        node("Mul", "/act/Mul_1", &["m", "half"], &["g"], &[]),
        node("Relu", "/out/Relu", &["g"], &["y"], &[]),
    ];
    if !also.is_empty() {
        nodes.push(node("Relu", "/other/Relu", &[also], &["z"], &[]));
    }
    let inits = vec![
        init("sqrt2", &[], vec![std::f32::consts::SQRT_2]),
        init("one", &[], vec![1.0]),
        init("half", &[], vec![0.5]),
    ];
    onnx_graph(nodes, inits)
}

/// The imported ops and the values at node `at` for x = −4..3.
fn gelu_values(bytes: &[u8], at: &str) -> (Vec<&'static str>, Vec<f32>) {
    let m = onnx::from_bytes(bytes).unwrap();
    let ops = m.network.nodes.iter().map(|n| n.layer.op()).collect();
    let xs: Vec<f32> = (0..8).map(|i| i as f32 - 4.0).collect();
    let x = Tensor::from_vec(xs, (1, 2, 2, 2), &Device::Cpu).unwrap();
    let model = Model::compile(&m.network, [2, 2, 2]).unwrap();
    let y = model.forward_to(&m.params, &x, at).unwrap();
    (ops, y.flatten_all().unwrap().to_vec1().unwrap())
}

#[test]
fn onnx_exact_gelu_pattern_is_one_gelu() {
    let xs: Vec<f32> = (0..8).map(|i| i as f32 - 4.0).collect();
    let x = Tensor::from_vec(xs, (1, 2, 2, 2), &Device::Cpu).unwrap();
    let gelu: Vec<f32> = x
        .gelu_erf()
        .unwrap()
        .flatten_all()
        .unwrap()
        .to_vec1()
        .unwrap();
    // GELU(1) = Φ(1) = 0.841345.
    assert!((gelu[5] - 0.841_344_7).abs() < 1e-6);
    let (ops, y) = gelu_values(&gelu_graph(""), "/act/Mul_1");
    assert_eq!(ops, ["activation", "activation"]);
    let m = onnx::from_bytes(&gelu_graph("")).unwrap();
    assert!(matches!(
        m.network.nodes[0].layer,
        Layer::Activation {
            function: huashi_net::Activation::Gelu,
            ..
        }
    ));
    close(&y, &gelu);
    // Another reader of erf's output keeps the chain as exported; it still
    // computes GELU.
    let (ops, y) = gelu_values(&gelu_graph("e"), "/act/Mul_1");
    assert_eq!(
        ops,
        [
            "scale",
            "activation",
            "scale",
            "mul",
            "scale",
            "activation",
            "activation"
        ]
    );
    close(&y, &gelu);
}

/// An ONNX op, its attributes, and the `alpha`, `beta` expected.
type Case<'a> = (&'a str, Vec<(&'a str, A<'a>)>, Option<f64>, Option<f64>);

#[test]
fn onnx_activation_attributes_are_kept() {
    let cases: [Case; 4] = [
        ("LeakyRelu", vec![("alpha", A::F(0.2))], Some(0.2), None),
        ("LeakyRelu", vec![], None, None),
        ("Elu", vec![("alpha", A::F(0.5))], Some(0.5), None),
        // ONNX's HardSigmoid default α is 0.2 (PyTorch's 1/6 is written).
        ("HardSigmoid", vec![], Some(0.2), None),
    ];
    for (op, attrs, alpha, beta) in cases {
        let nodes = vec![node(op, "f", &["x"], &["y"], &attrs)];
        let m = onnx::from_bytes(&onnx_graph(nodes, vec![])).unwrap();
        let Layer::Activation {
            alpha: a, beta: b, ..
        } = &m.network.nodes[0].layer
        else {
            panic!("{op}")
        };
        let near = |x: Option<f64>, y: Option<f64>| match (x, y) {
            (Some(x), Some(y)) => (x - y).abs() < 1e-6,
            (x, y) => x == y,
        };
        assert!(near(*a, alpha) && near(*b, beta), "{op}: {a:?} {b:?}");
    }
}

#[test]
fn onnx_sub_div_of_activations_and_per_channel_constants() {
    let nodes = vec![
        node("GlobalAveragePool", "gap", &["x"], &["g"], &[]),
        node("Sub", "centre", &["x", "g"], &["c"], &[]),
        node("Div", "ratio", &["c", "x"], &["y"], &[]),
    ];
    let m = onnx::from_bytes(&onnx_graph(nodes, vec![])).unwrap();
    assert_eq!(m.network.nodes[1].layer, Layer::Sub);
    assert_eq!(m.network.nodes[2].layer, Layer::Div);
    // A per-channel constant is a channel_affine holding it: x − [0.5, 0.25].
    let nodes = vec![node("Sub", "normalise", &["x", "mean"], &["y"], &[])];
    let inits = vec![init("mean", &[1, 2, 1, 1], vec![0.5, 0.25])];
    let m = onnx::from_bytes(&onnx_graph(nodes, inits)).unwrap();
    assert_eq!(
        m.network.nodes[0].layer,
        Layer::ChannelAffine {
            mul: false,
            add: true
        }
    );
    assert_eq!(m.network.analyse_default().unwrap().totals.params, 2);
    let x = Tensor::ones((1, 2, 2, 2), candle_core::DType::F32, &Device::Cpu).unwrap();
    let model = Model::compile(&m.network, [2, 2, 2]).unwrap();
    let y: Vec<f32> = model
        .forward(&m.params, &x)
        .unwrap()
        .flatten_all()
        .unwrap()
        .to_vec1()
        .unwrap();
    close(&y, &[0.5, 0.5, 0.5, 0.5, 0.75, 0.75, 0.75, 0.75]);
    // Per channel, Div is a weight 1/c: x / [2, 4].
    let nodes = vec![node("Div", "std", &["x", "s"], &["y"], &[])];
    let m = onnx::from_bytes(&onnx_graph(
        nodes,
        vec![init("s", &[2, 1, 1], vec![2.0, 4.0])],
    ))
    .unwrap();
    let model = Model::compile(&m.network, [2, 2, 2]).unwrap();
    let y: Vec<f32> = model
        .forward(&m.params, &x)
        .unwrap()
        .flatten_all()
        .unwrap()
        .to_vec1()
        .unwrap();
    close(&y, &[0.5, 0.5, 0.5, 0.5, 0.25, 0.25, 0.25, 0.25]);
    // A per-pixel constant, and a per-channel one minus the activation, are
    // refused naming the node.
    for (inputs, dims) in [(["x", "c"], [1, 2, 2, 2]), (["c", "x"], [1, 2, 1, 1])] {
        let len = dims.iter().product::<i64>() as usize;
        let nodes = vec![node("Sub", "normalise", &inputs, &["y"], &[])];
        let e = onnx::from_bytes(&onnx_graph(nodes, vec![init("c", &dims, vec![0.5; len])]))
            .unwrap_err();
        assert!(
            matches!(&e, Error::UnsupportedOp { op, node, position: 0, .. } if op == "Sub" && node == "normalise"),
            "{e}"
        );
    }
    // A constant divided by an activation, likewise.
    let nodes = vec![node("Div", "inverse", &["one", "x"], &["y"], &[])];
    let e = onnx::from_bytes(&onnx_graph(nodes, vec![init("one", &[], vec![1.0])])).unwrap_err();
    assert!(
        matches!(&e, Error::UnsupportedOp { node, .. } if node == "inverse"),
        "{e}"
    );
}

#[test]
fn onnx_sigmoid_times_input_is_one_silu() {
    let nodes = vec![
        node("Sigmoid", "/act/Sigmoid", &["x"], &["s"], &[]),
        node("Mul", "/act/Mul", &["s", "x"], &["y"], &[]),
    ];
    let m = onnx::from_bytes(&onnx_graph(nodes, vec![])).unwrap();
    assert_eq!(m.network.nodes.len(), 1);
    let node = &m.network.nodes[0];
    assert_eq!(node.name, "/act/Mul");
    assert!(matches!(
        node.layer,
        Layer::Activation {
            function: huashi_net::Activation::Silu,
            ..
        }
    ));
    // x·σ(x) at x = 1: 0.731059.
    let x = Tensor::ones((1, 2, 2, 2), candle_core::DType::F32, &Device::Cpu).unwrap();
    let model = Model::compile(&m.network, [2, 2, 2]).unwrap();
    let y: Vec<f32> = model
        .forward(&m.params, &x)
        .unwrap()
        .flatten_all()
        .unwrap()
        .to_vec1()
        .unwrap();
    close(&y, &[0.731_058_6; 8]);
}
