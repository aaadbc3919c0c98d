//! Inception v3.

use super::builder::{avg_pool, bn, conv, dropout, linear, max_pool, pad, relu, valid, Builder};
use crate::desc::{Layer, Network};

/// One `BasicConv2d`: name suffix, output channels, kernel `[kh, kw]`,
/// stride, padding `[ph, pw]`.
type Conv = (&'static str, usize, [usize; 2], usize, [usize; 2]);

/// A 1×1 `BasicConv2d`.
const fn c1(name: &'static str, out: usize) -> Conv {
    (name, out, [1, 1], 1, [0, 0])
}

/// A 3×3 `BasicConv2d` with padding 1.
const fn c3(name: &'static str, out: usize) -> Conv {
    (name, out, [3, 3], 1, [1, 1])
}

/// A 1×n `BasicConv2d` keeping the size.
const fn c1xn(name: &'static str, out: usize, n: usize) -> Conv {
    (name, out, [1, n], 1, [0, n / 2])
}

/// An n×1 `BasicConv2d` keeping the size.
const fn cnx1(name: &'static str, out: usize, n: usize) -> Conv {
    (name, out, [n, 1], 1, [n / 2, 0])
}

/// torchvision's `BasicConv2d` `name` reading `input`: convolution without
/// bias `name.conv`, batch norm `name.bn`, ReLU `name` (the end-point).
fn basic(b: &mut Builder, name: String, input: &str, (_, out, k, s, [ph, pw]): Conv) -> String {
    b.node(
        format!("{name}.conv"),
        &[input.to_string()],
        conv(out, k, s, pad(ph, pw), false),
    );
    b.then(format!("{name}.bn"), bn());
    b.then(name, relu())
}

/// A chain of `BasicConv2d`s `block.suffix` reading `input`; returns the last.
fn chain(b: &mut Builder, block: &str, input: &str, convs: &[Conv]) -> String {
    let mut last = input.to_string();
    for c in convs {
        last = basic(b, format!("{block}.{}", c.0), &last, *c);
    }
    last
}

/// The pooling branch of a mixed block.
enum Pool {
    /// 3×3/1 average pool (padding 1) then a 1×1 `branch_pool` to `n` channels.
    Avg(usize),
    /// 3×3/2 max-pool, no padding.
    Max,
}

/// A mixed block `name`: the branches, the pooling branch, concatenated.
fn mixed(b: &mut Builder, name: &str, input: &str, branches: &[&[Conv]], pool: Pool) -> String {
    let mut outs: Vec<String> = branches
        .iter()
        .map(|br| chain(b, name, input, br))
        .collect();
    outs.push(match pool {
        Pool::Avg(n) => {
            let pooled = b.node(
                format!("{name}.avg_pool"),
                &[input.to_string()],
                avg_pool(3, 1, pad(1, 1)),
            );
            chain(b, name, &pooled, &[c1("branch_pool", n)])
        }
        Pool::Max => b.node(
            format!("{name}.max_pool"),
            &[input.to_string()],
            max_pool(3, 2, valid()),
        ),
    });
    b.node(name, &outs, Layer::Concat)
}

/// `InceptionA` (`Mixed_5b`–`Mixed_5d`).
fn inception_a(b: &mut Builder, name: &str, input: &str, pool_features: usize) -> String {
    let b5: &[Conv] = &[
        c1("branch5x5_1", 48),
        ("branch5x5_2", 64, [5, 5], 1, [2, 2]),
    ];
    let b3: &[Conv] = &[
        c1("branch3x3dbl_1", 64),
        c3("branch3x3dbl_2", 96),
        c3("branch3x3dbl_3", 96),
    ];
    mixed(
        b,
        name,
        input,
        &[&[c1("branch1x1", 64)], b5, b3],
        Pool::Avg(pool_features),
    )
}

/// `InceptionB` (`Mixed_6a`, stride 2).
fn inception_b(b: &mut Builder, name: &str, input: &str) -> String {
    let b3: &[Conv] = &[("branch3x3", 384, [3, 3], 2, [0, 0])];
    let dbl: &[Conv] = &[
        c1("branch3x3dbl_1", 64),
        c3("branch3x3dbl_2", 96),
        ("branch3x3dbl_3", 96, [3, 3], 2, [0, 0]),
    ];
    mixed(b, name, input, &[b3, dbl], Pool::Max)
}

/// `InceptionC` (`Mixed_6b`–`Mixed_6e`, factorised 7×7).
fn inception_c(b: &mut Builder, name: &str, input: &str, c7: usize) -> String {
    let b7: &[Conv] = &[
        c1("branch7x7_1", c7),
        c1xn("branch7x7_2", c7, 7),
        cnx1("branch7x7_3", 192, 7),
    ];
    let dbl: &[Conv] = &[
        c1("branch7x7dbl_1", c7),
        cnx1("branch7x7dbl_2", c7, 7),
        c1xn("branch7x7dbl_3", c7, 7),
        cnx1("branch7x7dbl_4", c7, 7),
        c1xn("branch7x7dbl_5", 192, 7),
    ];
    mixed(
        b,
        name,
        input,
        &[&[c1("branch1x1", 192)], b7, dbl],
        Pool::Avg(192),
    )
}

/// `InceptionD` (`Mixed_7a`, stride 2).
fn inception_d(b: &mut Builder, name: &str, input: &str) -> String {
    let b3: &[Conv] = &[
        c1("branch3x3_1", 192),
        ("branch3x3_2", 320, [3, 3], 2, [0, 0]),
    ];
    let b7: &[Conv] = &[
        c1("branch7x7x3_1", 192),
        c1xn("branch7x7x3_2", 192, 7),
        cnx1("branch7x7x3_3", 192, 7),
        ("branch7x7x3_4", 192, [3, 3], 2, [0, 0]),
    ];
    mixed(b, name, input, &[b3, b7], Pool::Max)
}

/// A stem of convolutions forking into a 1×3 and a 3×1, concatenated as
/// `block.cat` (`InceptionE`'s expanded branches).
fn fork(b: &mut Builder, block: &str, input: &str, stem: &[Conv], cat: &str, out: usize) -> String {
    let stem = chain(b, block, input, stem);
    let ends = [("a", c1xn("", out, 3)), ("b", cnx1("", out, 3))];
    let outs: Vec<String> = ends
        .iter()
        .map(|(suffix, c)| basic(b, format!("{block}.{cat}{suffix}"), &stem, *c))
        .collect();
    b.node(format!("{block}.{cat}"), &outs, Layer::Concat)
}

/// `InceptionE` (`Mixed_7b`, `Mixed_7c`, expanded filter banks).
fn inception_e(b: &mut Builder, name: &str, input: &str) -> String {
    let b1 = chain(b, name, input, &[c1("branch1x1", 320)]);
    let b3 = fork(
        b,
        name,
        input,
        &[c1("branch3x3_1", 384)],
        "branch3x3_2",
        384,
    );
    let dbl = [c1("branch3x3dbl_1", 448), c3("branch3x3dbl_2", 384)];
    let d = fork(b, name, input, &dbl, "branch3x3dbl_3", 384);
    let pooled = b.node(
        format!("{name}.avg_pool"),
        &[input.to_string()],
        avg_pool(3, 1, pad(1, 1)),
    );
    let bp = chain(b, name, &pooled, &[c1("branch_pool", 192)]);
    b.node(name, &[b1, b3, d, bp], Layer::Concat)
}

/// The stem `Conv2d_1a_3x3` … `MaxPool_5a_3x3`; returns its output.
fn stem(b: &mut Builder) -> String {
    let convs: [(&str, Conv); 3] = [
        ("Conv2d_1a_3x3", ("", 32, [3, 3], 2, [0, 0])),
        ("Conv2d_2a_3x3", ("", 32, [3, 3], 1, [0, 0])),
        ("Conv2d_2b_3x3", c3("", 64)),
    ];
    for (name, c) in convs {
        let last = b.last();
        basic(b, name.to_string(), &last, c);
    }
    b.then("MaxPool_3a_3x3", max_pool(3, 2, valid()));
    let last = b.last();
    basic(b, "Conv2d_3b_1x1".into(), &last, c1("", 80));
    let last = b.last();
    basic(
        b,
        "Conv2d_4a_3x3".into(),
        &last,
        ("", 192, [3, 3], 1, [0, 0]),
    );
    b.then("MaxPool_5a_3x3", max_pool(3, 2, valid()))
}

/// torchvision's `InceptionAux` reading `Mixed_6e`: 5×5/3 average pool,
/// `AuxLogits.conv0` 1×1 128, `AuxLogits.conv1` 5×5 768, global average
/// pool, `AuxLogits.fc` to 1000.
fn aux_logits_branch(b: &mut Builder, input: &str) -> String {
    let pooled = b.node(
        "AuxLogits.avg_pool",
        &[input.to_string()],
        avg_pool(5, 3, valid()),
    );
    let c = chain(
        b,
        "AuxLogits",
        &pooled,
        &[c1("conv0", 128), ("conv1", 768, [5, 5], 1, [0, 0])],
    );
    b.node("AuxLogits.avgpool", &[c], Layer::GlobalAvgPool);
    b.then("AuxLogits.flatten", Layer::Flatten);
    b.then("AuxLogits.fc", linear(1000))
}

/// Inception v3 (Szegedy et al. 2016) as torchvision's `inception_v3`,
/// input 3×299×299, 1000 classes, with the auxiliary classifier
/// `AuxLogits` (on `Mixed_6e`) when `aux_logits` is true. End-points are
/// named as in torchvision and TF-slim: `Conv2d_1a_3x3`, `Conv2d_2a_3x3`,
/// `Conv2d_2b_3x3`, `MaxPool_3a_3x3` (torchvision `maxpool1`),
/// `Conv2d_3b_1x1`, `Conv2d_4a_3x3`, `MaxPool_5a_3x3` (`maxpool2`),
/// `Mixed_5b` … `Mixed_7c` (the concatenations), `avgpool`, `fc`; branch
/// convolutions are `Mixed_5b.branch1x1` and so on (each a `BasicConv2d`:
/// convolution without bias `.conv`, affine batch norm `.bn`, ReLU).
/// Padding is torchvision's explicit padding, which at 299 gives the same
/// shapes as slim's 'VALID' stem and 'SAME' mixed blocks.
pub fn inception_v3(aux_logits: bool) -> Network {
    let mut b = Builder::new();
    let mut x = stem(&mut b);
    for (name, pool) in [("Mixed_5b", 32), ("Mixed_5c", 64), ("Mixed_5d", 64)] {
        x = inception_a(&mut b, name, &x, pool);
    }
    x = inception_b(&mut b, "Mixed_6a", &x);
    for (name, c7) in [
        ("Mixed_6b", 128),
        ("Mixed_6c", 160),
        ("Mixed_6d", 160),
        ("Mixed_6e", 192),
    ] {
        x = inception_c(&mut b, name, &x, c7);
    }
    let mixed_6e = x.clone();
    x = inception_d(&mut b, "Mixed_7a", &x);
    x = inception_e(&mut b, "Mixed_7b", &x);
    x = inception_e(&mut b, "Mixed_7c", &x);
    b.node("avgpool", &[x], Layer::GlobalAvgPool);
    b.then("dropout", dropout(0.5));
    b.then("flatten", Layer::Flatten);
    b.then("fc", linear(1000));
    if aux_logits {
        aux_logits_branch(&mut b, &mixed_6e);
    }
    let name = if aux_logits {
        "inception_v3_aux"
    } else {
        "inception_v3"
    };
    b.finish(name, [3, 299, 299])
}
