//! Gradient tests: candle autograd through the convolution ops against
//! five-point central finite differences (f64), for first, second and third
//! derivatives.
//!
//! Each check takes a scalar function `f(a, b)` built from the ops, computes
//! `∂f/∂a` and `∂f/∂b` with `backward()`, and compares every element with
//! `(f(· − 2h) − 8f(· − h) + 8f(· + h) − f(· + 2h)) / 12h`. Higher orders are built by
//! [`gradient_probe`]: `f'(a, b) = Σ r ⊙ ∂f/∂a` is again a scalar function.
//!
//! The ops are bilinear, so every function here is a polynomial of degree
//! at most 4 in any single coordinate (the square losses are quadratic per
//! coordinate; the MAML meta-loss is quartic in the training input). The
//! five-point stencil is exact for such polynomials, leaving only rounding,
//! `~ eps·|f|/h ≈ 1e-13·|f|`; the tolerance `1e-7·scale` absorbs rounding
//! alone, while any error in an op or its backward shows up at order one.
//!
//! Second order needs `CANDLE_GRAD_DO_NOT_DETACH` set before the thread's
//! first backward: every test calls [`enable_second_order`] first.

mod common;

use std::rc::Rc;

use candle_core::{DType, Tensor, Var};
use common::{max_abs, scalar, tensor, values, ConvProblem, TestResult, TestRng};
use huashi_conv::{
    conv2d, conv_input_grad, conv_transpose2d, conv_weight_grad, second_order_enabled, ConvGeometry,
};

/// Finite-difference step (the stencil is exact for the polynomials used here).
const STEP: f64 = 1e-3;
/// Relative tolerance of autograd vs finite differences.
const RELATIVE_TOLERANCE: f64 = 1e-7;

/// A scalar function of two tensors built with candle ops (so it is differentiable).
type ScalarFn = Rc<dyn Fn(&Tensor, &Tensor) -> TestResult<Tensor>>;

/// Which argument of a [`ScalarFn`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Arg {
    A,
    B,
}

/// Sets `CANDLE_GRAD_DO_NOT_DETACH` (before this thread's first backward).
fn enable_second_order() {
    std::env::set_var("CANDLE_GRAD_DO_NOT_DETACH", "1");
}

/// A tensor argument: its shape and values.
#[derive(Debug, Clone)]
struct Point {
    shape: [usize; 4],
    values: Vec<f64>,
}

impl Point {
    fn random(rng: &mut TestRng, shape: [usize; 4]) -> Self {
        Point {
            shape,
            values: rng.for_shape(shape),
        }
    }

    /// A fresh variable holding these values (with `delta` added at `index`).
    fn variable(&self, perturb: Option<(usize, f64)>) -> TestResult<Var> {
        let mut values = self.values.clone();
        if let Some((index, delta)) = perturb {
            values[index] += delta;
        }
        Ok(Var::from_tensor(&tensor(&values, self.shape, DType::F64)?)?)
    }
}

/// `f(a, b)` with optional perturbation of one element of one argument.
fn evaluate(
    f: &ScalarFn,
    a: &Point,
    b: &Point,
    perturb: Option<(Arg, usize, f64)>,
) -> TestResult<f64> {
    let pick = |arg: Arg| perturb.filter(|p| p.0 == arg).map(|p| (p.1, p.2));
    let (va, vb) = (a.variable(pick(Arg::A))?, b.variable(pick(Arg::B))?);
    scalar(&f(va.as_tensor(), vb.as_tensor())?)
}

/// Five-point central differences of `f` with respect to every element of
/// one argument: exact for polynomials of degree ≤ 4 in that element.
fn finite_differences(f: &ScalarFn, a: &Point, b: &Point, arg: Arg) -> TestResult<Vec<f64>> {
    let len = match arg {
        Arg::A => a.values.len(),
        Arg::B => b.values.len(),
    };
    let at = |i: usize, steps: f64| evaluate(f, a, b, Some((arg, i, steps * STEP)));
    (0..len)
        .map(|i| {
            let near = at(i, 1.0)? - at(i, -1.0)?;
            let far = at(i, 2.0)? - at(i, -2.0)?;
            Ok((8.0 * near - far) / (12.0 * STEP))
        })
        .collect()
}

/// `∂f/∂a` and `∂f/∂b` by candle autograd; a missing gradient is an error.
fn autograd(f: &ScalarFn, a: &Point, b: &Point) -> TestResult<[Vec<f64>; 2]> {
    let (va, vb) = (a.variable(None)?, b.variable(None)?);
    let grads = f(va.as_tensor(), vb.as_tensor())?.backward()?;
    let get = |v: &Var, name: &str| -> TestResult<Vec<f64>> {
        let g = grads
            .get(v.as_tensor())
            .ok_or(format!("no gradient for {name}"))?;
        values(g)
    };
    Ok([get(&va, "a")?, get(&vb, "b")?])
}

/// Asserts that autograd and finite differences agree for both arguments.
fn check_gradients(what: &str, f: &ScalarFn, a: &Point, b: &Point) -> TestResult {
    let analytic = autograd(f, a, b)?;
    for (arg, analytic) in [Arg::A, Arg::B].into_iter().zip(analytic) {
        let numeric = finite_differences(f, a, b, arg)?;
        compare(&format!("{what}, d/d{arg:?}"), &analytic, &numeric)?;
    }
    Ok(())
}

fn compare(what: &str, analytic: &[f64], numeric: &[f64]) -> TestResult {
    let scale = 1.0f64.max(max_abs(analytic)).max(max_abs(numeric));
    let tolerance = RELATIVE_TOLERANCE * scale;
    for (index, (&an, &nu)) in analytic.iter().zip(numeric).enumerate() {
        if (an - nu).abs() > tolerance || !an.is_finite() {
            return Err(format!(
                "{what}: element {index}: autograd {an}, finite difference {nu}, tolerance {tolerance:e}"
            )
            .into());
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// Building scalar functions
// ---------------------------------------------------------------------------

/// `Σ r ⊙ t`.
fn weighted_sum(t: &Tensor, r: &Tensor) -> TestResult<Tensor> {
    Ok(t.mul(r)?.sum_all()?)
}

/// A random f64 tensor of `shape`.
fn random_tensor(rng: &mut TestRng, shape: [usize; 4]) -> TestResult<Tensor> {
    tensor(&rng.for_shape(shape), shape, DType::F64)
}

/// `L(a, b) = Σ r ⊙ op(a, b)` (linear loss: first derivatives are the adjoint ops).
fn linear_loss<Op>(op: Op, r: Tensor) -> ScalarFn
where
    Op: Fn(&Tensor, &Tensor) -> huashi_conv::Result<Tensor> + 'static,
{
    Rc::new(move |a: &Tensor, b: &Tensor| weighted_sum(&op(a, b)?, &r))
}

/// `L(a, b) = Σ r ⊙ op(a, b)²` (quadratic in the output, so that second
/// derivatives with respect to the same argument do not vanish).
fn square_loss<Op>(op: Op, r: Tensor) -> ScalarFn
where
    Op: Fn(&Tensor, &Tensor) -> huashi_conv::Result<Tensor> + 'static,
{
    Rc::new(move |a: &Tensor, b: &Tensor| weighted_sum(&op(a, b)?.sqr()?, &r))
}

/// `f'(a, b) = Σ r ⊙ ∂f/∂arg (a, b)`, itself differentiable when second order is on.
fn gradient_probe(f: ScalarFn, arg: Arg, r: Tensor) -> ScalarFn {
    Rc::new(move |a: &Tensor, b: &Tensor| {
        let grads = f(a, b)?.backward()?;
        let wrt = if arg == Arg::A { a } else { b };
        let g = grads.get(wrt).ok_or(format!("no gradient for {arg:?}"))?;
        weighted_sum(g, &r)
    })
}

// ---------------------------------------------------------------------------
// Problems
// ---------------------------------------------------------------------------

/// Small geometries covering stride, dilation, asymmetric padding, groups and
/// depthwise with multiplier.
fn problems() -> Vec<(&'static str, ConvProblem)> {
    vec![
        (
            "plain",
            ConvProblem::new(1, [2, 2], [4, 5], [3, 2], ConvGeometry::new()),
        ),
        (
            "strided dilated padded grouped",
            ConvProblem::new(
                2,
                [2, 4],
                [5, 5],
                [2, 3],
                ConvGeometry::new()
                    .with_stride([2, 1])
                    .with_dilation([1, 2])
                    .with_padding([1, 0, 2, 1])
                    .with_groups(2),
            ),
        ),
        (
            "depthwise multiplier 2",
            ConvProblem::new(
                1,
                [2, 4],
                [5, 4],
                [3, 3],
                ConvGeometry::new()
                    .with_stride([2, 2])
                    .with_padding([1, 1, 0, 1])
                    .with_groups(2),
            ),
        ),
    ]
}

/// Transposed convolutions (as the convolutions they transpose) with their
/// output padding; the second has `output_padding ≥ stride` along W, which
/// PyTorch allows because the dilation there is 2.
fn transposed_problems() -> Vec<(&'static str, ConvProblem, [usize; 2])> {
    let strided = ConvGeometry::new()
        .with_stride([2, 2])
        .with_padding([1, 1, 0, 1]);
    let grouped = ConvGeometry::new()
        .with_stride([2, 1])
        .with_dilation([1, 2])
        .with_groups(2);
    let case = |name, channels_t, input_t, kernel, geometry, output_padding| {
        let p = ConvProblem::transposed(1, channels_t, input_t, kernel, geometry, output_padding);
        (name, p, output_padding)
    };
    vec![
        case(
            "transposed stride 2",
            [2, 2],
            [3, 3],
            [3, 3],
            strided,
            [1, 0],
        ),
        case(
            "transposed grouped dilated",
            [2, 4],
            [3, 2],
            [2, 2],
            grouped,
            [1, 1],
        ),
    ]
}

/// The three ops (and the transposed convolution) as functions of their two tensor arguments.
#[derive(Debug, Clone, Copy)]
enum OpKind {
    Conv2d,
    InputGrad,
    WeightGrad,
    Transpose([usize; 2]),
}

impl OpKind {
    /// Shapes of the two arguments and of the output.
    fn shapes(self, p: &ConvProblem) -> [[usize; 4]; 3] {
        match self {
            OpKind::Conv2d => [p.x_shape(), p.w_shape(), p.y_shape()],
            OpKind::InputGrad | OpKind::Transpose(_) => [p.y_shape(), p.w_shape(), p.x_shape()],
            OpKind::WeightGrad => [p.x_shape(), p.y_shape(), p.w_shape()],
        }
    }

    /// `op(a, b)` on this problem.
    fn function(self, p: &ConvProblem) -> impl Fn(&Tensor, &Tensor) -> huashi_conv::Result<Tensor> {
        let (g, input, kernel) = (p.geometry, p.input, p.kernel);
        move |a: &Tensor, b: &Tensor| match self {
            OpKind::Conv2d => conv2d(a, b, &g),
            OpKind::InputGrad => conv_input_grad(a, b, &g, input),
            OpKind::WeightGrad => conv_weight_grad(a, b, &g, kernel),
            OpKind::Transpose(output_padding) => conv_transpose2d(a, b, &g, output_padding),
        }
    }
}

/// Random arguments, output weights and probe weights for an op on a problem.
struct Setup {
    a: Point,
    b: Point,
    r: Tensor,
    ra: Tensor,
    rb: Tensor,
    rng: TestRng,
}

fn setup(kind: OpKind, p: &ConvProblem, seed: u64) -> TestResult<Setup> {
    let mut rng = TestRng::new(seed);
    let [sa, sb, sy] = kind.shapes(p);
    let (a, b) = (Point::random(&mut rng, sa), Point::random(&mut rng, sb));
    let r = random_tensor(&mut rng, sy)?;
    let ra = random_tensor(&mut rng, sa)?;
    let rb = random_tensor(&mut rng, sb)?;
    Ok(Setup {
        a,
        b,
        r,
        ra,
        rb,
        rng,
    })
}

/// First derivatives of `Σ r ⊙ op(a, b)` in both arguments.
fn check_first_order(kind: OpKind, name: &str, p: &ConvProblem) -> TestResult {
    let s = setup(kind, p, 1)?;
    let f = linear_loss(kind.function(p), s.r);
    check_gradients(&format!("{kind:?} {name}: first order"), &f, &s.a, &s.b)
}

/// Second derivatives: with `L = Σ r ⊙ op(a, b)²`, both `Σ ra ⊙ ∂L/∂a` and
/// `Σ rb ⊙ ∂L/∂b` are checked in both arguments.
fn check_second_order(kind: OpKind, name: &str, p: &ConvProblem) -> TestResult {
    let s = setup(kind, p, 2)?;
    let loss = square_loss(kind.function(p), s.r);
    let probe_a = gradient_probe(loss.clone(), Arg::A, s.ra);
    check_gradients(
        &format!("{kind:?} {name}: Σ ra·∂L/∂a"),
        &probe_a,
        &s.a,
        &s.b,
    )?;
    let probe_b = gradient_probe(loss, Arg::B, s.rb);
    check_gradients(
        &format!("{kind:?} {name}: Σ rb·∂L/∂b"),
        &probe_b,
        &s.a,
        &s.b,
    )
}

fn for_all_problems(
    kind: OpKind,
    check: fn(OpKind, &str, &ConvProblem) -> TestResult,
) -> TestResult {
    problems()
        .iter()
        .try_for_each(|(name, p)| check(kind, name, p))
}

fn for_all_transposed(check: fn(OpKind, &str, &ConvProblem) -> TestResult) -> TestResult {
    transposed_problems()
        .iter()
        .try_for_each(|(name, p, op)| check(OpKind::Transpose(*op), name, p))
}

// ---------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------

#[test]
fn second_order_is_enabled_by_the_environment_variable() {
    enable_second_order();
    assert!(second_order_enabled());
}

#[test]
fn conv2d_first_order() -> TestResult {
    enable_second_order();
    for_all_problems(OpKind::Conv2d, check_first_order)
}

#[test]
fn conv_input_grad_first_order() -> TestResult {
    enable_second_order();
    for_all_problems(OpKind::InputGrad, check_first_order)
}

#[test]
fn conv_weight_grad_first_order() -> TestResult {
    enable_second_order();
    for_all_problems(OpKind::WeightGrad, check_first_order)
}

#[test]
fn conv_transpose2d_first_order() -> TestResult {
    enable_second_order();
    for_all_transposed(check_first_order)
}

#[test]
fn conv2d_second_order() -> TestResult {
    enable_second_order();
    for_all_problems(OpKind::Conv2d, check_second_order)
}

#[test]
fn conv_input_grad_second_order() -> TestResult {
    enable_second_order();
    for_all_problems(OpKind::InputGrad, check_second_order)
}

#[test]
fn conv_weight_grad_second_order() -> TestResult {
    enable_second_order();
    for_all_problems(OpKind::WeightGrad, check_second_order)
}

#[test]
fn conv_transpose2d_second_order() -> TestResult {
    enable_second_order();
    for_all_transposed(check_second_order)
}

/// Third order: `Σ r3 ⊙ ∂/∂w (Σ r2 ⊙ ∂L/∂x)` with `L = Σ r ⊙ conv2d(x, w)²`.
#[test]
fn conv2d_third_order() -> TestResult {
    enable_second_order();
    let (_, p) = problems().swap_remove(1);
    let kind = OpKind::Conv2d;
    let mut s = setup(kind, &p, 3)?;
    let loss = square_loss(kind.function(&p), s.r);
    let second = gradient_probe(loss, Arg::A, s.ra);
    let r3 = random_tensor(&mut s.rng, p.w_shape())?;
    let third = gradient_probe(second, Arg::B, r3);
    check_gradients("conv2d third order", &third, &s.a, &s.b)
}

/// The MAML meta-gradient through one inner step of gradient descent:
/// `w' = w − α ∂L_train(w)/∂w`, meta-loss `L_val(w') = Σ r_v ⊙ conv2d(x_v, w')²`,
/// differentiated in `w` (and in the training input).
#[test]
fn maml_meta_gradient_through_one_inner_step() -> TestResult {
    enable_second_order();
    let (_, p) = problems().swap_remove(2);
    let mut rng = TestRng::new(4);
    let (g, alpha) = (p.geometry, 0.1);
    let x_train = Point::random(&mut rng, p.x_shape());
    let w = Point::random(&mut rng, p.w_shape());
    let r_train = random_tensor(&mut rng, p.y_shape())?;
    let x_val = random_tensor(&mut rng, p.x_shape())?;
    let r_val = random_tensor(&mut rng, p.y_shape())?;
    let meta_loss: ScalarFn = Rc::new(move |x: &Tensor, weight: &Tensor| {
        let train_loss = weighted_sum(&conv2d(x, weight, &g)?.sqr()?, &r_train)?;
        let grads = train_loss.backward()?;
        let grad_w = grads.get(weight).ok_or("no inner gradient")?;
        let adapted = (weight - grad_w.affine(alpha, 0.0)?)?;
        weighted_sum(&conv2d(&x_val, &adapted, &g)?.sqr()?, &r_val)
    });
    check_gradients("MAML meta-gradient", &meta_loss, &x_train, &w)
}
