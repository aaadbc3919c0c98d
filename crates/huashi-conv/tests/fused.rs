//! The fused batch-norm/ReLU ops (`huashi_conv::fused`) against five-point
//! central finite differences (f64): first-order gradients of every operand,
//! and second order through a gradient probe `⟨∇_a f, v⟩`, at points at
//! least [`MARGIN`] away from every ReLU kink (so the functions are smooth
//! within the stencil). Also the fused block against the plain candle
//! formula it replaces.
//!
//! The stencil's truncation error is `O(h⁴)` (zero for the polynomials of
//! the affine ops), its rounding `~ eps·|f|/h ≈ 1e-12·|f|`; the tolerance
//! `1e-7·scale` absorbs both while an error in an op or its backward shows
//! up at order one. Second order needs `CANDLE_GRAD_DO_NOT_DETACH` set
//! before the thread's first backward: every test calls
//! [`enable_second_order`] first.

use candle_core::{Device, Tensor, Var};
use huashi_conv::fused::{affine, affine_relu, channel_dot_sum, channel_moments, masked_affine};
use std::rc::Rc;

type TestResult<T = ()> = Result<T, Box<dyn std::error::Error>>;

/// A scalar function of tensors built from differentiable ops.
type ScalarFn = Rc<dyn Fn(&[Tensor]) -> TestResult<Tensor>>;

const STEP: f64 = 1e-4;
const RELATIVE_TOLERANCE: f64 = 1e-7;
/// Smallest distance of a pre-activation from the ReLU kink at a test point.
const MARGIN: f64 = 0.05;

fn enable_second_order() {
    std::env::set_var("CANDLE_GRAD_DO_NOT_DETACH", "1");
}

/// Deterministic values in `[-1, 1)`.
fn random(len: usize, seed: u64) -> Vec<f64> {
    let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..len)
        .map(|_| {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            (state >> 11) as f64 / (1u64 << 52) as f64 - 1.0
        })
        .collect()
}

/// An argument: shape and values.
#[derive(Clone)]
struct Point {
    shape: Vec<usize>,
    values: Vec<f64>,
}

impl Point {
    fn random(shape: &[usize], seed: u64) -> Point {
        let len = shape.iter().product();
        Point {
            shape: shape.to_vec(),
            values: random(len, seed),
        }
    }

    fn tensor(&self) -> TestResult<Tensor> {
        Ok(Tensor::from_vec(
            self.values.clone(),
            self.shape.as_slice(),
            &Device::Cpu,
        )?)
    }
}

fn values(t: &Tensor) -> TestResult<Vec<f64>> {
    Ok(t.flatten_all()?.to_vec1::<f64>()?)
}

fn evaluate(f: &ScalarFn, points: &[Point]) -> TestResult<f64> {
    let tensors = points
        .iter()
        .map(Point::tensor)
        .collect::<TestResult<Vec<_>>>()?;
    Ok(f(&tensors)?.to_scalar::<f64>()?)
}

/// Five-point central differences of `f` in every element of argument `arg`.
fn finite_differences(f: &ScalarFn, points: &[Point], arg: usize) -> TestResult<Vec<f64>> {
    let at = |i: usize, steps: f64| -> TestResult<f64> {
        let mut moved = points.to_vec();
        moved[arg].values[i] += steps * STEP;
        evaluate(f, &moved)
    };
    (0..points[arg].values.len())
        .map(|i| {
            let near = at(i, 1.0)? - at(i, -1.0)?;
            let far = at(i, 2.0)? - at(i, -2.0)?;
            Ok((8.0 * near - far) / (12.0 * STEP))
        })
        .collect()
}

/// The gradients of `f` in every argument by candle autograd.
fn autograd(f: &ScalarFn, tensors: &[Tensor]) -> TestResult<Vec<Tensor>> {
    let vars = tensors
        .iter()
        .map(Var::from_tensor)
        .collect::<Result<Vec<_>, _>>()?;
    let inputs: Vec<Tensor> = vars.iter().map(|v| v.as_tensor().clone()).collect();
    let grads = f(&inputs)?.backward()?;
    vars.iter()
        .enumerate()
        .map(|(i, v)| {
            let g = grads
                .get(v.as_tensor())
                .ok_or(format!("no gradient for argument {i}"))?;
            Ok(g.clone())
        })
        .collect()
}

fn compare(what: &str, analytic: &[f64], numeric: &[f64]) -> TestResult {
    let max = |v: &[f64]| v.iter().fold(0f64, |m, x| m.max(x.abs()));
    let tolerance = RELATIVE_TOLERANCE * 1f64.max(max(analytic)).max(max(numeric));
    for (i, (&an, &nu)) in analytic.iter().zip(numeric).enumerate() {
        if (an - nu).abs() > tolerance || !an.is_finite() {
            return Err(
                format!("{what}: element {i}: autograd {an}, finite difference {nu}").into(),
            );
        }
    }
    Ok(())
}

/// Autograd against finite differences for every argument of `f`.
fn check(what: &str, f: &ScalarFn, points: &[Point]) -> TestResult {
    let tensors = points
        .iter()
        .map(Point::tensor)
        .collect::<TestResult<Vec<_>>>()?;
    for (arg, grad) in autograd(f, &tensors)?.iter().enumerate() {
        let numeric = finite_differences(f, points, arg)?;
        compare(&format!("{what}, argument {arg}"), &values(grad)?, &numeric)?;
    }
    Ok(())
}

/// `⟨∇_{arg} f, v⟩` as a scalar function (its gradient is second order).
fn probe(f: &ScalarFn, arg: usize, v: Point) -> ScalarFn {
    let f = f.clone();
    Rc::new(move |inputs: &[Tensor]| {
        let grad = autograd(&f, inputs)?.remove(arg);
        Ok((grad * v.tensor()?)?.sum_all()?)
    })
}

/// First order, then second order through a probe of every argument.
fn check_orders(what: &str, f: &ScalarFn, points: &[Point]) -> TestResult {
    enable_second_order();
    check(what, f, points)?;
    for (arg, p) in points.iter().enumerate() {
        let v = Point::random(&p.shape, 77 + arg as u64);
        check(
            &format!("{what}, probe of {arg}"),
            &probe(f, arg, v),
            points,
        )?;
    }
    Ok(())
}

/// A non-linear scalar loss of an output: `Σ w⊙y + ¼ Σ y²`.
fn loss(y: &Tensor, seed: u64) -> TestResult<Tensor> {
    let w = Point::random(y.dims(), seed).tensor()?;
    Ok(((y * w)?.sum_all()? + (y.sqr()?.sum_all()? * 0.25)?)?)
}

/// `(x, scale, shift)` with every `|x·scale + shift| ≥ 2·MARGIN`.
fn affine_point(dims: [usize; 3]) -> [Point; 3] {
    let [b, c, l] = dims;
    let scale: Vec<f64> = random(c, 1)
        .iter()
        .map(|s| s.signum() * (0.5 + s.abs()))
        .collect();
    let shift = random(c, 2);
    let pre = random(b * c * l, 3);
    let x = (0..b * c * l)
        .map(|i| {
            let ch = (i / l) % c;
            let p = pre[i].signum() * (2.0 * MARGIN + pre[i].abs());
            (p - shift[ch]) / scale[ch]
        })
        .collect();
    [
        Point {
            shape: dims.to_vec(),
            values: x,
        },
        Point {
            shape: vec![c],
            values: scale,
        },
        Point {
            shape: vec![c],
            values: shift,
        },
    ]
}

#[test]
fn affine_relu_gradients_of_first_and_second_order() -> TestResult {
    let f: ScalarFn = Rc::new(|t| loss(&affine_relu(&t[0], &t[1], &t[2])?, 5));
    check_orders("affine_relu", &f, &affine_point([2, 3, 4]))
}

#[test]
fn affine_gradients_of_first_and_second_order() -> TestResult {
    let f: ScalarFn = Rc::new(|t| loss(&affine(&t[0], &t[1], &t[2])?, 6));
    check_orders("affine", &f, &affine_point([3, 2, 3]))
}

#[test]
fn masked_affine_gradients_of_first_and_second_order() -> TestResult {
    let mask = Point::random(&[2, 3, 4], 9);
    let f: ScalarFn = Rc::new(move |t| {
        let y = masked_affine(&t[0], &mask.tensor()?, &t[1], &t[2])?;
        loss(&y, 7)
    });
    check_orders("masked_affine", &f, &affine_point([2, 3, 4]))
}

#[test]
fn channel_dot_sum_gradients_with_and_without_mask() -> TestResult {
    for masked in [false, true] {
        let mask = Point::random(&[2, 3, 5], 10);
        let f: ScalarFn = Rc::new(move |t| {
            let m = mask.tensor()?;
            let (dot, sum) = channel_dot_sum(&t[0], &t[1], masked.then_some(&m))?;
            Ok((loss(&dot, 11)? + loss(&sum, 12)?)?)
        });
        let points = [Point::random(&[2, 3, 5], 13), Point::random(&[2, 3, 5], 14)];
        check_orders(&format!("channel_dot_sum (mask {masked})"), &f, &points)?;
    }
    Ok(())
}

#[test]
fn channel_moments_gradients_of_first_and_second_order() -> TestResult {
    let f: ScalarFn = Rc::new(|t| {
        let (mean, var) = channel_moments(&t[0])?;
        Ok((loss(&mean, 15)? + loss(&var.sqrt()?, 16)?)?)
    });
    check_orders("channel_moments", &f, &[Point::random(&[3, 2, 5], 17)])
}

/// The batch-norm + ReLU block as the network runs it (fused).
fn block_fused(x: &Tensor, gamma: &Tensor, beta: &Tensor) -> TestResult<Tensor> {
    let (mean, var) = channel_moments(x)?;
    let scale = gamma.div(&(var + 1e-5)?.sqrt()?)?;
    let shift = beta.sub(&mean.mul(&scale)?)?;
    Ok(affine_relu(x, &scale, &shift)?)
}

/// The formula the fused block replaced, in plain candle ops.
fn block_plain(x: &Tensor, gamma: &Tensor, beta: &Tensor) -> TestResult<Tensor> {
    let c = x.dim(1)?;
    let mean = x.mean_keepdim(2)?.mean_keepdim(0)?;
    let centred = x.broadcast_sub(&mean)?;
    let var = centred.sqr()?.mean_keepdim(2)?.mean_keepdim(0)?;
    let scale = gamma
        .reshape((1, c, 1))?
        .broadcast_div(&(var + 1e-5)?.sqrt()?)?;
    let out = centred
        .broadcast_mul(&scale)?
        .broadcast_add(&beta.reshape((1, c, 1))?)?;
    Ok(out.relu()?)
}

/// A block input whose normalised pre-activations keep `MARGIN` from 0.
fn block_point() -> TestResult<[Point; 3]> {
    let points = [
        Point::random(&[3, 4, 5], 21),
        Point::random(&[4], 22),
        Point::random(&[4], 23),
    ];
    let t = points
        .iter()
        .map(Point::tensor)
        .collect::<TestResult<Vec<_>>>()?;
    let (mean, var) = channel_moments(&t[0])?;
    let scale = t[1].div(&(var + 1e-5)?.sqrt()?)?;
    let shift = t[2].sub(&mean.mul(&scale)?)?;
    let pre = values(&affine(&t[0], &scale, &shift)?)?;
    let closest = pre.iter().fold(f64::INFINITY, |m, p| m.min(p.abs()));
    assert!(closest > MARGIN, "test point too near a kink: {closest}");
    Ok(points)
}

#[test]
fn block_gradients_of_first_and_second_order() -> TestResult {
    let f: ScalarFn = Rc::new(|t| loss(&block_fused(&t[0], &t[1], &t[2])?, 24));
    check_orders("batch-norm block", &f, &block_point()?)
}

#[test]
fn fused_block_equals_the_plain_formula_with_its_derivatives() -> TestResult {
    enable_second_order();
    let points = block_point()?;
    let t = points
        .iter()
        .map(Point::tensor)
        .collect::<TestResult<Vec<_>>>()?;
    let fused = values(&block_fused(&t[0], &t[1], &t[2])?)?;
    let plain = values(&block_plain(&t[0], &t[1], &t[2])?)?;
    compare_close("values", &fused, &plain)?;
    let f: ScalarFn = Rc::new(|t| loss(&block_fused(&t[0], &t[1], &t[2])?, 25));
    let g: ScalarFn = Rc::new(|t| loss(&block_plain(&t[0], &t[1], &t[2])?, 25));
    for (arg, point) in points.iter().enumerate() {
        let v = Point::random(&point.shape, 30 + arg as u64);
        for (i, (a, b)) in autograd(&probe(&f, arg, v.clone()), &t)?
            .iter()
            .zip(autograd(&probe(&g, arg, v), &t)?)
            .enumerate()
        {
            compare_close(
                &format!("second order {arg}, {i}"),
                &values(a)?,
                &values(&b)?,
            )?;
        }
    }
    Ok(())
}

fn compare_close(what: &str, a: &[f64], b: &[f64]) -> TestResult {
    for (i, (x, y)) in a.iter().zip(b).enumerate() {
        if (x - y).abs() > 1e-12 * 1f64.max(x.abs()) {
            return Err(format!("{what}: element {i}: fused {x}, plain {y}").into());
        }
    }
    Ok(())
}
