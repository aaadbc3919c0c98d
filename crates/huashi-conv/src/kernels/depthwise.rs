//! Direct depthwise kernels (one input channel per group, depth multiplier
//! `m = C_out / C_in`; output channel `c·m + q` reads input channel `c`).
//!
//! - forward: parallel over the `N·C_out` output planes; per output row and
//!   kernel tap, an axpy over a contiguous run of the row;
//! - input gradient: parallel over the `N·C_in` input planes, scattering the
//!   `m` output planes of each channel back with axpys;
//! - weight gradient: parallel over output channels, each tap a dot product
//!   of output-gradient rows with shifted input rows, summed over the batch.
//!
//! No matrix product and no per-group loop: work is proportional to
//! `N·C_out·Ho·Wo·kh·kw`.

use super::{ConvDims, Real};
use rayon::prelude::*;

/// `y[j] += weight · x[(first + j)·stride + offset]`.
#[inline]
fn axpy_gather<T: Real>(
    y: &mut [T],
    weight: T,
    x: &[T],
    first: usize,
    stride: usize,
    offset: isize,
) {
    if y.is_empty() {
        return;
    }
    let start = ((first * stride) as isize + offset) as usize;
    if stride == 1 {
        let len = y.len();
        for (a, b) in y.iter_mut().zip(&x[start..start + len]) {
            *a += weight * *b;
        }
    } else {
        for (j, a) in y.iter_mut().enumerate() {
            *a += weight * x[start + j * stride];
        }
    }
}

/// `y[(first + j)·stride + offset] += weight · g[j]`.
#[inline]
fn axpy_scatter<T: Real>(
    y: &mut [T],
    weight: T,
    g: &[T],
    first: usize,
    stride: usize,
    offset: isize,
) {
    if g.is_empty() {
        return;
    }
    let start = ((first * stride) as isize + offset) as usize;
    if stride == 1 {
        for (a, b) in y[start..start + g.len()].iter_mut().zip(g) {
            *a += weight * *b;
        }
    } else {
        for (j, b) in g.iter().enumerate() {
            y[start + j * stride] += weight * *b;
        }
    }
}

/// `Σ_j a[j] · x[(first + j)·stride + offset]`, with eight partial sums so the
/// contiguous case vectorises.
#[inline]
fn dot_gather<T: Real>(a: &[T], x: &[T], first: usize, stride: usize, offset: isize) -> T {
    if a.is_empty() {
        return T::ZERO;
    }
    let start = ((first * stride) as isize + offset) as usize;
    if stride == 1 {
        let b = &x[start..start + a.len()];
        let mut partial = [T::ZERO; 8];
        let (a_chunks, b_chunks) = (a.chunks_exact(8), b.chunks_exact(8));
        let tail: T = a_chunks
            .remainder()
            .iter()
            .zip(b_chunks.remainder())
            .map(|(p, q)| *p * *q)
            .sum();
        for (ca, cb) in a_chunks.zip(b_chunks) {
            for l in 0..8 {
                partial[l] += ca[l] * cb[l];
            }
        }
        partial.into_iter().sum::<T>() + tail
    } else {
        a.iter()
            .enumerate()
            .map(|(j, p)| *p * x[start + j * stride])
            .sum()
    }
}

/// Depthwise forward convolution.
pub fn forward<T: Real>(dims: &ConvDims, x: &[T], w: &[T]) -> Vec<T> {
    let [kh, kw] = dims.kernel;
    let [wo, hw] = [dims.out_size[1], dims.in_plane()];
    let [sh, sw] = dims.geometry.stride;
    let multiplier = dims.out_per_group();
    let taps_x: Vec<_> = (0..kw).map(|v| dims.tap_range(1, v)).collect();
    let mut y = vec![T::ZERO; dims.output_len()];
    y.par_chunks_mut(dims.out_plane().max(1))
        .enumerate()
        .for_each(|(plane, y_plane)| {
            let (n, o) = (plane / dims.out_channels, plane % dims.out_channels);
            let x_plane = &x[(n * dims.in_channels + o / multiplier) * hw..][..hw];
            let kernel = &w[o * kh * kw..(o + 1) * kh * kw];
            for u in 0..kh {
                let (off_y, y0, y1) = dims.tap_range(0, u);
                for i in y0..y1 {
                    let iy = ((i * sh) as isize + off_y) as usize;
                    let x_row = &x_plane[iy * dims.in_size[1]..(iy + 1) * dims.in_size[1]];
                    let y_row = &mut y_plane[i * wo..(i + 1) * wo];
                    for (v, &(off_x, x0, x1)) in taps_x.iter().enumerate() {
                        axpy_gather(&mut y_row[x0..x1], kernel[u * kw + v], x_row, x0, sw, off_x);
                    }
                }
            }
        });
    y
}

/// Depthwise input gradient.
pub fn input_grad<T: Real>(dims: &ConvDims, dy: &[T], w: &[T]) -> Vec<T> {
    let [kh, kw] = dims.kernel;
    let [wo, p] = [dims.out_size[1], dims.out_plane()];
    let [width, hw] = [dims.in_size[1], dims.in_plane()];
    let [sh, sw] = dims.geometry.stride;
    let multiplier = dims.out_per_group();
    let taps_x: Vec<_> = (0..kw).map(|v| dims.tap_range(1, v)).collect();
    let mut dx = vec![T::ZERO; dims.input_len()];
    dx.par_chunks_mut(hw.max(1))
        .enumerate()
        .for_each(|(plane, dx_plane)| {
            let (n, c) = (plane / dims.in_channels, plane % dims.in_channels);
            for o in c * multiplier..(c + 1) * multiplier {
                let dy_plane = &dy[(n * dims.out_channels + o) * p..][..p];
                let kernel = &w[o * kh * kw..(o + 1) * kh * kw];
                for u in 0..kh {
                    let (off_y, y0, y1) = dims.tap_range(0, u);
                    for i in y0..y1 {
                        let iy = ((i * sh) as isize + off_y) as usize;
                        let dx_row = &mut dx_plane[iy * width..(iy + 1) * width];
                        let dy_row = &dy_plane[i * wo..(i + 1) * wo];
                        for (v, &(off_x, x0, x1)) in taps_x.iter().enumerate() {
                            let weight = kernel[u * kw + v];
                            axpy_scatter(dx_row, weight, &dy_row[x0..x1], x0, sw, off_x);
                        }
                    }
                }
            }
        });
    dx
}

/// Depthwise weight gradient, summed over the batch.
pub fn weight_grad<T: Real>(dims: &ConvDims, x: &[T], dy: &[T]) -> Vec<T> {
    let [kh, kw] = dims.kernel;
    let [wo, p] = [dims.out_size[1], dims.out_plane()];
    let [width, hw] = [dims.in_size[1], dims.in_plane()];
    let [sh, sw] = dims.geometry.stride;
    let multiplier = dims.out_per_group();
    let taps_x: Vec<_> = (0..kw).map(|v| dims.tap_range(1, v)).collect();
    let mut dw = vec![T::ZERO; dims.weight_len()];
    dw.par_chunks_mut((kh * kw).max(1))
        .enumerate()
        .for_each(|(o, dw_kernel)| {
            let c = o / multiplier;
            for n in 0..dims.batch {
                let x_plane = &x[(n * dims.in_channels + c) * hw..][..hw];
                let dy_plane = &dy[(n * dims.out_channels + o) * p..][..p];
                for u in 0..kh {
                    let (off_y, y0, y1) = dims.tap_range(0, u);
                    for i in y0..y1 {
                        let iy = ((i * sh) as isize + off_y) as usize;
                        let x_row = &x_plane[iy * width..(iy + 1) * width];
                        let dy_row = &dy_plane[i * wo..(i + 1) * wo];
                        for (v, &(off_x, x0, x1)) in taps_x.iter().enumerate() {
                            dw_kernel[u * kw + v] +=
                                dot_gather(&dy_row[x0..x1], x_row, x0, sw, off_x);
                        }
                    }
                }
            }
        });
    dw
}
