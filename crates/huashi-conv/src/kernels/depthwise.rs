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

use super::{rows, ConvDims, Real};
use rayon::prelude::*;

/// Runs `body` compiled for AVX2 + FMA when the CPU has them: the generic
/// loops it inlines then vectorise 8 (f32) or 4 (f64) lanes wide. `body`
/// and the closures inside it must be `#[inline(always)]`: a closure that is
/// not inlined into `wide` is compiled for the baseline (SSE2) instead.
#[inline(always)]
fn with_simd<R>(body: impl FnOnce() -> R) -> R {
    #[cfg(target_arch = "x86_64")]
    {
        #[target_feature(enable = "avx2,fma")]
        fn wide<R>(body: impl FnOnce() -> R) -> R {
            body()
        }
        if is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma") {
            // SAFETY: the CPU supports the features `wide` is compiled for.
            return unsafe { wide(body) };
        }
    }
    body()
}

/// `y[j] += weight · x[(first + j)·stride + offset]`.
#[inline(always)]
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
#[inline(always)]
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
#[inline(always)]
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

/// Per-call constants of the depthwise loops.
struct Plan {
    kernel: [usize; 2],
    stride: [usize; 2],
    multiplier: usize,
    /// `(offset, first, end)` of each horizontal tap.
    taps_x: Vec<(isize, usize, usize)>,
    /// Stride-1-column forward pass (and weight gradient) as a plane correlation.
    plane: rows::PlanePlan,
    /// The input gradient as a plane correlation (`dx` against `dy`, with
    /// negated offsets); a correlation only when both strides are 1.
    plane_transposed: rows::PlanePlan,
}

impl Plan {
    fn new(dims: &ConvDims) -> Self {
        let taps_x: Vec<_> = (0..dims.kernel[1]).map(|v| dims.tap_range(1, v)).collect();
        let offsets: Vec<isize> = taps_x.iter().map(|t| t.0).collect();
        let negated: Vec<isize> = offsets.iter().map(|o| -o).collect();
        let [width, wo] = [dims.in_size[1], dims.out_size[1]];
        let offsets_y: Vec<isize> = (0..dims.kernel[0])
            .map(|u| dims.tap_range(0, u).0)
            .collect();
        let plane = rows::PlanePlan {
            stride: dims.geometry.stride[0],
            offsets: offsets_y.clone(),
            src_rows: dims.in_size[0],
            columns: rows::RowPlan::new(&offsets, wo, width),
        };
        let plane_transposed = rows::PlanePlan {
            stride: 1,
            offsets: offsets_y.iter().map(|o| -o).collect(),
            src_rows: dims.out_size[0],
            columns: rows::RowPlan::new(&negated, width, wo),
        };
        Plan {
            kernel: dims.kernel,
            stride: dims.geometry.stride,
            multiplier: dims.out_per_group(),
            taps_x,
            plane,
            plane_transposed,
        }
    }

    /// Calls `f(i, iy, u)` for every output row `i`, input row `iy` and kernel row `u`.
    #[inline(always)]
    fn for_rows(&self, dims: &ConvDims, mut f: impl FnMut(usize, usize, usize)) {
        for u in 0..self.kernel[0] {
            let (off_y, y0, y1) = dims.tap_range(0, u);
            for i in y0..y1 {
                f(i, ((i * self.stride[0]) as isize + off_y) as usize, u);
            }
        }
    }
}

/// Depthwise forward convolution.
///
/// # Shapes
/// `x` NCHW row-major (`dims.input_len()`), `w (C_out, C_in/g, kh, kw)`
/// row-major (`dims.weight_len()`) → `y (N, C_out, Ho, Wo)` (`dims.output_len()`).
pub fn forward<T: Real>(dims: &ConvDims, x: &[T], w: &[T]) -> Vec<T> {
    let plan = Plan::new(dims);
    let [kh, kw] = dims.kernel;
    let ([width, wo], hw) = ([dims.in_size[1], dims.out_size[1]], dims.in_plane());
    let mut y = vec![T::ZERO; dims.output_len()];
    let planes = y.par_chunks_mut(dims.out_plane().max(1)).enumerate();
    planes.for_each(|(plane, y_plane)| {
        let (n, o) = (plane / dims.out_channels, plane % dims.out_channels);
        let x_plane = &x[(n * dims.in_channels + o / plan.multiplier) * hw..][..hw];
        let kernel = &w[o * kh * kw..(o + 1) * kh * kw];
        with_simd(
            #[inline(always)]
            || {
                if plan.stride[1] == 1 {
                    let rows = &plan.plane;
                    return rows::correlate_plane(y_plane, wo, x_plane, width, kernel, rows);
                }
                plan.for_rows(
                    dims,
                    #[inline(always)]
                    |i, iy, u| {
                        let x_row = &x_plane[iy * width..(iy + 1) * width];
                        let y_row = &mut y_plane[i * wo..(i + 1) * wo];
                        let kernel_row = &kernel[u * kw..(u + 1) * kw];
                        for (&weight, &(off_x, x0, x1)) in kernel_row.iter().zip(&plan.taps_x) {
                            axpy_gather(
                                &mut y_row[x0..x1],
                                weight,
                                x_row,
                                x0,
                                plan.stride[1],
                                off_x,
                            );
                        }
                    },
                )
            },
        )
    });
    y
}

/// Depthwise input gradient.
pub fn input_grad<T: Real>(dims: &ConvDims, dy: &[T], w: &[T]) -> Vec<T> {
    let plan = Plan::new(dims);
    let [kh, kw] = dims.kernel;
    let ([width, wo], p) = ([dims.in_size[1], dims.out_size[1]], dims.out_plane());
    let mut dx = vec![T::ZERO; dims.input_len()];
    let planes = dx.par_chunks_mut(dims.in_plane().max(1)).enumerate();
    planes.for_each(|(plane, dx_plane)| {
        let (n, c) = (plane / dims.in_channels, plane % dims.in_channels);
        for o in c * plan.multiplier..(c + 1) * plan.multiplier {
            let dy_plane = &dy[(n * dims.out_channels + o) * p..][..p];
            let kernel = &w[o * kh * kw..(o + 1) * kh * kw];
            with_simd(
                #[inline(always)]
                || {
                    if plan.stride == [1, 1] {
                        let rows = &plan.plane_transposed;
                        return rows::correlate_plane(dx_plane, width, dy_plane, wo, kernel, rows);
                    }
                    plan.for_rows(
                        dims,
                        #[inline(always)]
                        |i, iy, u| {
                            let dx_row = &mut dx_plane[iy * width..(iy + 1) * width];
                            let dy_row = &dy_plane[i * wo..(i + 1) * wo];
                            let kernel_row = &kernel[u * kw..(u + 1) * kw];
                            if plan.stride[1] == 1 {
                                let columns = &plan.plane_transposed.columns;
                                return rows::correlate_row(dx_row, dy_row, kernel_row, columns);
                            }
                            for (&weight, &(off_x, x0, x1)) in kernel_row.iter().zip(&plan.taps_x) {
                                let g = &dy_row[x0..x1];
                                axpy_scatter(dx_row, weight, g, x0, plan.stride[1], off_x);
                            }
                        },
                    )
                },
            )
        }
    });
    dx
}

/// Depthwise weight gradient, summed over the batch.
pub fn weight_grad<T: Real>(dims: &ConvDims, x: &[T], dy: &[T]) -> Vec<T> {
    let plan = Plan::new(dims);
    let [kh, kw] = dims.kernel;
    let [width, wo] = [dims.in_size[1], dims.out_size[1]];
    let (hw, p) = (dims.in_plane(), dims.out_plane());
    let mut dw = vec![T::ZERO; dims.weight_len()];
    let kernels = dw.par_chunks_mut((kh * kw).max(1)).enumerate();
    kernels.for_each(|(o, dw_kernel)| {
        let c = o / plan.multiplier;
        let mut partial = vec![[T::ZERO; rows::LANES]; kh * kw];
        for n in 0..dims.batch {
            let x_plane = &x[(n * dims.in_channels + c) * hw..][..hw];
            let dy_plane = &dy[(n * dims.out_channels + o) * p..][..p];
            with_simd(
                #[inline(always)]
                || {
                    plan.for_rows(
                        dims,
                        #[inline(always)]
                        |i, iy, u| {
                            let x_row = &x_plane[iy * width..(iy + 1) * width];
                            let dy_row = &dy_plane[i * wo..(i + 1) * wo];
                            let lanes = &mut partial[u * kw..(u + 1) * kw];
                            if plan.stride[1] == 1 {
                                return rows::correlate_dots(
                                    lanes,
                                    dy_row,
                                    x_row,
                                    &plan.plane.columns,
                                );
                            }
                            for (slot, &(off_x, x0, x1)) in lanes.iter_mut().zip(&plan.taps_x) {
                                slot[0] +=
                                    dot_gather(&dy_row[x0..x1], x_row, x0, plan.stride[1], off_x);
                            }
                        },
                    )
                },
            )
        }
        for (value, lanes) in dw_kernel.iter_mut().zip(&partial) {
            *value = lanes.iter().copied().sum();
        }
    });
    dw
}
