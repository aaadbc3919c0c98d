//! Convolutions as matrix products, per sample and group:
//!
//! - forward: `y_g (C_out/g × P) = W_g (C_out/g × K) · col_g (K × P)`;
//! - input gradient: `col_g = W_gᵀ · dy_g`, then col2im;
//! - weight gradient: `dW_g += dy_g · col_gᵀ`, summed over samples.
//!
//! The first two run through the register tiles of [`tile`] (weights packed
//! once per call); the weight gradient through the `gemm` crate.
//!
//! `col_g` is the input itself for pointwise (1×1, stride 1, unpadded)
//! kernels. Samples run in parallel (one im2col buffer per worker); in the
//! weight gradient, with fewer samples than threads, the matrix products are
//! parallel instead.

use super::im2col::{col2im_add, im2col};
use super::tile::{self, PackedRows, PixelRows, Simd};
use super::{ConvDims, Real};
use gemm::Parallelism;
use rayon::prelude::*;

/// A strided read-only matrix view: element `(i, j)` is `data[i·rows + j·cols]`.
#[derive(Clone, Copy)]
pub(super) struct View<'a, T> {
    data: &'a [T],
    row_stride: usize,
    col_stride: usize,
}

impl<'a, T> View<'a, T> {
    pub(super) fn rows(data: &'a [T], row_stride: usize) -> Self {
        View {
            data,
            row_stride,
            col_stride: 1,
        }
    }
    pub(super) fn transposed(data: &'a [T], row_stride: usize) -> Self {
        View {
            data,
            row_stride: 1,
            col_stride: row_stride,
        }
    }
    fn fits(&self, rows: usize, cols: usize) -> bool {
        rows == 0
            || cols == 0
            || (rows - 1) * self.row_stride + (cols - 1) * self.col_stride < self.data.len()
    }
}

/// `dst (m × n, row-major, row stride n) (+)= lhs (m × k) · rhs (k × n)`.
pub(super) fn matmul<T: Real>(
    dst: &mut [T],
    [m, n, k]: [usize; 3],
    lhs: View<T>,
    rhs: View<T>,
    accumulate: bool,
    parallelism: Parallelism,
) {
    assert!(dst.len() >= m * n && lhs.fits(m, k) && rhs.fits(k, n));
    if m == 0 || n == 0 {
        return;
    }
    if k == 0 {
        if !accumulate {
            dst[..m * n].fill(T::ZERO);
        }
        return;
    }
    // SAFETY: the asserts above keep every index the product touches inside
    // the three slices; `dst` is borrowed mutably, so it aliases neither input.
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            dst.as_mut_ptr(),
            1,
            n as isize,
            accumulate,
            lhs.data.as_ptr(),
            lhs.col_stride as isize,
            lhs.row_stride as isize,
            rhs.data.as_ptr(),
            rhs.col_stride as isize,
            rhs.row_stride as isize,
            T::ONE,
            T::ONE,
            false,
            false,
            false,
            parallelism,
        );
    }
}

/// Parallel matrix products only when samples alone cannot fill the threads.
fn inner_parallelism(batch: usize) -> Parallelism {
    if batch >= rayon::current_num_threads() {
        Parallelism::None
    } else {
        Parallelism::Rayon(0)
    }
}

fn col_buffer<T: Real>(dims: &ConvDims) -> Vec<T> {
    if dims.is_pointwise() {
        Vec::new()
    } else {
        vec![T::ZERO; dims.patch_len() * dims.out_plane()]
    }
}

/// The im2col matrix of one group's input planes (the planes themselves for pointwise).
fn patches<'a, T: Real>(dims: &ConvDims, x_group: &'a [T], col: &'a mut [T]) -> &'a [T] {
    if dims.is_pointwise() {
        x_group
    } else {
        im2col(dims, x_group, col, dims.out_plane());
        col
    }
}

/// Every group's weights packed for [`tile::rows_times_pixels`]: rows are
/// output channels (`transposed`: patch entries), depth the other side.
pub(super) fn packed_weights<T: Real>(
    dims: &ConvDims,
    w: &[T],
    transposed: bool,
) -> Vec<PackedRows<T>> {
    let (cout_g, k) = (dims.out_per_group(), dims.patch_len());
    (0..dims.geometry.groups)
        .into_par_iter()
        .map(|g| {
            let w_g = &w[g * cout_g * k..(g + 1) * cout_g * k];
            if transposed {
                PackedRows::new(k, cout_g, |r, o| w_g[o * k + r])
            } else {
                PackedRows::new(cout_g, k, |o, r| w_g[o * k + r])
            }
        })
        .collect()
}

/// `out (rows × p) = a · src`, `src` row `k` at `src[k·p..]`.
pub(super) fn product<T: Real>(a: &PackedRows<T>, src: &[T], p: usize, out: &mut [T]) {
    if p == 0 {
        return;
    }
    let offsets: Vec<usize> = (0..src.len() / p.max(1)).map(|k| k * p).collect();
    let layout = PixelRows::plane(p, p);
    let blocks = 0..a.blocks();
    tile::rows_times_pixels(Simd::detect(), a, blocks, src, &offsets, p, layout, out, p);
}

/// Forward convolution.
///
/// # Shapes
/// `x` NCHW row-major (`dims.input_len()`), `w (C_out, C_in/g, kh, kw)`
/// row-major (`dims.weight_len()`) → `y (N, C_out, Ho, Wo)` (`dims.output_len()`).
pub fn forward<T: Real>(dims: &ConvDims, x: &[T], w: &[T]) -> Vec<T> {
    let (cin_g, cout_g) = (dims.in_per_group(), dims.out_per_group());
    let (p, hw) = (dims.out_plane(), dims.in_plane());
    let packed = packed_weights(dims, w, false);
    let mut y = vec![T::ZERO; dims.output_len()];
    y.par_chunks_mut((dims.out_channels * p).max(1))
        .enumerate()
        .for_each_init(
            || col_buffer(dims),
            |col, (n, y_n)| {
                for (g, a) in packed.iter().enumerate() {
                    let x_g = &x[(n * dims.in_channels + g * cin_g) * hw..][..cin_g * hw];
                    let rhs = patches(dims, x_g, col);
                    let y_g = &mut y_n[g * cout_g * p..(g + 1) * cout_g * p];
                    product(a, rhs, p, y_g);
                }
            },
        );
    y
}

/// Input gradient (transposed convolution).
pub fn input_grad<T: Real>(dims: &ConvDims, dy: &[T], w: &[T]) -> Vec<T> {
    let (cin_g, cout_g) = (dims.in_per_group(), dims.out_per_group());
    let (k, p, hw) = (dims.patch_len(), dims.out_plane(), dims.in_plane());
    let packed = packed_weights(dims, w, true);
    let mut dx = vec![T::ZERO; dims.input_len()];
    dx.par_chunks_mut((dims.in_channels * hw).max(1))
        .enumerate()
        .for_each_init(
            || vec![T::ZERO; k * p],
            |col, (n, dx_n)| {
                for (g, a) in packed.iter().enumerate() {
                    let dy_g = &dy[(n * dims.out_channels + g * cout_g) * p..][..cout_g * p];
                    let dx_g = &mut dx_n[g * cin_g * hw..(g + 1) * cin_g * hw];
                    if dims.is_pointwise() {
                        product(a, dy_g, p, dx_g);
                    } else {
                        product(a, dy_g, p, col);
                        col2im_add(dims, col, dx_g, p);
                    }
                }
            },
        );
    dx
}

/// Weight gradient, summed over the batch.
pub fn weight_grad<T: Real>(dims: &ConvDims, x: &[T], dy: &[T]) -> Vec<T> {
    let workers = rayon::current_num_threads().min(dims.batch).max(1);
    let per_worker = dims.batch.div_ceil(workers).max(1);
    let parallelism = inner_parallelism(dims.batch);
    let partials: Vec<Vec<T>> = (0..workers)
        .into_par_iter()
        .map(|worker| {
            let samples = worker * per_worker..((worker + 1) * per_worker).min(dims.batch);
            weight_grad_samples(dims, x, dy, samples, parallelism)
        })
        .collect();
    let mut partials = partials.into_iter();
    let mut dw = partials
        .next()
        .unwrap_or_else(|| vec![T::ZERO; dims.weight_len()]);
    for partial in partials {
        for (a, b) in dw.iter_mut().zip(partial) {
            *a += b;
        }
    }
    dw
}

fn weight_grad_samples<T: Real>(
    dims: &ConvDims,
    x: &[T],
    dy: &[T],
    samples: std::ops::Range<usize>,
    parallelism: Parallelism,
) -> Vec<T> {
    let (groups, cin_g, cout_g) = (
        dims.geometry.groups,
        dims.in_per_group(),
        dims.out_per_group(),
    );
    let (k, p, hw) = (dims.patch_len(), dims.out_plane(), dims.in_plane());
    let mut dw = vec![T::ZERO; dims.weight_len()];
    let mut col = col_buffer(dims);
    for n in samples {
        for g in 0..groups {
            let x_g = &x[(n * dims.in_channels + g * cin_g) * hw..][..cin_g * hw];
            let patches_t = View::transposed(patches(dims, x_g, &mut col), p);
            let dy_g = View::rows(
                &dy[(n * dims.out_channels + g * cout_g) * p..][..cout_g * p],
                p,
            );
            let dw_g = &mut dw[g * cout_g * k..(g + 1) * cout_g * k];
            matmul(dw_g, [cout_g, k, p], dy_g, patches_t, true, parallelism);
        }
    }
    dw
}
