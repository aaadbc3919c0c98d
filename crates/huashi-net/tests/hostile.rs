//! Hostile input: every size from a description or a caller is
//! checked; an overflow is an error naming the node, never a wrapped number
//! or a panic; degenerate values are refused with a clear message.

use huashi_net::{zoo, ErfConfig, Error, Network};

/// Parses TOML, then analyses it at `input`; the error as text.
fn analyse_err(text: &str, input: [usize; 3]) -> String {
    let net = Network::from_toml(text).unwrap_or_else(|e| panic!("{e}"));
    match net.analyse(input) {
        Ok(a) => panic!("expected an error, got totals {:?}", a.totals),
        Err(e) => e.to_string(),
    }
}

fn conv(name: &str, fields: &str) -> String {
    format!("[[nodes]]\nname = \"{name}\"\nop = \"conv\"\n{fields}\n")
}

fn assert_overflow_at(err: &str, node: &str) {
    assert!(
        err.contains(&format!("node \"{node}\"")) && err.contains("overflows"),
        "{err}"
    );
    assert!(!err.contains('\n'), "one line: {err}");
}

#[test]
fn vgg16_at_a_2_to_the_32_input_is_an_overflow_at_conv1_1() {
    let net = zoo::by_name("vgg16").unwrap();
    let err = net.analyse([3, 1 << 32, 1 << 32]).unwrap_err();
    assert!(matches!(err, Error::Overflow { .. }), "{err}");
    assert_overflow_at(&err.to_string(), "conv1_1");
}

#[test]
fn channels_of_2_to_the_63_are_an_overflow_naming_the_node() {
    // TOML integers stop at 2^63 − 1 (a larger one is a parse error); JSON
    // reads the full u64 range.
    let text = conv("huge", "out_channels = 9223372036854775807\nkernel = 3");
    assert_overflow_at(&analyse_err(&text, [3, 8, 8]), "huge");
    let json = r#"{"nodes": [{"name": "flat", "op": "flatten"},
        {"name": "wide", "op": "linear", "out_features": 9223372036854775808}],
        "input_shape": [4, 4, 4]}"#;
    let net = Network::from_json(json).unwrap();
    assert_overflow_at(&net.analyse_default().unwrap_err().to_string(), "wide");
}

#[test]
fn a_conv_of_2_to_the_62_channels_has_no_wrapped_zero_params() {
    let text = conv("c", "out_channels = 4611686018427387904\nkernel = 3");
    assert_overflow_at(&analyse_err(&text, [4, 8, 8]), "c");
}

#[test]
fn padding_of_10_to_the_12_is_an_overflow_naming_the_node() {
    let text = conv(
        "padded",
        "out_channels = 8\nkernel = 3\npadding = 1000000000000",
    );
    assert_overflow_at(&analyse_err(&text, [3, 8, 8]), "padded");
    let json = r#"{"nodes": [{"name": "edge", "op": "conv", "out_channels": 1, "kernel": 1,
        "padding": [0, 18446744073709551615]}]}"#;
    let err = Network::from_json(json)
        .unwrap()
        .analyse([1, 1, 1])
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("\"edge\"") && err.contains("overflows"),
        "{err}"
    );
}

#[test]
fn seventy_stride_2_convs_are_an_overflow_not_stride_0() {
    let mut text = String::new();
    for i in 0..70 {
        text += &conv(&format!("s{i}"), "out_channels = 1\nkernel = 1\nstride = 2");
    }
    let err = analyse_err(&text, [1, 1, 1]);
    assert_overflow_at(&err, "s62");
    assert!(err.contains("receptive field"), "{err}");
}

#[test]
fn huge_kernels_and_dilations_are_errors_not_panics() {
    let text = conv(
        "k",
        "out_channels = 1\nkernel = 4611686018427387904\ndilation = 8",
    );
    let err = analyse_err(&text, [1, 4, 4]);
    assert!(err.contains("\"k\"") && err.contains("overflows"), "{err}");
}

#[test]
fn concat_channels_and_flatten_features_are_checked() {
    let text = r#"
        [[nodes]]
        name = "a"
        op = "pointwise"
        out_channels = 9223372036854775807
        [[nodes]]
        name = "b"
        op = "pointwise"
        inputs = ["input"]
        out_channels = 9223372036854775807
        [[nodes]]
        name = "cat"
        op = "concat"
        inputs = ["a", "b", "a"]
    "#;
    let err = Network::from_toml(text)
        .unwrap()
        .analyse([1, 1, 1])
        .unwrap_err();
    assert!(err.to_string().contains('"'), "{err}");
    let flat = "[[nodes]]\nname = \"f\"\nop = \"flatten\"\n";
    let err = analyse_err(flat, [1 << 32, 1 << 32, 1 << 32]);
    assert_overflow_at(&err, "f");
}

#[test]
fn a_name_of_65536_characters_is_refused_on_parse() {
    let name = "n".repeat(65_536);
    let text = conv(&name, "out_channels = 1\nkernel = 1");
    let err = Network::from_toml(&text).unwrap_err().to_string();
    assert!(err.contains("65536 characters"), "{err}");
    assert!(err.len() < 300, "the message does not repeat the name");
}

#[test]
fn dropout_rates_outside_0_1_are_refused() {
    for rate in ["5.0", "-0.1", "nan", "inf"] {
        let text = format!("[[nodes]]\nname = \"drop\"\nop = \"dropout\"\nrate = {rate}\n");
        let err = Network::from_toml(&text).unwrap_err().to_string();
        assert!(
            err.contains("\"drop\"") && err.contains("rate"),
            "{rate}: {err}"
        );
    }
    let ok = "[[nodes]]\nname = \"drop\"\nop = \"dropout\"\nrate = 0.5\n";
    Network::from_toml(ok).unwrap();
}

#[test]
fn erf_memory_is_checked_before_allocating() {
    let net = zoo::by_name("vgg16").unwrap();
    let config = ErfConfig {
        samples: 1,
        seed: 0,
    };
    let err =
        huashi_net::effective_receptive_field(&net, [3, 100_000, 100_000], "conv3_3", &config)
            .unwrap_err();
    assert!(
        matches!(err, Error::File(huashi_io::Error::TooMuchMemory { .. })),
        "{err}"
    );
    let zero = ErfConfig {
        samples: 0,
        seed: 0,
    };
    let err = huashi_net::effective_receptive_field(&net, [3, 32, 32], "conv1_1", &zero)
        .unwrap_err()
        .to_string();
    assert!(err.contains("samples"), "{err}");
}

#[test]
fn parameters_above_the_memory_limit_are_not_allocated() {
    let text = "[[nodes]]\nname = \"fc\"\nop = \"linear\"\nout_features = 4000000000\n";
    let net = Network::from_toml(text).unwrap();
    let model = huashi_net::Model::compile(&net, [1, 1, 1]);
    // A (1, 1, 1) map is not a vector: compile fails cleanly, or init refuses.
    if let Ok(model) = model {
        let err = model.init(0, &candle_core::Device::Cpu).unwrap_err();
        assert!(err.to_string().contains("would need"), "{err}");
    }
    let text = format!("[[nodes]]\nname = \"flat\"\nop = \"flatten\"\n{text}");
    let net = Network::from_toml(&text).unwrap();
    let model = huashi_net::Model::compile(&net, [2, 2, 2]).unwrap();
    let err = model.init(0, &candle_core::Device::Cpu).unwrap_err();
    assert!(err.to_string().contains("would need"), "{err}");
}

#[test]
fn deeply_nested_text_is_a_parse_error_not_a_stack_overflow() {
    let deep = "[".repeat(100_000) + &"]".repeat(100_000);
    let err = Network::from_toml(&format!("a = {deep}\n")).unwrap_err();
    assert!(matches!(err, Error::Parse { .. }), "{err}");
    let tables = "{b = ".repeat(100_000) + "1" + &"}".repeat(100_000);
    let err = Network::from_toml(&format!("a = {tables}\n")).unwrap_err();
    assert!(matches!(err, Error::Parse { .. }), "{err}");
    let err = Network::from_json(&format!("{{\"nodes\": {deep}}}")).unwrap_err();
    assert!(matches!(err, Error::Parse { .. }), "{err}");
}

#[test]
fn parse_errors_after_multibyte_characters_name_a_line() {
    let text = "name = \"网络 — ünïcode\" oops\n[[nodes]]\nname = \"卷积\"\n";
    match Network::from_toml(text).unwrap_err() {
        Error::Parse { line, column, .. } => assert!(line == 1 && column > 10, "{line}:{column}"),
        other => panic!("{other}"),
    }
}
