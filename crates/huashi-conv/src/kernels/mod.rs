//! CPU kernels for the three convolution ops, generic over `f32` and `f64`.
//!
//! Dispatch, by the shape of the problem:
//! - depthwise (one input channel per group; a depth multiplier under 16 or
//!   fewer than four groups): direct loops over `N·C` planes in parallel,
//!   contiguous inner loops ([`depthwise`]);
//! - dense: the im2col matrix read in place from a padded copy of the input
//!   split into stride phases, through register-tiled loops ([`direct`],
//!   [`tile`]), for planes of 256 output pixels or more; the input gradient
//!   so for stride 1;
//! - many groups (four or more; depthwise too when the depth
//!   multiplier is 16 or more): one product per group with the samples side
//!   by side ([`stacked`]);
//! - everything else: per sample and group, `W (C_out/g × K) · col (K × P)`
//!   with `K = C_in/g · kh · kw`, `P = Ho · Wo` ([`gemm_path`]); `col` is the
//!   input itself for a 1×1, stride-1, unpadded kernel (no im2col), otherwise
//!   an im2col buffer ([`im2col`]).

pub mod avx512;
pub mod depthwise;
pub mod direct;
pub mod gemm_path;
pub mod im2col;
pub mod rows;
pub mod stacked;
pub mod tile;

use crate::geometry::ConvGeometry;

/// A floating-point element type the kernels run on (`f32` or `f64`).
pub trait Real:
    Copy
    + Send
    + Sync
    + Default
    + PartialOrd
    + std::ops::Add<Output = Self>
    + std::ops::Mul<Output = Self>
    + std::ops::AddAssign
    + std::iter::Sum
    + avx512::Avx512Tiles
    + 'static
{
    /// Additive identity.
    const ZERO: Self;
    /// Multiplicative identity.
    const ONE: Self;
    /// `self · a + b` with one rounding (an FMA instruction where the
    /// caller is compiled for one).
    fn mul_add(self, a: Self, b: Self) -> Self;
}

impl Real for f32 {
    const ZERO: Self = 0.0;
    const ONE: Self = 1.0;
    #[inline(always)]
    fn mul_add(self, a: Self, b: Self) -> Self {
        f32::mul_add(self, a, b)
    }
}

impl Real for f64 {
    const ZERO: Self = 0.0;
    const ONE: Self = 1.0;
    #[inline(always)]
    fn mul_add(self, a: Self, b: Self) -> Self {
        f64::mul_add(self, a, b)
    }
}

/// Every size a convolution kernel needs, fixed when an op is built.
///
/// `out_size` may be smaller than what `geometry` gives for `in_size` (a
/// transposed convolution whose output padding is at least the stride); the
/// forward op then produces only the first `out_size` rows and columns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ConvDims {
    /// Batch size N.
    pub batch: usize,
    /// Input channels.
    pub in_channels: usize,
    /// Output channels.
    pub out_channels: usize,
    /// Input `[H, W]`.
    pub in_size: [usize; 2],
    /// Output `[Ho, Wo]`.
    pub out_size: [usize; 2],
    /// Kernel `[kh, kw]`.
    pub kernel: [usize; 2],
    /// Stride, dilation, padding, groups.
    pub geometry: ConvGeometry,
}

impl ConvDims {
    /// Input channels per group.
    pub fn in_per_group(&self) -> usize {
        self.in_channels / self.geometry.groups
    }
    /// Output channels per group.
    pub fn out_per_group(&self) -> usize {
        self.out_channels / self.geometry.groups
    }
    /// Reduction length per output value: `C_in/g · kh · kw`.
    pub fn patch_len(&self) -> usize {
        self.in_per_group() * self.kernel[0] * self.kernel[1]
    }
    /// Input plane size `H·W`.
    pub fn in_plane(&self) -> usize {
        self.in_size[0] * self.in_size[1]
    }
    /// Output plane size `Ho·Wo`.
    pub fn out_plane(&self) -> usize {
        self.out_size[0] * self.out_size[1]
    }
    /// Number of elements of the input tensor.
    pub fn input_len(&self) -> usize {
        self.batch * self.in_channels * self.in_plane()
    }
    /// Number of elements of the output tensor.
    pub fn output_len(&self) -> usize {
        self.batch * self.out_channels * self.out_plane()
    }
    /// Number of elements of the weight tensor.
    pub fn weight_len(&self) -> usize {
        self.out_channels * self.patch_len()
    }
    /// Whether each group sees one input channel (depthwise, any multiplier).
    pub fn is_depthwise(&self) -> bool {
        self.in_per_group() == 1 && self.geometry.groups > 1
    }
    /// Whether the im2col matrix is the input itself (1×1, stride 1, no padding).
    pub fn is_pointwise(&self) -> bool {
        self.kernel == [1, 1]
            && self.geometry.stride == [1, 1]
            && self.geometry.padding == [0; 4]
            && self.out_size == self.in_size
    }
    /// The `(offset, first, end)` of kernel tap `tap` along `axis`: output
    /// positions `o ∈ [first, end)` read input `o·s + offset`, inside the input.
    pub fn tap_range(&self, axis: usize, tap: usize) -> (isize, usize, usize) {
        let g = &self.geometry;
        let offset = (tap * g.dilation[axis]) as isize - g.padding[2 * axis] as isize;
        let (first, end) = valid_range(
            offset,
            g.stride[axis],
            self.in_size[axis],
            self.out_size[axis],
        );
        (offset, first, end)
    }
}

/// Output positions `o < out_len` with `0 ≤ o·stride + offset < in_len`.
pub fn valid_range(offset: isize, stride: usize, in_len: usize, out_len: usize) -> (usize, usize) {
    let s = stride as isize;
    let first = if offset >= 0 {
        0
    } else {
        (-offset + s - 1) / s
    };
    let limit = in_len as isize - offset;
    let end = if limit <= 0 { 0 } else { (limit + s - 1) / s };
    let end = (end as usize).min(out_len);
    let first = (first as usize).min(end);
    (first, end)
}

/// `y = conv(x, w)`.
///
/// # Shapes
/// `x` NCHW row-major (`dims.input_len()`), `w (C_out, C_in/g, kh, kw)`
/// row-major (`dims.weight_len()`) → `y (N, C_out, Ho, Wo)` (`dims.output_len()`).
pub fn forward<T: Real>(dims: &ConvDims, x: &[T], w: &[T]) -> Vec<T> {
    if dims.is_depthwise() && !stacked::takes_depthwise(dims) {
        depthwise::forward(dims, x, w)
    } else if direct::supports(dims) {
        direct::forward(dims, x, w)
    } else if stacked::applies(dims) {
        stacked::forward(dims, x, w)
    } else {
        gemm_path::forward(dims, x, w)
    }
}

/// `dx = convᵀ(dy, w)`, the adjoint of [`forward`] in `x`.
pub fn input_grad<T: Real>(dims: &ConvDims, dy: &[T], w: &[T]) -> Vec<T> {
    if dims.is_depthwise() && !stacked::takes_depthwise(dims) {
        depthwise::input_grad(dims, dy, w)
    } else if direct::supports_input_grad(dims) {
        direct::input_grad(dims, dy, w)
    } else if stacked::applies(dims) {
        stacked::input_grad(dims, dy, w)
    } else {
        gemm_path::input_grad(dims, dy, w)
    }
}

/// `dw`, the adjoint of [`forward`] in `w`.
pub fn weight_grad<T: Real>(dims: &ConvDims, x: &[T], dy: &[T]) -> Vec<T> {
    if dims.is_depthwise() && !stacked::takes_depthwise(dims) {
        depthwise::weight_grad(dims, x, dy)
    } else if stacked::applies(dims) {
        stacked::weight_grad(dims, x, dy)
    } else {
        gemm_path::weight_grad(dims, x, dy)
    }
}

#[cfg(test)]
mod tests {
    use super::valid_range;

    #[test]
    fn valid_range_matches_brute_force() {
        for offset in -5isize..5 {
            for stride in 1..4 {
                for in_len in 1..7 {
                    for out_len in 0..7 {
                        let brute: Vec<usize> = (0..out_len)
                            .filter(|&o| {
                                let i = (o * stride) as isize + offset;
                                i >= 0 && i < in_len as isize
                            })
                            .collect();
                        let (first, end) = valid_range(offset, stride, in_len, out_len);
                        assert_eq!((first..end).collect::<Vec<_>>(), brute);
                    }
                }
            }
        }
    }
}
