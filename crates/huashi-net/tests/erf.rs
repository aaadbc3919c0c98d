//! The effective receptive field: the non-zero support of the input gradient
//! of the centre unit equals the analytic receptive field (clipped to the
//! image), on hand-made chains with stride, dilation and pooling and on zoo
//! nets; and the ERF summary of a zoo net is sane.

use candle_core::{Device, Tensor};
use huashi_net::erf::input_gradient;
use huashi_net::{effective_receptive_field, zoo, ErfConfig, Model, Network};

/// Positive weights, biases and inputs: every path adds, nothing cancels,
/// ReLU is active and ReLU6 (scaled-down weights) does not saturate.
fn support(net: &Network, input: [usize; 3], end: &str) -> (Vec<Vec<bool>>, [(i64, i64); 2]) {
    let (model, params) = Model::new(net, input, 5).unwrap();
    let params = params
        .map(|name, t| {
            let t = t.abs()?;
            Ok(match name.ends_with("running_var") {
                true => t,
                false => ((t * 0.3)? + 1e-3)?,
            })
        })
        .unwrap();
    let a = model.analysis();
    let out = a.node(end).unwrap().output;
    let unit = match out {
        huashi_net::Shape::Map { height, width, .. } => [(height - 1) / 2, (width - 1) / 2],
        _ => [0, 0],
    };
    let rf = a.receptive_field(end).unwrap();
    let span = [0, 1].map(|ax| {
        let (lo, hi) = rf[ax].span(unit[ax]);
        (lo.max(0), hi.min(input[ax + 1] as i64 - 1))
    });
    let x = Tensor::rand(
        0.1f32,
        1f32,
        (1, input[0], input[1], input[2]),
        &Device::Cpu,
    )
    .unwrap();
    let g: Vec<Vec<f32>> = input_gradient(&model, &params, &x, end, unit)
        .unwrap()
        .to_vec2()
        .unwrap();
    let nonzero = g
        .iter()
        .map(|r| r.iter().map(|&v| v > 0.0).collect())
        .collect();
    (nonzero, span)
}

fn assert_support_is_field(net: &Network, input: [usize; 3], end: &str) {
    let (nonzero, [(t, b), (l, r)]) = support(net, input, end);
    for (i, row) in nonzero.iter().enumerate() {
        for (j, &nz) in row.iter().enumerate() {
            let inside = (t..=b).contains(&(i as i64)) && (l..=r).contains(&(j as i64));
            assert_eq!(
                nz, inside,
                "{end}: pixel ({i}, {j}), field rows {t}..={b} cols {l}..={r}"
            );
        }
    }
}

/// Dilation leaves holes: the support lies in the field and spans it.
fn assert_support_spans_field(net: &Network, input: [usize; 3], end: &str) {
    let (nonzero, [(t, b), (l, r)]) = support(net, input, end);
    let cells: Vec<(i64, i64)> = (0..nonzero.len())
        .flat_map(|i| (0..nonzero[i].len()).map(move |j| (i, j)))
        .filter(|&(i, j)| nonzero[i][j])
        .map(|(i, j)| (i as i64, j as i64))
        .collect();
    let rows = cells.iter().map(|c| c.0);
    let cols = cells.iter().map(|c| c.1);
    assert_eq!(
        (rows.clone().min(), rows.max()),
        (Some(t), Some(b)),
        "{end}"
    );
    assert_eq!(
        (cols.clone().min(), cols.max()),
        (Some(l), Some(r)),
        "{end}"
    );
}

#[test]
fn chain_with_stride_and_dilation() {
    let net = Network::from_json(
        r#"{ "nodes": [
        { "name": "a", "op": "conv", "out_channels": 2, "kernel": 3, "stride": 2, "padding": 1 },
        { "name": "b", "op": "conv", "out_channels": 2, "kernel": 3, "dilation": 2, "padding": "same_torch" },
        { "name": "r", "op": "activation", "function": "relu" },
        { "name": "c", "op": "conv", "out_channels": 2, "kernel": 3, "stride": 2 }
    ] }"#,
    )
    .unwrap();
    // "b" alone has holes (taps 4 input pixels apart over a 3-wide field);
    // "c" fills them.
    assert_support_spans_field(&net, [2, 33, 33], "b");
    for end in ["a", "c"] {
        assert_support_is_field(&net, [2, 33, 33], end);
    }
    // Clipped by the image: the field of "c" is 15 wide.
    assert_support_is_field(&net, [1, 9, 11], "c");
}

#[test]
fn chain_with_pooling_and_asymmetric_kernels() {
    let net = Network::from_json(
        r#"{ "nodes": [
        { "name": "a", "op": "conv", "out_channels": 3, "kernel": [3, 5] },
        { "name": "p", "op": "avg_pool", "kernel": 3, "stride": 2, "padding": 1 },
        { "name": "d", "op": "depthwise", "kernel": 3, "padding": "same_tf", "stride": 2 },
        { "name": "s", "op": "separable", "out_channels": 2, "kernel": 3 }
    ] }"#,
    )
    .unwrap();
    for end in ["p", "d", "s"] {
        assert_support_is_field(&net, [1, 30, 30], end);
    }
}

#[test]
fn zoo_nets_at_small_sizes() {
    let omniglot = zoo::by_name("maml_omniglot").unwrap();
    for end in ["blocks.0", "blocks.1", "blocks.3"] {
        assert_support_is_field(&omniglot, [1, 28, 28], end);
    }
    let mobilenet = zoo::by_name("mobilenet_v1").unwrap();
    assert_support_is_field(&mobilenet, [3, 32, 32], "Conv2d_3_pointwise");
    let vgg = zoo::by_name("vgg16").unwrap();
    assert_support_is_field(&vgg, [3, 32, 32], "conv1_2");
}

/// Max pooling routes the gradient to one arg-max per window: the support
/// is a non-empty subset of the field.
#[test]
fn max_pool_support_lies_in_the_field() {
    let vgg = zoo::by_name("vgg16").unwrap();
    let (nonzero, [(t, b), (l, r)]) = support(&vgg, [3, 32, 32], "conv2_2");
    let mut count = 0;
    for (i, row) in nonzero.iter().enumerate() {
        for (j, _) in row.iter().enumerate().filter(|(_, &nz)| nz) {
            assert!((t..=b).contains(&(i as i64)) && (l..=r).contains(&(j as i64)));
            count += 1;
        }
    }
    assert!(count > 0);
}

#[test]
fn erf_is_smaller_than_the_theoretical_field() {
    let net = zoo::by_name("maml_omniglot").unwrap();
    let erf =
        effective_receptive_field(&net, [1, 28, 28], "blocks.2", &ErfConfig::default()).unwrap();
    assert_eq!((erf.map.len(), erf.map[0].len()), (28, 28));
    assert_eq!(erf.unit, [1, 1]);
    // The 15×15 field: 95 % of the mass lies within its half-diagonal and
    // the Gaussian fit is well inside its half-width.
    let half = (erf.theoretical[0].size as f64 - 1.0) / 2.0;
    let diagonal = half * 2f64.sqrt();
    assert!(
        erf.radius95 > 0.0 && erf.radius95 <= diagonal,
        "{}",
        erf.radius95
    );
    assert!(erf.sigma > 0.0 && erf.sigma < half, "{}", erf.sigma);
    eprintln!(
        "blocks.2: r95 {:.2}, sigma {:.2}, rf {}",
        erf.radius95,
        erf.sigma,
        half * 2.0 + 1.0
    );
    let again =
        effective_receptive_field(&net, [1, 28, 28], "blocks.2", &ErfConfig::default()).unwrap();
    assert_eq!(erf, again, "seeded");
}

/// A trained checkpoint: its weights serve every sample, so the ERF depends
/// only on the inputs; a checkpoint of another model is a typed error.
#[test]
fn erf_of_given_weights() {
    use huashi_net::{effective_receptive_field_with, Error};
    let net = zoo::by_name("maml_omniglot").unwrap();
    let input = [1, 28, 28];
    let (_, weights) = Model::new(&net, input, 11).unwrap();
    let config = ErfConfig {
        samples: 3,
        seed: 2,
    };
    let a =
        effective_receptive_field_with(&net, input, "blocks.1", &config, Some(&weights)).unwrap();
    let b =
        effective_receptive_field_with(&net, input, "blocks.1", &config, Some(&weights)).unwrap();
    assert_eq!(a.map, b.map);
    let untrained = effective_receptive_field(&net, input, "blocks.1", &config).unwrap();
    assert_ne!(a.map, untrained.map, "the given weights must be used");
    let [(top, bottom), (left, right)] = a.span;
    for (i, row) in a.map.iter().enumerate() {
        for (j, &v) in row.iter().enumerate() {
            let inside =
                (top..=bottom).contains(&(i as i64)) && (left..=right).contains(&(j as i64));
            assert!(
                inside || v == 0.0,
                "gradient outside the field at ({i}, {j})"
            );
        }
    }
    let other = zoo::by_name("maml_miniimagenet").unwrap();
    let (_, foreign) = Model::new(&other, [3, 84, 84], 1).unwrap();
    let err = effective_receptive_field_with(&net, input, "blocks.1", &config, Some(&foreign))
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::ParamShape { .. } | Error::MissingParam { .. } | Error::UnexpectedParam { .. }
        ),
        "{err}"
    );
}

/// Spatially separable convolutions and stride-1 transposed convolutions:
/// the gradient support is the analytic field.
#[test]
fn spatially_separable_and_stride_one_transposed() {
    let net = Network::from_json(
        r#"{ "nodes": [
        { "name": "s", "op": "spatially_separable", "out_channels": 2, "mid": 3, "kernel": 3, "stride": 2, "padding": 1 },
        { "name": "t", "op": "conv_transpose", "out_channels": 2, "kernel": 3, "padding": 1 },
        { "name": "u", "op": "conv_transpose", "out_channels": 2, "kernel": [3, 2] }
    ] }"#,
    )
    .unwrap();
    for end in ["s", "t", "u"] {
        assert_support_is_field(&net, [2, 25, 25], end);
    }
}
