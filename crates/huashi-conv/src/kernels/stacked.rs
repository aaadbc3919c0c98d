//! Convolutions with many small groups (a meta-batch of tasks run as one
//! grouped convolution, or a depthwise convolution with a large depth
//! multiplier): one matrix product per group with the samples side by side.
//!
//! - forward: the phase-plane correlation of [`direct`], with the phase
//!   planes laid out `[c][a][b][n]` so that one product per group covers
//!   every sample (`y_g = W_g · x_q[offset_k + p]` over `N·H_q·W_q` pixels);
//! - input gradient: `col_g = W_gᵀ · dy_g` with `dy_g` every sample's output
//!   gradient side by side (`C_out/g × N·P`, `P = H_o·W_o`), then col2im per
//!   sample;
//! - weight gradient: `dW_g = dy_g · col_gᵀ` with `col_g` every sample's
//!   im2col matrix side by side (`K × N·P`); the product's sum over columns
//!   is the sum over samples.
//!
//! Groups run in parallel, each on its own buffers; the per-group results
//! are then copied to the NCHW output. Compared with one product per sample
//! and group, the products are `N` times wider, which is what small planes
//! (`P` = 4 to 196 in the few-shot CNN) need to fill a register tile.

use super::direct;
use super::gemm_path::{matmul, packed_weights, product, View};
use super::im2col::{col2im_add, im2col};
use super::tile::{self, Simd};
use super::{ConvDims, Real};
use gemm::Parallelism;
use rayon::prelude::*;

/// Whether this path is taken: four groups or more (a fixed rule, so the
/// same convolution takes the same path on every machine).
pub fn applies(dims: &ConvDims) -> bool {
    dims.geometry.groups >= 4
}

/// Whether a depthwise convolution runs here rather than in the direct
/// depthwise loops: with a large depth multiplier (the few-shot CNN's first
/// block has 64 filters on one input channel per task) each input plane
/// feeds many outputs, a matrix product's shape.
pub fn takes_depthwise(dims: &ConvDims) -> bool {
    dims.out_per_group() >= 16 && applies(dims)
}

/// `col_g`: every sample's im2col matrix of group `g`, side by side.
fn stacked_patches<T: Real>(dims: &ConvDims, x: &[T], g: usize) -> Vec<T> {
    let (cin_g, p, hw) = (dims.in_per_group(), dims.out_plane(), dims.in_plane());
    let width = dims.batch * p;
    let mut col = vec![T::ZERO; dims.patch_len() * width];
    for n in 0..dims.batch {
        let x_g = &x[(n * dims.in_channels + g * cin_g) * hw..][..cin_g * hw];
        im2col(dims, x_g, &mut col[n * p..], width);
    }
    col
}

/// Rows `first..first + rows` of every sample's `channels × plane` block of
/// `t`, side by side: `rows × N·plane`.
fn stacked_rows<T: Real>(
    t: &[T],
    batch: usize,
    channels: usize,
    plane: usize,
    first: usize,
    rows: usize,
) -> Vec<T> {
    let mut out = vec![T::ZERO; rows * batch * plane];
    for r in 0..rows {
        for n in 0..batch {
            let src = &t[(n * channels + first + r) * plane..][..plane];
            out[(r * batch + n) * plane..][..plane].copy_from_slice(src);
        }
    }
    out
}

/// The inverse of [`stacked_rows`] for every group at once: group `g`'s
/// `rows × N·plane` block goes to channels `g·rows..` of each sample.
fn unstack<T: Real>(per_group: &[Vec<T>], batch: usize, rows: usize, plane: usize) -> Vec<T> {
    let channels = rows * per_group.len();
    let mut out = vec![T::ZERO; batch * channels * plane];
    out.par_chunks_mut((channels * plane).max(1))
        .enumerate()
        .for_each(|(n, out_n)| {
            for (g, block) in per_group.iter().enumerate() {
                for r in 0..rows {
                    let src = &block[(r * batch + n) * plane..][..plane];
                    out_n[(g * rows + r) * plane..][..plane].copy_from_slice(src);
                }
            }
        });
    out
}

/// Forward convolution: per group, one product over every sample's phase
/// planes side by side ([`direct`]'s correlation, interleaved).
///
/// # Shapes
/// `x` NCHW row-major (`dims.input_len()`), `w (C_out, C_in/g, kh, kw)`
/// row-major (`dims.weight_len()`) → `y (N, C_out, Ho, Wo)` (`dims.output_len()`).
pub fn forward<T: Real>(dims: &ConvDims, x: &[T], w: &[T]) -> Vec<T> {
    let (cout_g, width) = (dims.out_per_group(), dims.batch * dims.out_plane());
    let correlation = interleaved(dims);
    let src = correlation.pad(x);
    let layout = correlation.layout();
    let packed = packed_weights(dims, w, false);
    let per_group: Vec<Vec<T>> = packed
        .par_iter()
        .enumerate()
        .map(|(g, a)| {
            let (offsets, pixels) = (correlation.offsets(g), correlation.pixels());
            let mut y_g = vec![T::ZERO; cout_g * width];
            let blocks = 0..a.blocks();
            tile::rows_times_pixels(
                Simd::detect(),
                a,
                blocks,
                &src,
                &offsets,
                pixels,
                layout,
                &mut y_g,
                width,
            );
            y_g
        })
        .collect();
    unstack(&per_group, dims.batch, cout_g, dims.out_plane())
}

fn interleaved(dims: &ConvDims) -> direct::Correlation {
    let mut correlation = direct::forward_correlation(dims);
    correlation.interleaved = true;
    correlation
}

/// Input gradient (transposed convolution).
pub fn input_grad<T: Real>(dims: &ConvDims, dy: &[T], w: &[T]) -> Vec<T> {
    let (cin_g, cout_g) = (dims.in_per_group(), dims.out_per_group());
    let (p, hw, width) = (
        dims.out_plane(),
        dims.in_plane(),
        dims.batch * dims.out_plane(),
    );
    let packed = packed_weights(dims, w, true);
    let per_group: Vec<Vec<T>> = (0..dims.geometry.groups)
        .into_par_iter()
        .map(|g| {
            let dy_g = stacked_rows(dy, dims.batch, dims.out_channels, p, g * cout_g, cout_g);
            let mut col = vec![T::ZERO; dims.patch_len() * width];
            product(&packed[g], &dy_g, width, &mut col);
            // Sample n's planes at columns n·hw of a `cin_g × N·hw` block.
            let mut dx_n = vec![T::ZERO; cin_g * hw];
            let mut dx_g = vec![T::ZERO; cin_g * dims.batch * hw];
            for n in 0..dims.batch {
                dx_n.fill(T::ZERO);
                col2im_add(dims, &col[n * p..], &mut dx_n, width);
                for c in 0..cin_g {
                    let dst = &mut dx_g[(c * dims.batch + n) * hw..][..hw];
                    dst.copy_from_slice(&dx_n[c * hw..][..hw]);
                }
            }
            dx_g
        })
        .collect();
    unstack(&per_group, dims.batch, cin_g, hw)
}

/// Weight gradient, summed over the batch.
pub fn weight_grad<T: Real>(dims: &ConvDims, x: &[T], dy: &[T]) -> Vec<T> {
    let (cout_g, k) = (dims.out_per_group(), dims.patch_len());
    let (p, width) = (dims.out_plane(), dims.batch * dims.out_plane());
    let mut dw = vec![T::ZERO; dims.weight_len()];
    dw.par_chunks_mut((cout_g * k).max(1))
        .enumerate()
        .for_each(|(g, dw_g)| {
            let col = stacked_patches(dims, x, g);
            let dy_g = stacked_rows(dy, dims.batch, dims.out_channels, p, g * cout_g, cout_g);
            let (lhs, rhs) = (View::rows(&dy_g, width), View::transposed(&col, width));
            matmul(dw_g, [cout_g, k, width], lhs, rhs, false, Parallelism::None);
        });
    dw
}
