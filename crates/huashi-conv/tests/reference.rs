//! Reference tests: the three convolution ops (and `conv_transpose2d`) against
//! the naive f64 loops of `common`, over a table of geometries, in f32 and f64.
//!
//! Each table entry becomes its own `#[test]` that runs forward, input
//! gradient and weight gradient in both dtypes and reports every mismatch.

mod common;

use std::panic::AssertUnwindSafe;

use candle_core::DType;
use common::{
    check_close, naive_conv2d, naive_input_grad, naive_output_size, naive_weight_grad, tensor,
    ConvProblem, TestResult, TestRng,
};
use huashi_conv::{conv2d, conv_input_grad, conv_transpose2d, conv_weight_grad, ConvGeometry};

const DTYPES: [DType; 2] = [DType::F32, DType::F64];

/// One row of the table: a convolution problem.
#[derive(Debug, Clone, Copy)]
struct Case {
    batch: usize,
    channels: [usize; 2],
    input: [usize; 2],
    kernel: [usize; 2],
    geometry: ConvGeometry,
}

/// A case with stride 1, dilation 1, no padding, one group.
fn case(batch: usize, channels: [usize; 2], input: [usize; 2], kernel: [usize; 2]) -> Case {
    Case {
        batch,
        channels,
        input,
        kernel,
        geometry: ConvGeometry::new(),
    }
}

impl Case {
    fn stride(mut self, stride: [usize; 2]) -> Self {
        self.geometry = self.geometry.with_stride(stride);
        self
    }
    fn dilation(mut self, dilation: [usize; 2]) -> Self {
        self.geometry = self.geometry.with_dilation(dilation);
        self
    }
    fn padding(mut self, padding: [usize; 4]) -> Self {
        self.geometry = self.geometry.with_padding(padding);
        self
    }
    fn groups(mut self, groups: usize) -> Self {
        self.geometry = self.geometry.with_groups(groups);
        self
    }
    fn problem(&self) -> ConvProblem {
        ConvProblem::new(
            self.batch,
            self.channels,
            self.input,
            self.kernel,
            self.geometry,
        )
    }
}

/// Seed derived from the case, so every case sees different data.
fn seed_of(problem: &ConvProblem) -> u64 {
    let text = format!("{problem:?}");
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ b as u64).wrapping_mul(0x100_0000_01b3)
    })
}

/// Runs the three ops on one problem in one dtype; returns every mismatch.
fn check_ops(problem: &ConvProblem, dtype: DType) -> TestResult<Vec<String>> {
    let mut rng = TestRng::new(seed_of(problem));
    let x = rng.for_shape(problem.x_shape());
    let w = rng.for_shape(problem.w_shape());
    let dy = rng.for_shape(problem.y_shape());
    let (xt, wt, dyt) = (
        tensor(&x, problem.x_shape(), dtype)?,
        tensor(&w, problem.w_shape(), dtype)?,
        tensor(&dy, problem.y_shape(), dtype)?,
    );
    let g = &problem.geometry;
    let mut failures = Vec::new();
    let mut record = |what: &str, result: TestResult| {
        if let Err(e) = result {
            failures.push(format!("{dtype:?} {what}: {e}"));
        }
    };
    record("output_size", check_output_size(problem));
    record(
        "conv2d",
        without_panic(|| check_close("y", &conv2d(&xt, &wt, g)?, &naive_conv2d(problem, &x, &w))),
    );
    record(
        "conv_input_grad",
        without_panic(|| {
            let dx = conv_input_grad(&dyt, &wt, g, problem.input)?;
            check_close("dx", &dx, &naive_input_grad(problem, &dy, &w))
        }),
    );
    record(
        "conv_weight_grad",
        without_panic(|| {
            let dw = conv_weight_grad(&xt, &dyt, g, problem.kernel)?;
            check_close("dw", &dw, &naive_weight_grad(problem, &x, &dy))
        }),
    );
    Ok(failures)
}

/// Runs `check`, turning a panic into an error so that one case reports every op.
fn without_panic(check: impl FnOnce() -> TestResult) -> TestResult {
    std::panic::catch_unwind(AssertUnwindSafe(check)).unwrap_or_else(|payload| {
        let message = payload
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_default();
        Err(format!("panicked: {message}").into())
    })
}

/// `ConvGeometry::output_size` agrees with the textbook formula.
fn check_output_size(problem: &ConvProblem) -> TestResult {
    let got = problem
        .geometry
        .output_size(problem.input, problem.kernel)?;
    let expected = naive_output_size(problem.input, problem.kernel, &problem.geometry);
    if Some(got) != expected {
        return Err(format!("output_size {got:?}, formula {expected:?}").into());
    }
    Ok(())
}

fn run_case(case: Case) {
    let problem = case.problem();
    let mut failures = Vec::new();
    for dtype in DTYPES {
        failures.extend(check_ops(&problem, dtype).expect("test data"));
    }
    assert!(failures.is_empty(), "{problem:?}\n{}", failures.join("\n"));
}

macro_rules! reference_cases {
    ($($name:ident: $case:expr;)+) => {
        $(
            #[test]
            fn $name() {
                run_case($case);
            }
        )+
    };
}

reference_cases! {
    // Plain, odd sizes, batch.
    plain_3x3_single_channel: case(1, [1, 1], [5, 5], [3, 3]);
    odd_sizes_batch2: case(2, [3, 4], [7, 5], [3, 3]);
    batch3_stride2_padded: case(3, [2, 2], [5, 5], [3, 3]).stride([2, 2]).padding([1, 1, 1, 1]);
    batch4_groups2: case(4, [2, 4], [4, 4], [2, 2]).groups(2);
    one_pixel_input: case(2, [3, 2], [1, 1], [1, 1]);
    single_row: case(1, [2, 2], [1, 9], [1, 3]).stride([1, 2]);
    single_column_padded: case(1, [2, 2], [7, 1], [3, 1]).padding([1, 1, 0, 0]);
    // Planes of 256 output pixels or more (the dense phase-plane kernels),
    // larger than one register tile (8 rows × 48 f32 / 24 f64 pixels): row
    // and pixel remainders, groups that split a tile's rows, strides,
    // dilations, crops and padding wider than the kernel.
    tiles_3x3_padded_batch3: case(3, [20, 19], [17, 21], [3, 3]).padding([1, 1, 1, 1]);
    tiles_pointwise_batch2: case(2, [37, 21], [23, 13], [1, 1]);
    tiles_grouped_dilated_asymmetric: case(2, [18, 27], [19, 15], [3, 3])
        .dilation([2, 2])
        .padding([2, 1, 0, 3])
        .groups(3);
    tiles_5x5_unpadded: case(1, [9, 10], [19, 21], [5, 5]);
    tiles_pad_wider_than_kernel: case(2, [5, 11], [26, 7], [2, 3]).padding([3, 0, 4, 1]);
    tiles_stride2_padded_batch2: case(2, [10, 12], [37, 33], [3, 3])
        .stride([2, 2])
        .padding([1, 1, 1, 1]);
    tiles_stride_3x2_dilated_asymmetric: case(1, [6, 9], [50, 44], [3, 2])
        .stride([3, 2])
        .dilation([2, 3])
        .padding([0, 2, 1, 0]);
    tiles_pointwise_stride2: case(2, [8, 9], [40, 30], [1, 1]).stride([2, 2]);
    // Four groups or more (one product per group, samples side by side), as MAML's task-batched few-shot CNN runs them; and a
    // depthwise convolution with a large multiplier, its first block.
    stacked_groups8_stride2_batch3: case(3, [16, 24], [9, 8], [3, 3])
        .stride([2, 2])
        .padding([1, 1, 1, 1])
        .groups(8);
    stacked_groups6_dilated_asymmetric: case(2, [12, 18], [11, 9], [3, 2])
        .stride([2, 1])
        .dilation([1, 2])
        .padding([0, 2, 1, 0])
        .groups(6);
    stacked_depthwise_multiplier16_stride2: case(3, [4, 64], [10, 9], [3, 3])
        .stride([2, 2])
        .padding([1, 1, 1, 1])
        .groups(4);
    stacked_depthwise_multiplier20_stride1: case(2, [8, 160], [6, 7], [3, 3])
        .padding([1, 0, 2, 1])
        .groups(8);
    // Stride.
    stride2: case(1, [2, 3], [9, 9], [3, 3]).stride([2, 2]);
    stride3_batch2: case(2, [2, 2], [11, 10], [3, 3]).stride([3, 3]);
    stride_1x2: case(1, [3, 2], [9, 8], [3, 3]).stride([1, 2]);
    stride_3x1_kernel_3x2: case(1, [2, 2], [8, 9], [3, 2]).stride([3, 1]);
    stride_exceeds_kernel: case(1, [2, 2], [10, 10], [2, 2]).stride([3, 3]);
    stride_exceeds_dilated_kernel: case(1, [1, 1], [11, 11], [2, 2])
        .stride([3, 3]).dilation([1, 2]);
    // Dilation.
    dilation2: case(1, [2, 2], [9, 9], [3, 3]).dilation([2, 2]);
    dilation3: case(1, [1, 2], [11, 11], [3, 3]).dilation([3, 3]);
    dilation_1x3_batch2: case(2, [2, 3], [9, 10], [3, 3]).dilation([1, 3]);
    stride2_dilation2: case(1, [2, 2], [12, 11], [3, 3]).stride([2, 2]).dilation([2, 2]);
    stride3_dilation_3x2: case(1, [2, 1], [15, 14], [2, 3]).stride([3, 3]).dilation([3, 2]);
    // Padding, symmetric and asymmetric.
    pad_symmetric: case(1, [2, 2], [5, 5], [3, 3]).padding([1, 1, 1, 1]);
    pad_bottom_left: case(1, [2, 3], [6, 7], [3, 3]).padding([0, 2, 1, 0]);
    pad_mixed: case(2, [1, 2], [4, 5], [3, 3]).padding([2, 1, 0, 2]);
    pad_wider_than_kernel: case(1, [1, 2], [3, 3], [2, 2]).padding([3, 2, 2, 3]);
    pad_stride2: case(1, [3, 2], [7, 8], [3, 3]).stride([2, 2]).padding([1, 0, 0, 1]);
    pad_dilation2: case(1, [2, 2], [6, 6], [3, 3]).dilation([2, 2]).padding([2, 2, 1, 3]);
    pad_stride_dilation_all_asymmetric: case(2, [2, 4], [9, 7], [3, 2])
        .stride([2, 3]).dilation([2, 1]).padding([1, 2, 3, 0]);
    tf_same_stride2_even_input: case(1, [2, 2], [8, 8], [3, 3])
        .stride([2, 2]).padding([0, 1, 0, 1]);
    // Groups.
    groups2: case(1, [4, 6], [6, 6], [3, 3]).groups(2);
    groups2_stride_pad_batch2: case(2, [4, 4], [7, 6], [3, 3])
        .stride([2, 2]).padding([1, 1, 0, 1]).groups(2);
    groups3_one_output_each: case(1, [6, 3], [5, 5], [2, 2]).groups(3);
    groups2_dilated: case(1, [4, 2], [8, 8], [3, 3]).dilation([2, 2]).groups(2);
    groups4_padded: case(1, [8, 8], [4, 4], [3, 3]).padding([1, 1, 1, 1]).groups(4);
    // Depthwise, depth multiplier 1–3.
    depthwise: case(1, [3, 3], [6, 6], [3, 3]).groups(3);
    depthwise_multiplier2: case(1, [3, 6], [6, 5], [3, 3]).groups(3);
    depthwise_multiplier3_batch2: case(2, [2, 6], [5, 6], [3, 3]).groups(2);
    depthwise_multiplier3_stride2_pad: case(1, [3, 9], [7, 7], [3, 3])
        .stride([2, 2]).padding([1, 1, 1, 1]).groups(3);
    depthwise_multiplier2_dilated_asymmetric: case(1, [4, 8], [9, 8], [3, 3])
        .dilation([2, 3]).padding([2, 0, 1, 1]).groups(4);
    depthwise_5x1_multiplier2: case(1, [2, 4], [8, 6], [5, 1]).padding([2, 2, 0, 0]).groups(2);
    depthwise_tf_same_stride2: case(1, [4, 4], [8, 8], [3, 3])
        .stride([2, 2]).padding([0, 1, 0, 1]).groups(4);
    // Non-square kernels.
    kernel_1x3: case(1, [2, 3], [5, 6], [1, 3]);
    kernel_3x1: case(1, [2, 3], [6, 5], [3, 1]);
    kernel_2x4_batch2: case(2, [2, 2], [5, 7], [2, 4]);
    kernel_5x2_stride_2x1: case(1, [2, 2], [9, 6], [5, 2]).stride([2, 1]);
    // 1×1 kernels.
    pointwise: case(1, [4, 5], [4, 5], [1, 1]);
    pointwise_stride2_batch2: case(2, [3, 4], [7, 6], [1, 1]).stride([2, 2]);
    pointwise_padded: case(1, [3, 2], [3, 4], [1, 1]).padding([1, 0, 2, 1]);
    pointwise_groups2: case(1, [4, 6], [3, 3], [1, 1]).groups(2);
    pointwise_stride3_dilation_ignored: case(1, [2, 2], [8, 8], [1, 1])
        .stride([3, 3]).dilation([2, 2]);
    pointwise_downsample_batch2: case(2, [4, 8], [8, 8], [1, 1]).stride([2, 2]);
    // Kernels covering the whole (padded) input.
    whole_input: case(1, [2, 3], [5, 5], [5, 5]);
    whole_input_nonsquare_batch2: case(2, [2, 2], [4, 6], [4, 6]);
    whole_input_dilated: case(1, [1, 2], [7, 7], [4, 4]).dilation([2, 2]);
    whole_padded_input: case(1, [2, 2], [3, 3], [5, 5]).padding([1, 1, 1, 1]);
    kernel_larger_than_input_asymmetric_pad: case(1, [1, 1], [2, 2], [4, 4]).padding([1, 1, 2, 0]);
    whole_input_depthwise_multiplier2: case(1, [2, 4], [3, 4], [3, 4]).groups(2);
    // Kernel taps that only ever read padding (empty valid ranges).
    tap_only_in_left_padding: case(1, [1, 1], [3, 1], [1, 3]).padding([0, 0, 2, 0]);
    tap_only_in_right_padding: case(2, [1, 2], [3, 1], [1, 3]).padding([0, 0, 0, 2]);
    tap_only_in_top_padding: case(1, [2, 1], [2, 3], [4, 3]).padding([2, 0, 0, 0]);
    tap_only_in_padding_stride2: case(1, [2, 2], [3, 2], [3, 3]).stride([2, 2]).padding([0, 0, 2, 0]);
    tap_only_in_padding_grouped: case(1, [4, 2], [2, 2], [4, 4]).padding([1, 1, 2, 0]).groups(2);
    tap_only_in_padding_depthwise: case(1, [2, 2], [2, 3], [4, 3]).padding([2, 0, 0, 0]).groups(2);
    tap_only_in_padding_depthwise_width: case(1, [2, 4], [3, 1], [1, 3])
        .padding([0, 0, 2, 0]).groups(2);
    pointwise_depthwise_multiplier2: case(1, [3, 6], [4, 3], [1, 1]).groups(3);
}

// ---------------------------------------------------------------------------
// conv_transpose2d against the naive adjoint, with output padding
// ---------------------------------------------------------------------------

/// A transposed convolution: input `(N, C_in_t, input)`, weight `(C_in_t, C_out_t/groups, k)`.
#[derive(Debug, Clone, Copy)]
struct TransposedCase {
    batch: usize,
    channels_t: [usize; 2],
    input_t: [usize; 2],
    kernel: [usize; 2],
    geometry: ConvGeometry,
    output_padding: [usize; 2],
}

fn check_transposed(case: TransposedCase, dtype: DType) -> TestResult {
    let problem = ConvProblem::transposed(
        case.batch,
        case.channels_t,
        case.input_t,
        case.kernel,
        case.geometry,
        case.output_padding,
    );
    let size =
        case.geometry
            .transposed_output_size(case.input_t, case.kernel, case.output_padding)?;
    if size != problem.input {
        return Err(format!(
            "transposed_output_size {size:?}, formula {:?}",
            problem.input
        )
        .into());
    }
    let mut rng = TestRng::new(seed_of(&problem));
    let x_t = rng.for_shape(problem.y_shape());
    let w = rng.for_shape(problem.w_shape());
    let xt = tensor(&x_t, problem.y_shape(), dtype)?;
    let wt = tensor(&w, problem.w_shape(), dtype)?;
    without_panic(|| {
        let out = conv_transpose2d(&xt, &wt, &case.geometry, case.output_padding)?;
        check_close(
            "conv_transpose2d",
            &out,
            &naive_input_grad(&problem, &x_t, &w),
        )
    })
}

fn run_transposed(case: TransposedCase) {
    for dtype in DTYPES {
        if let Err(e) = check_transposed(case, dtype) {
            panic!("{case:?} {dtype:?}: {e}");
        }
    }
}

fn transposed(
    batch: usize,
    channels_t: [usize; 2],
    input_t: [usize; 2],
    kernel: [usize; 2],
    geometry: ConvGeometry,
    output_padding: [usize; 2],
) -> TransposedCase {
    TransposedCase {
        batch,
        channels_t,
        input_t,
        kernel,
        geometry,
        output_padding,
    }
}

macro_rules! transposed_cases {
    ($($name:ident: $case:expr;)+) => {
        $(
            #[test]
            fn $name() {
                run_transposed($case);
            }
        )+
    };
}

transposed_cases! {
    transposed_plain: transposed(1, [2, 3], [4, 5], [3, 3], ConvGeometry::new(), [0, 0]);
    transposed_stride2_pad1_op1: transposed(
        2, [2, 3], [4, 4], [3, 3],
        ConvGeometry::new().with_stride([2, 2]).with_padding([1, 1, 1, 1]), [1, 1]);
    transposed_stride2_op_height_only: transposed(
        1, [3, 2], [3, 4], [3, 3],
        ConvGeometry::new().with_stride([2, 2]).with_padding([1, 1, 1, 1]), [0, 1]);
    transposed_stride3_groups2_op_2x1: transposed(
        1, [4, 2], [3, 3], [2, 3],
        ConvGeometry::new().with_stride([3, 3]).with_groups(2), [2, 1]);
    transposed_stride1_dilation2_op1: transposed(
        1, [2, 2], [4, 4], [3, 3],
        ConvGeometry::new().with_dilation([2, 2]), [1, 0]);
    transposed_stride2_dilation2_asymmetric_pad: transposed(
        1, [2, 3], [4, 3], [3, 2],
        ConvGeometry::new().with_stride([2, 2]).with_dilation([2, 2]).with_padding([1, 0, 2, 1]),
        [1, 1]);
    transposed_depthwise_multiplier2: transposed(
        2, [4, 2], [3, 4], [3, 3],
        ConvGeometry::new().with_stride([2, 1]).with_padding([1, 1, 0, 0]).with_groups(2), [1, 0]);
    transposed_depthwise_stride1_dilation2_op1: transposed(
        1, [2, 2], [3, 4], [3, 3],
        ConvGeometry::new().with_dilation([2, 2]).with_groups(2), [1, 1]);
    transposed_1x1_stride2: transposed(
        1, [3, 2], [3, 3], [1, 1],
        ConvGeometry::new().with_stride([2, 2]), [1, 1]);
}

// ---------------------------------------------------------------------------
// Invalid input is an error, never a panic
// ---------------------------------------------------------------------------

#[test]
fn kernel_larger_than_padded_input_is_an_error() -> TestResult {
    let x = tensor(&[0.0; 9], [1, 1, 3, 3], DType::F64)?;
    let w = tensor(&[0.0; 16], [1, 1, 4, 4], DType::F64)?;
    let g = ConvGeometry::new();
    assert!(g.output_size([3, 3], [4, 4]).is_err());
    assert!(conv2d(&x, &w, &g).is_err());
    Ok(())
}

#[test]
fn channels_not_divisible_by_groups_is_an_error() -> TestResult {
    let x = tensor(&[0.0; 27], [1, 3, 3, 3], DType::F64)?;
    let w = tensor(&[0.0; 4], [4, 1, 1, 1], DType::F64)?;
    assert!(conv2d(&x, &w, &ConvGeometry::new().with_groups(2)).is_err());
    Ok(())
}

#[test]
fn weight_channels_must_match_input_channels() -> TestResult {
    let x = tensor(&[0.0; 18], [1, 2, 3, 3], DType::F64)?;
    let w = tensor(&[0.0; 27], [1, 3, 3, 3], DType::F64)?;
    assert!(conv2d(&x, &w, &ConvGeometry::new()).is_err());
    Ok(())
}

#[test]
fn mixed_dtypes_are_an_error() -> TestResult {
    let x = tensor(&[0.0; 9], [1, 1, 3, 3], DType::F32)?;
    let w = tensor(&[0.0; 4], [1, 1, 2, 2], DType::F64)?;
    assert!(conv2d(&x, &w, &ConvGeometry::new()).is_err());
    Ok(())
}

#[test]
fn wrong_rank_is_an_error() -> TestResult {
    let x = tensor(&[0.0; 9], [1, 1, 3, 3], DType::F64)?.squeeze(0)?;
    let w = tensor(&[0.0; 4], [1, 1, 2, 2], DType::F64)?;
    assert!(conv2d(&x, &w, &ConvGeometry::new()).is_err());
    Ok(())
}

#[test]
fn input_grad_with_wrong_dy_shape_is_an_error() -> TestResult {
    // A 5×5 input and a 3×3 kernel give a 3×3 output, not 4×4.
    let dy = tensor(&[0.0; 16], [1, 1, 4, 4], DType::F64)?;
    let w = tensor(&[0.0; 9], [1, 1, 3, 3], DType::F64)?;
    assert!(conv_input_grad(&dy, &w, &ConvGeometry::new(), [5, 5]).is_err());
    Ok(())
}

#[test]
fn output_padding_not_below_stride_or_dilation_is_an_error() -> TestResult {
    let x = tensor(&[0.0; 9], [1, 1, 3, 3], DType::F64)?;
    let w = tensor(&[0.0; 9], [1, 1, 3, 3], DType::F64)?;
    let g = ConvGeometry::new().with_stride([2, 2]);
    assert!(conv_transpose2d(&x, &w, &g, [2, 0]).is_err());
    assert!(conv_transpose2d(&x, &w, &g, [1, 1]).is_ok());
    Ok(())
}
