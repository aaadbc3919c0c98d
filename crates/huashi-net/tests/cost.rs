//! Shapes, parameters and MACs of small networks, counted by hand.

mod common;
use common::toml;
use huashi_net::{Network, Shape, Totals};

fn small_cnn() -> Network {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/descriptions/small_cnn.toml");
    Network::from_path(path).unwrap()
}

#[test]
fn small_cnn_layer_by_layer() {
    let a = small_cnn().analyse_default().unwrap();
    let rows: Vec<(&str, String, u64, u64, u64)> = a
        .nodes
        .iter()
        .map(|n| {
            (
                n.name.as_str(),
                n.output.to_string(),
                n.params,
                n.moving_stats,
                n.macs,
            )
        })
        .collect();
    let expected = [
        ("image", "(3, 32, 32)", 0, 0, 0),
        // 16·3·3·3 weights, no bias; MACs 432 per position × 32·32.
        ("conv1", "(16, 32, 32)", 432, 0, 432 * 1024),
        // γ, β trainable; mean, variance moving.
        ("bn1", "(16, 32, 32)", 32, 32, 0),
        ("relu1", "(16, 32, 32)", 0, 0, 0),
        ("pool1", "(16, 16, 16)", 0, 0, 0),
        // 16·1·3·3 weights + 16 biases; MACs 16·9 per position × 256.
        ("dw2", "(16, 16, 16)", 160, 0, 144 * 256),
        // depthwise 16·9 (no bias) + pointwise 32·16 + 32 bias.
        ("sep3", "(32, 16, 16)", 144 + 512 + 32, 0, (144 + 512) * 256),
        ("gap", "(32, 1, 1)", 0, 0, 0),
        ("flat", "(32)", 0, 0, 0),
        ("fc", "(10)", 330, 0, 320),
    ];
    let expected: Vec<(&str, String, u64, u64, u64)> = expected
        .iter()
        .map(|&(n, s, p, m, c)| (n, s.to_string(), p, m, c))
        .collect();
    assert_eq!(rows, expected);
    let totals = Totals {
        params: 432 + 32 + 160 + 688 + 330,
        moving_stats: 32,
        macs: 432 * 1024 + 144 * 256 + 656 * 256 + 320,
    };
    assert_eq!(a.totals, totals);
}

#[test]
fn grouped_conv_and_depth_multiplier() {
    let net = toml(
        r#"
        [[nodes]]
        name = "grouped"
        op = "conv"
        out_channels = 32
        kernel = 3
        groups = 4
        padding = "same_torch"
        [[nodes]]
        name = "dw"
        op = "depthwise"
        kernel = 5
        multiplier = 2
        stride = 2
        padding = "same_tf"
        bias = false
        [[nodes]]
        name = "pw"
        op = "pointwise"
        out_channels = 8
        bias = false
        "#,
    );
    let a = net.analyse([16, 10, 10]).unwrap();
    let g = a.node("grouped").unwrap();
    // 32 outputs · (16/4) inputs · 9 + 32 biases; MACs 32·4·9 per position.
    assert_eq!(
        (g.output, g.params, g.macs),
        (Shape::map(32, 10, 10), 32 * 4 * 9 + 32, 32 * 36 * 100)
    );
    let dw = a.node("dw").unwrap();
    // 64 filters of 1·5·5; output ⌈10/2⌉ = 5.
    assert_eq!(
        (dw.output, dw.params, dw.macs),
        (Shape::map(64, 5, 5), 64 * 25, 64 * 25 * 25)
    );
    let pw = a.node("pw").unwrap();
    assert_eq!(
        (pw.output, pw.params, pw.macs),
        (Shape::map(8, 5, 5), 8 * 64, 8 * 64 * 25)
    );
}

#[test]
fn merges_add_and_concat_shapes() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/descriptions/two_branch.json");
    let a = Network::from_path(path).unwrap().analyse_default().unwrap();
    assert_eq!(a.node("branch_3x3").unwrap().output, Shape::map(16, 9, 9));
    assert_eq!(a.node("branch_pool").unwrap().output, Shape::map(16, 9, 9));
    assert_eq!(a.node("mixed").unwrap().output, Shape::map(32, 9, 9));
    assert_eq!(
        a.node("mixed").unwrap().inputs,
        ["branch_3x3", "branch_pool"]
    );
    let dilated = a.node("dilated").unwrap();
    assert_eq!(
        (dilated.output, dilated.params),
        (Shape::map(32, 9, 9), 32 * 32 * 9 + 32)
    );
    // stem r 3 P 1; branches r 5 S 2 P 2 (centre 0, aligned); dilated k' 5: r 13, P 6.
    let f = a.receptive_field("relu").unwrap();
    assert_eq!(
        (f[0].size, f[0].stride, f[0].padding, f[0].centre()),
        (13, 2, 6, 0.0)
    );
}

#[test]
fn batch_norm_without_affine_has_only_moving_statistics() {
    let net = toml("[[nodes]]\nname = \"bn\"\nop = \"batch_norm\"\naffine = false\n");
    let a = net.analyse([5, 2, 2]).unwrap();
    assert_eq!(
        a.totals,
        Totals {
            params: 0,
            moving_stats: 10,
            macs: 0
        }
    );
}

#[test]
fn nodes_may_be_listed_out_of_order() {
    let net = toml(
        r#"
        [[nodes]]
        name = "last"
        op = "flatten"
        inputs = ["first"]
        [[nodes]]
        name = "first"
        op = "max_pool"
        kernel = 2
        inputs = ["input"]
        "#,
    );
    let a = net.analyse([2, 4, 4]).unwrap();
    let order: Vec<&str> = a.nodes.iter().map(|n| n.name.as_str()).collect();
    assert_eq!(order, ["input", "first", "last"]);
    assert_eq!(a.output().output, Shape::Vector { features: 8 });
}
