//! Layer tests: every layer's forward pass against a composition of the ops
//! or a naive loop, parameter names and shapes in a `VarMap` (PyTorch names),
//! safetensors round-trips, hand-computed parameter and MAC counts, and
//! finite-difference checks of first and second derivatives through every
//! layer.

mod common;
use huashi_conv::reference::{naive_conv2d, naive_input_grad, ConvProblem};
use std::collections::HashMap;

use candle_core::{DType, Device, Module, Tensor, Var};
use candle_nn::{VarBuilder, VarMap};
use huashi_conv::{
    conv2d, ensure_second_order, AvgPool2d, Conv2d, Conv2dConfig, ConvGeometry, ConvTranspose2d,
    ConvTranspose2dConfig, Cost, DepthwiseConv2d, GlobalAvgPool, MaxPool2d, Padding,
    PointwiseConv2d, PoolConfig, SeparableConv2d, SpatiallySeparableConv2d,
};

type TestResult = Result<(), Box<dyn std::error::Error>>;

// ---------------------------------------------------------------------------
// Seeded data
// ---------------------------------------------------------------------------

use common::TestRng as Rng;

use common::{dims4, flat as values};

fn max_abs_diff(a: &[f64], b: &[f64]) -> f64 {
    assert_eq!(a.len(), b.len(), "lengths differ");
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f64::max)
}

fn assert_close(got: &Tensor, want: &[f64], tol: f64, what: &str) {
    let got = values(got);
    let diff = max_abs_diff(&got, want);
    assert!(diff <= tol, "{what}: max |diff| = {diff:e} > {tol:e}");
}

/// Builds a layer on a fresh `VarMap` of `dtype`, then overwrites every
/// variable (in name order) with seeded values in the layer's own init range,
/// so that the numbers do not depend on candle's unseeded CPU generator.
fn build<L>(
    dtype: DType,
    seed: u64,
    make: impl FnOnce(VarBuilder) -> huashi_conv::Result<L>,
) -> (L, VarMap) {
    let varmap = VarMap::new();
    let layer = make(VarBuilder::from_varmap(&varmap, dtype, &Device::Cpu)).unwrap();
    reseed(&varmap, seed);
    (layer, varmap)
}

fn sorted_vars(varmap: &VarMap) -> Vec<(String, Var)> {
    let mut vars: Vec<(String, Var)> = varmap
        .data()
        .lock()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    vars.sort_by(|a, b| a.0.cmp(&b.0));
    vars
}

fn reseed(varmap: &VarMap, seed: u64) {
    let mut rng = Rng::new(seed);
    for (_, var) in sorted_vars(varmap) {
        let t = rng
            .tensor(var.dims())
            .to_dtype(var.dtype())
            .unwrap()
            .affine(0.5, 0.0)
            .unwrap();
        var.set(&t).unwrap();
    }
}

// ---------------------------------------------------------------------------
// Naive references (written from the definitions, f64)
// ---------------------------------------------------------------------------

/// The library's naive reference loop (`huashi_conv::reference`).
fn naive_conv(
    x: &[f64],
    [n, ci, h, w]: [usize; 4],
    wt: &[f64],
    [co, _, kh, kw]: [usize; 4],
    g: &ConvGeometry,
) -> (Vec<f64>, [usize; 4]) {
    let problem = ConvProblem::new(n, [ci, co], [h, w], [kh, kw], *g);
    let y = naive_conv2d(&problem, x, wt);
    (y.values, y.shape)
}

/// Transposed convolution (PyTorch `conv_transpose2d`, weight
/// `(C_in, C_out/g, kh, kw)`): the naive input gradient of the convolution
/// it is the adjoint of.
#[allow(clippy::too_many_arguments)]
fn naive_conv_transpose(
    x: &[f64],
    [n, ci, h, w]: [usize; 4],
    wt: &[f64],
    [_, cog, kh, kw]: [usize; 4],
    stride: [usize; 2],
    dilation: [usize; 2],
    padding: [usize; 4],
    output_padding: [usize; 2],
    groups: usize,
) -> (Vec<f64>, [usize; 4]) {
    let geometry = ConvGeometry {
        stride,
        dilation,
        padding,
        groups,
    };
    let channels = [ci, cog * groups];
    let problem = ConvProblem::transposed(n, channels, [h, w], [kh, kw], geometry, output_padding);
    let y = naive_input_grad(&problem, x, wt);
    (y.values, y.shape)
}

fn add_bias(y: &mut [f64], [n, c, h, w]: [usize; 4], bias: &[f64]) {
    for b in 0..n {
        for o in 0..c {
            for p in 0..h * w {
                y[(b * c + o) * h * w + p] += bias[o];
            }
        }
    }
}

/// The layer's resolved geometry for an input, from the config (not the layer).
fn geometry_of(config: &Conv2dConfig, input: [usize; 2], kernel: [usize; 2]) -> ConvGeometry {
    config.geometry(input, kernel).unwrap()
}

fn reference_conv(layer: &Conv2d, x: &Tensor) -> (Vec<f64>, [usize; 4]) {
    let xd = dims4(x);
    let g = geometry_of(layer.config(), [xd[2], xd[3]], layer.kernel());
    let (mut y, yd) = naive_conv(
        &values(x),
        xd,
        &values(layer.weight()),
        dims4(layer.weight()),
        &g,
    );
    if let Some(b) = layer.bias() {
        add_bias(&mut y, yd, &values(b));
    }
    (y, yd)
}

fn tol_for(dtype: DType) -> f64 {
    match dtype {
        DType::F64 => 1e-12,
        _ => 1e-4,
    }
}

// ---------------------------------------------------------------------------
// Forward passes
// ---------------------------------------------------------------------------

/// (c_in, c_out, kernel, config, input [h, w], batch)
type ConvCase = (usize, usize, [usize; 2], Conv2dConfig, [usize; 2], usize);

#[test]
fn conv2d_layer_matches_naive_loop() {
    let cases: Vec<ConvCase> = vec![
        (3, 4, [3, 3], Conv2dConfig::default(), [7, 6], 2),
        (
            4,
            6,
            [3, 2],
            Conv2dConfig {
                padding_mode: huashi_conv::PaddingMode::Zeros,
                stride: [2, 1],
                dilation: [1, 2],
                padding: Padding::Explicit {
                    top: 1,
                    bottom: 0,
                    left: 2,
                    right: 1,
                },
                groups: 2,
                bias: true,
            },
            [9, 8],
            1,
        ),
        (
            3,
            5,
            [4, 4],
            Conv2dConfig {
                padding: Padding::SamePyTorch,
                bias: false,
                ..Conv2dConfig::default()
            },
            [6, 7],
            2,
        ),
        (
            2,
            4,
            [3, 3],
            Conv2dConfig {
                stride: [2, 2],
                padding: Padding::SameTensorFlow,
                ..Conv2dConfig::default()
            },
            [8, 7],
            3,
        ),
        (
            6,
            6,
            [3, 3],
            Conv2dConfig {
                dilation: [2, 3],
                padding: Padding::SamePyTorch,
                groups: 3,
                ..Conv2dConfig::default()
            },
            [9, 10],
            1,
        ),
        (
            4,
            8,
            [5, 3],
            Conv2dConfig {
                stride: [3, 2],
                dilation: [1, 2],
                padding: Padding::symmetric(2, 1),
                groups: 4,
                ..Conv2dConfig::default()
            },
            [11, 9],
            2,
        ),
    ];
    for dtype in [DType::F64, DType::F32] {
        for (i, &(ci, co, k, config, [h, w], n)) in cases.iter().enumerate() {
            let (layer, _vm) = build(dtype, 10 + i as u64, |vb| {
                Conv2d::new(ci, co, k, config, vb)
            });
            let x = Rng::new(100 + i as u64)
                .tensor(&[n, ci, h, w])
                .to_dtype(dtype)
                .unwrap();
            let y = layer.forward(&x).unwrap();
            let (want, wd) = reference_conv(&layer, &x);
            assert_eq!(y.dims(), wd.as_slice(), "case {i} shape");
            assert_eq!(y.dtype(), dtype);
            assert_close(
                &y,
                &want,
                tol_for(dtype),
                &format!("conv2d case {i} {dtype:?}"),
            );
            // try_forward and Module::forward agree exactly.
            let y2 = layer.try_forward(&x).unwrap();
            assert_eq!(values(&y), values(&y2));
        }
    }
}

#[test]
fn same_padding_layers_keep_the_spatial_size() {
    // PyTorch 'same' at stride 1 and TF 'SAME' at stride 1 give o = i for
    // every kernel and dilation, odd or even.
    for k in 1..=5 {
        for d in 1..=3 {
            for padding in [Padding::SamePyTorch, Padding::SameTensorFlow] {
                let config = Conv2dConfig {
                    dilation: [d, d],
                    padding,
                    ..Conv2dConfig::default()
                };
                let (layer, _vm) = build(DType::F64, 1, |vb| {
                    Conv2d::new(2, 3, [k, k + 1], config, vb)
                });
                let x = Rng::new(2).tensor(&[1, 2, 9, 8]);
                let y = layer.forward(&x).unwrap();
                assert_eq!(y.dims(), &[1, 3, 9, 8], "k {k} d {d} {padding:?}");
                let (want, _) = reference_conv(&layer, &x);
                assert_close(&y, &want, 1e-12, "same-padded conv");
            }
        }
    }
    // TF 'SAME' with stride s: o = ⌈i / s⌉.
    for s in 1..=4 {
        for i in 5..=11 {
            let config = Conv2dConfig {
                stride: [s, s],
                padding: Padding::SameTensorFlow,
                ..Conv2dConfig::default()
            };
            let (layer, _vm) = build(DType::F64, 3, |vb| Conv2d::new(1, 1, [3, 2], config, vb));
            let x = Rng::new(4).tensor(&[1, 1, i, i + 1]);
            let y = layer.forward(&x).unwrap();
            assert_eq!(
                y.dims(),
                &[1, 1, i.div_ceil(s), (i + 1).div_ceil(s)],
                "i {i} s {s}"
            );
            let (want, _) = reference_conv(&layer, &x);
            assert_close(&y, &want, 1e-12, "TF SAME strided conv");
        }
    }
}

#[test]
fn pointwise_layer_is_a_per_pixel_matrix_product() {
    for (i, &(ci, co, bias, [h, w], n)) in [
        (5, 7, true, [4, 6], 2),
        (8, 3, false, [1, 1], 3),
        (1, 4, true, [5, 5], 1),
    ]
    .iter()
    .enumerate()
    {
        let (layer, _vm) = build(DType::F64, 20 + i as u64, |vb| {
            PointwiseConv2d::new(ci, co, bias, vb)
        });
        let x = Rng::new(200 + i as u64).tensor(&[n, ci, h, w]);
        let y = layer.forward(&x).unwrap();
        assert_eq!(y.dims(), &[n, co, h, w]);
        // y[n] = W (co × ci) · x[n] (ci × hw) + b, by candle's matmul.
        let wmat = layer.conv().weight().reshape((co, ci)).unwrap();
        let xs = x.reshape((n, ci, h * w)).unwrap();
        let mut want = wmat
            .broadcast_left(n)
            .unwrap()
            .matmul(&xs)
            .unwrap()
            .reshape((n, co, h, w))
            .unwrap();
        if let Some(b) = layer.conv().bias() {
            want = want
                .broadcast_add(&b.reshape((1, co, 1, 1)).unwrap())
                .unwrap();
        }
        assert_close(&y, &values(&want), 1e-12, "pointwise");
        assert_eq!(layer.conv().kernel(), [1, 1]);
        assert_eq!(layer.conv().bias().is_some(), bias);
    }
}

#[test]
fn depthwise_layer_convolves_each_channel_with_its_own_kernels() {
    // (channels, multiplier, kernel, config, input)
    let cases = [
        (
            3,
            1,
            [3, 3],
            Padding::symmetric(1, 1),
            [1, 1],
            [1, 1],
            [6, 7],
        ),
        (
            2,
            3,
            [3, 2],
            Padding::SameTensorFlow,
            [2, 1],
            [1, 1],
            [7, 8],
        ),
        (4, 2, [2, 3], Padding::Valid, [1, 2], [2, 1], [8, 9]),
        (3, 2, [4, 4], Padding::SamePyTorch, [1, 1], [1, 2], [7, 9]),
    ];
    for (i, &(c, m, k, padding, stride, dilation, [h, w])) in cases.iter().enumerate() {
        let config = Conv2dConfig {
            padding_mode: huashi_conv::PaddingMode::Zeros,
            stride,
            dilation,
            padding,
            groups: 99, // ignored: a depthwise layer has groups = C_in
            bias: true,
        };
        let (layer, _vm) = build(DType::F64, 30 + i as u64, |vb| {
            DepthwiseConv2d::new(c, m, k, config, vb)
        });
        assert_eq!(layer.depth_multiplier(), m);
        assert_eq!(layer.conv().config().groups, c);
        let x = Rng::new(300 + i as u64).tensor(&[2, c, h, w]);
        let y = layer.forward(&x).unwrap();
        // Output channel c·m + q is input channel c convolved with w[c·m + q, 0].
        let g = geometry_of(layer.conv().config(), [h, w], k).with_groups(1);
        let wv = values(layer.conv().weight());
        let bias = values(layer.conv().bias().unwrap());
        let xv = values(&x);
        let yd = dims4(&y);
        let [_, _, ho, wo] = yd;
        let yv = values(&y);
        for b in 0..2 {
            for ch in 0..c {
                let plane = &xv[(b * c + ch) * h * w..(b * c + ch + 1) * h * w];
                for q in 0..m {
                    let o = ch * m + q;
                    let kernel = &wv[o * k[0] * k[1]..(o + 1) * k[0] * k[1]];
                    let (mut want, wd) =
                        naive_conv(plane, [1, 1, h, w], kernel, [1, 1, k[0], k[1]], &g);
                    assert_eq!([wd[2], wd[3]], [ho, wo]);
                    want.iter_mut().for_each(|v| *v += bias[o]);
                    let got = &yv[(b * c * m + o) * ho * wo..(b * c * m + o + 1) * ho * wo];
                    let diff = max_abs_diff(got, &want);
                    assert!(diff < 1e-12, "case {i} channel {ch} q {q}: {diff:e}");
                }
            }
        }
    }
}

#[test]
fn separable_layer_is_depthwise_then_pointwise_then_bias() {
    let cases = [
        (3, 5, [3, 3], 1, Padding::SamePyTorch, [1, 1], [1, 1], true),
        (
            2,
            4,
            [3, 3],
            2,
            Padding::SameTensorFlow,
            [2, 2],
            [1, 1],
            true,
        ),
        (4, 3, [2, 3], 3, Padding::Valid, [1, 2], [2, 1], false),
        (
            3,
            6,
            [3, 2],
            2,
            Padding::Explicit {
                top: 2,
                bottom: 0,
                left: 1,
                right: 1,
            },
            [1, 1],
            [1, 2],
            true,
        ),
    ];
    for dtype in [DType::F64, DType::F32] {
        for (i, &(ci, co, k, m, padding, stride, dilation, bias)) in cases.iter().enumerate() {
            let config = Conv2dConfig {
                padding_mode: huashi_conv::PaddingMode::Zeros,
                stride,
                dilation,
                padding,
                groups: 1,
                bias,
            };
            let (layer, _vm) = build(dtype, 40 + i as u64, |vb| {
                SeparableConv2d::new(ci, co, k, m, config, vb)
            });
            let x = Rng::new(400 + i as u64)
                .tensor(&[2, ci, 7, 8])
                .to_dtype(dtype)
                .unwrap();
            let y = layer.forward(&x).unwrap();

            // Composition of the ops.
            let dw = layer.depthwise().conv();
            assert!(dw.bias().is_none(), "depthwise stage has no bias");
            assert_eq!(dw.weight().dims(), &[ci * m, 1, k[0], k[1]]);
            let g = geometry_of(dw.config(), [7, 8], k);
            assert_eq!(g.groups, ci);
            let mid = conv2d(&x, dw.weight(), &g).unwrap();
            let pw = layer.pointwise();
            assert_eq!(pw.weight().dims(), &[co, ci * m, 1, 1]);
            let mut want = conv2d(&mid, pw.weight(), &ConvGeometry::new()).unwrap();
            if let Some(b) = pw.bias() {
                want = want
                    .broadcast_add(&b.reshape((1, co, 1, 1)).unwrap())
                    .unwrap();
            }
            assert_eq!(pw.bias().is_some(), bias);
            assert_eq!(y.dims(), want.dims());
            assert_close(&y, &values(&want), tol_for(dtype), "separable vs ops");

            // And against the naive loops.
            let (mid_naive, md) = naive_conv(
                &values(&x),
                dims4(&x),
                &values(dw.weight()),
                dims4(dw.weight()),
                &g,
            );
            let (mut naive, nd) = naive_conv(
                &mid_naive,
                md,
                &values(pw.weight()),
                dims4(pw.weight()),
                &ConvGeometry::new(),
            );
            if let Some(b) = pw.bias() {
                add_bias(&mut naive, nd, &values(b));
            }
            assert_close(&y, &naive, tol_for(dtype) * 10.0, "separable vs naive");
        }
    }
}

#[test]
fn spatially_separable_with_one_mid_channel_is_the_outer_product_kernel() {
    // C_in → 1 → C_out: y = conv(x, K) with K[o, c, u, v] = vert[0, c, u] · hor[o, 0, v].
    let paddings = [
        Padding::Valid,
        Padding::SamePyTorch,
        Padding::SameTensorFlow,
        Padding::Explicit {
            top: 2,
            bottom: 0,
            left: 1,
            right: 3,
        },
    ];
    let mut case = 0;
    for &padding in &paddings {
        for &(stride, dilation) in &[([1, 1], [1, 1]), ([2, 3], [1, 1]), ([1, 1], [2, 1])] {
            if padding == Padding::SamePyTorch && stride != [1, 1] {
                continue;
            }
            for k in [2, 3] {
                case += 1;
                let (ci, co) = (3, 4);
                let config = Conv2dConfig {
                    padding_mode: huashi_conv::PaddingMode::Zeros,
                    stride,
                    dilation,
                    padding,
                    groups: 1,
                    bias: true,
                };
                let (layer, _vm) = build(DType::F64, 50 + case, |vb| {
                    SpatiallySeparableConv2d::new(ci, 1, co, k, config, vb)
                });
                let vert = values(layer.vertical().weight()); // (1, ci, k, 1)
                let hor = values(layer.horizontal().weight()); // (co, 1, 1, k)
                assert_eq!(layer.vertical().weight().dims(), &[1, ci, k, 1]);
                assert_eq!(layer.horizontal().weight().dims(), &[co, 1, 1, k]);
                let mut kernel = vec![0.0; co * ci * k * k];
                for o in 0..co {
                    for c in 0..ci {
                        for u in 0..k {
                            for v in 0..k {
                                kernel[((o * ci + c) * k + u) * k + v] =
                                    vert[c * k + u] * hor[o * k + v];
                            }
                        }
                    }
                }
                let [h, w] = [9, 10];
                let x = Rng::new(500 + case).tensor(&[2, ci, h, w]);
                let y = layer.forward(&x).unwrap();
                let g = geometry_of(&config, [h, w], [k, k]);
                let (mut want, wd) =
                    naive_conv(&values(&x), dims4(&x), &kernel, [co, ci, k, k], &g);
                add_bias(&mut want, wd, &values(layer.horizontal().bias().unwrap()));
                assert_eq!(
                    y.dims(),
                    wd.as_slice(),
                    "case {case} {padding:?} {stride:?}"
                );
                assert_close(&y, &want, 1e-12, &format!("outer product case {case}"));
                // The k×k conv layer with that kernel gives the same numbers.
                let full = Conv2d::from_tensors(
                    Tensor::from_vec(kernel.clone(), (co, ci, k, k), &Device::Cpu).unwrap(),
                    layer.horizontal().bias().cloned(),
                    config,
                )
                .unwrap();
                assert_close(&full.forward(&x).unwrap(), &values(&y), 1e-12, "k×k layer");
            }
        }
    }
}

#[test]
fn spatially_separable_is_vertical_then_horizontal() {
    // Several mid channels and groups: the composition of the two stages.
    let config = Conv2dConfig {
        padding_mode: huashi_conv::PaddingMode::Zeros,
        stride: [2, 1],
        dilation: [1, 2],
        padding: Padding::SameTensorFlow,
        groups: 2,
        bias: true,
    };
    let (layer, _vm) = build(DType::F64, 60, |vb| {
        SpatiallySeparableConv2d::new(4, 6, 8, 3, config, vb)
    });
    let x = Rng::new(600).tensor(&[2, 4, 9, 8]);
    let y = layer.forward(&x).unwrap();
    let v = layer.vertical();
    let h = layer.horizontal();
    assert_eq!(v.weight().dims(), &[6, 2, 3, 1]);
    assert_eq!(h.weight().dims(), &[8, 3, 1, 3]);
    assert!(v.bias().is_none());
    let gv = geometry_of(v.config(), [9, 8], [3, 1]);
    let mid = conv2d(&x, v.weight(), &gv).unwrap();
    let [_, _, mh, mw] = dims4(&mid);
    let gh = geometry_of(h.config(), [mh, mw], [1, 3]);
    let want = conv2d(&mid, h.weight(), &gh)
        .unwrap()
        .broadcast_add(&h.bias().unwrap().reshape((1, 8, 1, 1)).unwrap())
        .unwrap();
    // TF SAME overall: ⌈9/2⌉ × ⌈8/1⌉.
    assert_eq!(y.dims(), &[2, 8, 5, 8]);
    assert_close(&y, &values(&want), 1e-12, "spatially separable");
    // The stages split stride and dilation by axis.
    assert_eq!(v.config().stride, [2, 1]);
    assert_eq!(h.config().stride, [1, 1]);
    assert_eq!(v.config().dilation, [1, 1]);
    assert_eq!(h.config().dilation, [1, 2]);
}

/// (c_in, c_out, kernel, config, input [h, w])
type TransposeCase = (usize, usize, [usize; 2], ConvTranspose2dConfig, [usize; 2]);

fn transpose_cases() -> Vec<TransposeCase> {
    let base = ConvTranspose2dConfig::default();
    vec![
        (3, 2, [3, 3], base, [4, 5]),
        (
            2,
            3,
            [3, 3],
            ConvTranspose2dConfig {
                stride: [2, 2],
                padding: [1; 4],
                output_padding: [1, 1],
                ..base
            },
            [4, 4],
        ),
        (
            4,
            6,
            [3, 2],
            ConvTranspose2dConfig {
                stride: [2, 3],
                dilation: [2, 1],
                padding: [1, 0, 0, 2],
                output_padding: [1, 2],
                groups: 2,
                bias: true,
            },
            [3, 4],
        ),
        // output_padding ≥ stride, allowed because it is < dilation.
        (
            2,
            2,
            [3, 3],
            ConvTranspose2dConfig {
                stride: [1, 1],
                dilation: [2, 3],
                padding: [0; 4],
                output_padding: [1, 2],
                groups: 1,
                bias: true,
            },
            [4, 3],
        ),
        // depthwise transposed with multiplier 2, large padding.
        (
            3,
            6,
            [4, 4],
            ConvTranspose2dConfig {
                stride: [2, 2],
                padding: [2, 1, 1, 2],
                groups: 3,
                bias: false,
                ..base
            },
            [5, 4],
        ),
        (
            6,
            4,
            [2, 2],
            ConvTranspose2dConfig {
                stride: [3, 2],
                dilation: [2, 3],
                padding: [1, 1, 0, 0],
                output_padding: [2, 1],
                groups: 2,
                bias: true,
            },
            [3, 3],
        ),
    ]
}

#[test]
fn conv_transpose_layer_matches_naive_scatter() {
    for dtype in [DType::F64, DType::F32] {
        for (i, (ci, co, k, config, [h, w])) in transpose_cases().into_iter().enumerate() {
            let (layer, _vm) = build(dtype, 70 + i as u64, |vb| {
                ConvTranspose2d::new(ci, co, k, config, vb)
            });
            assert_eq!(layer.weight().dims(), &[ci, co / config.groups, k[0], k[1]]);
            let x = Rng::new(700 + i as u64)
                .tensor(&[2, ci, h, w])
                .to_dtype(dtype)
                .unwrap();
            let y = layer.forward(&x).unwrap();
            let (mut want, wd) = naive_conv_transpose(
                &values(&x),
                dims4(&x),
                &values(layer.weight()),
                dims4(layer.weight()),
                config.stride,
                config.dilation,
                config.padding,
                config.output_padding,
                config.groups,
            );
            if let Some(b) = layer.bias() {
                add_bias(&mut want, wd, &values(b));
            }
            assert_eq!(y.dims(), wd.as_slice(), "case {i} shape");
            assert_close(
                &y,
                &want,
                tol_for(dtype),
                &format!("transpose case {i} {dtype:?}"),
            );
        }
    }
}

#[test]
fn conv_transpose_output_shape_follows_pytorch_formula() {
    // PyTorch nn.ConvTranspose2d: H_out = (H_in − 1)·stride − 2·padding
    //   + dilation·(kernel − 1) + output_padding + 1.
    let mut checked = 0;
    for h in 1..=4 {
        for k in 1..=4 {
            for s in 1..=3 {
                for d in 1..=2 {
                    for p in 0..=2 {
                        for op in 0..s.max(d) {
                            let full = (h - 1) * s + d * (k - 1) + op + 1;
                            let config = ConvTranspose2dConfig {
                                stride: [s, 1],
                                dilation: [d, 1],
                                padding: [p, p, 0, 0],
                                output_padding: [op, 0],
                                groups: 1,
                                bias: true,
                            };
                            let result = build(DType::F64, 0, |vb| {
                                ConvTranspose2d::new(1, 2, [k, 1], config, vb)
                            });
                            let (layer, _vm) = result;
                            let x = Rng::new(1).tensor(&[1, 1, h, 3]);
                            if full <= 2 * p {
                                assert!(layer.try_forward(&x).is_err());
                                continue;
                            }
                            let torch = full - 2 * p;
                            let y = layer.forward(&x).unwrap();
                            assert_eq!(
                                y.dims(),
                                &[1, 2, torch, 3],
                                "h{h} k{k} s{s} d{d} p{p} op{op}"
                            );
                            let cost = layer.cost([1, 1, h, 3]).unwrap();
                            assert_eq!(cost.output_shape, [1, 2, torch, 3]);
                            checked += 1;
                        }
                    }
                }
            }
        }
    }
    assert!(checked > 300, "{checked}");
}

// ---------------------------------------------------------------------------
// Parameter names and shapes
// ---------------------------------------------------------------------------

fn shapes(varmap: &VarMap) -> HashMap<String, Vec<usize>> {
    varmap
        .data()
        .lock()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), v.dims().to_vec()))
        .collect()
}

fn expect(pairs: &[(&str, &[usize])]) -> HashMap<String, Vec<usize>> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_vec()))
        .collect()
}

#[test]
fn parameter_names_and_shapes_follow_pytorch() {
    let dev = Device::Cpu;
    let vm = VarMap::new();
    let vb = VarBuilder::from_varmap(&vm, DType::F32, &dev);
    let config = Conv2dConfig {
        groups: 2,
        ..Conv2dConfig::default()
    };
    Conv2d::new(4, 6, [3, 5], config, vb.pp("conv")).unwrap();
    Conv2d::new(
        3,
        2,
        [1, 2],
        Conv2dConfig {
            bias: false,
            ..Conv2dConfig::default()
        },
        vb.pp("nobias"),
    )
    .unwrap();
    PointwiseConv2d::new(6, 9, true, vb.pp("pw")).unwrap();
    DepthwiseConv2d::new(5, 3, [3, 3], Conv2dConfig::default(), vb.pp("dw")).unwrap();
    SeparableConv2d::new(4, 7, [3, 3], 2, Conv2dConfig::default(), vb.pp("sep")).unwrap();
    SeparableConv2d::new(
        4,
        7,
        [3, 3],
        1,
        Conv2dConfig {
            bias: false,
            ..Conv2dConfig::default()
        },
        vb.pp("sep_nobias"),
    )
    .unwrap();
    SpatiallySeparableConv2d::new(4, 6, 8, 5, Conv2dConfig::default(), vb.pp("spatial")).unwrap();
    SpatiallySeparableConv2d::new(
        4,
        6,
        8,
        3,
        Conv2dConfig {
            groups: 2,
            ..Conv2dConfig::default()
        },
        vb.pp("spatial_g"),
    )
    .unwrap();
    ConvTranspose2d::new(
        4,
        6,
        [4, 3],
        ConvTranspose2dConfig {
            groups: 2,
            stride: [2, 2],
            ..ConvTranspose2dConfig::default()
        },
        vb.pp("up"),
    )
    .unwrap();

    let want = expect(&[
        ("conv.weight", &[6, 2, 3, 5]),
        ("conv.bias", &[6]),
        ("nobias.weight", &[2, 3, 1, 2]),
        ("pw.weight", &[9, 6, 1, 1]),
        ("pw.bias", &[9]),
        ("dw.weight", &[15, 1, 3, 3]),
        ("dw.bias", &[15]),
        ("sep.depthwise.weight", &[8, 1, 3, 3]),
        ("sep.pointwise.weight", &[7, 8, 1, 1]),
        ("sep.pointwise.bias", &[7]),
        ("sep_nobias.depthwise.weight", &[4, 1, 3, 3]),
        ("sep_nobias.pointwise.weight", &[7, 4, 1, 1]),
        ("spatial.vertical.weight", &[6, 4, 5, 1]),
        ("spatial.horizontal.weight", &[8, 6, 1, 5]),
        ("spatial.horizontal.bias", &[8]),
        ("spatial_g.vertical.weight", &[6, 2, 3, 1]),
        ("spatial_g.horizontal.weight", &[8, 3, 1, 3]),
        ("spatial_g.horizontal.bias", &[8]),
        ("up.weight", &[4, 3, 4, 3]),
        ("up.bias", &[6]),
    ]);
    assert_eq!(shapes(&vm), want);
    for (name, var) in sorted_vars(&vm) {
        assert_eq!(var.dtype(), DType::F32, "{name}");
    }
}

#[test]
fn unprefixed_layers_use_bare_pytorch_names() {
    let dev = Device::Cpu;
    type Make = Box<dyn Fn(VarBuilder)>;
    type Names = Vec<(&'static str, Vec<usize>)>;
    let cases: Vec<(&str, Make, Names)> = vec![
        (
            "conv",
            Box::new(|vb| {
                Conv2d::new(3, 4, [3, 3], Conv2dConfig::default(), vb).unwrap();
            }),
            vec![("weight", vec![4, 3, 3, 3]), ("bias", vec![4])],
        ),
        (
            "separable",
            Box::new(|vb| {
                SeparableConv2d::new(3, 4, [3, 3], 1, Conv2dConfig::default(), vb).unwrap();
            }),
            vec![
                ("depthwise.weight", vec![3, 1, 3, 3]),
                ("pointwise.weight", vec![4, 3, 1, 1]),
                ("pointwise.bias", vec![4]),
            ],
        ),
        (
            "spatial",
            Box::new(|vb| {
                SpatiallySeparableConv2d::new(3, 2, 4, 3, Conv2dConfig::default(), vb).unwrap();
            }),
            vec![
                ("vertical.weight", vec![2, 3, 3, 1]),
                ("horizontal.weight", vec![4, 2, 1, 3]),
                ("horizontal.bias", vec![4]),
            ],
        ),
        (
            "transpose",
            Box::new(|vb| {
                ConvTranspose2d::new(3, 4, [2, 2], ConvTranspose2dConfig::default(), vb).unwrap();
            }),
            vec![("weight", vec![3, 4, 2, 2]), ("bias", vec![4])],
        ),
    ];
    for (what, make, names) in cases {
        let vm = VarMap::new();
        make(VarBuilder::from_varmap(&vm, DType::F64, &dev));
        let want: HashMap<String, Vec<usize>> =
            names.into_iter().map(|(k, v)| (k.to_string(), v)).collect();
        assert_eq!(shapes(&vm), want, "{what}");
    }
}

#[test]
fn initialisation_is_pytorch_uniform_in_one_over_sqrt_fan_in() {
    let dev = Device::Cpu;
    let vm = VarMap::new();
    let vb = VarBuilder::from_varmap(&vm, DType::F64, &dev);
    let config = Conv2dConfig {
        groups: 2,
        ..Conv2dConfig::default()
    };
    let conv = Conv2d::new(8, 16, [3, 3], config, vb.pp("conv")).unwrap();
    let up =
        ConvTranspose2d::new(16, 4, [4, 4], ConvTranspose2dConfig::default(), vb.pp("up")).unwrap();
    // Conv2d: fan_in = C_in/g · kh · kw = 4 · 9 = 36 → bound 1/6.
    for t in [conv.weight(), conv.bias().unwrap()] {
        let v = values(t);
        let bound = 1.0 / 6.0;
        assert!(v.iter().all(|x| x.abs() <= bound), "conv init bound");
        assert!(v.iter().any(|x| x.abs() > bound / 4.0), "not all tiny");
    }
    // ConvTranspose2d: PyTorch's fan_in = weight.size(1) · kh · kw = 4 · 16 → 1/8.
    for t in [up.weight(), up.bias().unwrap()] {
        let v = values(t);
        assert!(v.iter().all(|x| x.abs() <= 0.125), "transpose init bound");
    }
}

// ---------------------------------------------------------------------------
// Safetensors round trip
// ---------------------------------------------------------------------------

/// A small model touching every parametrised layer, built from one `VarBuilder`.
struct Model {
    conv: Conv2d,
    pw: PointwiseConv2d,
    dw: DepthwiseConv2d,
    sep: SeparableConv2d,
    spatial: SpatiallySeparableConv2d,
    up: ConvTranspose2d,
}

impl Model {
    fn new(vb: VarBuilder) -> huashi_conv::Result<Self> {
        let same = Conv2dConfig {
            padding: Padding::SamePyTorch,
            ..Conv2dConfig::default()
        };
        Ok(Model {
            conv: Conv2d::new(3, 4, [3, 3], same, vb.pp("features.0"))?,
            pw: PointwiseConv2d::new(4, 6, true, vb.pp("features.1"))?,
            dw: DepthwiseConv2d::new(6, 2, [3, 3], same, vb.pp("features.2"))?,
            sep: SeparableConv2d::new(12, 5, [3, 3], 1, same, vb.pp("features.3"))?,
            spatial: SpatiallySeparableConv2d::new(5, 3, 4, 3, same, vb.pp("features.4"))?,
            up: ConvTranspose2d::new(
                4,
                2,
                [2, 2],
                ConvTranspose2dConfig {
                    stride: [2, 2],
                    ..ConvTranspose2dConfig::default()
                },
                vb.pp("head"),
            )?,
        })
    }
}

impl Module for Model {
    fn forward(&self, x: &Tensor) -> candle_core::Result<Tensor> {
        let x = self.conv.forward(x)?;
        let x = self.pw.forward(&x)?;
        let x = self.dw.forward(&x)?;
        let x = self.sep.forward(&x)?;
        let x = self.spatial.forward(&x)?;
        self.up.forward(&x)
    }
}

#[test]
fn safetensors_round_trip_gives_identical_outputs() -> TestResult {
    let dev = Device::Cpu;
    for dtype in [DType::F32, DType::F64] {
        let (model, vm) = build(dtype, 80, Model::new);
        let x = Rng::new(800).tensor(&[2, 3, 6, 5]).to_dtype(dtype)?;
        let y = model.forward(&x)?;
        assert_eq!(y.dims(), &[2, 2, 12, 10]);

        let dir = tempfile::tempdir()?;
        let path = dir.path().join("model.safetensors");
        vm.save(&path)?;

        // 1. Memory-mapped VarBuilder.
        // SAFETY: the file was just written by this test and is not modified
        // while mapped.
        let vb = unsafe { VarBuilder::from_mmaped_safetensors(&[&path], dtype, &dev)? };
        let loaded = Model::new(vb)?;
        assert_eq!(values(&loaded.forward(&x)?), values(&y), "mmaped {dtype:?}");

        // 2. candle's loader into a HashMap, then VarBuilder::from_tensors.
        let tensors = candle_core::safetensors::load(&path, &dev)?;
        let mut names: Vec<&String> = tensors.keys().collect();
        names.sort();
        let mut want: Vec<String> = shapes(&vm).into_keys().collect();
        want.sort();
        assert_eq!(names, want.iter().collect::<Vec<_>>());
        for (name, t) in &tensors {
            assert_eq!(t.dtype(), dtype, "{name} stored dtype");
        }
        let loaded = Model::new(VarBuilder::from_tensors(tensors, dtype, &dev))?;
        assert_eq!(
            values(&loaded.forward(&x)?),
            values(&y),
            "from_tensors {dtype:?}"
        );

        // 3. VarMap::load into a freshly initialised model.
        let mut vm2 = VarMap::new();
        let fresh = Model::new(VarBuilder::from_varmap(&vm2, dtype, &dev))?;
        assert_ne!(values(&fresh.forward(&x)?), values(&y));
        vm2.load(&path)?;
        assert_eq!(
            values(&fresh.forward(&x)?),
            values(&y),
            "VarMap::load {dtype:?}"
        );
    }
    Ok(())
}

#[test]
fn checkpoint_with_wrong_shape_is_rejected_on_load() -> TestResult {
    // A PyTorch-style state dict whose conv weight has 2 input channels
    // cannot build a layer expecting 3.
    let dev = Device::Cpu;
    let mut rng = Rng::new(81);
    let tensors: HashMap<String, Tensor> = [
        ("weight".to_string(), rng.tensor(&[4, 2, 3, 3])),
        ("bias".to_string(), rng.tensor(&[4])),
    ]
    .into_iter()
    .collect();
    let vb = VarBuilder::from_tensors(tensors.clone(), DType::F64, &dev);
    let err = Conv2d::new(3, 4, [3, 3], Conv2dConfig::default(), vb).unwrap_err();
    assert!(
        err.to_string().contains("shape mismatch for weight"),
        "{err}"
    );
    // The matching layer loads and uses exactly those tensors.
    let vb = VarBuilder::from_tensors(tensors.clone(), DType::F64, &dev);
    let conv = Conv2d::new(2, 4, [3, 3], Conv2dConfig::default(), vb)?;
    assert_eq!(values(conv.weight()), values(&tensors["weight"]));
    assert_eq!(values(conv.bias().unwrap()), values(&tensors["bias"]));
    Ok(())
}

// ---------------------------------------------------------------------------
// Cost: params, MACs, FLOPs by hand
// ---------------------------------------------------------------------------

#[test]
fn cost_mobilenet_depthwise_separable_block() {
    // MobileNet v1 (Howard et al. 2017, Table 1), second block: 3×3
    // depthwise on 32 channels at 112×112, then 1×1 from 32 to 64 (no bias:
    // batch norm follows).
    let config = Conv2dConfig {
        padding: Padding::symmetric(1, 1),
        bias: false,
        ..Conv2dConfig::default()
    };
    let (sep, _vm) = build(DType::F32, 0, |vb| {
        SeparableConv2d::new(32, 64, [3, 3], 1, config, vb)
    });
    let cost = sep.cost([1, 32, 112, 112]).unwrap();
    assert_eq!(cost.output_shape, [1, 64, 112, 112]);
    assert_eq!(cost.params, 32 * 9 + 32 * 64); // 2336
    assert_eq!(cost.params, 2336);
    let dw_macs = 112 * 112 * 32 * 9; // 3,612,672
    let pw_macs = 112 * 112 * 32 * 64; // 25,690,112
    assert_eq!(cost.macs, dw_macs + pw_macs);
    assert_eq!(cost.macs, 29_302_784);
    assert_eq!(cost.flops(), 58_605_568);

    // The same with a bias and batch 8.
    let (sep_b, _vm) = build(DType::F32, 0, |vb| {
        SeparableConv2d::new(
            32,
            64,
            [3, 3],
            1,
            Conv2dConfig {
                bias: true,
                ..config
            },
            vb,
        )
    });
    let cost_b = sep_b.cost([8, 32, 112, 112]).unwrap();
    assert_eq!(cost_b.params, 2336 + 64);
    assert_eq!(cost_b.macs, 8 * 29_302_784);

    // Standard 3×3 conv 32 → 64: 18,432 weights, 231,211,008 MACs; the
    // separable/standard ratio is 1/N + 1/D_K² = 1/64 + 1/9 = 73/576 exactly.
    let (std_conv, _vm) = build(DType::F32, 0, |vb| Conv2d::new(32, 64, [3, 3], config, vb));
    let cost_std = std_conv.cost([1, 32, 112, 112]).unwrap();
    assert_eq!(cost_std.params, 18_432);
    assert_eq!(cost_std.macs, 231_211_008);
    assert_eq!(cost_std.macs * 73, cost.macs * 576);
}

#[test]
fn cost_resnet_stem_matches_torchinfo() {
    // ResNet-50 conv1: 7×7, 3 → 64, stride 2, padding 3, no bias, 224 → 112.
    // torchinfo: 9,408 params, 118.01 M mult-adds.
    let config = Conv2dConfig {
        stride: [2, 2],
        padding: Padding::symmetric(3, 3),
        bias: false,
        ..Conv2dConfig::default()
    };
    let (conv, _vm) = build(DType::F32, 0, |vb| Conv2d::new(3, 64, [7, 7], config, vb));
    let cost = conv.cost([1, 3, 224, 224]).unwrap();
    assert_eq!(cost.output_shape, [1, 64, 112, 112]);
    assert_eq!(cost.params, 9_408);
    assert_eq!(cost.macs, 118_013_952);
    assert_eq!(cost.flops(), 2 * 118_013_952);
}

#[test]
fn cost_of_every_layer_by_hand() {
    // Grouped conv 64 → 128, g = 4, 3×3, pad 1, N = 8 at 56×56.
    let config = Conv2dConfig {
        padding: Padding::symmetric(1, 1),
        groups: 4,
        ..Conv2dConfig::default()
    };
    let (conv, _vm) = build(DType::F32, 0, |vb| Conv2d::new(64, 128, [3, 3], config, vb));
    let cost = conv.cost([8, 64, 56, 56]).unwrap();
    assert_eq!(cost.output_shape, [8, 128, 56, 56]);
    assert_eq!(cost.params, 128 * 16 * 9 + 128);
    assert_eq!(cost.macs, 8 * 128 * 56 * 56 * 16 * 9);

    // Issue 11: a batch and map large enough to overflow the MACs (or a
    // padding that overflows the padded input) is an error, never wrapped.
    let err = conv.cost([1 << 40, 64, 1 << 20, 1 << 20]).unwrap_err();
    assert!(err.to_string().contains("overflows 64 bits"), "{err}");

    // Pointwise 256 → 256 with bias, N = 8 at 56×56.
    let (pw, _vm) = build(DType::F32, 0, |vb| PointwiseConv2d::new(256, 256, true, vb));
    let cost = pw.cost([8, 256, 56, 56]).unwrap();
    assert_eq!(cost.output_shape, [8, 256, 56, 56]);
    assert_eq!(cost.params, 65_792);
    assert_eq!(cost.macs, 8 * 56 * 56 * 256 * 256);

    // Depthwise, multiplier 2, 3×3, stride 2, TF 'SAME' on 15×15 → 8×8.
    let dconfig = Conv2dConfig {
        stride: [2, 2],
        padding: Padding::SameTensorFlow,
        ..Conv2dConfig::default()
    };
    let (dw, _vm) = build(DType::F32, 0, |vb| {
        DepthwiseConv2d::new(16, 2, [3, 3], dconfig, vb)
    });
    let cost = dw.cost([2, 16, 15, 15]).unwrap();
    assert_eq!(cost.output_shape, [2, 32, 8, 8]);
    assert_eq!(cost.params, 32 * 9 + 32);
    assert_eq!(cost.macs, 2 * 32 * 8 * 8 * 9);

    // Separable with multiplier 2: 16·2·9 + 32·24 + 24 params.
    let (sep, _vm) = build(DType::F32, 0, |vb| {
        SeparableConv2d::new(16, 24, [3, 3], 2, dconfig, vb)
    });
    let cost = sep.cost([2, 16, 15, 15]).unwrap();
    assert_eq!(cost.output_shape, [2, 24, 8, 8]);
    assert_eq!(cost.params, 16 * 2 * 9 + 32 * 24 + 24);
    assert_eq!(cost.macs, 2 * 8 * 8 * (32 * 9 + 24 * 32));

    // Spatially separable 64 → 64 → 128, k = 3, 'same', N = 1 at 56×56:
    // 3·64·64 + 3·64·128 + 128 = 36,992 params vs 73,856 for the 3×3 conv.
    let sconfig = Conv2dConfig {
        padding: Padding::SamePyTorch,
        ..Conv2dConfig::default()
    };
    let (sp, _vm) = build(DType::F32, 0, |vb| {
        SpatiallySeparableConv2d::new(64, 64, 128, 3, sconfig, vb)
    });
    let cost = sp.cost([1, 64, 56, 56]).unwrap();
    assert_eq!(cost.output_shape, [1, 128, 56, 56]);
    assert_eq!(cost.params, 36_992);
    assert_eq!(cost.macs, 56 * 56 * (64 * 64 * 3 + 128 * 64 * 3));
    assert_eq!(cost.flops(), 2 * cost.macs);

    // Transposed conv (DCGAN-style) 64 → 32, 4×4, stride 2, pad 1: 28 → 56.
    let tconfig = ConvTranspose2dConfig {
        stride: [2, 2],
        padding: [1; 4],
        ..ConvTranspose2dConfig::default()
    };
    let (up, _vm) = build(DType::F32, 0, |vb| {
        ConvTranspose2d::new(64, 32, [4, 4], tconfig, vb)
    });
    let cost = up.cost([4, 64, 28, 28]).unwrap();
    assert_eq!(cost.output_shape, [4, 32, 56, 56]);
    assert_eq!(cost.params, 64 * 32 * 16 + 32);
    assert_eq!(cost.macs, 4 * 64 * 28 * 28 * 32 * 16);

    // Grouped transposed conv: per input pixel C_out/g · kh · kw MACs.
    let gconfig = ConvTranspose2dConfig {
        groups: 4,
        ..tconfig
    };
    let (upg, _vm) = build(DType::F32, 0, |vb| {
        ConvTranspose2d::new(64, 32, [4, 4], gconfig, vb)
    });
    let cost = upg.cost([1, 64, 28, 28]).unwrap();
    assert_eq!(cost.params, 64 * 8 * 16 + 32);
    assert_eq!(cost.macs, 64 * 28 * 28 * 8 * 16);
}

#[test]
fn cost_output_shape_equals_forward_shape() {
    let x = Rng::new(90).tensor(&[2, 4, 11, 9]);
    let tf = Conv2dConfig {
        padding_mode: huashi_conv::PaddingMode::Zeros,
        stride: [2, 3],
        dilation: [1, 2],
        padding: Padding::SameTensorFlow,
        groups: 2,
        bias: true,
    };
    let (conv, _vm) = build(DType::F64, 1, |vb| Conv2d::new(4, 6, [3, 2], tf, vb));
    let (dw, _vm) = build(DType::F64, 1, |vb| {
        DepthwiseConv2d::new(4, 3, [3, 3], tf, vb)
    });
    let (sep, _vm) = build(DType::F64, 1, |vb| {
        SeparableConv2d::new(4, 5, [2, 3], 2, tf, vb)
    });
    let (sp, _vm) = build(DType::F64, 1, |vb| {
        SpatiallySeparableConv2d::new(4, 2, 6, 3, tf, vb)
    });
    let (pw, _vm) = build(DType::F64, 1, |vb| PointwiseConv2d::new(4, 3, false, vb));
    let (up, _vm) = build(DType::F64, 1, |vb| {
        ConvTranspose2d::new(
            4,
            6,
            [3, 3],
            ConvTranspose2dConfig {
                stride: [2, 3],
                padding: [1, 0, 2, 1],
                output_padding: [1, 2],
                groups: 2,
                ..ConvTranspose2dConfig::default()
            },
            vb,
        )
    });
    let input = dims4(&x);
    let pairs: Vec<(&str, [usize; 4], Tensor)> = vec![
        (
            "conv",
            conv.cost(input).unwrap().output_shape,
            conv.forward(&x).unwrap(),
        ),
        (
            "dw",
            dw.cost(input).unwrap().output_shape,
            dw.forward(&x).unwrap(),
        ),
        (
            "sep",
            sep.cost(input).unwrap().output_shape,
            sep.forward(&x).unwrap(),
        ),
        (
            "spatial",
            sp.cost(input).unwrap().output_shape,
            sp.forward(&x).unwrap(),
        ),
        (
            "pw",
            pw.cost(input).unwrap().output_shape,
            pw.forward(&x).unwrap(),
        ),
        (
            "up",
            up.cost(input).unwrap().output_shape,
            up.forward(&x).unwrap(),
        ),
    ];
    for (what, shape, y) in pairs {
        assert_eq!(y.dims(), shape.as_slice(), "{what}");
    }
}

// ---------------------------------------------------------------------------
// Finite differences through every layer, first and second order (f64)
// ---------------------------------------------------------------------------

fn enable_second_order() {
    std::env::set_var("CANDLE_GRAD_DO_NOT_DETACH", "1");
    ensure_second_order().expect("second-order gradients must be enabled in this thread");
}

fn set_values(var: &Var, v: &[f64]) {
    var.set(&Tensor::from_vec(v.to_vec(), var.dims(), &Device::Cpu).unwrap())
        .unwrap();
}

fn scalar(t: &Tensor) -> f64 {
    t.to_dtype(DType::F64).unwrap().to_scalar::<f64>().unwrap()
}

/// A scalar test loss `L(y) = Σ c ⊙ y² + Σ e ⊙ y`, nonlinear so that second
/// derivatives through bilinear layers are not trivially zero.
struct Loss {
    c: Tensor,
    e: Tensor,
}

impl Loss {
    fn new(shape: &[usize], seed: u64) -> Self {
        let mut rng = Rng::new(seed);
        Loss {
            c: rng.tensor(shape),
            e: rng.tensor(shape),
        }
    }
    fn of(&self, y: &Tensor) -> Tensor {
        let quad = (y.sqr().unwrap() * &self.c).unwrap().sum_all().unwrap();
        let lin = (y * &self.e).unwrap().sum_all().unwrap();
        (quad + lin).unwrap()
    }
}

/// Checks `∂L/∂θ` from backward against central differences, element by
/// element, for every variable (the input and all parameters).
fn check_first_order(what: &str, vars: &[(String, Var)], loss: &dyn Fn() -> Tensor) {
    let eps = 1e-6;
    let grads = loss().backward().unwrap();
    let mut checked = 0;
    for (name, var) in vars {
        let analytic = grads
            .get(var)
            .map(values)
            .unwrap_or_else(|| vec![0.0; var.elem_count()]);
        let base = values(var.as_tensor());
        let mut fd = vec![0.0; base.len()];
        for i in 0..base.len() {
            let mut v = base.clone();
            v[i] = base[i] + eps;
            set_values(var, &v);
            let plus = scalar(&loss());
            v[i] = base[i] - eps;
            set_values(var, &v);
            let minus = scalar(&loss());
            fd[i] = (plus - minus) / (2.0 * eps);
        }
        set_values(var, &base);
        for (i, (a, f)) in analytic.iter().zip(&fd).enumerate() {
            assert!(
                (a - f).abs() <= 1e-6 * (1.0 + f.abs()),
                "{what}: d/d{name}[{i}]: backward {a}, finite difference {f}"
            );
        }
        assert!(
            fd.iter().any(|f| f.abs() > 1e-6),
            "{what}: {name} has a zero gradient"
        );
        checked += fd.len();
    }
    assert!(checked > 0);
}

/// Checks the Hessian-vector product `∂/∂θ ⟨∇L(θ), u⟩` (from a backward pass
/// through the backward pass) against `(∇L(θ + εu) − ∇L(θ − εu)) / 2ε`, for
/// a few seeded directions `u` over all variables jointly.
fn check_second_order(what: &str, vars: &[(String, Var)], loss: &dyn Fn() -> Tensor, seed: u64) {
    let eps = 1e-5;
    let grads_at = || -> Vec<Vec<f64>> {
        let g = loss().backward().unwrap();
        vars.iter()
            .map(|(_, v)| {
                g.get(v)
                    .map(values)
                    .unwrap_or_else(|| vec![0.0; v.elem_count()])
            })
            .collect()
    };
    let mut rng = Rng::new(seed);
    for direction in 0..3 {
        let dirs: Vec<Tensor> = vars.iter().map(|(_, v)| rng.tensor(v.dims())).collect();
        // Analytic: backward of ⟨∇L, u⟩.
        let g = loss().backward().unwrap();
        let mut s: Option<Tensor> = None;
        for ((_, var), u) in vars.iter().zip(&dirs) {
            if let Some(gv) = g.get(var) {
                let term = (gv * u).unwrap().sum_all().unwrap();
                s = Some(match s {
                    None => term,
                    Some(acc) => (acc + term).unwrap(),
                });
            }
        }
        let hv = s.expect("some gradient").backward().unwrap();
        // Finite differences of the gradient along u.
        let base: Vec<Vec<f64>> = vars.iter().map(|(_, v)| values(v.as_tensor())).collect();
        let shift = |sign: f64| {
            for (((_, var), b), u) in vars.iter().zip(&base).zip(&dirs) {
                let u = values(u);
                let moved: Vec<f64> = b.iter().zip(&u).map(|(b, u)| b + sign * eps * u).collect();
                set_values(var, &moved);
            }
        };
        shift(1.0);
        let plus = grads_at();
        shift(-1.0);
        let minus = grads_at();
        for ((_, var), b) in vars.iter().zip(&base) {
            set_values(var, b);
        }
        let mut nonzero = false;
        for (k, (name, var)) in vars.iter().enumerate() {
            let analytic = hv
                .get(var)
                .map(values)
                .unwrap_or_else(|| vec![0.0; var.elem_count()]);
            for (i, a) in analytic.iter().enumerate() {
                let f = (plus[k][i] - minus[k][i]) / (2.0 * eps);
                nonzero |= f.abs() > 1e-6;
                assert!(
                    (a - f).abs() <= 1e-6 * (1.0 + f.abs()),
                    "{what}: direction {direction}: (H u)[{name}][{i}]: double backward {a}, finite difference {f}"
                );
            }
        }
        assert!(nonzero, "{what}: Hessian-vector product is zero");
    }
}

/// Runs both checks for a layer: variables are the input `x` and every
/// parameter in `varmap`.
fn check_layer(what: &str, layer: &dyn Module, varmap: &VarMap, x_shape: &[usize], seed: u64) {
    let x = Var::from_tensor(&Rng::new(seed).tensor(x_shape)).unwrap();
    let y_shape = layer.forward(x.as_tensor()).unwrap().dims().to_vec();
    let loss_fn = Loss::new(&y_shape, seed + 1);
    let mut vars = vec![("x".to_string(), x.clone())];
    vars.extend(sorted_vars(varmap));
    let loss = || loss_fn.of(&layer.forward(x.as_tensor()).unwrap());
    check_first_order(what, &vars, &loss);
    check_second_order(what, &vars, &loss, seed + 2);
}

#[test]
fn finite_differences_through_conv2d() {
    enable_second_order();
    let cases = [
        Conv2dConfig::default(),
        Conv2dConfig {
            padding_mode: huashi_conv::PaddingMode::Zeros,
            stride: [2, 1],
            dilation: [1, 2],
            padding: Padding::SameTensorFlow,
            groups: 2,
            bias: true,
        },
        Conv2dConfig {
            padding: Padding::SamePyTorch,
            bias: false,
            ..Conv2dConfig::default()
        },
    ];
    for (i, config) in cases.into_iter().enumerate() {
        let (layer, vm) = build(DType::F64, 1000 + i as u64, |vb| {
            Conv2d::new(4, 4, [3, 2], config, vb)
        });
        check_layer(
            &format!("conv2d {i}"),
            &layer,
            &vm,
            &[2, 4, 6, 5],
            1100 + i as u64 * 10,
        );
    }
}

#[test]
fn finite_differences_through_pointwise() {
    enable_second_order();
    let (layer, vm) = build(DType::F64, 1200, |vb| PointwiseConv2d::new(5, 3, true, vb));
    check_layer("pointwise", &layer, &vm, &[2, 5, 4, 3], 1210);
}

#[test]
fn finite_differences_through_depthwise() {
    enable_second_order();
    let config = Conv2dConfig {
        stride: [1, 2],
        padding: Padding::SameTensorFlow,
        ..Conv2dConfig::default()
    };
    let (layer, vm) = build(DType::F64, 1300, |vb| {
        DepthwiseConv2d::new(3, 2, [3, 3], config, vb)
    });
    check_layer("depthwise", &layer, &vm, &[2, 3, 5, 6], 1310);
}

#[test]
fn finite_differences_through_separable() {
    enable_second_order();
    let config = Conv2dConfig {
        dilation: [2, 1],
        padding: Padding::SamePyTorch,
        ..Conv2dConfig::default()
    };
    let (layer, vm) = build(DType::F64, 1400, |vb| {
        SeparableConv2d::new(3, 4, [3, 3], 2, config, vb)
    });
    check_layer("separable", &layer, &vm, &[2, 3, 6, 5], 1410);
}

#[test]
fn finite_differences_through_spatially_separable() {
    enable_second_order();
    let config = Conv2dConfig {
        stride: [2, 1],
        padding: Padding::Explicit {
            top: 1,
            bottom: 0,
            left: 2,
            right: 1,
        },
        ..Conv2dConfig::default()
    };
    let (layer, vm) = build(DType::F64, 1500, |vb| {
        SpatiallySeparableConv2d::new(3, 2, 4, 3, config, vb)
    });
    check_layer("spatially separable", &layer, &vm, &[2, 3, 7, 5], 1510);
}

#[test]
fn finite_differences_through_conv_transpose() {
    enable_second_order();
    for (i, (ci, co, k, config, [h, w])) in transpose_cases().into_iter().enumerate() {
        let (layer, vm) = build(DType::F64, 1600 + i as u64, |vb| {
            ConvTranspose2d::new(ci, co, k, config, vb)
        });
        check_layer(
            &format!("conv transpose {i}"),
            &layer,
            &vm,
            &[1, ci, h, w],
            1700 + i as u64 * 10,
        );
    }
}

#[test]
fn finite_differences_through_average_pooling_layers() {
    enable_second_order();
    let empty = VarMap::new();
    let avg = AvgPool2d {
        config: PoolConfig::new([3, 2])
            .with_stride([2, 1])
            .with_padding(Padding::symmetric(1, 1)),
        count_include_pad: false,
    };
    check_layer("avg pool (exclude pad)", &avg, &empty, &[2, 2, 6, 5], 1800);
    let avg_incl = AvgPool2d {
        count_include_pad: true,
        ..avg
    };
    check_layer(
        "avg pool (include pad)",
        &avg_incl,
        &empty,
        &[2, 2, 6, 5],
        1810,
    );
    check_layer(
        "global avg pool",
        &GlobalAvgPool,
        &empty,
        &[2, 3, 4, 5],
        1820,
    );
}

#[test]
fn finite_differences_through_max_pool_layer() {
    enable_second_order();
    // Distinct, well-separated values so that no arg-max moves under a
    // finite-difference step.
    let max = MaxPool2d {
        config: PoolConfig::new([3, 3])
            .with_stride([2, 2])
            .with_padding(Padding::SameTensorFlow),
    };
    let x = Var::from_tensor(&spread(&[2, 2, 7, 6], 1830)).unwrap();
    let y_shape = max.forward(x.as_tensor()).unwrap().dims().to_vec();
    let loss_fn = Loss::new(&y_shape, 1831);
    let vars = vec![("x".to_string(), x.clone())];
    let loss = || loss_fn.of(&max.forward(x.as_tensor()).unwrap());
    check_first_order("max pool", &vars, &loss);
    check_second_order("max pool", &vars, &loss, 1832);
}

/// A seeded permutation of `0.01·k`, so every value differs from every other
/// by at least 0.01.
fn spread(shape: &[usize], seed: u64) -> Tensor {
    let len: usize = shape.iter().product();
    let mut rng = Rng::new(seed);
    let mut v: Vec<f64> = (0..len)
        .map(|k| 0.01 * k as f64 - 0.005 * len as f64)
        .collect();
    for i in (1..len).rev() {
        let j = rng.below(i + 1);
        v.swap(i, j);
    }
    Tensor::from_vec(v, shape, &Device::Cpu).unwrap()
}

#[test]
fn layer_composition_second_order() {
    // A small network (conv → separable → transpose) differentiated twice
    // end to end: the gradient-of-gradient path MAML uses.
    enable_second_order();
    let (model, vm) = build(DType::F64, 1900, |vb| {
        let same = Conv2dConfig {
            padding: Padding::SamePyTorch,
            ..Conv2dConfig::default()
        };
        Ok((
            Conv2d::new(2, 3, [3, 3], same, vb.pp("a"))?,
            SeparableConv2d::new(3, 2, [3, 3], 1, same, vb.pp("b"))?,
            ConvTranspose2d::new(
                2,
                1,
                [2, 2],
                ConvTranspose2dConfig {
                    stride: [2, 2],
                    ..ConvTranspose2dConfig::default()
                },
                vb.pp("c"),
            )?,
        ))
    });
    struct Net(Conv2d, SeparableConv2d, ConvTranspose2d);
    impl Module for Net {
        fn forward(&self, x: &Tensor) -> candle_core::Result<Tensor> {
            self.2.forward(&self.1.forward(&self.0.forward(x)?)?)
        }
    }
    let net = Net(model.0, model.1, model.2);
    check_layer("network", &net, &vm, &[1, 2, 4, 4], 1910);
}
