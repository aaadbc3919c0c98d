//! Pooling tests: max, average and global average pooling against naive
//! loops (stride ≠ kernel, asymmetric TensorFlow 'SAME' padding,
//! `count_include_pad` both ways, dilated max pooling), golden numbers from
//! PyTorch and Keras semantics, NaN propagation, and gradients of first and
//! second order (max pooling routes to the arg-max; finite differences).

mod common;
use candle_core::{DType, Device, Module, Tensor, Var};
use huashi_conv::{
    avg_pool2d, ensure_second_order, global_avg_pool, max_pool2d, pool_output_size, AvgPool2d,
    GlobalAvgPool, MaxPool2d, Padding, PoolConfig,
};

// ---------------------------------------------------------------------------
// Seeded data and helpers
// ---------------------------------------------------------------------------

use common::TestRng as Rng;

/// A seeded permutation of evenly spaced values 0.01 apart: no ties, and no
/// arg-max moves under a finite-difference step.
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

use common::{dims4, flat as values};

/// Element-wise comparison in which NaN equals NaN.
fn assert_close(got: &[f64], want: &[f64], tol: f64, what: &str) {
    assert_eq!(got.len(), want.len(), "{what}: lengths");
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        if w.is_nan() {
            assert!(g.is_nan(), "{what}[{i}]: got {g}, want NaN");
        } else {
            assert!((g - w).abs() <= tol, "{what}[{i}]: got {g}, want {w}");
        }
    }
}

// ---------------------------------------------------------------------------
// Naive references
// ---------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq)]
enum Mode {
    Max,
    Avg { count_include_pad: bool },
}

/// TensorFlow 'SAME' along one axis, from its definition:
/// `o = ⌈i/s⌉`, total `max((o − 1)·s + k' − i, 0)`, extra at the end.
fn tf_same(i: usize, k: usize, s: usize, d: usize) -> [usize; 2] {
    let ext = d * (k - 1) + 1;
    let o = i.div_ceil(s);
    let total = ((o - 1) * s + ext).saturating_sub(i);
    [total / 2, total - total / 2]
}

struct Window {
    kernel: [usize; 2],
    stride: [usize; 2],
    dilation: [usize; 2],
    /// `[top, bottom, left, right]`
    padding: [usize; 4],
}

/// Pools from the definition. Max: over the real pixels of the window, NaN if
/// any is NaN. Average: the sum over real pixels divided by the full window
/// (`count_include_pad`) or by the number of real pixels. Also returns, for
/// max pooling, the flat in-plane index of the first maximum (or first NaN).
fn naive_pool(
    x: &[f64],
    [n, c, h, w]: [usize; 4],
    win: &Window,
    mode: Mode,
) -> (Vec<f64>, Vec<usize>, [usize; 4]) {
    let [kh, kw] = win.kernel;
    let [sh, sw] = win.stride;
    let [dh, dw] = win.dilation;
    let [pt, pb, pl, pr] = win.padding;
    let ho = (h + pt + pb - dh * (kh - 1) - 1) / sh + 1;
    let wo = (w + pl + pr - dw * (kw - 1) - 1) / sw + 1;
    let mut y = Vec::with_capacity(n * c * ho * wo);
    let mut arg = Vec::with_capacity(n * c * ho * wo);
    for plane in 0..n * c {
        let xp = &x[plane * h * w..(plane + 1) * h * w];
        for i in 0..ho {
            for j in 0..wo {
                let mut real = Vec::new();
                for u in 0..kh {
                    let iy = (i * sh + u * dh) as isize - pt as isize;
                    for v in 0..kw {
                        let ix = (j * sw + v * dw) as isize - pl as isize;
                        if iy >= 0 && iy < h as isize && ix >= 0 && ix < w as isize {
                            real.push(iy as usize * w + ix as usize);
                        }
                    }
                }
                match mode {
                    Mode::Max => {
                        let mut best = real[0];
                        for &at in &real {
                            if xp[best].is_nan() {
                                break;
                            }
                            if xp[at].is_nan() || xp[at] > xp[best] {
                                best = at;
                            }
                        }
                        y.push(xp[best]);
                        arg.push(best);
                    }
                    Mode::Avg { count_include_pad } => {
                        let sum: f64 = real.iter().map(|&at| xp[at]).sum();
                        let count = if count_include_pad {
                            kh * kw
                        } else {
                            real.len()
                        };
                        y.push(sum / count as f64);
                    }
                }
            }
        }
    }
    (y, arg, [n, c, ho, wo])
}

/// (input [h, w], kernel, stride, dilation, padding rule)
type PoolCase = ([usize; 2], [usize; 2], [usize; 2], [usize; 2], Padding);

/// A table of pooling geometries.
fn cases() -> Vec<PoolCase> {
    vec![
        // stride = kernel (PyTorch default)
        ([8, 6], [2, 2], [2, 2], [1, 1], Padding::Valid),
        // overlapping windows, stride < kernel
        ([7, 9], [3, 3], [2, 2], [1, 1], Padding::Valid),
        ([7, 9], [3, 3], [1, 2], [1, 1], Padding::symmetric(1, 1)),
        // gaps, stride > kernel
        ([10, 11], [2, 3], [3, 4], [1, 1], Padding::Valid),
        // non-square window, asymmetric explicit padding
        (
            [6, 7],
            [3, 2],
            [2, 1],
            [1, 1],
            Padding::Explicit {
                top: 1,
                bottom: 0,
                left: 0,
                right: 1,
            },
        ),
        // TF 'SAME', asymmetric: 5, k 2, s 2 → pad [0, 1]
        ([5, 5], [2, 2], [2, 2], [1, 1], Padding::SameTensorFlow),
        ([8, 7], [3, 3], [2, 2], [1, 1], Padding::SameTensorFlow),
        ([9, 6], [3, 2], [3, 2], [1, 1], Padding::SameTensorFlow),
        ([6, 5], [3, 3], [1, 1], [1, 1], Padding::SameTensorFlow),
        // PyTorch 'same' (stride 1), even window: extra pixel right/bottom
        ([6, 5], [2, 4], [1, 1], [1, 1], Padding::SamePyTorch),
    ]
}

fn resolve(
    padding: Padding,
    input: [usize; 2],
    k: [usize; 2],
    s: [usize; 2],
    d: [usize; 2],
) -> [usize; 4] {
    match padding {
        Padding::Valid => [0; 4],
        Padding::Explicit {
            top,
            bottom,
            left,
            right,
        } => [top, bottom, left, right],
        Padding::SameTensorFlow => {
            let [t, b] = tf_same(input[0], k[0], s[0], d[0]);
            let [l, r] = tf_same(input[1], k[1], s[1], d[1]);
            [t, b, l, r]
        }
        Padding::SamePyTorch => {
            let total = |a: usize| d[a] * (k[a] - 1);
            let (th, tw) = (total(0), total(1));
            [th / 2, th - th / 2, tw / 2, tw - tw / 2]
        }
    }
}

// ---------------------------------------------------------------------------
// Forward passes
// ---------------------------------------------------------------------------

#[test]
fn max_pool_matches_naive_loop() {
    for dtype in [DType::F64, DType::F32] {
        for (i, (input, k, s, d, padding)) in cases().into_iter().enumerate() {
            let config = PoolConfig::new(k)
                .with_stride(s)
                .with_dilation(d)
                .with_padding(padding);
            let x = Rng::new(i as u64)
                .tensor(&[2, 3, input[0], input[1]])
                .to_dtype(dtype)
                .unwrap();
            let y = max_pool2d(&x, &config).unwrap();
            let win = Window {
                kernel: k,
                stride: s,
                dilation: d,
                padding: resolve(padding, input, k, s, d),
            };
            let (want, _, wd) = naive_pool(&values(&x), dims4(&x), &win, Mode::Max);
            assert_eq!(y.dims(), wd.as_slice(), "case {i} {padding:?}");
            assert_eq!(y.dtype(), dtype);
            // Max pooling selects values: exact in both dtypes.
            assert_close(&values(&y), &want, 0.0, &format!("max case {i}"));
            let layer = MaxPool2d { config };
            assert_eq!(values(&layer.forward(&x).unwrap()), values(&y));
            assert_eq!(config.output_size(input).unwrap(), [wd[2], wd[3]]);
        }
    }
}

#[test]
fn dilated_max_pool_matches_naive_loop() {
    // (input, kernel, stride, dilation, padding)
    let cases = [
        ([9, 9], [3, 3], [1, 1], [2, 2], Padding::Valid),
        ([10, 11], [3, 2], [2, 1], [2, 3], Padding::symmetric(2, 1)),
        ([8, 9], [2, 2], [1, 2], [3, 2], Padding::SameTensorFlow),
        ([7, 8], [3, 3], [1, 1], [2, 1], Padding::SamePyTorch),
        ([12, 10], [3, 3], [3, 3], [2, 2], Padding::symmetric(2, 2)),
    ];
    for (i, (input, k, s, d, padding)) in cases.into_iter().enumerate() {
        let config = PoolConfig::new(k)
            .with_stride(s)
            .with_dilation(d)
            .with_padding(padding);
        let x = Rng::new(50 + i as u64).tensor(&[2, 2, input[0], input[1]]);
        let y = max_pool2d(&x, &config).unwrap();
        let win = Window {
            kernel: k,
            stride: s,
            dilation: d,
            padding: resolve(padding, input, k, s, d),
        };
        let (want, _, wd) = naive_pool(&values(&x), dims4(&x), &win, Mode::Max);
        assert_eq!(y.dims(), wd.as_slice(), "dilated case {i}");
        assert_close(&values(&y), &want, 0.0, &format!("dilated case {i}"));
    }
}

#[test]
fn avg_pool_matches_naive_loop_both_count_modes() {
    for dtype in [DType::F64, DType::F32] {
        let tol = if dtype == DType::F64 { 1e-14 } else { 1e-6 };
        for (i, (input, k, s, d, padding)) in cases().into_iter().enumerate() {
            for count_include_pad in [true, false] {
                let config = PoolConfig::new(k)
                    .with_stride(s)
                    .with_dilation(d)
                    .with_padding(padding);
                let x = Rng::new(100 + i as u64)
                    .tensor(&[2, 3, input[0], input[1]])
                    .to_dtype(dtype)
                    .unwrap();
                let y = avg_pool2d(&x, &config, count_include_pad).unwrap();
                let win = Window {
                    kernel: k,
                    stride: s,
                    dilation: d,
                    padding: resolve(padding, input, k, s, d),
                };
                let (want, _, wd) = naive_pool(
                    &values(&x),
                    dims4(&x),
                    &win,
                    Mode::Avg { count_include_pad },
                );
                assert_eq!(y.dims(), wd.as_slice(), "case {i}");
                assert_eq!(y.dtype(), dtype);
                assert_close(
                    &values(&y),
                    &want,
                    tol,
                    &format!("avg case {i} include_pad={count_include_pad} {dtype:?}"),
                );
                let layer = AvgPool2d {
                    config,
                    count_include_pad,
                };
                assert_eq!(values(&layer.forward(&x).unwrap()), values(&y));
            }
        }
    }
}

#[test]
fn count_include_pad_only_matters_where_windows_touch_padding() {
    // Without padding both modes agree; with padding they differ exactly on
    // the border windows.
    let x = Rng::new(7).tensor(&[1, 1, 6, 6]);
    let valid = PoolConfig::new([3, 3]).with_stride([1, 1]);
    let a = avg_pool2d(&x, &valid, true).unwrap();
    let b = avg_pool2d(&x, &valid, false).unwrap();
    assert_close(&values(&a), &values(&b), 1e-15, "valid");
    let padded = valid.with_padding(Padding::symmetric(1, 1));
    let a = values(&avg_pool2d(&x, &padded, true).unwrap());
    let b = values(&avg_pool2d(&x, &padded, false).unwrap());
    for i in 0..6 {
        for j in 0..6 {
            let border = i == 0 || i == 5 || j == 0 || j == 5;
            let k = i * 6 + j;
            if border {
                // include: sum/9; exclude: sum/count with count 4 or 6.
                let count = if (i == 0 || i == 5) && (j == 0 || j == 5) {
                    4.0
                } else {
                    6.0
                };
                assert!((a[k] * 9.0 - b[k] * count).abs() < 1e-14, "({i},{j})");
            } else {
                assert!((a[k] - b[k]).abs() < 1e-15, "({i},{j})");
            }
        }
    }
}

#[test]
fn golden_keras_same_pooling_on_arange() {
    // Keras: x = arange(25).reshape(1, 5, 5, 1);
    // AveragePooling2D(2, 2, padding='same')(x) and MaxPooling2D(2, 2, 'same').
    // TF 'SAME' pads one row/column at the bottom/right and averages over real
    // pixels only.
    let x = Tensor::arange(0f64, 25.0, &Device::Cpu)
        .unwrap()
        .reshape((1, 1, 5, 5))
        .unwrap();
    let config = PoolConfig::new([2, 2]).with_padding(Padding::SameTensorFlow);
    let avg = avg_pool2d(&x, &config, false).unwrap();
    assert_eq!(avg.dims(), &[1, 1, 3, 3]);
    assert_close(
        &values(&avg),
        &[3.0, 5.0, 6.5, 13.0, 15.0, 16.5, 20.5, 22.5, 24.0],
        1e-14,
        "keras avg",
    );
    let max = max_pool2d(&x, &config).unwrap();
    assert_close(
        &values(&max),
        &[6.0, 8.0, 9.0, 16.0, 18.0, 19.0, 21.0, 23.0, 24.0],
        0.0,
        "keras max",
    );
}

#[test]
fn golden_pytorch_padded_average() {
    // PyTorch: F.avg_pool2d(arange(16.).view(1, 1, 4, 4), 3, stride=2,
    // padding=1, count_include_pad=True) = [[10, 24], [51, 90]] / 9;
    // with count_include_pad=False = [[10/4, 24/6], [51/6, 90/9]].
    let x = Tensor::arange(0f64, 16.0, &Device::Cpu)
        .unwrap()
        .reshape((1, 1, 4, 4))
        .unwrap();
    let config = PoolConfig::new([3, 3])
        .with_stride([2, 2])
        .with_padding(Padding::symmetric(1, 1));
    let incl = avg_pool2d(&x, &config, true).unwrap();
    assert_close(
        &values(&incl),
        &[10.0 / 9.0, 24.0 / 9.0, 51.0 / 9.0, 10.0],
        1e-14,
        "torch include pad",
    );
    let excl = avg_pool2d(&x, &config, false).unwrap();
    assert_close(
        &values(&excl),
        &[2.5, 4.0, 8.5, 10.0],
        1e-14,
        "torch exclude pad",
    );
    // MaxPool2d(3, 2, 1) on the same input: [[5, 7], [13, 15]].
    let max = max_pool2d(&x, &config).unwrap();
    assert_close(&values(&max), &[5.0, 7.0, 13.0, 15.0], 0.0, "torch max");
}

#[test]
fn max_pool_padding_never_wins() {
    // PyTorch pads max pooling with −∞: an all-negative input must never give 0.
    let x = (Rng::new(9).tensor(&[1, 2, 5, 6]).abs().unwrap() + 1.0)
        .unwrap()
        .neg()
        .unwrap();
    for padding in [
        Padding::symmetric(1, 1),
        Padding::SameTensorFlow,
        Padding::SamePyTorch,
    ] {
        let config = PoolConfig::new([3, 3])
            .with_stride([1, 1])
            .with_padding(padding);
        let y = values(&max_pool2d(&x, &config).unwrap());
        assert!(y.iter().all(|v| *v <= -1.0), "{padding:?}: {y:?}");
    }
}

#[test]
fn resnet_stem_max_pool_shape() {
    // ResNet: MaxPool2d(kernel_size=3, stride=2, padding=1) maps 112 → 56.
    let config = PoolConfig::new([3, 3])
        .with_stride([2, 2])
        .with_padding(Padding::symmetric(1, 1));
    assert_eq!(config.output_size([112, 112]).unwrap(), [56, 56]);
    assert_eq!(
        pool_output_size([112, 112], [3, 3], [2, 2], [1, 1]).unwrap(),
        [56, 56]
    );
    // VGG: 2×2 stride 2 halves (floor): 7 → 3, 224 → 112.
    assert_eq!(
        pool_output_size([7, 224], [2, 2], [2, 2], [0, 0]).unwrap(),
        [3, 112]
    );
    // Default stride is the window.
    assert_eq!(PoolConfig::new([3, 2]).stride, [3, 2]);
}

#[test]
fn global_avg_pool_is_the_spatial_mean() {
    for dtype in [DType::F64, DType::F32] {
        let x = Rng::new(11).tensor(&[3, 4, 5, 7]).to_dtype(dtype).unwrap();
        let y = global_avg_pool(&x).unwrap();
        assert_eq!(y.dims(), &[3, 4, 1, 1]);
        assert_eq!(y.dtype(), dtype);
        let xv = values(&x);
        let want: Vec<f64> = (0..12)
            .map(|p| xv[p * 35..(p + 1) * 35].iter().sum::<f64>() / 35.0)
            .collect();
        let tol = if dtype == DType::F64 { 1e-15 } else { 1e-6 };
        assert_close(&values(&y), &want, tol, "global avg");
        assert_eq!(values(&GlobalAvgPool.forward(&x).unwrap()), values(&y));
        // Equal to an average pool whose window is the whole map.
        let whole = avg_pool2d(&x, &PoolConfig::new([5, 7]), true).unwrap();
        assert_close(&values(&whole), &want, tol, "whole-map avg pool");
    }
}

// ---------------------------------------------------------------------------
// NaN
// ---------------------------------------------------------------------------

#[test]
fn max_pool_propagates_nan() {
    // As PyTorch: a window containing NaN pools to NaN, wherever the NaN sits
    // in the window; other windows are unaffected.
    for dtype in [DType::F64, DType::F32] {
        let mut v = values(&spread(&[1, 1, 6, 6], 12));
        v[0] = f64::NAN; // first position of window (0, 0)
        v[3 * 6 + 5] = f64::NAN; // last position of window (1, 2)
        v[2 * 6 + 2] = f64::NAN; // middle of the overlapping windows
        let x = Tensor::from_vec(v, (1, 1, 6, 6), &Device::Cpu)
            .unwrap()
            .to_dtype(dtype)
            .unwrap();
        let v = values(&x); // the values as stored in `dtype`
        for (k, s) in [([2, 2], [2, 2]), ([3, 3], [1, 1]), ([2, 3], [3, 3])] {
            let config = PoolConfig::new(k).with_stride(s);
            let y = max_pool2d(&x, &config).unwrap();
            let win = Window {
                kernel: k,
                stride: s,
                dilation: [1, 1],
                padding: [0; 4],
            };
            let (want, _, _) = naive_pool(&v, [1, 1, 6, 6], &win, Mode::Max);
            assert!(want.iter().any(|w| w.is_nan()));
            assert!(want.iter().any(|w| !w.is_nan()));
            assert_close(
                &values(&y),
                &want,
                0.0,
                &format!("nan {k:?} {s:?} {dtype:?}"),
            );
        }
    }
}

#[test]
fn max_pool_nan_gradient_routes_to_the_nan() {
    let mut v: Vec<f64> = values(&spread(&[1, 1, 4, 4], 13));
    v[5] = f64::NAN; // (1, 1), inside window (0, 0) of a 2×2/2 pool
    let x = Var::from_tensor(&Tensor::from_vec(v, (1, 1, 4, 4), &Device::Cpu).unwrap()).unwrap();
    let y = max_pool2d(x.as_tensor(), &PoolConfig::new([2, 2])).unwrap();
    let grads = y.sum_all().unwrap().backward().unwrap();
    let g = values(grads.get(&x).unwrap());
    assert_eq!(g[5], 1.0);
    assert_eq!(g[0] + g[1] + g[4], 0.0);
    assert_eq!(g.iter().filter(|v| **v == 1.0).count(), 4);
}

// ---------------------------------------------------------------------------
// Gradients
// ---------------------------------------------------------------------------

#[test]
fn max_pool_gradient_routes_to_the_argmax() {
    // ∂/∂x Σ g ⊙ maxpool(x) adds each g to its window's arg-max (overlapping
    // windows accumulate), compared with the naive arg-max.
    for (i, (input, k, s, d, padding)) in cases().into_iter().enumerate() {
        let config = PoolConfig::new(k)
            .with_stride(s)
            .with_dilation(d)
            .with_padding(padding);
        let shape = [2, 2, input[0], input[1]];
        let x = Var::from_tensor(&spread(&shape, 200 + i as u64)).unwrap();
        let y = max_pool2d(x.as_tensor(), &config).unwrap();
        let g = Rng::new(300 + i as u64).tensor(y.dims());
        let grads = (&y * &g).unwrap().sum_all().unwrap().backward().unwrap();
        let dx = values(grads.get(&x).unwrap());
        let win = Window {
            kernel: k,
            stride: s,
            dilation: d,
            padding: resolve(padding, input, k, s, d),
        };
        let (_, arg, [_, _, ho, wo]) = naive_pool(&values(x.as_tensor()), shape, &win, Mode::Max);
        let mut want = vec![0.0; dx.len()];
        let gv = values(&g);
        let hw = input[0] * input[1];
        for (o, (&a, gval)) in arg.iter().zip(&gv).enumerate() {
            let plane = o / (ho * wo);
            want[plane * hw + a] += gval;
        }
        assert_close(&dx, &want, 1e-14, &format!("max grad case {i}"));
    }
}

#[test]
fn max_pool_gradient_on_ties_goes_to_the_first_maximum() {
    // A constant input: every window's arg-max is its first real pixel (the
    // PyTorch CPU rule). 3×3 windows, stride 2, padding 1 on 5×5.
    let x =
        Var::from_tensor(&Tensor::ones((1, 1, 5, 5), DType::F64, &Device::Cpu).unwrap()).unwrap();
    let config = PoolConfig::new([3, 3])
        .with_stride([2, 2])
        .with_padding(Padding::symmetric(1, 1));
    let y = max_pool2d(x.as_tensor(), &config).unwrap();
    assert_eq!(y.dims(), &[1, 1, 3, 3]);
    let grads = y.sum_all().unwrap().backward().unwrap();
    let dx = values(grads.get(&x).unwrap());
    // Window (i, j) starts at row max(2i − 1, 0), column max(2j − 1, 0).
    let mut want = vec![0.0; 25];
    for i in 0..3usize {
        for j in 0..3usize {
            let (r, c) = ((2 * i).saturating_sub(1), (2 * j).saturating_sub(1));
            want[r * 5 + c] += 1.0;
        }
    }
    assert_close(&dx, &want, 0.0, "ties");
}

fn enable_second_order() {
    std::env::set_var("CANDLE_GRAD_DO_NOT_DETACH", "1");
    ensure_second_order().expect("second-order gradients must be enabled in this thread");
}

fn scalar(t: &Tensor) -> f64 {
    t.to_scalar::<f64>().unwrap()
}

fn grad_of(loss: &Tensor, x: &Var) -> Tensor {
    loss.backward()
        .unwrap()
        .get(x)
        .cloned()
        .unwrap_or_else(|| x.zeros_like().unwrap())
}

/// First order: backward against central differences, element by element.
/// Second order: the Hessian-vector product `∂/∂x ⟨∇L(x), u⟩` from a
/// backward pass through the backward pass, against `(∇L(x + εu) − ∇L(x −
/// εu)) / 2ε`, for three seeded directions.
fn check_pool(what: &str, x: &Var, loss: &dyn Fn(&Tensor) -> Tensor, seed: u64) {
    let base = values(x.as_tensor());
    let set = |v: &[f64]| {
        x.set(&Tensor::from_vec(v.to_vec(), x.dims(), &Device::Cpu).unwrap())
            .unwrap()
    };
    // First order.
    let eps = 1e-6;
    let analytic = values(&grad_of(&loss(x.as_tensor()), x));
    for i in 0..base.len() {
        let mut v = base.clone();
        v[i] += eps;
        set(&v);
        let plus = scalar(&loss(x.as_tensor()));
        v[i] -= 2.0 * eps;
        set(&v);
        let minus = scalar(&loss(x.as_tensor()));
        let fd = (plus - minus) / (2.0 * eps);
        assert!(
            (analytic[i] - fd).abs() <= 1e-6 * (1.0 + fd.abs()),
            "{what}: dL/dx[{i}]: backward {}, finite difference {fd}",
            analytic[i]
        );
    }
    set(&base);
    assert!(
        analytic.iter().any(|g| g.abs() > 1e-6),
        "{what}: zero gradient"
    );
    // Second order.
    let eps = 1e-5;
    let mut rng = Rng::new(seed);
    for direction in 0..3 {
        let u = rng.tensor(x.dims());
        let g = grad_of(&loss(x.as_tensor()), x);
        let s = (&g * &u).unwrap().sum_all().unwrap();
        let hv = values(&grad_of(&s, x));
        let uv = values(&u);
        let moved = |sign: f64| -> Vec<f64> {
            base.iter()
                .zip(&uv)
                .map(|(b, u)| b + sign * eps * u)
                .collect()
        };
        set(&moved(1.0));
        let plus = values(&grad_of(&loss(x.as_tensor()), x));
        set(&moved(-1.0));
        let minus = values(&grad_of(&loss(x.as_tensor()), x));
        set(&base);
        let mut nonzero = false;
        for i in 0..base.len() {
            let fd = (plus[i] - minus[i]) / (2.0 * eps);
            nonzero |= fd.abs() > 1e-6;
            assert!(
                (hv[i] - fd).abs() <= 1e-6 * (1.0 + fd.abs()),
                "{what}: direction {direction}: (H u)[{i}]: double backward {}, finite difference {fd}",
                hv[i]
            );
        }
        assert!(nonzero, "{what}: zero Hessian-vector product");
    }
}

/// `L = Σ c ⊙ y² + Σ e ⊙ y` with seeded `c`, `e` of the output's shape.
fn quadratic_loss(shape: &[usize], seed: u64) -> impl Fn(&Tensor) -> Tensor {
    let mut rng = Rng::new(seed);
    let c = rng.tensor(shape);
    let e = rng.tensor(shape);
    move |y: &Tensor| {
        let q = (y.sqr().unwrap() * &c).unwrap().sum_all().unwrap();
        (q + (y * &e).unwrap().sum_all().unwrap()).unwrap()
    }
}

#[test]
fn avg_pool_finite_differences_first_and_second_order() {
    enable_second_order();
    for (i, (input, k, s, d, padding)) in cases().into_iter().enumerate() {
        for count_include_pad in [true, false] {
            let config = PoolConfig::new(k)
                .with_stride(s)
                .with_dilation(d)
                .with_padding(padding);
            let x = Var::from_tensor(&Rng::new(400 + i as u64).tensor(&[1, 2, input[0], input[1]]))
                .unwrap();
            let y_shape = avg_pool2d(x.as_tensor(), &config, count_include_pad)
                .unwrap()
                .dims()
                .to_vec();
            let l = quadratic_loss(&y_shape, 500 + i as u64);
            let loss = |x: &Tensor| l(&avg_pool2d(x, &config, count_include_pad).unwrap());
            check_pool(
                &format!("avg case {i} include_pad={count_include_pad}"),
                &x,
                &loss,
                600 + i as u64,
            );
        }
    }
}

#[test]
fn global_avg_pool_finite_differences_first_and_second_order() {
    enable_second_order();
    let x = Var::from_tensor(&Rng::new(700).tensor(&[2, 3, 4, 5])).unwrap();
    let l = quadratic_loss(&[2, 3, 1, 1], 701);
    let loss = |x: &Tensor| l(&global_avg_pool(x).unwrap());
    check_pool("global avg", &x, &loss, 702);
}

#[test]
fn max_pool_first_order_finite_differences() {
    for (i, (input, k, s, d, padding)) in cases().into_iter().enumerate() {
        let config = PoolConfig::new(k)
            .with_stride(s)
            .with_dilation(d)
            .with_padding(padding);
        let x = Var::from_tensor(&spread(&[1, 2, input[0], input[1]], 800 + i as u64)).unwrap();
        let y_shape = max_pool2d(x.as_tensor(), &config).unwrap().dims().to_vec();
        let l = quadratic_loss(&y_shape, 900 + i as u64);
        let base = values(x.as_tensor());
        let analytic = values(&grad_of(
            &l(&max_pool2d(x.as_tensor(), &config).unwrap()),
            &x,
        ));
        let eps = 1e-6;
        for j in 0..base.len() {
            let mut v = base.clone();
            let mut at = |delta: f64| {
                v[j] = base[j] + delta;
                x.set(&Tensor::from_vec(v.clone(), x.dims(), &Device::Cpu).unwrap())
                    .unwrap();
                scalar(&l(&max_pool2d(x.as_tensor(), &config).unwrap()))
            };
            let fd = (at(eps) - at(-eps)) / (2.0 * eps);
            assert!(
                (analytic[j] - fd).abs() <= 1e-6 * (1.0 + fd.abs()),
                "max case {i}: dL/dx[{j}]: backward {}, fd {fd}",
                analytic[j]
            );
        }
    }
}

#[test]
fn max_pool_second_order() {
    // L = Σ c ⊙ maxpool(x)² + Σ e ⊙ maxpool(x): the Hessian is diagonal,
    // 2·Σ c over the windows whose arg-max is that pixel.
    enable_second_order();
    for (i, (input, k, s, d, padding)) in cases().into_iter().enumerate() {
        let config = PoolConfig::new(k)
            .with_stride(s)
            .with_dilation(d)
            .with_padding(padding);
        let x = Var::from_tensor(&spread(&[1, 2, input[0], input[1]], 1000 + i as u64)).unwrap();
        let y_shape = max_pool2d(x.as_tensor(), &config).unwrap().dims().to_vec();
        let l = quadratic_loss(&y_shape, 1100 + i as u64);
        let loss = |x: &Tensor| l(&max_pool2d(x, &config).unwrap());
        check_pool(&format!("max case {i}"), &x, &loss, 1200 + i as u64);
    }
}

#[test]
fn max_pool_second_order_when_the_input_is_also_used_elsewhere() {
    // L = Σ c ⊙ maxpool(x)² + Σ x³/3: the pooled gradient is accumulated into a
    // gradient that already carries 2nd-order terms (x²); both must survive
    // the second backward pass. Hessian: diag(2·x + 2·Σ c at arg-max).
    enable_second_order();
    let config = PoolConfig::new([2, 2]).with_stride([1, 1]);
    let x = Var::from_tensor(&spread(&[1, 1, 4, 5], 1300)).unwrap();
    let y_shape = max_pool2d(x.as_tensor(), &config).unwrap().dims().to_vec();
    let l = quadratic_loss(&y_shape, 1301);
    let loss = |x: &Tensor| {
        let pooled = l(&max_pool2d(x, &config).unwrap());
        let cube = (x.sqr().unwrap() * x)
            .unwrap()
            .sum_all()
            .unwrap()
            .affine(1.0 / 3.0, 0.0)
            .unwrap();
        (pooled + cube).unwrap()
    };
    check_pool("max pool + x³", &x, &loss, 1302);
    let loss_rev = |x: &Tensor| {
        let cube = (x.sqr().unwrap() * x)
            .unwrap()
            .sum_all()
            .unwrap()
            .affine(1.0 / 3.0, 0.0)
            .unwrap();
        let pooled = l(&max_pool2d(x, &config).unwrap());
        (cube + pooled).unwrap()
    };
    check_pool("x³ + max pool", &x, &loss_rev, 1303);
}

#[test]
fn pooling_gradients_in_f32() {
    // The same ops differentiate in f32 (gradient dtype follows the input).
    let x = Var::from_tensor(&spread(&[1, 2, 6, 5], 1400).to_dtype(DType::F32).unwrap()).unwrap();
    let config = PoolConfig::new([3, 2])
        .with_stride([2, 1])
        .with_padding(Padding::SameTensorFlow);
    for (what, y) in [
        ("max", max_pool2d(x.as_tensor(), &config).unwrap()),
        ("avg", avg_pool2d(x.as_tensor(), &config, false).unwrap()),
        ("global", global_avg_pool(x.as_tensor()).unwrap()),
    ] {
        let grads = y.sum_all().unwrap().backward().unwrap();
        let g = grads.get(&x).unwrap();
        assert_eq!(g.dtype(), DType::F32, "{what}");
        assert_eq!(g.dims(), x.dims(), "{what}");
        // Σ ∂(Σ y)/∂x = number of outputs for max; 1 per output for the averages
        // with count_include_pad = false.
        let total: f64 = values(g).iter().sum();
        let outputs = y.elem_count() as f64;
        assert!(
            (total - outputs).abs() < 1e-4,
            "{what}: {total} vs {outputs}"
        );
    }
}

#[test]
fn dilated_max_pool_window_with_no_real_pixel_is_not_a_real_value() {
    // 2×2 window at dilation 4 (span 5) with padding 2 on a 2×2 map: every
    // window's taps (−2 and 2 on each axis) fall in the padding. PyTorch pads
    // with −∞ and returns −∞ there; returning a pixel outside the window is
    // wrong. A typed error would also be acceptable.
    let x = Tensor::from_vec(vec![1.0f64, 2.0, 3.0, 4.0], (1, 1, 2, 2), &Device::Cpu).unwrap();
    let config = PoolConfig::new([2, 2])
        .with_stride([1, 1])
        .with_dilation([4, 4])
        .with_padding(Padding::symmetric(2, 2));
    if let Ok(y) = max_pool2d(&x, &config) {
        let y = values(&y);
        assert!(
            y.iter().all(|v| *v == f64::NEG_INFINITY),
            "windows without a real pixel pooled to {y:?}"
        );
    }
}
