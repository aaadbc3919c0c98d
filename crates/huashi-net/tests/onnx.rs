//! ONNX import on models built in the test (see `onnx_common`): shapes,
//! parameters, MACs and receptive fields derived by hand in the comments
//! (r ← r + (k' − 1)·S, P ← P + p·S, S ← S·s; Araujo, Norris & Sim,
//! Distill 2019), forward passes with the imported weights, and typed
//! errors for hostile files.

mod onnx_common;
use candle_core::{DType, Device, Tensor};
use huashi_net::onnx::proto::TensorProto;
use huashi_net::onnx::{self, OnnxModel};
use huashi_net::{Error, Model, Shape};
use onnx_common::*;

fn import(bytes: &[u8]) -> OnnxModel {
    onnx::from_bytes(bytes).unwrap()
}

/// `(size, stride, padding)` of the height axis of `name`'s field.
fn rf(m: &OnnxModel, name: &str) -> (u64, u64, u64) {
    let a = m.network.analyse_default().unwrap();
    let f = a.receptive_field(name).unwrap()[0];
    (f.size as u64, f.stride as u64, f.padding as u64)
}

fn forward(m: &OnnxModel, x: &Tensor) -> Tensor {
    let shape = m.network.input_shape.unwrap();
    Model::compile(&m.network, shape)
        .unwrap()
        .forward(&m.params, x)
        .unwrap()
}

#[test]
fn conv_bn_relu_pool_gemm_counts_and_fields() {
    let m = import(&small_cnn());
    let a = m.network.analyse_default().unwrap();
    // conv 4·3·9 + 4 = 112; bn 2·4 = 8 (+ 8 statistics); fc 64·10 + 10 = 650.
    assert_eq!(a.totals.params, 112 + 8 + 650);
    assert_eq!(a.totals.moving_stats, 8);
    // conv 4·3·9·8·8 = 6912 MACs; fc 640.
    assert_eq!(a.totals.macs, 6912 + 640);
    assert_eq!(a.output().output, Shape::Vector { features: 10 });
    assert_eq!(a.node("pool1").unwrap().output, Shape::map(4, 4, 4));
    // conv 3×3 pad 1: (3, 1, 1); pool 2/2: r = 3 + 1·1 = 4, S = 2, P = 1.
    assert_eq!(rf(&m, "conv1"), (3, 1, 1));
    assert_eq!(rf(&m, "pool1"), (4, 2, 1));
    // Names from the ONNX nodes, weights under them.
    assert_eq!(m.params.get("conv1.weight").unwrap().dims(), &[4, 3, 3, 3]);
    assert!(m.params.get("bn1.running_var").is_some());
    let y = forward(
        &m,
        &Tensor::ones((2, 3, 8, 8), DType::F32, &Device::Cpu).unwrap(),
    );
    assert_eq!(y.dims(), &[2, 10]);
}

#[test]
fn imported_weights_are_the_files() {
    // Conv 1×1 with weight 2 and bias 1 on ones: 3 everywhere; BN with
    // ε = 0.25 and var 0.75 divides by √(0.75 + 0.25) = 1, so it stays 3.
    let nodes = vec![
        node("Conv", "c", &["x", "w", "b"], &["c1"], &[]),
        node(
            "BatchNormalization",
            "bn",
            &["c1", "g", "beta", "mean", "var"],
            &["y"],
            &[("epsilon", A::F(0.25))],
        ),
    ];
    let inits = vec![
        init("w", &[1, 1, 1, 1], vec![2.0]),
        init("b", &[1], vec![1.0]),
        init("g", &[1], vec![1.0]),
        init("beta", &[1], vec![0.0]),
        init("mean", &[1], vec![0.0]),
        init("var", &[1], vec![0.75]),
    ];
    let m = import(&model([1, 2, 2], nodes, inits));
    let y = forward(
        &m,
        &Tensor::ones((1, 1, 2, 2), DType::F32, &Device::Cpu).unwrap(),
    );
    let v: Vec<f32> = y.flatten_all().unwrap().to_vec1().unwrap();
    for x in v {
        assert!((x - 3.0).abs() < 1e-5, "{x}");
    }
}

#[test]
fn squeeze_and_excitation_block() {
    // x (8, 6, 6) → GAP → Conv 8→2 → Relu → Conv 2→8 → HardSigmoid → Mul(x, gate).
    let nodes = vec![
        node("GlobalAveragePool", "se.pool", &["x"], &["p"], &[]),
        node("Conv", "se.fc1", &["p", "w1", "b1"], &["f1"], &[]),
        node("Relu", "se.relu", &["f1"], &["r"], &[]),
        node("Conv", "se.fc2", &["r", "w2", "b2"], &["f2"], &[]),
        node(
            "HardSigmoid",
            "se.gate",
            &["f2"],
            &["g"],
            &[("alpha", A::F(1.0 / 6.0)), ("beta", A::F(0.5))],
        ),
        node("Mul", "se.scale", &["x", "g"], &["y"], &[]),
    ];
    let inits = vec![
        init("w1", &[2, 8, 1, 1], ramp(16)),
        init("b1", &[2], ramp(2)),
        init("w2", &[8, 2, 1, 1], ramp(16)),
        init("b2", &[8], ramp(8)),
    ];
    let m = import(&model([8, 6, 6], nodes, inits));
    let a = m.network.analyse_default().unwrap();
    // 8·2 + 2 + 2·8 + 8 = 42 parameters; 16 + 16 MACs on the 1×1 map.
    assert_eq!(a.totals.params, 42);
    assert_eq!(a.totals.macs, 32);
    assert_eq!(a.output().output, Shape::map(8, 6, 6));
    // The gate scales channels: the product keeps the input's field.
    assert_eq!(rf(&m, "se.scale"), (1, 1, 0));
    let x = Tensor::ones((1, 8, 6, 6), DType::F32, &Device::Cpu).unwrap();
    assert_eq!(forward(&m, &x).dims(), &[1, 8, 6, 6]);
}

#[test]
fn residual_add_and_concat() {
    // a = conv 3×3 pad 1 (4→4, no bias); s = x + a; y = concat(s, a): 8 channels.
    let nodes = vec![
        node(
            "Conv",
            "a",
            &["x", "w"],
            &["a"],
            &[("pads", A::Is(&[1, 1, 1, 1]))],
        ),
        node("Add", "sum", &["x", "a"], &["s"], &[]),
        node("Concat", "cat", &["s", "a"], &["y"], &[("axis", A::I(1))]),
    ];
    let m = import(&model(
        [4, 5, 5],
        nodes,
        vec![init("w", &[4, 4, 3, 3], ramp(144))],
    ));
    let a = m.network.analyse_default().unwrap();
    assert_eq!(a.totals.params, 144);
    assert_eq!(a.output().output, Shape::map(8, 5, 5));
    // Aligned merges: the larger field (3, 1, 1) wins.
    assert_eq!(rf(&m, "sum"), (3, 1, 1));
    assert_eq!(rf(&m, "cat"), (3, 1, 1));
}

#[test]
fn a_one_input_concat_passes_its_input_on() {
    // DenseNet's `torch.cat([x], 1)` exports Concat with one input; the
    // conv after it still reads x's 4 channels: 4·2·1·1 = 8 parameters.
    let nodes = vec![
        node("Concat", "cat", &["x"], &["c"], &[("axis", A::I(1))]),
        node("Conv", "conv", &["c", "w"], &["y"], &[]),
    ];
    let m = import(&model(
        [4, 3, 3],
        nodes,
        vec![init("w", &[2, 4, 1, 1], ramp(8))],
    ));
    let a = m.network.analyse_default().unwrap();
    assert_eq!(a.totals.params, 8);
    assert_eq!(a.output().output, Shape::map(2, 3, 3));
}

#[test]
fn auto_pad_same_upper_and_lower() {
    // 5 → ⌈5/2⌉ = 3 with k 2, s 2: total padding (3 − 1)·2 + 2 − 5 = 1,
    // at the bottom (SAME_UPPER, P = 0) or the top (SAME_LOWER, P = 1).
    for (mode, pad) in [("SAME_UPPER", 0), ("SAME_LOWER", 1)] {
        let nodes = vec![node(
            "Conv",
            "c",
            &["x", "w"],
            &["y"],
            &[("auto_pad", A::S(mode)), ("strides", A::Is(&[2, 2]))],
        )];
        let m = import(&model(
            [1, 5, 5],
            nodes,
            vec![init("w", &[1, 1, 2, 2], ramp(4))],
        ));
        let a = m.network.analyse_default().unwrap();
        assert_eq!(a.output().output, Shape::map(1, 3, 3), "{mode}");
        assert_eq!(rf(&m, "c"), (2, 2, pad), "{mode}");
    }
}

#[test]
fn ceil_mode_max_pool() {
    // 6 → ⌈(6 − 3)/2⌉ + 1 = 3 (floor would give 2); the last window starts
    // at 4 < 6, so PyTorch keeps it (nn.MaxPool2d(3, 2, ceil_mode=True)).
    let nodes = vec![node(
        "MaxPool",
        "pool",
        &["x"],
        &["y"],
        &[
            ("kernel_shape", A::Is(&[3, 3])),
            ("strides", A::Is(&[2, 2])),
            ("ceil_mode", A::I(1)),
        ],
    )];
    let m = import(&model([1, 6, 6], nodes, vec![]));
    assert_eq!(
        m.network.analyse_default().unwrap().output().output,
        Shape::map(1, 3, 3)
    );
    let x = Tensor::ones((1, 1, 6, 6), DType::F32, &Device::Cpu).unwrap();
    assert_eq!(forward(&m, &x).dims(), &[1, 1, 3, 3]);
}

#[test]
fn torch_flatten_shape_chain_folds() {
    // Shape → Gather(0) → Unsqueeze → Concat([N], [-1]) → Reshape, then MatMul + Add.
    let nodes = vec![
        node("Shape", "shape", &["x"], &["s"], &[]),
        node(
            "Gather",
            "gather",
            &["s", "zero"],
            &["n"],
            &[("axis", A::I(0))],
        ),
        node("Unsqueeze", "unsq", &["n", "axes"], &["n1"], &[]),
        node(
            "Concat",
            "cat",
            &["n1", "minus1"],
            &["target"],
            &[("axis", A::I(0))],
        ),
        node("Reshape", "flat", &["x", "target"], &["f"], &[]),
        node("MatMul", "fc", &["f", "w"], &["m"], &[]),
        node("Add", "fc_bias", &["m", "b"], &["y"], &[]),
    ];
    let inits = vec![
        TensorProto {
            dims: vec![],
            ..init_ints("zero", vec![0])
        },
        init_ints("axes", vec![0]),
        init_ints("minus1", vec![-1]),
        init("w", &[12, 5], ramp(60)),
        init("b", &[5], ramp(5)),
    ];
    let m = import(&model([3, 2, 2], nodes, inits));
    let a = m.network.analyse_default().unwrap();
    // Only the flatten and the linear (12·5 + 5) remain.
    assert_eq!(m.network.nodes.len(), 2);
    assert_eq!(a.totals.params, 65);
    assert_eq!(a.output().output, Shape::Vector { features: 5 });
    let x = Tensor::ones((1, 3, 2, 2), DType::F32, &Device::Cpu).unwrap();
    let y: Vec<f32> = forward(&m, &x).flatten_all().unwrap().to_vec1().unwrap();
    // y_j = Σ_i w[i, j] + b_j = Σ_i 0.01·(5i + j) + 0.01·j = 0.01·(330 + 13j).
    for (j, v) in y.iter().enumerate() {
        assert!(
            (v - 0.01 * (330.0 + 13.0 * j as f32)).abs() < 1e-4,
            "{j}: {v}"
        );
    }
}

#[test]
fn conv_transpose_output_shape_resolves_output_padding() {
    // 3 → (3 − 1)·2 + 3 − 2 = 5 naturally; output_shape 6 needs output_padding 1.
    let nodes = vec![node(
        "ConvTranspose",
        "up",
        &["x", "w"],
        &["y"],
        &[
            ("strides", A::Is(&[2, 2])),
            ("pads", A::Is(&[1, 1, 1, 1])),
            ("output_shape", A::Is(&[6, 6])),
        ],
    )];
    let m = import(&model(
        [2, 3, 3],
        nodes,
        vec![init("w", &[2, 4, 3, 3], ramp(72))],
    ));
    let a = m.network.analyse_default().unwrap();
    assert_eq!(a.output().output, Shape::map(4, 6, 6));
    assert_eq!(a.totals.params, 72);
}

fn error_of(bytes: &[u8]) -> Error {
    onnx::from_bytes(bytes).unwrap_err()
}

#[test]
fn unknown_op_names_op_node_and_position() {
    let nodes = vec![
        node("Relu", "r", &["x"], &["a"], &[]),
        node("GridSample", "warp", &["a", "a"], &["y"], &[]),
    ];
    match error_of(&model([1, 4, 4], nodes, vec![])) {
        Error::UnsupportedOp {
            op, node, position, ..
        } => {
            assert_eq!(
                (op.as_str(), node.as_str(), position),
                ("GridSample", "warp", 1)
            );
        }
        other => panic!("{other}"),
    }
}

#[test]
fn hostile_files_are_typed_errors() {
    let valid = small_cnn();
    for cut in [1, 7, valid.len() / 2, valid.len() - 1] {
        assert!(onnx::from_bytes(&valid[..cut]).is_err(), "cut at {cut}");
    }
    assert!(matches!(
        error_of(b"not a protobuf at all"),
        Error::Onnx { .. }
    ));
    // Dims claiming 2^40 values, or negative, with no data behind them.
    for dims in [vec![1 << 20, 1 << 20], vec![-3, 4], vec![4, 3, 3, 3]] {
        let w = TensorProto {
            dims: dims.clone(),
            data_type: 1,
            float_data: vec![1.0; 5],
            name: "w".into(),
            ..Default::default()
        };
        let nodes = vec![node("Conv", "c", &["x", "w"], &["y"], &[])];
        assert!(
            matches!(
                error_of(&model([3, 4, 4], nodes, vec![w])),
                Error::Onnx { .. }
            ),
            "{dims:?}"
        );
    }
    // A missing input, and a cycle (a reads b's output before b runs).
    let missing = vec![node("Relu", "r", &["nowhere"], &["y"], &[])];
    assert!(error_of(&model([1, 4, 4], missing, vec![]))
        .to_string()
        .contains("nowhere"));
    let cycle = vec![
        node("Add", "a", &["x", "b"], &["a"], &[]),
        node("Relu", "b", &["a"], &["b"], &[]),
    ];
    assert!(matches!(
        error_of(&model([1, 4, 4], cycle, vec![])),
        Error::Onnx { .. }
    ));
    // Huge and zero input sizes.
    for chw in [[3, 1 << 30, 4], [0, 4, 4], [-1, 4, 4]] {
        let nodes = vec![node("Relu", "r", &["x"], &["y"], &[])];
        assert!(
            matches!(error_of(&model(chw, nodes, vec![])), Error::Onnx { .. }),
            "{chw:?}"
        );
    }
    // Absurd strides and kernel sizes.
    let nodes = vec![node(
        "MaxPool",
        "p",
        &["x"],
        &["y"],
        &[("kernel_shape", A::Is(&[1 << 40, 2]))],
    )];
    assert!(onnx::from_bytes(&model([1, 4, 4], nodes, vec![])).is_err());
}

#[test]
fn file_errors_name_the_path() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.onnx");
    std::fs::write(&path, b"\x08\x07garbage").unwrap();
    let e = onnx::from_path(&path).unwrap_err().to_string();
    assert!(e.contains("bad.onnx"), "{e}");
    let good = dir.path().join("good.onnx");
    std::fs::write(&good, small_cnn()).unwrap();
    let net = huashi_net::zoo::load(good.to_str().unwrap()).unwrap();
    assert_eq!(net.input_shape, Some([3, 8, 8]));
}

#[test]
fn reduce_mean_is_a_global_pool() {
    // keepdims 1: (3, 1, 1); keepdims 0: then flattened to 3 features.
    for (keep, out) in [(1, Shape::map(3, 1, 1)), (0, Shape::Vector { features: 3 })] {
        let nodes = vec![node(
            "ReduceMean",
            "gap",
            &["x"],
            &["y"],
            &[("axes", A::Is(&[2, 3])), ("keepdims", A::I(keep))],
        )];
        let m = import(&model([3, 4, 5], nodes, vec![]));
        let a = m.network.analyse_default().unwrap();
        assert_eq!(a.output().output, out);
        // The pool sees the whole 4×5 input.
        let f = a.receptive_field("gap").unwrap();
        assert_eq!((f[0].size, f[1].size), (4, 5));
    }
}

#[test]
fn allow_unknown_keeps_an_opaque_layer() {
    // An unmapped op between two convs: with allow_unknown its shape comes
    // from value_info, its cost is 0 and the field is undefined after it.
    let nodes = vec![
        node("Conv", "a", &["x", "w"], &["a"], &[]),
        node("GridSample", "warp", &["a", "a"], &["b"], &[]),
        node("Conv", "c", &["b", "w2"], &["y"], &[]),
    ];
    let inits = vec![
        init("w", &[2, 1, 3, 3], ramp(18)),
        init("w2", &[1, 2, 1, 1], ramp(2)),
    ];
    let mut bytes = model([1, 6, 6], nodes.clone(), inits.clone());
    assert!(matches!(error_of(&bytes), Error::UnsupportedOp { .. }));
    let options = onnx::ImportOptions {
        allow_unknown: true,
        ..onnx::ImportOptions::default()
    };
    // No value_info for "b": still the typed error.
    assert!(matches!(
        onnx::from_bytes_with(&bytes, &options),
        Err(Error::UnsupportedOp { .. })
    ));
    let mut proto =
        <huashi_net::onnx::proto::ModelProto as prost::Message>::decode(&bytes[..]).unwrap();
    let graph = proto.graph.as_mut().unwrap();
    graph
        .value_info
        .push(value("b", &[None, Some(2), Some(4), Some(4)]));
    bytes = prost::Message::encode_to_vec(&proto);
    let m = onnx::from_bytes_with(&bytes, &options).unwrap();
    let a = m.network.analyse_default().unwrap();
    let warp = a.node("warp").unwrap();
    assert_eq!(
        (warp.op, warp.output, warp.macs),
        ("opaque", Shape::map(2, 4, 4), 0)
    );
    assert!(matches!(
        a.receptive_field("c"),
        Err(Error::UndefinedField { .. })
    ));
    // The model cannot run: a typed error naming the op.
    let e = Model::compile(&m.network, [1, 6, 6])
        .unwrap_err()
        .to_string();
    assert!(e.contains("GridSample"), "{e}");
}

#[test]
fn zero_pad_folds_into_the_next_conv() {
    // Pad H by (1 top, 2 bottom), W by (0, 1) on (1, 2, 3), then a 1×1 conv
    // of weight 1: output (2 + 3, 3 + 1) = (5, 4), the border zero; the
    // field's padding is the top pad: (1, 1, 1).
    let nodes = vec![
        node(
            "Pad",
            "pad",
            &["x", "pads"],
            &["p"],
            &[("mode", A::S("constant"))],
        ),
        node("Conv", "c", &["p", "w"], &["y"], &[]),
    ];
    let pads = init_ints("pads", vec![0, 0, 1, 0, 0, 0, 2, 1]);
    let m = import(&model(
        [1, 2, 3],
        nodes,
        vec![pads.clone(), init("w", &[1, 1, 1, 1], vec![1.0])],
    ));
    let a = m.network.analyse_default().unwrap();
    assert_eq!(a.output().output, Shape::map(1, 5, 4));
    assert_eq!(rf(&m, "c"), (1, 1, 1));
    let x = Tensor::ones((1, 1, 2, 3), DType::F32, &Device::Cpu).unwrap();
    let y: Vec<f32> = forward(&m, &x).flatten_all().unwrap().to_vec1().unwrap();
    // Rows: zero, two rows of (1, 1, 1, 0), two zero rows.
    let expect = [
        0., 0., 0., 0., 1., 1., 1., 0., 1., 1., 1., 0., 0., 0., 0., 0., 0., 0., 0., 0.,
    ];
    assert_eq!(y, expect);
    // A Pad before MaxPool is refused naming the op.
    let max = vec![
        node("Pad", "pad", &["x", "pads"], &["p"], &[]),
        node(
            "MaxPool",
            "mp",
            &["p"],
            &["y"],
            &[("kernel_shape", A::Is(&[2, 2]))],
        ),
    ];
    let e = error_of(&model([1, 2, 3], max, vec![pads]));
    assert!(
        matches!(e, Error::UnsupportedOp { ref op, .. } if op == "MaxPool"),
        "{e}"
    );
}

#[test]
fn reflect_and_edge_pads_become_the_convs_padding_mode() {
    // x = [[1, 2, 3], [4, 5, 6]] padded by 1 on every side, then a 1×1
    // convolution of weight 1. Reflect (PyTorch/ONNX: the edge is not
    // repeated): rows −1 and 2 mirror rows 1 and 0, columns likewise:
    //   5 4 5 6 5 / 2 1 2 3 2 / 5 4 5 6 5 / 2 1 2 3 2.
    // Edge (huashi's Replicate) repeats the border:
    //   1 1 2 3 3 / 1 1 2 3 3 / 4 4 5 6 6 / 4 4 5 6 6.
    let pads = init_ints("pads", vec![0, 0, 1, 1, 0, 0, 1, 1]);
    let x = Tensor::new(&[[[[1f32, 2., 3.], [4., 5., 6.]]]], &Device::Cpu).unwrap();
    let run = |mode: &'static str| {
        let nodes = vec![
            node(
                "Pad",
                "pad",
                &["x", "pads"],
                &["p"],
                &[("mode", A::S(mode))],
            ),
            node("Conv", "c", &["p", "w"], &["y"], &[]),
        ];
        let w = init("w", &[1, 1, 1, 1], vec![1.0]);
        let m = import(&model([1, 2, 3], nodes, vec![pads.clone(), w]));
        let a = m.network.analyse_default().unwrap();
        assert_eq!(a.output().output, Shape::map(1, 4, 5));
        let y: Vec<f32> = forward(&m, &x).flatten_all().unwrap().to_vec1().unwrap();
        y
    };
    let reflect = [
        5., 4., 5., 6., 5., 2., 1., 2., 3., 2., 5., 4., 5., 6., 5., 2., 1., 2., 3., 2.,
    ];
    assert_eq!(run("reflect"), reflect);
    let edge = [
        1., 1., 2., 3., 3., 1., 1., 2., 3., 3., 4., 4., 5., 6., 6., 4., 4., 5., 6., 6.,
    ];
    assert_eq!(run("edge"), edge);
    // A reflect Pad before a pool, or before a Conv that pads again, and
    // a wrap Pad are refused naming the op.
    let refused = |mode: &'static str, op: &'static str, attrs: &[(&str, A<'static>)]| {
        let nodes = vec![
            node(
                "Pad",
                "pad",
                &["x", "pads"],
                &["p"],
                &[("mode", A::S(mode))],
            ),
            node(op, "o", &["p", "w"], &["y"], attrs),
        ];
        let w = init("w", &[1, 1, 3, 3], vec![1.0; 9]);
        let e = error_of(&model([1, 2, 3], nodes, vec![pads.clone(), w]));
        assert!(matches!(e, Error::UnsupportedOp { .. }), "{e}");
        e.to_string()
    };
    let e = refused(
        "reflect",
        "AveragePool",
        &[("kernel_shape", A::Is(&[2, 2]))],
    );
    assert!(e.contains("AveragePool"), "{e}");
    let e = refused("edge", "Conv", &[("pads", A::Is(&[1, 1, 1, 1]))]);
    assert!(e.contains("pads again"), "{e}");
    let e = refused("wrap", "Conv", &[]);
    assert!(e.contains("Pad"), "{e}");
}

#[test]
fn nearest_resize_by_whole_factors_is_an_upsample() {
    // x = [[1, 2, 3], [4, 5, 6]] resized by scales [1, 1, 2, 2] (PyTorch's
    // nn.Upsample(scale_factor=2) export: nearest, asymmetric, floor):
    // pixel (i, j) copies (⌊i/2⌋, ⌊j/2⌋), so (1, 4, 6) of 2×2 blocks.
    let x = Tensor::new(&[[[[1f32, 2., 3.], [4., 5., 6.]]]], &Device::Cpu).unwrap();
    let resize = |inputs: &[&str], inits: Vec<_>, attrs: &[(&str, A<'static>)]| {
        let nodes = vec![
            node("Resize", "up", inputs, &["u"], attrs),
            node("Conv", "c", &["u", "w"], &["y"], &[]),
        ];
        let mut inits = inits;
        inits.push(init("w", &[1, 1, 1, 1], vec![1.0]));
        model([1, 2, 3], nodes, inits)
    };
    let floor = [
        ("mode", A::S("nearest")),
        ("coordinate_transformation_mode", A::S("asymmetric")),
        ("nearest_mode", A::S("floor")),
    ];
    let scales = init("scales", &[4], vec![1.0, 1.0, 2.0, 2.0]);
    let m = import(&resize(&["x", "", "scales"], vec![scales], &floor));
    let a = m.network.analyse_default().unwrap();
    assert_eq!(a.output().output, Shape::map(1, 4, 6));
    assert_eq!(
        (a.node("up").unwrap().op, a.node("up").unwrap().macs),
        ("upsample", 0)
    );
    // Like a transposed convolution of stride 2: no receptive field after it.
    assert!(matches!(
        a.receptive_field("c"),
        Err(Error::UndefinedField { .. })
    ));
    let y: Vec<f32> = forward(&m, &x).flatten_all().unwrap().to_vec1().unwrap();
    let row = |a: f32, b: f32, c: f32| [a, a, b, b, c, c];
    let expect: Vec<f32> = [
        row(1., 2., 3.),
        row(1., 2., 3.),
        row(4., 5., 6.),
        row(4., 5., 6.),
    ]
    .concat();
    assert_eq!(y, expect);
    // The same from `sizes` (half_pixel rounding gives the same pixels for
    // whole factors): (2, 3) → (4, 9) is [2, 3].
    let sizes = init_ints("sizes", vec![1, 1, 4, 9]);
    let m = import(&resize(&["x", "", "", "sizes"], vec![sizes], &[]));
    let a = m.network.analyse_default().unwrap();
    assert_eq!(a.output().output, Shape::map(1, 4, 9));
    // Linear mode with half-pixel coordinates is the bilinear upsample.
    let scales = || vec![init("scales", &[4], vec![1.0, 1.0, 2.0, 2.0])];
    let m = import(&resize(
        &["x", "", "scales"],
        scales(),
        &[("mode", A::S("linear"))],
    ));
    assert_eq!(
        m.network.nodes[0].layer,
        huashi_net::Layer::Upsample {
            scale: huashi_net::Pair([2, 2]),
            bilinear: true
        }
    );
    // Linear with aligned corners, cubic mode and fractional factors are
    // refused naming the op.
    for (inits, attrs) in [
        (
            scales(),
            vec![
                ("mode", A::S("linear")),
                ("coordinate_transformation_mode", A::S("align_corners")),
            ],
        ),
        (scales(), vec![("mode", A::S("cubic"))]),
        (vec![init("scales", &[4], vec![1.0, 1.0, 1.5, 2.0])], vec![]),
    ] {
        let e = error_of(&resize(&["x", "", "scales"], inits, &attrs));
        assert!(
            matches!(e, Error::UnsupportedOp { ref op, .. } if op == "Resize"),
            "{e}"
        );
    }
}
