//! Naive f64 loops straight from the definition of the convolution, the
//! reference the fast kernels are tested against (and the tour's check):
//!
//! `y[n,o,i,j] = Σ_{c,u,v} w[o,c,u,v] · x[n, group(o)·C_in/g + c, i·s_h − p_top + u·d_h, j·s_w − p_left + v·d_w]`
//!
//! with zeros outside the input; the input and weight gradients scatter every
//! product back. Only the plain fields of [`ConvGeometry`] are read, so the
//! reference is independent of the crate's kernels and geometry code. Each
//! result carries, per element, the count and largest magnitude of its
//! products, from which [`Reference::tolerance`] derives the rounding bound.
//! These loops are slow (no blocking, no SIMD): for tests and small checks.

use crate::geometry::ConvGeometry;

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
    /// A convolution problem.
    ///
    /// # Panics
    /// When the kernel does not fit or the channels are not divisible by the
    /// groups: problems are written in test tables, where that is a bug.
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
    /// Per element, the number of products summed.
    pub terms: Vec<usize>,
    /// Per element, the largest product magnitude.
    pub max_term: Vec<f64>,
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

/// # Panics
/// When `data` does not have the length of `shape`.
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
