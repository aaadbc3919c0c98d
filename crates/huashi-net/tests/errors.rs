//! Every error variant, from a bad file or an impossible graph.

use huashi_conv::Error as ConvError;
use huashi_net::{Error, Network};

fn analyse_toml(text: &str, input: [usize; 3]) -> Error {
    let net = Network::from_toml(text).unwrap_or_else(|e| panic!("{e}"));
    net.analyse(input).expect_err("the graph is impossible")
}

fn conv(name: &str, extra: &str) -> String {
    format!("[[nodes]]\nname = \"{name}\"\nop = \"conv\"\nout_channels = 4\nkernel = 3\n{extra}\n")
}

#[test]
fn unknown_layer_kind_names_the_line() {
    let text = format!(
        "{}[[nodes]]\nname = \"b\"\nop = \"convolution\"\nkernel = 3\n",
        conv("a", "")
    );
    let err = Network::from_toml(&text).unwrap_err();
    let Error::Parse {
        format,
        line,
        message,
        ..
    } = &err
    else {
        panic!("{err}")
    };
    // Line 7 opens the `[[nodes]]` table of "b" (the helper ends with a blank line).
    assert_eq!((*format, *line), ("TOML", 7));
    assert!(
        message.contains("unknown variant `convolution`"),
        "{message}"
    );
    assert!(err.to_string().contains("line 7"), "{err}");
}

#[test]
fn unknown_field_and_wrong_type_are_parse_errors() {
    let err = Network::from_toml(&conv("a", "strides = 2")).unwrap_err();
    assert!(err.to_string().contains("unknown field `strides`"), "{err}");
    let err = Network::from_toml(&conv("a", "padding = \"same\"")).unwrap_err();
    assert!(
        err.to_string().contains("unknown padding \"same\""),
        "{err}"
    );
    let err = Network::from_toml(&conv("a", "dilation = [1, 2, 3]")).unwrap_err();
    assert!(err.to_string().contains("[h, w]"), "{err}");
}

#[test]
fn json_syntax_error_names_the_line() {
    let err =
        Network::from_json("{\n  \"nodes\": [\n    { \"name\": \"a\", }\n  ]\n}").unwrap_err();
    let Error::Parse { format, line, .. } = err else {
        panic!("{err}")
    };
    assert_eq!((format, line), ("JSON", 3));
    let err = Network::from_json(r#"{"nodes": [{"name": "a", "op": "dense"}]}"#).unwrap_err();
    assert!(err.to_string().contains("unknown variant `dense`"), "{err}");
}

#[test]
fn missing_file_is_io() {
    let err = Network::from_path("/nonexistent/net.toml").unwrap_err();
    assert!(
        matches!(&err, Error::File(huashi_io::Error::Read { path, .. })
            if path == std::path::Path::new("/nonexistent/net.toml")),
        "{err}"
    );
}

#[test]
fn empty_network() {
    let err = Network::from_json(r#"{"nodes": []}"#)
        .unwrap()
        .analyse([1, 4, 4])
        .unwrap_err();
    assert!(matches!(err, Error::Empty), "{err}");
}

#[test]
fn duplicate_names() {
    let err = analyse_toml(&[conv("a", ""), conv("a", "")].concat(), [1, 8, 8]);
    assert!(
        matches!(&err, Error::DuplicateNode { name } if name == "a"),
        "{err}"
    );
    let err = analyse_toml(&conv("input", ""), [1, 8, 8]);
    assert!(
        matches!(&err, Error::DuplicateNode { name } if name == "input"),
        "{err}"
    );
}

#[test]
fn dangling_input() {
    let err = analyse_toml(&conv("a", "inputs = [\"stem\"]"), [1, 8, 8]);
    assert!(
        matches!(&err, Error::DanglingInput { node, input } if node == "a" && input == "stem"),
        "{err}"
    );
    assert!(err.to_string().contains("\"a\" reads \"stem\""));
}

#[test]
fn cycle() {
    let text = [
        conv("a", "inputs = [\"b\"]"),
        conv("b", "inputs = [\"a\"]"),
        conv("c", "inputs = [\"input\"]"),
    ]
    .concat();
    let err = analyse_toml(&text, [4, 8, 8]);
    assert!(
        matches!(&err, Error::Cycle { nodes } if nodes == &["a", "b"]),
        "{err}"
    );
}

#[test]
fn wrong_input_counts() {
    let add = "[[nodes]]\nname = \"sum\"\nop = \"add\"\n";
    let err = analyse_toml(&[conv("a", ""), add.to_string()].concat(), [4, 8, 8]);
    assert!(
        matches!(&err, Error::InputCount { node, got: 1, .. } if node == "sum"),
        "{err}"
    );
    let err = analyse_toml(&conv("a", "inputs = [\"input\", \"input\"]"), [4, 8, 8]);
    assert!(
        matches!(
            &err,
            Error::InputCount {
                op: "conv",
                got: 2,
                ..
            }
        ),
        "{err}"
    );
}

#[test]
fn shape_mismatch_at_a_merge() {
    let text = [
        conv("a", "inputs = [\"input\"]"),
        conv("b", "inputs = [\"input\"]\npadding = 1"),
        "[[nodes]]\nname = \"sum\"\nop = \"add\"\ninputs = [\"a\", \"b\"]\n".to_string(),
    ]
    .concat();
    let err = analyse_toml(&text, [4, 8, 8]);
    let Error::MergeShapeMismatch { node, other, .. } = &err else {
        panic!("{err}")
    };
    assert_eq!((node.as_str(), other.as_str()), ("sum", "b"));
    assert!(
        err.to_string().contains("(4, 6, 6)") && err.to_string().contains("(4, 8, 8)"),
        "{err}"
    );
    let concat = text.replace("op = \"add\"", "op = \"concat\"");
    assert!(matches!(
        analyse_toml(&concat, [4, 8, 8]),
        Error::MergeShapeMismatch { op: "concat", .. }
    ));
}

#[test]
fn channels_not_divisible_by_groups() {
    let err = analyse_toml(&conv("a", "groups = 3"), [6, 8, 8]);
    let Error::Layer {
        node,
        cause: source,
        ..
    } = &err
    else {
        panic!("{err}")
    };
    assert_eq!(node, "a");
    assert!(
        matches!(
            source,
            ConvError::ChannelsNotDivisible {
                what: "output",
                channels: 4,
                groups: 3
            }
        ),
        "{err}"
    );
}

#[test]
fn kernel_larger_than_input() {
    let text = [conv("a", ""), conv("b", "")].concat();
    let err = analyse_toml(&text, [1, 4, 4]);
    let Error::Layer {
        node,
        cause: source,
        ..
    } = &err
    else {
        panic!("{err}")
    };
    assert_eq!(node, "b");
    assert!(
        matches!(
            source,
            ConvError::KernelLargerThanInput {
                kernel_extent: 3,
                padded_input: 2,
                ..
            }
        ),
        "{err}"
    );
}

#[test]
fn other_geometry_errors_name_the_node() {
    let err = analyse_toml(
        &conv("a", "stride = 2\npadding = \"same_torch\""),
        [1, 8, 8],
    );
    assert!(
        matches!(&err, Error::Layer { node, cause: ConvError::SameNeedsStrideOne { .. }, .. } if node == "a"),
        "{err}"
    );
    let pool = "[[nodes]]\nname = \"p\"\nop = \"max_pool\"\nkernel = 2\npadding = 2\n";
    let err = analyse_toml(pool, [1, 8, 8]);
    assert!(
        matches!(
            &err,
            Error::Layer {
                cause: ConvError::PoolPaddingTooLarge { .. },
                ..
            }
        ),
        "{err}"
    );
}

#[test]
fn wrong_input_kind() {
    let linear = "[[nodes]]\nname = \"fc\"\nop = \"linear\"\nout_features = 3\n";
    let err = analyse_toml(linear, [1, 8, 8]);
    assert!(
        matches!(&err, Error::WrongInputKind { node, op: "linear", .. } if node == "fc"),
        "{err}"
    );
    let text = format!(
        "[[nodes]]\nname = \"f\"\nop = \"flatten\"\n{}",
        conv("a", "")
    );
    assert!(matches!(
        analyse_toml(&text, [1, 8, 8]),
        Error::WrongInputKind { op: "conv", .. }
    ));
}

#[test]
fn invalid_fields() {
    let net = Network::from_toml(&conv("a", "")).unwrap();
    let err = net.analyse([0, 8, 8]).unwrap_err();
    assert!(
        matches!(
            &err,
            Error::InvalidField {
                field: "input_shape",
                ..
            }
        ),
        "{err}"
    );
    let err = net.analyse_default().unwrap_err();
    assert!(
        matches!(
            &err,
            Error::InvalidField {
                field: "input_shape",
                ..
            }
        ),
        "{err}"
    );
    let linear = "[[nodes]]\nname = \"f\"\nop = \"flatten\"\n[[nodes]]\nname = \"fc\"\nop = \"linear\"\nout_features = 0\n";
    let err = analyse_toml(linear, [1, 2, 2]);
    assert!(
        matches!(&err, Error::InvalidField { node, field: "out_features", .. } if node == "fc"),
        "{err}"
    );
}

#[test]
fn unknown_node_lookup() {
    let a = Network::from_toml(&conv("a", ""))
        .unwrap()
        .analyse([1, 8, 8])
        .unwrap();
    assert!(matches!(a.receptive_field("b"), Err(Error::UnknownNode { name }) if name == "b"));
}
