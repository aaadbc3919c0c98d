//! Properties (proptest) of the convolution ops over random geometry:
//!
//! - the output-size formula equals the actual output shape, and kernels that
//!   do not fit are errors;
//! - adjointness `⟨conv(x,w), y⟩ = ⟨x, conv_input_grad(y,w)⟩ = ⟨w, conv_weight_grad(x,y)⟩`;
//! - the ops agree with the naive loops of `common` on random geometry;
//! - `conv_transpose2d` is `conv_input_grad` at the transposed output size;
//! - depthwise-separable = depthwise then pointwise = one convolution with
//!   the combined kernel `w[o,c,u,v] = p[o,c]·d[c,u,v]`;
//! - spatially separable: `k×1` then `1×k` = `k×k` with the outer-product kernel.

mod common;

use candle_core::{DType, Tensor};
use common::{
    check_close, dot, naive_conv2d, naive_input_grad, naive_output_size,
    naive_transposed_output_size, naive_weight_grad, shape4, tensor, values, volume, ConvProblem,
    TestResult, TestRng,
};
use huashi_conv::{
    conv2d, conv_input_grad, conv_transpose2d, conv_weight_grad, second_order_enabled, ConvGeometry,
};
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;

/// 32 cases per property; failures are reported (with the shrunk case), not
/// persisted to a regression file: add a failing case to `reference.rs` instead.
fn config() -> ProptestConfig {
    ProptestConfig {
        cases: 32,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// Turns a helper error into a proptest failure.
fn fail(e: impl std::fmt::Display) -> TestCaseError {
    TestCaseError::fail(e.to_string())
}

// ---------------------------------------------------------------------------
// Strategies
// ---------------------------------------------------------------------------

/// Stride, dilation and padding drawn independently per axis and side.
fn geometry() -> impl Strategy<Value = ConvGeometry> {
    (
        [1usize..=3, 1..=3],
        [1usize..=3, 1..=3],
        [0usize..=2, 0..=2, 0..=2, 0..=2],
    )
        .prop_map(|(stride, dilation, padding)| {
            ConvGeometry::new()
                .with_stride(stride)
                .with_dilation(dilation)
                .with_padding(padding)
        })
}

/// Smallest input extent along `axis` that the dilated kernel fits in.
fn min_input(kernel: [usize; 2], g: &ConvGeometry, axis: usize) -> usize {
    let extent = g.dilation[axis] * (kernel[axis] - 1) + 1;
    extent
        .saturating_sub(g.padding[2 * axis] + g.padding[2 * axis + 1])
        .max(1)
}

/// A random valid convolution problem: batch 1–2, groups 1–3, 1–2 input and
/// 1–3 output channels per group, kernel 1–4, input up to 5 beyond the minimum.
fn problem() -> impl Strategy<Value = ConvProblem> {
    (
        1usize..=2,
        1usize..=3,
        [1usize..=2, 1..=3],
        [1usize..=4, 1..=4],
        [0usize..=5, 0..=5],
        geometry(),
    )
        .prop_map(|(batch, groups, per_group, kernel, extra, g)| {
            let g = g.with_groups(groups);
            let input = [0, 1].map(|a| min_input(kernel, &g, a) + extra[a]);
            let channels = per_group.map(|c| c * groups);
            ConvProblem::new(batch, channels, input, kernel, g)
        })
}

/// Random tensors `x`, `w`, `y` (f64) for a problem, with their values.
struct Data {
    x: Vec<f64>,
    w: Vec<f64>,
    y: Vec<f64>,
    xt: Tensor,
    wt: Tensor,
    yt: Tensor,
}

fn data(p: &ConvProblem, seed: u64) -> TestResult<Data> {
    let mut rng = TestRng::new(seed);
    let (x, w, y) = (
        rng.for_shape(p.x_shape()),
        rng.for_shape(p.w_shape()),
        rng.for_shape(p.y_shape()),
    );
    let xt = tensor(&x, p.x_shape(), DType::F64)?;
    let wt = tensor(&w, p.w_shape(), DType::F64)?;
    let yt = tensor(&y, p.y_shape(), DType::F64)?;
    Ok(Data {
        x,
        w,
        y,
        xt,
        wt,
        yt,
    })
}

/// `Σ |x||w||y|` over all products of the trilinear form: the scale of its rounding error.
fn trilinear_scale(p: &ConvProblem, d: &Data) -> f64 {
    let abs = |v: &[f64]| v.iter().map(|a| a.abs()).collect::<Vec<_>>();
    let conv_abs = naive_conv2d(p, &abs(&d.x), &abs(&d.w));
    dot(&conv_abs.values, &abs(&d.y))
}

/// An f64 tensor of zeros.
fn zeros(shape: [usize; 4]) -> TestResult<Tensor> {
    tensor(&vec![0.0; volume(shape)], shape, DType::F64)
}

// ---------------------------------------------------------------------------
// Output size
// ---------------------------------------------------------------------------

fn check_output_shape(p: &ConvProblem, seed: u64) -> TestResult {
    let d = data(p, seed)?;
    let formula = p.geometry.output_size(p.input, p.kernel)?;
    let independent = naive_output_size(p.input, p.kernel, &p.geometry);
    let actual = shape4(&conv2d(&d.xt, &d.wt, &p.geometry)?)?;
    let expected = [p.batch, p.out_channels, formula[0], formula[1]];
    if Some(formula) != independent || actual != expected {
        return Err(format!(
            "output_size {formula:?}, textbook {independent:?}, conv2d shape {actual:?}"
        )
        .into());
    }
    Ok(())
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn output_size_formula_matches_output_shape(p in problem(), seed in any::<u64>()) {
        check_output_shape(&p, seed).map_err(fail)?;
    }

    #[test]
    fn kernel_that_does_not_fit_is_an_error(
        kernel in [2usize..=4, 2..=4],
        g in geometry(),
        axis in 0usize..2,
        short_by in 1usize..=3,
    ) {
        let extent = g.dilation[axis] * (kernel[axis] - 1) + 1;
        let pads = g.padding[2 * axis] + g.padding[2 * axis + 1];
        prop_assume!(extent > pads + short_by);
        let mut input = [0, 1].map(|a| min_input(kernel, &g, a));
        input[axis] = extent - pads - short_by;
        prop_assert!(g.output_size(input, kernel).is_err());
        let x = zeros([1, 1, input[0], input[1]]).map_err(fail)?;
        let w = zeros([1, 1, kernel[0], kernel[1]]).map_err(fail)?;
        prop_assert!(conv2d(&x, &w, &g).is_err());
    }
}

// ---------------------------------------------------------------------------
// Adjointness and agreement with the naive loops
// ---------------------------------------------------------------------------

/// `⟨conv(x,w), y⟩ = ⟨x, conv_input_grad(y,w)⟩ = ⟨w, conv_weight_grad(x,y)⟩`.
fn check_adjoint(p: &ConvProblem, seed: u64) -> TestResult {
    let d = data(p, seed)?;
    let g = &p.geometry;
    let forward = dot(&values(&conv2d(&d.xt, &d.wt, g)?)?, &d.y);
    let via_input = dot(&d.x, &values(&conv_input_grad(&d.yt, &d.wt, g, p.input)?)?);
    let via_weight = dot(
        &d.w,
        &values(&conv_weight_grad(&d.xt, &d.yt, g, p.kernel)?)?,
    );
    // Worst-case rounding of a sum of `macs` products, plus the final dot products.
    let terms = (p.macs() + volume(p.x_shape()) + volume(p.w_shape()) + volume(p.y_shape())) as f64;
    let tolerance = 2.0 * f64::EPSILON * terms * trilinear_scale(p, &d);
    let close = |a: f64, b: f64| (a - b).abs() <= tolerance;
    if !close(forward, via_input) || !close(forward, via_weight) {
        return Err(format!(
            "⟨conv(x,w),y⟩ = {forward}, ⟨x,conv_input_grad(y,w)⟩ = {via_input}, ⟨w,conv_weight_grad(x,y)⟩ = {via_weight}, tolerance {tolerance:e}"
        )
        .into());
    }
    Ok(())
}

/// All three ops against the naive loops (f64).
fn check_against_naive(p: &ConvProblem, seed: u64) -> TestResult {
    let d = data(p, seed)?;
    let g = &p.geometry;
    check_close(
        "conv2d",
        &conv2d(&d.xt, &d.wt, g)?,
        &naive_conv2d(p, &d.x, &d.w),
    )?;
    let dx = conv_input_grad(&d.yt, &d.wt, g, p.input)?;
    check_close("conv_input_grad", &dx, &naive_input_grad(p, &d.y, &d.w))?;
    let dw = conv_weight_grad(&d.xt, &d.yt, g, p.kernel)?;
    check_close("conv_weight_grad", &dw, &naive_weight_grad(p, &d.x, &d.y))
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn ops_are_adjoint(p in problem(), seed in any::<u64>()) {
        check_adjoint(&p, seed).map_err(fail)?;
    }

    #[test]
    fn ops_match_naive_loops(p in problem(), seed in any::<u64>()) {
        check_against_naive(&p, seed).map_err(fail)?;
    }
}

// ---------------------------------------------------------------------------
// Transposed convolution
// ---------------------------------------------------------------------------

/// `conv_transpose2d` has the transposed-output shape, matches the naive
/// adjoint, and equals `conv_input_grad` at that size whenever the forward
/// convolution of that size has the transposed input's size (always unless
/// `output_padding ≥ stride`, which PyTorch allows when the dilation is larger).
fn check_transpose(p: &ConvProblem, output_padding: [usize; 2], seed: u64) -> TestResult {
    let d = data(p, seed)?;
    let g = &p.geometry;
    let size = naive_transposed_output_size(p.output, p.kernel, g, output_padding);
    let formula = g.transposed_output_size(p.output, p.kernel, output_padding)?;
    if formula != size {
        return Err(format!("transposed_output_size {formula:?}, textbook {size:?}").into());
    }
    let out = conv_transpose2d(&d.yt, &d.wt, g, output_padding)?;
    let transposed = ConvProblem { input: size, ..*p };
    check_close(
        "conv_transpose2d",
        &out,
        &naive_input_grad(&transposed, &d.y, &d.w),
    )?;
    if naive_output_size(size, p.kernel, g) != Some(p.output) {
        return Ok(());
    }
    let via_input_grad = conv_input_grad(&d.yt, &d.wt, g, size)?;
    let difference = values(&(out - via_input_grad)?.abs()?)?;
    if difference.iter().any(|&e| e != 0.0) {
        return Err("conv_transpose2d differs from conv_input_grad at the transposed size".into());
    }
    Ok(())
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn conv_transpose2d_is_input_grad_at_transposed_size(
        p in problem(),
        output_padding in [0usize..3, 0..3],
        seed in any::<u64>(),
    ) {
        let g = &p.geometry;
        let limit = |a: usize| g.stride[a].max(g.dilation[a]);
        let output_padding = [0, 1].map(|a| output_padding[a] % limit(a));
        // Skip geometries whose padding swallows the whole transposed output.
        let extent = |a: usize| g.dilation[a] * (p.kernel[a] - 1) + 1;
        let full = |a: usize| (p.output[a] - 1) * g.stride[a] + extent(a) + output_padding[a];
        prop_assume!((0..2).all(|a| full(a) > g.padding[2 * a] + g.padding[2 * a + 1]));
        check_transpose(&p, output_padding, seed).map_err(fail)?;
    }
}

// ---------------------------------------------------------------------------
// Separable convolutions
// ---------------------------------------------------------------------------

/// Depthwise `d (C,1,kh,kw)` with geometry `g`, then pointwise `p (O,C,1,1)`,
/// equals conv2d with `w[o,c,u,v] = p[o,c]·d[c,u,v]` and `g` without groups.
fn check_depthwise_separable(problem: &ConvProblem, seed: u64) -> TestResult {
    let [c, o] = [problem.in_channels, problem.out_channels];
    let [kh, kw] = problem.kernel;
    let g = problem.geometry.with_groups(1);
    let mut rng = TestRng::new(seed);
    let x = tensor(
        &rng.for_shape(problem.x_shape()),
        problem.x_shape(),
        DType::F64,
    )?;
    let depthwise = rng.for_shape([c, 1, kh, kw]);
    let pointwise = rng.for_shape([o, c, 1, 1]);
    let combined: Vec<f64> = (0..o * c * kh * kw)
        .map(|i| pointwise[i / (kh * kw)] * depthwise[i % (c * kh * kw)])
        .collect();
    let dt = tensor(&depthwise, [c, 1, kh, kw], DType::F64)?;
    let pt = tensor(&pointwise, [o, c, 1, 1], DType::F64)?;
    let wt = tensor(&combined, [o, c, kh, kw], DType::F64)?;
    let separable = conv2d(
        &conv2d(&x, &dt, &g.with_groups(c))?,
        &pt,
        &ConvGeometry::new(),
    )?;
    let direct = conv2d(&x, &wt, &g)?;
    compare_f64("depthwise-separable", &separable, &direct, problem.macs())
}

/// `k×1` (`a`, channels C→M) then `1×k` (`b`, M→O) equals the `k×k` kernel
/// `w[o,c,u,v] = Σ_m b[o,m,v]·a[m,c,u]` (the outer product when C = M = O = 1
/// or depthwise), with the vertical geometry on the first and horizontal on the second.
fn check_spatially_separable(problem: &ConvProblem, mid: usize, seed: u64) -> TestResult {
    let [c, o] = [problem.in_channels, problem.out_channels];
    let [kh, kw] = problem.kernel;
    let g = problem.geometry.with_groups(1);
    let vertical = ConvGeometry::new()
        .with_stride([g.stride[0], 1])
        .with_dilation([g.dilation[0], 1])
        .with_padding([g.padding[0], g.padding[1], 0, 0]);
    let horizontal = ConvGeometry::new()
        .with_stride([1, g.stride[1]])
        .with_dilation([1, g.dilation[1]])
        .with_padding([0, 0, g.padding[2], g.padding[3]]);
    let mut rng = TestRng::new(seed);
    let x = tensor(
        &rng.for_shape(problem.x_shape()),
        problem.x_shape(),
        DType::F64,
    )?;
    let a = rng.for_shape([mid, c, kh, 1]);
    let b = rng.for_shape([o, mid, 1, kw]);
    let mut combined = vec![0.0; o * c * kh * kw];
    for (index, value) in combined.iter_mut().enumerate() {
        let [oo, cc, u, v] = common::unravel(index, [o, c, kh, kw]);
        *value = (0..mid)
            .map(|m| b[(oo * mid + m) * kw + v] * a[(m * c + cc) * kh + u])
            .sum();
    }
    let at = tensor(&a, [mid, c, kh, 1], DType::F64)?;
    let bt = tensor(&b, [o, mid, 1, kw], DType::F64)?;
    let wt = tensor(&combined, [o, c, kh, kw], DType::F64)?;
    let separable = conv2d(&conv2d(&x, &at, &vertical)?, &bt, &horizontal)?;
    let direct = conv2d(&x, &wt, &g)?;
    compare_f64(
        "spatially separable",
        &separable,
        &direct,
        problem.macs() * mid,
    )
}

/// Depthwise spatially separable: per channel, `k×1` then `1×k` equals the
/// outer-product kernel `w[c,0,u,v] = a[c,u]·b[c,v]`.
fn check_depthwise_outer_product(problem: &ConvProblem, seed: u64) -> TestResult {
    let c = problem.in_channels;
    let [kh, kw] = problem.kernel;
    let g = problem.geometry.with_groups(c);
    let vertical = g
        .with_stride([g.stride[0], 1])
        .with_dilation([g.dilation[0], 1])
        .with_padding([g.padding[0], g.padding[1], 0, 0]);
    let horizontal = g
        .with_stride([1, g.stride[1]])
        .with_dilation([1, g.dilation[1]])
        .with_padding([0, 0, g.padding[2], g.padding[3]]);
    let mut rng = TestRng::new(seed);
    let x = tensor(
        &rng.for_shape(problem.x_shape()),
        problem.x_shape(),
        DType::F64,
    )?;
    let (a, b) = (rng.for_shape([c, 1, kh, 1]), rng.for_shape([c, 1, 1, kw]));
    let outer: Vec<f64> = (0..c * kh * kw)
        .map(|i| {
            let [cc, _, u, v] = common::unravel(i, [c, 1, kh, kw]);
            a[cc * kh + u] * b[cc * kw + v]
        })
        .collect();
    let at = tensor(&a, [c, 1, kh, 1], DType::F64)?;
    let bt = tensor(&b, [c, 1, 1, kw], DType::F64)?;
    let wt = tensor(&outer, [c, 1, kh, kw], DType::F64)?;
    let separable = conv2d(&conv2d(&x, &at, &vertical)?, &bt, &horizontal)?;
    compare_f64(
        "depthwise outer product",
        &separable,
        &conv2d(&x, &wt, &g)?,
        problem.macs(),
    )
}

/// Element-wise comparison of two f64 results of sums of at most `terms`
/// products of values in `[-1, 1)`.
fn compare_f64(what: &str, got: &Tensor, expected: &Tensor, terms: usize) -> TestResult {
    if got.dims() != expected.dims() {
        return Err(format!("{what}: shapes {:?} vs {:?}", got.dims(), expected.dims()).into());
    }
    let tolerance = 4.0 * f64::EPSILON * terms.max(1) as f64;
    let (got, expected) = (values(got)?, values(expected)?);
    for (i, (g, e)) in got.iter().zip(&expected).enumerate() {
        if (g - e).abs() > tolerance {
            return Err(
                format!("{what}: element {i}: {g} vs {e} (tolerance {tolerance:e})").into(),
            );
        }
    }
    Ok(())
}

/// A problem with `C_in` channels (multiplier-1 depthwise when `C_out = C_in`).
fn separable_problem() -> impl Strategy<Value = ConvProblem> {
    (
        1usize..=2,
        [1usize..=3, 1..=3],
        [1usize..=4, 1..=4],
        [0usize..=4, 0..=4],
        geometry(),
    )
        .prop_map(|(batch, channels, kernel, extra, g)| {
            let input = [0, 1].map(|a| min_input(kernel, &g, a) + extra[a]);
            ConvProblem::new(batch, channels, input, kernel, g)
        })
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn depthwise_then_pointwise_is_conv_with_combined_kernel(
        p in separable_problem(),
        seed in any::<u64>(),
    ) {
        check_depthwise_separable(&p, seed).map_err(fail)?;
    }

    #[test]
    fn kx1_then_1xk_is_kxk_with_outer_product_kernel(
        p in separable_problem(),
        mid in 1usize..=3,
        seed in any::<u64>(),
    ) {
        check_spatially_separable(&p, mid, seed).map_err(fail)?;
    }

    #[test]
    fn depthwise_kx1_then_1xk_is_depthwise_outer_product(
        p in separable_problem(),
        seed in any::<u64>(),
    ) {
        let square = ConvProblem { out_channels: p.in_channels, ..p };
        check_depthwise_outer_product(&square, seed).map_err(fail)?;
    }
}

// ---------------------------------------------------------------------------
// Second-order switch
// ---------------------------------------------------------------------------

/// This binary never sets `CANDLE_GRAD_DO_NOT_DETACH`, so the probe must agree
/// with whatever the environment says (off, unless set from outside).
#[test]
fn second_order_enabled_follows_the_environment() {
    let set = std::env::var("CANDLE_GRAD_DO_NOT_DETACH").is_ok_and(|v| !v.is_empty() && v != "0");
    assert_eq!(second_order_enabled(), set);
}
