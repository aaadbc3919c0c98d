//! Spatially separable (`[kh, 1]` then `[1, kw]`) and transposed
//! convolutions: shapes, parameters and MACs by hand, receptive fields,
//! the runnable model and the description format.

mod common;
use candle_core::{Device, Tensor};
use common::toml;
use huashi_net::{AxisField, Error, Field, Model, Network, Shape};

fn field(net: &Network, input: [usize; 3], node: &str) -> [AxisField; 2] {
    net.analyse(input)
        .unwrap_or_else(|e| panic!("{e}"))
        .receptive_field(node)
        .unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn spatially_separable_shapes_params_macs() {
    let net = toml(
        r#"
        [[nodes]]
        name = "s"
        op = "spatially_separable"
        out_channels = 8
        mid_channels = 6
        kernel = 3
        "#,
    );
    let a = net.analyse([4, 10, 12]).unwrap();
    let s = a.node("s").unwrap();
    assert_eq!(s.output, Shape::map(8, 8, 10));
    // vertical (6, 4, 3, 1) = 72, no bias; horizontal (8, 6, 1, 3) = 144 + 8 bias.
    assert_eq!(s.params, 72 + 144 + 8);
    // vertical 6·8·12 outputs × 4·3 taps; horizontal 8·8·10 × 6·3.
    assert_eq!(s.macs, 6 * 8 * 12 * 12 + 8 * 8 * 10 * 18);

    // mid defaults to C_in (huashi-conv's `ConvLayer::default_mid`); stride,
    // dilation and padding split by axis.
    let net = toml(
        r#"
        [[nodes]]
        name = "s"
        op = "spatially_separable"
        out_channels = 8
        kernel = [3, 5]
        stride = [2, 1]
        dilation = [1, 2]
        padding = [1, 1, 4, 0]
        bias = false
        "#,
    );
    let s = net.analyse([4, 9, 12]).unwrap().node("s").unwrap().clone();
    // H: (9 + 2 − 3)/2 + 1 = 5; W: 12 + 4 − 9 + 1 = 8.
    assert_eq!(s.output, Shape::map(8, 5, 8));
    // Vertical 3×1 4→4 to 5×12, horizontal 1×5 4→8 to 5×8.
    assert_eq!(s.params, 4 * 4 * 3 + 8 * 4 * 5);
    assert_eq!(s.macs, (4 * 5 * 12 * 4 * 3 + 8 * 5 * 8 * 4 * 5) as u64);
}

#[test]
fn conv_transpose_shapes_params_macs() {
    let net = toml(
        r#"
        [[nodes]]
        name = "t"
        op = "conv_transpose"
        out_channels = 6
        kernel = 3
        stride = 2
        padding = 1
        output_padding = 1
        groups = 2
        "#,
    );
    let t = net.analyse([4, 5, 6]).unwrap().node("t").unwrap().clone();
    // (i − 1)·2 − 2 + 3 + 1.
    assert_eq!(t.output, Shape::map(6, 10, 12));
    // weight (4, 6/2, 3, 3) + 6 bias.
    assert_eq!(t.params, 4 * 3 * 9 + 6);
    // N·C_in·H·W·(C_out/g)·kh·kw.
    assert_eq!(t.macs, 4 * 5 * 6 * 3 * 9);

    // Dilation, asymmetric padding, no bias.
    let net = toml(
        r#"
        [[nodes]]
        name = "t"
        op = "conv_transpose"
        out_channels = 2
        kernel = [3, 2]
        dilation = 2
        padding = [0, 1, 2, 0]
        bias = false
        "#,
    );
    let t = net.analyse([3, 4, 4]).unwrap().node("t").unwrap().clone();
    // H: 3 + 5 − 1 = 7; W: 3 + 3 − 2 = 4.
    assert_eq!(t.output, Shape::map(2, 7, 4));
    assert_eq!(t.params, 3 * 2 * 6);
    assert_eq!(t.macs, 3 * 16 * 2 * 6);
}

#[test]
fn spatially_separable_field_is_the_square_conv_field() {
    for (kernel, stride, dilation, padding) in [
        ("3", "1", "1", "0"),
        ("3", "2", "2", "1"),
        ("5", "2", "1", "\"same_tf\""),
        ("[3, 5]", "[2, 1]", "[1, 2]", "[1, 2]"),
    ] {
        let body = |op: &str| {
            format!(
                r#"
                [[nodes]]
                name = "a"
                op = "conv"
                out_channels = 4
                kernel = 3
                stride = 2
                [[nodes]]
                name = "b"
                op = "{op}"
                out_channels = 4
                kernel = {kernel}
                stride = {stride}
                dilation = {dilation}
                padding = {padding}
                [[nodes]]
                name = "c"
                op = "conv"
                out_channels = 4
                kernel = 3
                "#
            )
        };
        let (sep, conv) = (toml(&body("spatially_separable")), toml(&body("conv")));
        for node in ["b", "c"] {
            assert_eq!(
                field(&sep, [3, 64, 64], node),
                field(&conv, [3, 64, 64], node),
                "{node}: kernel {kernel}, stride {stride}, dilation {dilation}, padding {padding}"
            );
        }
    }
}

#[test]
fn stride_one_transposed_field_is_the_flipped_conv_field() {
    // A transposed conv (stride 1, dilation d, padding p) is a conv with
    // padding d·(k − 1) − p: the field grows by d·(k − 1).
    for (kernel, dilation, p) in [(3, 1, 0), (3, 1, 1), (3, 2, 1), (5, 1, 4)] {
        let net = |op: &str, padding: usize| {
            toml(&format!(
                r#"
                [[nodes]]
                name = "a"
                op = "conv"
                out_channels = 4
                kernel = 3
                stride = 2
                padding = 1
                [[nodes]]
                name = "b"
                op = "{op}"
                out_channels = 4
                kernel = {kernel}
                dilation = {dilation}
                padding = {padding}
                "#
            ))
        };
        let transposed = field(&net("conv_transpose", p), [3, 32, 32], "b");
        let conv = field(&net("conv", dilation * (kernel - 1) - p), [3, 32, 32], "b");
        assert_eq!(transposed, conv, "k {kernel}, d {dilation}, p {p}");
        // "a" has r = 3, S = 2, P = 1; "b" adds d·(k − 1)·2.
        assert_eq!(transposed[0].size, 3 + dilation * (kernel - 1) * 2);
        assert_eq!(transposed[0].stride, 2);
        assert_eq!(transposed[0].padding, 1 + (dilation * (kernel - 1) - p) * 2);
    }
}

#[test]
fn strided_transposed_field_is_undefined() {
    let net = toml(
        r#"
        [[nodes]]
        name = "up"
        op = "conv_transpose"
        out_channels = 4
        kernel = 4
        stride = 2
        padding = 1
        [[nodes]]
        name = "c"
        op = "conv"
        out_channels = 4
        kernel = 3
        [[nodes]]
        name = "skip"
        op = "conv_transpose"
        inputs = ["input"]
        out_channels = 4
        kernel = 4
        stride = 2
        padding = 1
        [[nodes]]
        name = "sum"
        op = "add"
        inputs = ["up", "skip"]
        "#,
    );
    let a = net.analyse([3, 8, 8]).unwrap();
    assert_eq!(a.node("up").unwrap().output, Shape::map(4, 16, 16));
    for node in ["up", "c"] {
        match &a.node(node).unwrap().field {
            Field::Undefined { node: at, reason } => {
                assert_eq!(at, "up");
                assert_eq!(reason, "transposed stride 2");
            }
            other => panic!("{node}: expected undefined, got {other:?}"),
        }
    }
    assert!(matches!(
        &a.node("sum").unwrap().field,
        Field::Undefined { .. }
    ));
    let err = a.receptive_field("c").unwrap_err();
    assert!(
        matches!(err, Error::UndefinedField { ref node, ref at, .. } if node == "c" && at == "up")
    );
    assert!(err.to_string().contains("transposed stride 2"), "{err}");
    // Shapes, parameters and MACs are still reported downstream.
    assert_eq!(a.node("c").unwrap().output, Shape::map(4, 14, 14));
}

#[test]
fn model_runs_both_with_the_analysed_shapes() {
    let net = Network::from_json(
        r#"{ "nodes": [
        { "name": "s", "op": "spatially_separable", "out_channels": 5, "mid": 3, "kernel": 3, "stride": 2, "padding": "same_tf" },
        { "name": "r", "op": "activation", "function": "relu" },
        { "name": "up", "op": "conv_transpose", "out_channels": 4, "kernel": 3, "stride": 2, "padding": 1, "output_padding": 1, "groups": 1 },
        { "name": "g", "op": "conv_transpose", "out_channels": 2, "kernel": [2, 3], "dilation": 2, "groups": 2, "bias": false }
    ] }"#,
    )
    .unwrap();
    let input = [3, 11, 14];
    let (model, params) = Model::new(&net, input, 7).unwrap();
    let shapes: Vec<(&str, &[usize])> = model.param_shapes().collect();
    assert_eq!(
        shapes,
        [
            ("s.vertical.weight", &[3, 3, 3, 1][..]),
            ("s.horizontal.weight", &[5, 3, 1, 3][..]),
            ("s.horizontal.bias", &[5][..]),
            ("up.weight", &[5, 4, 3, 3][..]),
            ("up.bias", &[4][..]),
            ("g.weight", &[4, 1, 2, 3][..]),
        ]
    );
    let a = model.analysis();
    assert_eq!(params.numel() as u64, a.totals.params);
    let x = Tensor::rand(0f32, 1f32, (2, 3, 11, 14), &Device::Cpu).unwrap();
    for node in ["s", "up", "g"] {
        let y = model.forward_to(&params, &x, node).unwrap();
        let Shape::Map {
            channels,
            height,
            width,
        } = a.node(node).unwrap().output
        else {
            panic!("maps")
        };
        assert_eq!(y.dims(), [2, channels, height, width], "{node}");
    }
    // s: 11×14 → 6×7; up: (6 − 1)·2 − 2 + 3 + 1 = 12, 14; g: 12 + 2, 14 + 4.
    assert_eq!(a.output().output, Shape::map(2, 14, 18));

    // The transposed node is huashi-conv's conv_transpose2d plus the bias.
    let s = model.forward_to(&params, &x, "r").unwrap();
    let up = model.forward_to(&params, &x, "up").unwrap();
    let geometry = huashi_conv::ConvGeometry {
        stride: [2, 2],
        dilation: [1, 1],
        padding: [1, 1, 1, 1],
        groups: 1,
    };
    let expected =
        huashi_conv::conv_transpose2d(&s, params.get("up.weight").unwrap(), &geometry, [1, 1])
            .unwrap()
            .broadcast_add(
                &params
                    .get("up.bias")
                    .unwrap()
                    .reshape((1, 4, 1, 1))
                    .unwrap(),
            )
            .unwrap();
    let diff = (up - expected)
        .unwrap()
        .abs()
        .unwrap()
        .flatten_all()
        .unwrap()
        .max(0)
        .unwrap()
        .to_scalar::<f32>()
        .unwrap();
    assert!(diff < 1e-5, "{diff}");
}

#[test]
fn toml_descriptions_parse_and_reject_unknown_fields() {
    let net = toml(
        r#"
        [[nodes]]
        name = "s"
        op = "spatially_separable"
        out_channels = 8
        mid = 4
        kernel = 3
        stride = 1
        dilation = 1
        padding = 1
        bias = false

        [[nodes]]
        name = "t"
        op = "conv_transpose"
        out_channels = 2
        kernel = [3, 3]
        stride = [2, 1]
        dilation = 1
        padding = [1, 0]
        output_padding = [1, 0]
        groups = 2
        bias = true
        "#,
    );
    assert_eq!(net.nodes[0].layer.op(), "spatially_separable");
    assert_eq!(net.nodes[1].layer.op(), "conv_transpose");
    let again = Network::from_json(&net.to_json()).unwrap();
    assert_eq!(again, net);
    let a = net.analyse([2, 6, 6]).unwrap();
    assert_eq!(a.node("t").unwrap().output, Shape::map(2, 12, 8));
    assert!(matches!(
        a.node("t").unwrap().field,
        Field::Undefined { ref reason, .. } if reason == "transposed stride 2×1"
    ));

    for (op, extra, field) in [
        ("spatially_separable", "groups = 2", "groups"),
        ("conv_transpose", "multiplier = 2", "multiplier"),
    ] {
        let text = format!(
            "[[nodes]]\nname = \"x\"\nop = \"{op}\"\nout_channels = 2\nkernel = 3\n{extra}\n"
        );
        let err = Network::from_toml(&text).unwrap_err();
        match &err {
            Error::Parse { line, message, .. } => {
                assert!(message.contains(field), "{message}");
                assert!(*line >= 1, "{err}");
            }
            other => panic!("expected a parse error, got {other}"),
        }
    }

    // Transposed convolutions take explicit padding only.
    let net = toml(
        "[[nodes]]\nname = \"t\"\nop = \"conv_transpose\"\nout_channels = 2\nkernel = 3\npadding = \"same_tf\"\n",
    );
    let err = net.analyse([2, 6, 6]).unwrap_err();
    assert!(
        matches!(err, Error::InvalidField { ref node, field: "padding", .. } if node == "t"),
        "{err}"
    );
    // output_padding must be less than the stride (or dilation).
    let net = toml(
        "[[nodes]]\nname = \"t\"\nop = \"conv_transpose\"\nout_channels = 2\nkernel = 3\noutput_padding = 1\n",
    );
    assert!(matches!(
        net.analyse([2, 6, 6]).unwrap_err(),
        Error::Layer { ref node, .. } if node == "t"
    ));
}
