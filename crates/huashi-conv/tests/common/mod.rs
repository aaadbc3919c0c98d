//! Shared helpers for the integration tests of `huashi-conv`.
//!
//! - [`ConvProblem`] and the naive f64 loops [`naive_conv2d`],
//!   [`naive_input_grad`] and [`naive_weight_grad`], written straight from the
//!   definition of the convolution and independent of the crate's kernels
//!   (only the plain fields of [`ConvGeometry`] are read);
//! - [`SplitMix64`], a seeded generator for test data;
//! - conversions between tensors and `Vec<f64>`, and comparisons whose
//!   tolerance is derived from the machine epsilon and the problem size.
#![allow(dead_code)] // each test binary uses a different subset

use candle_core::{DType, Device, Tensor};
use huashi_conv::ConvGeometry;

/// Errors of test helpers: candle's, huashi's, or a message.
pub type TestResult<T = ()> = Result<T, Box<dyn std::error::Error + Send + Sync>>;

// ---------------------------------------------------------------------------
// Problem description
// ---------------------------------------------------------------------------

/// The complete shape of one convolution `x (N, C_in, H, W) * w (C_out,
/// C_in/groups, kh, kw) -> y (N, C_out, Ho, Wo)`.
///
/// `output` is normally the size given by the convolution formula; a
/// transposed convolution with output padding is described by the
/// convolution whose *input* is the transposed output, with `output` set to
/// the transposed input (see [`ConvProblem::transposed`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConvProblem {
    /// Batch size `N`.
    pub batch: usize,
    /// Input channels of the convolution `C_in`.
    pub in_channels: usize,
    /// Output channels of the convolution `C_out`.
    pub out_channels: usize,
    /// Input spatial size `[H, W]`.
    pub input: [usize; 2],
    /// Kernel size `[kh, kw]`.
    pub kernel: [usize; 2],
    /// Output spatial size `[Ho, Wo]`.
    pub output: [usize; 2],
    /// Stride, dilation, padding, groups.
    pub geometry: ConvGeometry,
}

/// Output size from the textbook formula `⌊(i + p_lo + p_hi − d(k−1) − 1)/s⌋ + 1`,
/// or `None` when the dilated kernel does not fit in the padded input.
pub fn naive_output_size(
    input: [usize; 2],
    kernel: [usize; 2],
    geometry: &ConvGeometry,
) -> Option<[usize; 2]> {
    let axis = |a: usize| {
        let padded = input[a] + geometry.padding[2 * a] + geometry.padding[2 * a + 1];
        let extent = geometry.dilation[a] * (kernel[a] - 1) + 1;
        padded
            .checked_sub(extent)
            .map(|room| room / geometry.stride[a] + 1)
    };
    Some([axis(0)?, axis(1)?])
}

/// Transposed-convolution output size `(i − 1)s − p_lo − p_hi + d(k − 1) + 1 + op`.
pub fn naive_transposed_output_size(
    input: [usize; 2],
    kernel: [usize; 2],
    geometry: &ConvGeometry,
    output_padding: [usize; 2],
) -> [usize; 2] {
    [0, 1].map(|a| {
        (input[a] - 1) * geometry.stride[a]
            + geometry.dilation[a] * (kernel[a] - 1)
            + 1
            + output_padding[a]
            - geometry.padding[2 * a]
            - geometry.padding[2 * a + 1]
    })
}

impl ConvProblem {
    /// A convolution problem; panics if the kernel does not fit (a test-table bug).
    pub fn new(
        batch: usize,
        channels: [usize; 2],
        input: [usize; 2],
        kernel: [usize; 2],
        geometry: ConvGeometry,
    ) -> Self {
        let output = naive_output_size(input, kernel, &geometry).unwrap_or_else(|| {
            panic!("kernel {kernel:?} does not fit input {input:?} with {geometry:?}")
        });
        let [in_channels, out_channels] = channels;
        assert!(
            in_channels % geometry.groups == 0 && out_channels % geometry.groups == 0,
            "channels {channels:?} not divisible by groups {}",
            geometry.groups
        );
        ConvProblem {
            batch,
            in_channels,
            out_channels,
            input,
            kernel,
            output,
            geometry,
        }
    }

    /// The convolution whose adjoint is the transposed convolution of an
    /// input `(N, C_in_t, input)` by a PyTorch `ConvTranspose2d` weight
    /// `(C_in_t, C_out_t/groups, kh, kw)`.
    pub fn transposed(
        batch: usize,
        channels_t: [usize; 2],
        input_t: [usize; 2],
        kernel: [usize; 2],
        geometry: ConvGeometry,
        output_padding: [usize; 2],
    ) -> Self {
        let [in_t, out_t] = channels_t;
        let output_t = naive_transposed_output_size(input_t, kernel, &geometry, output_padding);
        ConvProblem {
            batch,
            in_channels: out_t,
            out_channels: in_t,
            input: output_t,
            kernel,
            output: input_t,
            geometry,
        }
    }

    /// Input channels per group.
    pub fn in_per_group(&self) -> usize {
        self.in_channels / self.geometry.groups
    }

    /// Output channels per group.
    pub fn out_per_group(&self) -> usize {
        self.out_channels / self.geometry.groups
    }

    /// Shape of `x`.
    pub fn x_shape(&self) -> [usize; 4] {
        [self.batch, self.in_channels, self.input[0], self.input[1]]
    }

    /// Shape of `w`.
    pub fn w_shape(&self) -> [usize; 4] {
        [
            self.out_channels,
            self.in_per_group(),
            self.kernel[0],
            self.kernel[1],
        ]
    }

    /// Shape of `y`.
    pub fn y_shape(&self) -> [usize; 4] {
        [
            self.batch,
            self.out_channels,
            self.output[0],
            self.output[1],
        ]
    }

    /// Number of multiply-adds of one forward pass counting padding taps
    /// (an upper bound on the length of any sum in the three products).
    pub fn macs(&self) -> usize {
        volume(self.y_shape()) * self.in_per_group() * self.kernel[0] * self.kernel[1]
    }
}

/// Number of elements of a shape.
pub fn volume(shape: [usize; 4]) -> usize {
    shape.iter().product()
}

// ---------------------------------------------------------------------------
// Naive reference
// ---------------------------------------------------------------------------

/// Flat indices of one product `w[o, c, u, v] · x[n, ci, row, col]` that
/// contributes to `y[n, o, i, j]`.
#[derive(Debug, Clone, Copy)]
struct Term {
    x: usize,
    w: usize,
    y: usize,
}

/// Input coordinate read by output position `out` through kernel tap `tap`
/// along `axis`, or `None` when it falls in the zero padding.
fn input_coordinate(problem: &ConvProblem, axis: usize, out: usize, tap: usize) -> Option<usize> {
    let g = &problem.geometry;
    let padded = out * g.stride[axis] + tap * g.dilation[axis];
    let coordinate = padded.checked_sub(g.padding[2 * axis])?;
    (coordinate < problem.input[axis]).then_some(coordinate)
}

/// Calls `visit` once for every non-padding term of
/// `y[n,o,i,j] = Σ_{c,u,v} w[o,c,u,v] · x[n, group(o)·C_in_g + c, i·sh − pt + u·dh, j·sw − pl + v·dw]`.
fn for_each_term(problem: &ConvProblem, mut visit: impl FnMut(Term)) {
    let [_, c_in, h, w] = problem.x_shape();
    let [c_out, c_in_g, kh, kw] = problem.w_shape();
    let [_, _, ho, wo] = problem.y_shape();
    let c_out_g = problem.out_per_group();
    for n in 0..problem.batch {
        for o in 0..c_out {
            let group = o / c_out_g;
            for c in 0..c_in_g {
                let ci = group * c_in_g + c;
                for u in 0..kh {
                    for v in 0..kw {
                        let w_index = ((o * c_in_g + c) * kh + u) * kw + v;
                        for i in 0..ho {
                            let Some(row) = input_coordinate(problem, 0, i, u) else {
                                continue;
                            };
                            for j in 0..wo {
                                let Some(col) = input_coordinate(problem, 1, j, v) else {
                                    continue;
                                };
                                visit(Term {
                                    x: ((n * c_in + ci) * h + row) * w + col,
                                    w: w_index,
                                    y: ((n * c_out + o) * ho + i) * wo + j,
                                });
                            }
                        }
                    }
                }
            }
        }
    }
}

/// Naive result with, per element, the number of products summed and the
/// largest product magnitude: the ingredients of the rounding tolerance.
#[derive(Debug, Clone)]
pub struct Reference {
    /// Shape of the result.
    pub shape: [usize; 4],
    /// Exact-ish (f64) values.
    pub values: Vec<f64>,
    terms: Vec<usize>,
    max_term: Vec<f64>,
}

impl Reference {
    fn zeros(shape: [usize; 4]) -> Self {
        let len = volume(shape);
        Reference {
            shape,
            values: vec![0.0; len],
            terms: vec![0; len],
            max_term: vec![0.0; len],
        }
    }

    fn add(&mut self, index: usize, product: f64) {
        self.values[index] += product;
        self.terms[index] += 1;
        self.max_term[index] = self.max_term[index].max(product.abs());
    }

    /// Rounding tolerance of element `index` for machine epsilon `eps`:
    /// `16 · eps · √K · max|term|` with `K` the number of products summed,
    /// the typical (random-walk) growth of rounding error with a margin; the
    /// worst case is `K · eps · Σ|term|`. A blocked GEMM that accumulates
    /// sample after sample into the weight gradient reached 8.2× `eps·√K·max`
    /// on one element of `tiles_3x3_padded_batch3` (f64, K = 960).
    /// Elements no product reaches must be exactly zero.
    pub fn tolerance(&self, index: usize, eps: f64) -> f64 {
        16.0 * eps * (self.terms[index] as f64).sqrt() * self.max_term[index]
    }
}

fn check_len(what: &str, data: &[f64], shape: [usize; 4]) {
    assert_eq!(
        data.len(),
        volume(shape),
        "{what} has {} values, shape {shape:?}",
        data.len()
    );
}

/// `y = conv2d(x, w)` from the definition.
pub fn naive_conv2d(problem: &ConvProblem, x: &[f64], w: &[f64]) -> Reference {
    check_len("x", x, problem.x_shape());
    check_len("w", w, problem.w_shape());
    let mut y = Reference::zeros(problem.y_shape());
    for_each_term(problem, |t| y.add(t.y, w[t.w] * x[t.x]));
    y
}

/// `dx = ∂⟨dy, conv2d(x, w)⟩/∂x`: every product scatters back to its input pixel.
pub fn naive_input_grad(problem: &ConvProblem, dy: &[f64], w: &[f64]) -> Reference {
    check_len("dy", dy, problem.y_shape());
    check_len("w", w, problem.w_shape());
    let mut dx = Reference::zeros(problem.x_shape());
    for_each_term(problem, |t| dx.add(t.x, w[t.w] * dy[t.y]));
    dx
}

/// `dw = ∂⟨dy, conv2d(x, w)⟩/∂w`: every product scatters back to its kernel tap.
pub fn naive_weight_grad(problem: &ConvProblem, x: &[f64], dy: &[f64]) -> Reference {
    check_len("x", x, problem.x_shape());
    check_len("dy", dy, problem.y_shape());
    let mut dw = Reference::zeros(problem.w_shape());
    for_each_term(problem, |t| dw.add(t.w, x[t.x] * dy[t.y]));
    dw
}

// ---------------------------------------------------------------------------
// Random data
// ---------------------------------------------------------------------------

/// SplitMix64 (Steele, Lea & Flood 2014): a tiny seeded generator.
#[derive(Debug, Clone)]
pub struct SplitMix64(u64);

impl SplitMix64 {
    /// A generator from a seed.
    pub fn new(seed: u64) -> Self {
        SplitMix64(seed)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `[-1, 1)`, rounded to f32 so that f32 and f64 runs see the
    /// same numbers and the naive f64 reference is exact in its inputs.
    pub fn uniform(&mut self) -> f64 {
        let unit = (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
        (2.0 * unit - 1.0) as f32 as f64
    }

    /// `len` uniform values.
    pub fn values(&mut self, len: usize) -> Vec<f64> {
        (0..len).map(|_| self.uniform()).collect()
    }

    /// Values for a tensor of `shape`.
    pub fn for_shape(&mut self, shape: [usize; 4]) -> Vec<f64> {
        self.values(volume(shape))
    }
}

// ---------------------------------------------------------------------------
// Tensors
// ---------------------------------------------------------------------------

/// A CPU tensor of `dtype` holding `values`.
pub fn tensor(values: &[f64], shape: [usize; 4], dtype: DType) -> TestResult<Tensor> {
    let t = Tensor::from_vec(values.to_vec(), &shape, &Device::Cpu)?;
    Ok(t.to_dtype(dtype)?)
}

/// All values of a tensor, as f64, in row-major order.
pub fn values(t: &Tensor) -> TestResult<Vec<f64>> {
    Ok(t.to_dtype(DType::F64)?.flatten_all()?.to_vec1::<f64>()?)
}

/// The value of a scalar tensor, as f64.
pub fn scalar(t: &Tensor) -> TestResult<f64> {
    Ok(t.to_dtype(DType::F64)?.to_scalar::<f64>()?)
}

/// Shape of a rank-4 tensor.
pub fn shape4(t: &Tensor) -> TestResult<[usize; 4]> {
    let (a, b, c, d) = t.dims4()?;
    Ok([a, b, c, d])
}

/// Machine epsilon of a floating dtype.
pub fn epsilon(dtype: DType) -> f64 {
    match dtype {
        DType::F32 => f32::EPSILON as f64,
        DType::F64 => f64::EPSILON,
        other => panic!("no epsilon for {other:?}"),
    }
}

/// Multi-index of a flat row-major index.
pub fn unravel(index: usize, shape: [usize; 4]) -> [usize; 4] {
    let mut rest = index;
    let mut out = [0; 4];
    for axis in (0..4).rev() {
        out[axis] = rest % shape[axis];
        rest /= shape[axis];
    }
    out
}

/// Compares `got` with the naive `expected` element by element within
/// [`Reference::tolerance`]; the error names the worst element.
pub fn check_close(what: &str, got: &Tensor, expected: &Reference) -> TestResult {
    let eps = epsilon(got.dtype());
    let shape = shape4(got)?;
    if shape != expected.shape {
        return Err(format!("{what}: shape {shape:?}, expected {:?}", expected.shape).into());
    }
    let got = values(got)?;
    let mut failures = 0;
    let mut worst: Option<(f64, usize)> = None;
    for (index, (&g, &e)) in got.iter().zip(&expected.values).enumerate() {
        let error = (g - e).abs();
        let tolerance = expected.tolerance(index, eps);
        if error > tolerance || !g.is_finite() {
            failures += 1;
            let excess = if tolerance > 0.0 {
                error / tolerance
            } else {
                f64::INFINITY
            };
            if worst.is_none_or(|(w, _)| excess > w) {
                worst = Some((excess, index));
            }
        }
    }
    match worst {
        None => Ok(()),
        Some((_, index)) => Err(format!(
            "{what}: {failures} of {} elements off; worst at {:?}: got {}, expected {}, tolerance {:e} ({} terms)",
            got.len(),
            unravel(index, shape),
            got[index],
            expected.values[index],
            expected.tolerance(index, eps),
            expected.terms[index],
        )
        .into()),
    }
}

/// `Σ a ⊙ b` over flat vectors, in f64.
pub fn dot(a: &[f64], b: &[f64]) -> f64 {
    assert_eq!(a.len(), b.len());
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// Largest absolute value (0 for an empty slice).
pub fn max_abs(values: &[f64]) -> f64 {
    values.iter().fold(0.0, |m, v| m.max(v.abs()))
}
