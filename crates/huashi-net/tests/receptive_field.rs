//! Receptive fields derived by hand with r ← r + (k' − 1)·S, P ← P + p·S,
//! S ← S·s (Araujo, Norris & Sim, Distill 2019).

mod common;
use common::{rf, toml};
use huashi_net::{Error, Field};

#[test]
fn two_3x3_convs_see_5() {
    let net = toml(
        r#"
        [[nodes]]
        name = "a"
        op = "conv"
        out_channels = 4
        kernel = 3
        [[nodes]]
        name = "b"
        op = "conv"
        out_channels = 4
        kernel = 3
        "#,
    );
    assert_eq!(rf(&net, [1, 16, 16], "input"), (1, 1, 0));
    assert_eq!(rf(&net, [1, 16, 16], "a"), (3, 1, 0));
    assert_eq!(rf(&net, [1, 16, 16], "b"), (5, 1, 0));
}

#[test]
fn a_stride_2_pool_between_convs_widens_the_field() {
    // conv 3: r = 3; pool 2/2: r = 3 + 1·1 = 4, S = 2; conv 3: r = 4 + 2·2 = 8.
    let net = toml(
        r#"
        [[nodes]]
        name = "a"
        op = "conv"
        out_channels = 4
        kernel = 3
        [[nodes]]
        name = "pool"
        op = "max_pool"
        kernel = 2
        [[nodes]]
        name = "b"
        op = "conv"
        out_channels = 4
        kernel = 3
        "#,
    );
    assert_eq!(rf(&net, [1, 16, 16], "pool"), (4, 2, 0));
    assert_eq!(rf(&net, [1, 16, 16], "b"), (8, 2, 0));
}

#[test]
fn padding_moves_the_field_and_keeps_it_centred() {
    let net = toml(
        r#"
        [[nodes]]
        name = "a"
        op = "conv"
        out_channels = 4
        kernel = 3
        padding = 1
        [[nodes]]
        name = "b"
        op = "avg_pool"
        kernel = 3
        stride = 2
        padding = 1
        [[nodes]]
        name = "c"
        op = "conv"
        out_channels = 4
        kernel = 3
        padding = 1
        "#,
    );
    // b: r = 3 + 2 = 5, P = 1 + 1 = 2; c: r = 5 + 2·2 = 9, P = 2 + 1·2 = 4.
    assert_eq!(rf(&net, [1, 16, 16], "b"), (5, 2, 2));
    assert_eq!(rf(&net, [1, 16, 16], "c"), (9, 2, 4));
    let a = net.analyse([1, 16, 16]).unwrap();
    let f = a.receptive_field("c").unwrap()[1];
    assert_eq!(f.centre(), 0.0);
    assert_eq!(f.span(3), (2, 10));
}

#[test]
fn dilation_uses_the_dilated_extent() {
    // k' = d(k − 1) + 1: 5 then 9; r = 5, then 5 + 8 = 13.
    let net = toml(
        r#"
        [[nodes]]
        name = "a"
        op = "conv"
        out_channels = 2
        kernel = 3
        dilation = 2
        [[nodes]]
        name = "b"
        op = "conv"
        out_channels = 2
        kernel = 3
        dilation = 4
        "#,
    );
    assert_eq!(rf(&net, [1, 32, 32], "a"), (5, 1, 0));
    assert_eq!(rf(&net, [1, 32, 32], "b"), (13, 1, 0));
    assert_eq!(
        net.analyse([1, 32, 32])
            .unwrap()
            .output()
            .output
            .to_string(),
        "(2, 20, 20)"
    );
}

#[test]
fn strides_multiply() {
    // r: 3, 3 + 2·2 = 7, 7 + 2·4 = 15; S: 2, 4, 8.
    let conv = |name: &str, stride: usize| {
        format!("[[nodes]]\nname = \"{name}\"\nop = \"conv\"\nout_channels = 1\nkernel = 3\nstride = {stride}\n")
    };
    let net = toml(&[conv("a", 2), conv("b", 2), conv("c", 2)].concat());
    assert_eq!(rf(&net, [1, 64, 64], "a"), (3, 2, 0));
    assert_eq!(rf(&net, [1, 64, 64], "b"), (7, 4, 0));
    assert_eq!(rf(&net, [1, 64, 64], "c"), (15, 8, 0));
}

#[test]
fn tensorflow_same_padding_depends_on_the_input_size() {
    let net = toml(
        r#"
        [[nodes]]
        name = "a"
        op = "conv"
        out_channels = 1
        kernel = 3
        stride = 2
        padding = "same_tf"
        "#,
    );
    // 224: total padding 1, all of it at the bottom/right: P = 0, centre 1.
    assert_eq!(rf(&net, [1, 224, 224], "a"), (3, 2, 0));
    // 225: total 2, split 1 + 1: P = 1, centre 0.
    assert_eq!(rf(&net, [1, 225, 225], "a"), (3, 2, 1));
    // Explicit padding 1 is the same for every size.
    let explicit = toml("[[nodes]]\nname = \"a\"\nop = \"conv\"\nout_channels = 1\nkernel = 3\nstride = 2\npadding = 1\n");
    assert_eq!(rf(&explicit, [1, 224, 224], "a"), (3, 2, 1));
}

#[test]
fn anisotropic_layers_give_per_axis_fields() {
    let net = toml(
        r#"
        [[nodes]]
        name = "a"
        op = "conv"
        out_channels = 1
        kernel = [1, 7]
        stride = [1, 2]
        padding = [0, 0, 3, 3]
        "#,
    );
    let f = net
        .analyse([1, 9, 9])
        .unwrap()
        .receptive_field("a")
        .unwrap();
    assert_eq!((f[0].size, f[0].stride, f[0].padding), (1, 1, 0));
    assert_eq!((f[1].size, f[1].stride, f[1].padding), (7, 2, 3));
}

#[test]
fn global_pool_and_flatten_see_the_whole_input() {
    let net = toml(
        r#"
        [[nodes]]
        name = "a"
        op = "conv"
        out_channels = 2
        kernel = 3
        stride = 2
        [[nodes]]
        name = "gap"
        op = "global_avg_pool"
        [[nodes]]
        name = "b"
        op = "conv"
        out_channels = 2
        kernel = 3
        stride = 2
        inputs = ["a"]
        [[nodes]]
        name = "flat"
        op = "flatten"
        "#,
    );
    // a: 15 → 7, r = 3, S = 2. gap: r = 3 + 6·2 = 15. b: 7 → 3, r = 7, S = 4;
    // flatten: r = 7 + 2·4 = 15.
    assert_eq!(rf(&net, [1, 15, 15], "gap"), (15, 2, 0));
    assert_eq!(rf(&net, [1, 15, 15], "flat"), (15, 4, 0));
}

const TWO_BRANCH: &str = r#"
    [[nodes]]
    name = "wide"
    op = "conv"
    out_channels = 4
    kernel = 5
    padding = 2
    inputs = ["input"]
    [[nodes]]
    name = "narrow"
    op = "conv"
    out_channels = 4
    kernel = 3
    padding = 1
    inputs = ["input"]
    [[nodes]]
    name = "sum"
    op = "add"
    inputs = ["wide", "narrow"]
    [[nodes]]
    name = "after"
    op = "conv"
    out_channels = 4
    kernel = 3
"#;

#[test]
fn aligned_branches_merge_into_the_largest_field() {
    let net = toml(TWO_BRANCH);
    // Both centres are 0 with stride 1: the union is the 5×5 field.
    assert_eq!(rf(&net, [1, 12, 12], "sum"), (5, 1, 2));
    assert_eq!(rf(&net, [1, 12, 12], "after"), (7, 1, 2));
}

#[test]
fn misaligned_merge_is_reported_not_computed() {
    // "narrow" padded 2 above and 0 below: same output size, centre −1 vs 0.
    let text = TWO_BRANCH.replace("padding = 1", "padding = [2, 0, 2, 0]");
    let a = toml(&text).analyse([1, 12, 12]).unwrap();
    assert!(
        matches!(&a.node("sum").unwrap().field, Field::Misaligned { merge, .. } if merge == "sum")
    );
    let err = a.receptive_field("after").unwrap_err();
    match &err {
        Error::Misaligned { node, merge, .. } => {
            assert_eq!((node.as_str(), merge.as_str()), ("after", "sum"))
        }
        other => panic!("expected Misaligned, got {other}"),
    }
    let message = err.to_string();
    assert!(
        message.contains("centre -1") && message.contains("centre 0"),
        "{message}"
    );
    // Shapes and costs are still reported.
    assert_eq!(a.output().output.to_string(), "(4, 10, 10)");
}

#[test]
fn strided_shortcut_alignment_depends_on_tensorflow_same() {
    // A ResNet-style unit: 3×3/2 'SAME' branch plus a 1×1/2 shortcut.
    let net = toml(
        r#"
        [[nodes]]
        name = "conv"
        op = "conv"
        out_channels = 4
        kernel = 3
        stride = 2
        padding = "same_tf"
        [[nodes]]
        name = "shortcut"
        op = "conv"
        out_channels = 4
        kernel = 1
        stride = 2
        inputs = ["input"]
        [[nodes]]
        name = "sum"
        op = "add"
        inputs = ["conv", "shortcut"]
        "#,
    );
    // Odd input: padding 1 + 1, both centres at 0: aligned, r = 3.
    assert_eq!(rf(&net, [1, 9, 9], "sum"), (3, 2, 1));
    // Even input: padding 0 + 1, centres 1 and 0: misaligned.
    let a = net.analyse([1, 8, 8]).unwrap();
    assert!(matches!(
        a.receptive_field("sum"),
        Err(Error::Misaligned { .. })
    ));
}

#[test]
fn unequal_effective_strides_are_misaligned() {
    // 1×1/2 on 3 rows gives 2 outputs, as does a 2×2/1 valid window on 3.
    let net = toml(
        r#"
        [[nodes]]
        name = "s2"
        op = "conv"
        out_channels = 1
        kernel = 1
        stride = 2
        [[nodes]]
        name = "s1"
        op = "max_pool"
        kernel = 2
        stride = 1
        inputs = ["input"]
        [[nodes]]
        name = "sum"
        op = "add"
        inputs = ["s2", "s1"]
        "#,
    );
    let a = net.analyse([1, 3, 3]).unwrap();
    let message = a.receptive_field("sum").unwrap_err().to_string();
    assert!(
        message.contains("stride 2") && message.contains("stride 1"),
        "{message}"
    );
}
