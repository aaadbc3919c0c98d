//! `pad2d` and its adjoint: PyTorch's `F.pad` values, a naive reference,
//! the adjoint identity, finite-difference gradients of first and second
//! order (f64), typed errors, and convolutions with `padding_mode`.
//!
//! Second order needs `CANDLE_GRAD_DO_NOT_DETACH` set before the thread's
//! first backward: every gradient test calls `enable_second_order` first.

mod common;

use candle_core::{DType, Device, Tensor, Var};
use common::{TestResult, TestRng};
use huashi_conv::pad::{pad2d, pad2d_adjoint, PaddingMode};
use huashi_conv::{Axis, Conv2dConfig, ConvStage, Error, Padding};

const MODES: [PaddingMode; 4] = [
    PaddingMode::Zeros,
    PaddingMode::Reflect,
    PaddingMode::Replicate,
    PaddingMode::Circular,
];

fn enable_second_order() {
    std::env::set_var("CANDLE_GRAD_DO_NOT_DETACH", "1");
}

fn vec4(t: &Tensor) -> TestResult<Vec<f64>> {
    Ok(t.to_dtype(DType::F64)?.flatten_all()?.to_vec1::<f64>()?)
}

/// `arange(12).reshape(1, 1, 3, 4)` padded `(left 2, right 1, top 1, bottom 2)`.
/// Expected values printed by PyTorch 2.15 on this machine:
/// `F.pad(torch.arange(12.).reshape(1,1,3,4), (2,1,1,2), mode=m)`.
#[test]
fn matches_pytorch_f_pad() -> TestResult {
    let x = Tensor::arange(0f64, 12.0, &Device::Cpu)?.reshape((1, 1, 3, 4))?;
    let cases: [(PaddingMode, [[i32; 7]; 6]); 3] = [
        (
            PaddingMode::Reflect,
            [
                [6, 5, 4, 5, 6, 7, 6],
                [2, 1, 0, 1, 2, 3, 2],
                [6, 5, 4, 5, 6, 7, 6],
                [10, 9, 8, 9, 10, 11, 10],
                [6, 5, 4, 5, 6, 7, 6],
                [2, 1, 0, 1, 2, 3, 2],
            ],
        ),
        (
            PaddingMode::Replicate,
            [
                [0, 0, 0, 1, 2, 3, 3],
                [0, 0, 0, 1, 2, 3, 3],
                [4, 4, 4, 5, 6, 7, 7],
                [8, 8, 8, 9, 10, 11, 11],
                [8, 8, 8, 9, 10, 11, 11],
                [8, 8, 8, 9, 10, 11, 11],
            ],
        ),
        (
            PaddingMode::Circular,
            [
                [10, 11, 8, 9, 10, 11, 8],
                [2, 3, 0, 1, 2, 3, 0],
                [6, 7, 4, 5, 6, 7, 4],
                [10, 11, 8, 9, 10, 11, 8],
                [2, 3, 0, 1, 2, 3, 0],
                [6, 7, 4, 5, 6, 7, 4],
            ],
        ),
    ];
    for (mode, expected) in cases {
        let y = pad2d(&x, [1, 2, 2, 1], mode)?;
        assert_eq!(y.dims(), &[1, 1, 6, 7]);
        let want: Vec<f64> = expected.iter().flatten().map(|&v| f64::from(v)).collect();
        assert_eq!(vec4(&y)?, want, "{mode:?}");
    }
    // Zeros: the interior is x, the border 0 (row 0 is all border).
    let y = vec4(&pad2d(&x, [1, 2, 2, 1], PaddingMode::Zeros)?)?;
    assert_eq!(&y[..7], &[0.0; 7]);
    assert_eq!(&y[7..14], &[0.0, 0.0, 0.0, 1.0, 2.0, 3.0, 0.0]);
    Ok(())
}

/// The naive reference: the source index by repeated reflection / wrapping,
/// written independently of the op's closed forms.
fn naive_source(mode: PaddingMode, mut i: i64, n: i64) -> Option<i64> {
    match mode {
        PaddingMode::Zeros => (0..n).contains(&i).then_some(i),
        PaddingMode::Replicate => Some(i.max(0).min(n - 1)),
        PaddingMode::Circular => {
            while i < 0 {
                i += n;
            }
            Some(i % n)
        }
        PaddingMode::Reflect => {
            while !(0..n).contains(&i) {
                i = if i < 0 { -i } else { 2 * (n - 1) - i };
            }
            Some(i)
        }
    }
}

fn naive_pad(x: &[f64], shape: [usize; 4], p: [usize; 4], mode: PaddingMode) -> Vec<f64> {
    let [n, c, h, w] = shape;
    let (ph, pw) = (h + p[0] + p[1], w + p[2] + p[3]);
    let mut out = Vec::with_capacity(n * c * ph * pw);
    for plane in 0..n * c {
        for o1 in 0..ph {
            for o2 in 0..pw {
                let r = naive_source(mode, o1 as i64 - p[0] as i64, h as i64);
                let s = naive_source(mode, o2 as i64 - p[2] as i64, w as i64);
                out.push(match (r, s) {
                    (Some(r), Some(s)) => x[plane * h * w + r as usize * w + s as usize],
                    _ => 0.0,
                });
            }
        }
    }
    out
}

fn random(rng: &mut TestRng, shape: [usize; 4]) -> TestResult<(Vec<f64>, Tensor)> {
    let v = rng.for_shape(shape);
    let t = Tensor::from_vec(v.clone(), &shape, &Device::Cpu)?;
    Ok((v, t))
}

/// Shapes and paddings, including asymmetric, the largest allowed (reflect
/// `size − 1`, circular `size`) and a one-row axis.
const CASES: [([usize; 4], [usize; 4]); 5] = [
    ([2, 3, 5, 4], [1, 2, 0, 3]),
    ([1, 2, 4, 6], [3, 3, 5, 5]),
    ([1, 1, 1, 5], [0, 0, 4, 2]),
    ([3, 1, 6, 6], [2, 0, 1, 1]),
    ([1, 2, 2, 3], [1, 1, 2, 2]),
];

fn allowed(mode: PaddingMode, shape: [usize; 4], p: [usize; 4]) -> bool {
    mode.check(Axis::Height, shape[2], p[0], p[1]).is_ok()
        && mode.check(Axis::Width, shape[3], p[2], p[3]).is_ok()
}

#[test]
fn matches_naive_loops_and_adjoint_identity() -> TestResult {
    let mut rng = TestRng::new(7);
    for (shape, p) in CASES {
        for mode in MODES.into_iter().filter(|&m| allowed(m, shape, p)) {
            let (xv, x) = random(&mut rng, shape)?;
            let y = pad2d(&x, p, mode)?;
            assert_eq!(
                vec4(&y)?,
                naive_pad(&xv, shape, p, mode),
                "{mode:?} {shape:?}"
            );
            // ⟨P x, g⟩ = ⟨x, Pᵀ g⟩.
            let g = Tensor::randn(0f64, 1.0, y.dims(), &Device::Cpu)?;
            let adj = pad2d_adjoint(&g, p, mode, [shape[2], shape[3]])?;
            assert_eq!(adj.dims(), x.dims());
            let lhs = (&y * &g)?.sum_all()?.to_scalar::<f64>()?;
            let rhs = (&x * &adj)?.sum_all()?.to_scalar::<f64>()?;
            assert!((lhs - rhs).abs() < 1e-10 * lhs.abs().max(1.0), "{mode:?}");
            // f32 gives the same values.
            let y32 = pad2d(&x.to_dtype(DType::F32)?, p, mode)?;
            let diff = (vec4(&y32)?.iter().zip(vec4(&y)?))
                .map(|(a, b)| (a - b).abs())
                .fold(0.0, f64::max);
            assert!(diff < 1e-6);
        }
    }
    Ok(())
}

/// `f(x) = Σ c ⊙ P(x)³`, differentiable through candle.
fn cubic(x: &Tensor, c: &Tensor, p: [usize; 4], mode: PaddingMode) -> TestResult<Tensor> {
    let y = pad2d(x, p, mode)?;
    Ok((y.powf(3.0)? * c)?.sum_all()?)
}

/// Central differences of a scalar function at every coordinate of `x`
/// (the functions here are cubic per coordinate; the five-point stencil is
/// exact for them up to rounding).
fn finite_diff(
    xv: &[f64],
    shape: [usize; 4],
    f: &dyn Fn(&Tensor) -> TestResult<f64>,
) -> TestResult<Vec<f64>> {
    let h = 1e-3;
    let mut out = Vec::with_capacity(xv.len());
    for i in 0..xv.len() {
        let at = |d: f64| -> TestResult<f64> {
            let mut v = xv.to_vec();
            v[i] += d;
            f(&Tensor::from_vec(v, &shape, &Device::Cpu)?)
        };
        out.push((at(-2.0 * h)? - 8.0 * at(-h)? + 8.0 * at(h)? - at(2.0 * h)?) / (12.0 * h));
    }
    Ok(out)
}

fn assert_close(what: &str, got: &[f64], want: &[f64]) {
    let scale = want.iter().fold(1.0f64, |m, v| m.max(v.abs()));
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        assert!((g - w).abs() < 1e-7 * scale, "{what}[{i}]: {g} vs {w}");
    }
}

#[test]
fn gradients_of_first_and_second_order_match_finite_differences() -> TestResult {
    enable_second_order();
    let mut rng = TestRng::new(11);
    for (shape, p) in [CASES[0], CASES[1], CASES[4]] {
        for mode in MODES.into_iter().filter(|&m| allowed(m, shape, p)) {
            let (xv, x) = random(&mut rng, shape)?;
            let y_dims = pad2d(&x, p, mode)?.dims().to_vec();
            let c = Tensor::randn(0f64, 1.0, y_dims, &Device::Cpu)?;
            let r = Tensor::randn(0f64, 1.0, &shape, &Device::Cpu)?;
            // First order: ∂f/∂x by autograd = Pᵀ(3c ⊙ P(x)²).
            let grad = |x: &Tensor| -> TestResult<Tensor> {
                let v = Var::from_tensor(x)?;
                let g = cubic(v.as_tensor(), &c, p, mode)?.backward()?;
                Ok(g.get(&v).ok_or("no gradient")?.clone())
            };
            let f = |x: &Tensor| -> TestResult<f64> { Ok(cubic(x, &c, p, mode)?.to_scalar()?) };
            assert_close("first", &vec4(&grad(&x)?)?, &finite_diff(&xv, shape, &f)?);
            // Second order: h(x) = Σ r ⊙ ∂f/∂x, differentiated through the
            // adjoint's backward (the pad again).
            let probe =
                |x: &Tensor| -> TestResult<f64> { Ok((grad(x)? * &r)?.sum_all()?.to_scalar()?) };
            let v = Var::from_tensor(&x)?;
            let g = cubic(v.as_tensor(), &c, p, mode)?.backward()?;
            let g = g.get(&v).ok_or("no gradient")?;
            let hess = (g * &r)?.sum_all()?.backward()?;
            let hess = vec4(hess.get(&v).ok_or("no second gradient")?)?;
            assert_close("second", &hess, &finite_diff(&xv, shape, &probe)?);
        }
    }
    Ok(())
}

#[test]
fn hostile_arguments_are_typed_errors() -> TestResult {
    let x = Tensor::zeros((1, 1, 3, 4), DType::F32, &Device::Cpu)?;
    // PyTorch: "Padding size should be less than the corresponding input dimension".
    let err = pad2d(&x, [3, 0, 0, 0], PaddingMode::Reflect).unwrap_err();
    assert!(matches!(
        err,
        Error::PadTooLarge {
            mode: "reflect",
            axis: Axis::Height,
            padding: 3,
            input: 3
        }
    ));
    assert!(pad2d(&x, [2, 2, 3, 3], PaddingMode::Reflect).is_ok());
    // PyTorch: "Padding value causes wrapping around more than once."
    let err = pad2d(&x, [0, 0, 0, 5], PaddingMode::Circular).unwrap_err();
    assert!(matches!(
        err,
        Error::PadTooLarge {
            axis: Axis::Width,
            padding: 5,
            input: 4,
            ..
        }
    ));
    assert!(pad2d(&x, [3, 3, 4, 4], PaddingMode::Circular).is_ok());
    let empty = Tensor::zeros((1, 1, 0, 4), DType::F32, &Device::Cpu)?;
    let err = pad2d(&empty, [1, 0, 0, 0], PaddingMode::Replicate).unwrap_err();
    assert!(matches!(
        err,
        Error::PadTooLarge {
            mode: "replicate",
            ..
        }
    ));
    assert_eq!(
        pad2d(&empty, [1, 0, 0, 0], PaddingMode::Zeros)?.dims(),
        &[1, 1, 1, 4]
    );
    let err = pad2d(&x.flatten_all()?, [1; 4], PaddingMode::Zeros).unwrap_err();
    assert!(matches!(err, Error::WrongRank { .. }));
    let ints = Tensor::zeros((1, 1, 3, 4), DType::U32, &Device::Cpu)?;
    assert!(matches!(
        pad2d(&ints, [1; 4], PaddingMode::Zeros),
        Err(Error::DType { .. })
    ));
    let err = pad2d(&x, [usize::MAX, 0, 0, 0], PaddingMode::Zeros).unwrap_err();
    assert!(matches!(err, Error::SizeOverflow { .. }));
    let err = pad2d_adjoint(&x, [1; 4], PaddingMode::Zeros, [3, 4]).unwrap_err();
    assert!(matches!(err, Error::ShapeMismatch { .. }));
    Ok(())
}

/// A 3×3 convolution with `padding_mode` equals, by definition (PyTorch's
/// `Conv2d._conv_forward`), the unpadded convolution of the padded input,
/// here checked against the naive loops of `huashi_conv::reference` on the
/// naively padded input; a reflect pad of the whole height is a typed error.
#[test]
fn convolution_with_padding_mode() -> TestResult {
    use huashi_conv::reference::{naive_conv2d, ConvProblem};
    let mut rng = TestRng::new(5);
    let shape = [2, 4, 5, 6];
    let (xv, x) = random(&mut rng, shape)?;
    let (wv, w) = random(&mut rng, [6, 2, 3, 3])?;
    for mode in MODES {
        let config = Conv2dConfig {
            padding: Padding::Explicit {
                top: 2,
                bottom: 1,
                left: 1,
                right: 2,
            },
            groups: 2,
            bias: false,
            padding_mode: mode,
            ..Default::default()
        };
        let stage = ConvStage::new(4, 6, [3, 3], config)?;
        let y = stage.forward(&x, &w, None)?;
        let padded = naive_pad(&xv, shape, [2, 1, 1, 2], mode);
        let problem = ConvProblem {
            batch: 2,
            in_channels: 4,
            out_channels: 6,
            input: [8, 9],
            kernel: [3, 3],
            output: [6, 7],
            geometry: huashi_conv::ConvGeometry::new().with_groups(2),
        };
        let want = naive_conv2d(&problem, &padded, &wv);
        assert_close(mode.name(), &vec4(&y)?, &want.values);
    }
    let config = Conv2dConfig {
        padding: Padding::symmetric(5, 1),
        padding_mode: PaddingMode::Reflect,
        ..Default::default()
    };
    let stage = ConvStage::new(4, 6, [3, 3], config)?;
    assert!(matches!(
        stage.cost([1, 4, 5, 6]),
        Err(Error::PadTooLarge { .. })
    ));
    Ok(())
}

/// Gradients of a convolution with reflect / circular padding in its input
/// and weight, first and second order, against finite differences: the
/// pad's adjoint composes with the convolution ops' own backward passes.
#[test]
fn convolution_with_padding_mode_has_exact_gradients() -> TestResult {
    enable_second_order();
    let mut rng = TestRng::new(13);
    let shape = [1, 2, 4, 5];
    let (xv, x) = random(&mut rng, shape)?;
    let (_, w) = random(&mut rng, [3, 2, 3, 3])?;
    for mode in [PaddingMode::Reflect, PaddingMode::Circular] {
        let config = Conv2dConfig {
            padding: Padding::Explicit {
                top: 1,
                bottom: 2,
                left: 2,
                right: 1,
            },
            bias: false,
            padding_mode: mode,
            ..Default::default()
        };
        let stage = ConvStage::new(2, 3, [3, 3], config)?;
        let c = Tensor::randn(0f64, 1.0, stage.forward(&x, &w, None)?.dims(), &Device::Cpu)?;
        let r = Tensor::randn(0f64, 1.0, &shape, &Device::Cpu)?;
        let loss = |x: &Tensor| -> TestResult<Tensor> {
            Ok((stage.forward(x, &w, None)?.powf(3.0)? * &c)?.sum_all()?)
        };
        let grad = |x: &Tensor| -> TestResult<Tensor> {
            let v = Var::from_tensor(x)?;
            let g = loss(v.as_tensor())?.backward()?;
            Ok(g.get(&v).ok_or("no gradient")?.clone())
        };
        let f = |x: &Tensor| -> TestResult<f64> { Ok(loss(x)?.to_scalar()?) };
        assert_close(
            "conv first",
            &vec4(&grad(&x)?)?,
            &finite_diff(&xv, shape, &f)?,
        );
        let probe =
            |x: &Tensor| -> TestResult<f64> { Ok((grad(x)? * &r)?.sum_all()?.to_scalar()?) };
        let v = Var::from_tensor(&x)?;
        let g = loss(v.as_tensor())?.backward()?;
        let g = g.get(&v).ok_or("no gradient")?;
        let hess = (g * &r)?.sum_all()?.backward()?;
        let hess = vec4(hess.get(&v).ok_or("no second gradient")?)?;
        assert_close("conv second", &hess, &finite_diff(&xv, shape, &probe)?);
    }
    Ok(())
}
