//! Reading descriptions from TOML and JSON.

use huashi_conv::Padding;
use huashi_net::{Activation, Layer, Network, PaddingSpec, Pair};

fn file(name: &str) -> String {
    format!("{}/descriptions/{name}", env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn toml_example_parses_with_defaults() {
    let net = Network::from_path(file("small_cnn.toml")).unwrap();
    assert_eq!(net.name.as_deref(), Some("small_cnn"));
    assert_eq!(
        (net.input.as_str(), net.input_shape),
        ("image", Some([3, 32, 32]))
    );
    assert_eq!(net.nodes.len(), 9);
    assert_eq!(
        net.nodes[0].layer,
        Layer::Conv {
            out_channels: 16,
            kernel: Pair([3, 3]),
            stride: Pair([1, 1]),
            dilation: Pair([1, 1]),
            padding: PaddingSpec(Padding::symmetric(1, 1)),
            padding_mode: huashi_conv::PaddingMode::Zeros,
            groups: 1,
            bias: false,
        }
    );
    assert_eq!(
        net.nodes[2].layer,
        Layer::Activation {
            function: Activation::Relu,
            alpha: None,
            beta: None,
        }
    );
    assert_eq!(
        net.nodes[3].layer,
        Layer::MaxPool {
            kernel: Pair([2, 2]),
            stride: None,
            padding: PaddingSpec(Padding::Valid)
        }
    );
    assert_eq!(net.nodes[3].inputs, None);
}

#[test]
fn json_example_parses() {
    let net = Network::from_path(file("two_branch.json")).unwrap();
    assert_eq!(net.input, "input");
    assert_eq!(
        net.nodes[3].inputs.as_deref(),
        Some(&["branch_3x3".to_string(), "branch_pool".to_string()][..])
    );
    assert_eq!(net.nodes[3].layer, Layer::Concat);
    let Layer::Conv {
        padding, dilation, ..
    } = net.nodes[4].layer
    else {
        panic!()
    };
    assert_eq!(
        (padding.0, dilation),
        (Padding::symmetric(2, 2), Pair([2, 2]))
    );
    assert_eq!(
        net.nodes[5].layer,
        Layer::Activation {
            function: Activation::Relu6,
            alpha: None,
            beta: None,
        }
    );
}

#[test]
fn json_round_trip_and_toml_json_agree() {
    let toml = Network::from_path(file("small_cnn.toml")).unwrap();
    let json = Network::from_json(&toml.to_json()).unwrap();
    assert_eq!(json, toml);
    let same = Network::from_toml(
        "[[nodes]]\nname = \"p\"\nop = \"avg_pool\"\nkernel = [2, 3]\nstride = 1\npadding = \"same_tf\"\n",
    )
    .unwrap();
    let from_json = Network::from_json(
        r#"{"nodes": [{"name": "p", "op": "avg_pool", "kernel": [2, 3], "stride": 1, "padding": "same_tf"}]}"#,
    )
    .unwrap();
    assert_eq!(same, from_json);
}

#[test]
fn padding_spellings() {
    let parse = |p: &str| {
        let text = format!(
            "[[nodes]]\nname = \"c\"\nop = \"conv\"\nout_channels = 1\nkernel = 3\npadding = {p}\n"
        );
        let Layer::Conv { padding, .. } = Network::from_toml(&text).unwrap().nodes[0].layer else {
            panic!()
        };
        padding.0
    };
    assert_eq!(parse("\"valid\""), Padding::Valid);
    assert_eq!(parse("\"same_tf\""), Padding::SameTensorFlow);
    assert_eq!(parse("\"same_torch\""), Padding::SamePyTorch);
    assert_eq!(parse("2"), Padding::symmetric(2, 2));
    assert_eq!(parse("[1, 2]"), Padding::symmetric(1, 2));
    assert_eq!(
        parse("[1, 2, 3, 4]"),
        Padding::Explicit {
            top: 1,
            bottom: 2,
            left: 3,
            right: 4
        }
    );
}
