//! Dense convolutions without an im2col matrix.
//!
//! Pad each sample's planes once to `H_p × W_p` (`H_p = H + p_top + p_bottom`,
//! `W_p = W + p_left + p_right`) and split them into `s_h·s_w` phase planes
//! of `H_q × W_q = ⌈H_p/s_h⌉ × ⌈W_p/s_w⌉`, phase `(a, b)` holding the padded
//! pixels `(i·s_h + a, j·s_w + b)` (one plane, the padded input, for stride
//! 1). Number output pixels in the phase row width, `p' = i·W_q + j`. Tap
//! `(c, u, v)` of output pixel `(i, j)` reads padded pixel
//! `(i·s_h + u·d_h, j·s_w + v·d_w)`, which is pixel
//! `(i + ⌊u·d_h/s_h⌋, j + ⌊v·d_w/s_w⌋)` of phase
//! `(u·d_h mod s_h, v·d_w mod s_w)`: for every output pixel at one fixed
//! offset. So the im2col matrix's row `k` is a contiguous run of the phase
//! planes at `offset_k`, and
//!
//! - forward: `y[o, p'] = Σ_k W[o, k] · x_q[offset_k + p']`
//!   ([`tile::rows_times_pixels`]; the columns `j ≥ W_o` of each phase row
//!   are computed and dropped, `(W_q − W_o)/W_q` of the work);
//! - input gradient (stride 1): the same correlation of the padded output
//!   gradient with the kernel flipped in space and transposed in channels,
//!   padded by `d·(k − 1) − p_before` before and `H − H_o + p_before` after;
//!
//! The weight gradient stays a blocked GEMM ([`super::gemm_path`]): as dot
//! products over this layout it was slower (PERF.md).
//!
//! A 1×1 kernel with stride 1 and no padding reads the input in place.

use super::tile::{self, PackedRows, PixelRows, Simd};
use super::{ConvDims, Real};
use rayon::prelude::*;
use std::borrow::Cow;

/// Output pixels per plane (in the phase row width) below which the planes
/// are too small for whole register tiles: one plane is one product here,
/// so smaller planes go where the samples are stacked side by side
/// ([`super::stacked`], [`super::gemm_path`]).
const MIN_PIXELS: usize = 256;

/// Whether [`forward`] applies: dense, with planes of at least 256 output
/// pixels (in the phase row width).
pub fn supports(dims: &ConvDims) -> bool {
    let [hp, wp] = forward_correlation(dims).padded();
    let wq = wp.div_ceil(dims.geometry.stride[1]);
    !dims.is_depthwise() && dims.out_size[0] * wq >= MIN_PIXELS && hp > 0
}

/// Whether [`input_grad`] applies (dense, stride 1).
pub fn supports_input_grad(dims: &ConvDims) -> bool {
    supports(dims) && dims.geometry.stride == [1, 1]
}

/// A correlation: `channels_in` planes of `in_size`, padded by `pads`
/// (`[top, bottom, left, right]`, negative crops), to `channels_out` planes
/// of `out_size`, in `groups` groups.
#[derive(Debug, Clone, Copy)]
pub(super) struct Correlation {
    batch: usize,
    groups: usize,
    channels_in: usize,
    channels_out: usize,
    in_size: [usize; 2],
    out_size: [usize; 2],
    kernel: [usize; 2],
    stride: [usize; 2],
    dilation: [usize; 2],
    pads: [isize; 4],
    /// Phase planes `[c][a][b][n]` (samples side by side in each channel)
    /// instead of `[n][c][a][b]`.
    pub(super) interleaved: bool,
}

/// Zeros after each sample's phase planes: the dropped columns of the last
/// row and a whole register tile past the last pixel read into it.
fn slack(c: &Correlation) -> usize {
    let columns = c.dilation[1] * (c.kernel[1] - 1) / c.stride[1] + 64;
    if c.interleaved {
        // The weight gradient reads whole images past the last tap's offset.
        let rows = c.dilation[0] * (c.kernel[0] - 1) / c.stride[0] + 1;
        rows * c.phase()[1] + columns
    } else {
        columns
    }
}

impl Correlation {
    fn padded(&self) -> [usize; 2] {
        let [t, b, l, r] = self.pads;
        [
            (self.in_size[0] as isize + t + b).max(0) as usize,
            (self.in_size[1] as isize + l + r).max(0) as usize,
        ]
    }
    /// `[H_q, W_q]`, the size of one phase plane.
    pub(super) fn phase(&self) -> [usize; 2] {
        let [hp, wp] = self.padded();
        [hp.div_ceil(self.stride[0]), wp.div_ceil(self.stride[1])]
    }
    fn in_place(&self) -> bool {
        self.kernel == [1, 1] && self.pads == [0; 4] && self.stride == [1, 1]
    }
    /// Pixels of one product: an output plane in the phase row width, or
    /// (interleaved) every sample's phase plane but the last's unused rows.
    pub(super) fn pixels(&self) -> usize {
        let [hq, wq] = self.phase();
        let before_last = if self.interleaved {
            self.batch.saturating_sub(1) * hq * wq
        } else {
            0
        };
        before_last + self.out_size[0] * wq
    }
    /// Where the output pixels of a product land ([`PixelRows`]).
    pub(super) fn layout(&self) -> PixelRows {
        let [hq, wq] = self.phase();
        PixelRows {
            src_width: wq,
            out_width: self.out_size[1],
            src_rows: hq,
            out_rows: self.out_size[0],
        }
    }
    /// Phase planes of one channel's phase (`N` when interleaved, else 1).
    fn planes_per_phase(&self) -> usize {
        if self.interleaved {
            self.batch
        } else {
            1
        }
    }
    pub(super) fn depth(&self) -> usize {
        self.channels_in / self.groups * self.kernel[0] * self.kernel[1]
    }
    /// `offset_k` for every tap `k = (c, u, v)` of group `g`: the phase plane
    /// `(u·d_h mod s_h, v·d_w mod s_w)` of channel `c`, shifted by
    /// `(⌊u·d_h / s_h⌋, ⌊v·d_w / s_w⌋)`.
    pub(super) fn offsets(&self, g: usize) -> Vec<usize> {
        let ([hq, wq], [sh, sw]) = (self.phase(), self.stride);
        let cin_g = self.channels_in / self.groups;
        let mut offsets = Vec::with_capacity(self.depth());
        for c in g * cin_g..(g + 1) * cin_g {
            for u in 0..self.kernel[0] {
                let row = u * self.dilation[0];
                for v in 0..self.kernel[1] {
                    let col = v * self.dilation[1];
                    let plane = ((c * sh + row % sh) * sw + col % sw) * self.planes_per_phase();
                    offsets.push(plane * hq * wq + row / sh * wq + col / sw);
                }
            }
        }
        offsets
    }

    /// Every sample's planes padded and split into `s_h·s_w` phase planes
    /// (element `(i, j)` of phase `(a, b)` is padded pixel
    /// `(i·s_h + a, j·s_w + b)`), laid out `[n][c][a][b]` with [`slack`]
    /// zeros after each sample, or (interleaved) `[c][a][b][n]` with the
    /// slack at the end.
    pub(super) fn pad<T: Real>(&self, x: &[T]) -> Vec<T> {
        let ([hq, wq], [sh, sw]) = (self.phase(), self.stride);
        let plane_len = hq * wq;
        let channel = sh * sw * self.planes_per_phase() * plane_len;
        let (batch, channels) = (self.batch, self.channels_in);
        let in_plane = self.in_size[0] * self.in_size[1];
        let input = |n: usize, c: usize| &x[(n * channels + c) * in_plane..][..in_plane];
        if self.interleaved {
            let mut padded = vec![T::ZERO; channels * channel + slack(self)];
            padded[..channels * channel]
                .par_chunks_mut(channel.max(1))
                .enumerate()
                .for_each(|(c, dst)| {
                    for (phase, n) in (0..sh * sw).flat_map(|ph| (0..batch).map(move |n| (ph, n))) {
                        let dst = &mut dst[(phase * batch + n) * plane_len..][..plane_len];
                        self.fill_phase(dst, input(n, c), phase);
                    }
                });
            return padded;
        }
        let sample = channels * channel + slack(self);
        let mut padded = vec![T::ZERO; batch * sample];
        padded
            .par_chunks_mut(sample.max(1))
            .enumerate()
            .for_each(|(n, dst)| {
                for (c, phase) in (0..channels).flat_map(|c| (0..sh * sw).map(move |ph| (c, ph))) {
                    let dst = &mut dst[(c * sh * sw + phase) * plane_len..][..plane_len];
                    self.fill_phase(dst, input(n, c), phase);
                }
            });
        padded
    }

    /// Fills phase plane `phase = a·s_w + b` of one input plane.
    fn fill_phase<T: Real>(&self, dst: &mut [T], src: &[T], phase: usize) {
        let [h, w] = self.in_size;
        let (wq, [sh, sw]) = (self.phase()[1], self.stride);
        let (a, b) = (phase / sw, phase % sw);
        let [top, _, left, _] = self.pads;
        for (i, dst_row) in dst.chunks_exact_mut(wq.max(1)).enumerate() {
            let si = (i * sh + a) as isize - top;
            if si >= 0 && si < h as isize {
                let src_row = &src[si as usize * w..][..w];
                copy_phase(dst_row, src_row, sw, b as isize - left);
            }
        }
    }

    /// The padded input (the input itself for an unpadded 1×1 kernel) and
    /// the length of one sample in it.
    pub(super) fn source<'a, T: Real>(&self, x: &'a [T]) -> (Cow<'a, [T]>, usize) {
        if self.in_place() {
            let sample = self.channels_in * self.in_size[0] * self.in_size[1];
            return (Cow::Borrowed(x), sample);
        }
        let padded = self.pad(x);
        let sample = padded.len() / self.batch.max(1);
        (Cow::Owned(padded), sample)
    }

    /// `y = correlate(x, a)` with `a(g, r, k)` row `r` of group `g`'s matrix.
    fn run<T: Real>(&self, x: &[T], a: impl Fn(usize, usize, usize) -> T + Sync) -> Vec<T> {
        let simd = Simd::detect();
        let cout_g = self.channels_out / self.groups;
        let [ho, wo] = self.out_size;
        let plane_out = ho * wo;
        let (src, sample) = self.source(x);
        let packed: Vec<PackedRows<T>> = (0..self.groups)
            .map(|g| PackedRows::new(cout_g, self.depth(), |r, k| a(g, r, k)))
            .collect();
        let offsets: Vec<Vec<usize>> = (0..self.groups).map(|g| self.offsets(g)).collect();
        let layout = self.layout();
        // Jobs: samples × groups, each split into row parts of whole blocks
        // when that alone cannot keep every thread busy.
        let jobs = self.batch * self.groups;
        let blocks = cout_g.div_ceil(tile::MR);
        let parts = rayon::current_num_threads()
            .div_ceil(jobs)
            .clamp(1, blocks.max(1));
        let blocks_per_part = blocks.div_ceil(parts).max(1);
        let mut y = vec![T::ZERO; self.batch * self.channels_out * plane_out];
        y.par_chunks_mut((cout_g * plane_out).max(1))
            .enumerate()
            .for_each(|(job, y_group)| {
                let (n, g) = (job / self.groups, job % self.groups);
                let src_n = &src[n * sample..];
                let part_len = blocks_per_part * tile::MR * plane_out;
                y_group
                    .par_chunks_mut(part_len.max(1))
                    .enumerate()
                    .for_each(|(part, out)| {
                        let first = part * blocks_per_part;
                        let blocks = first..(first + blocks_per_part).min(blocks);
                        let (a, offsets, pixels) = (&packed[g], &offsets[g], self.pixels());
                        tile::rows_times_pixels(
                            simd, a, blocks, src_n, offsets, pixels, layout, out, plane_out,
                        );
                    });
            });
        y
    }
}

pub(super) fn forward_correlation(dims: &ConvDims) -> Correlation {
    let p = dims.geometry.padding.map(|v| v as isize);
    Correlation {
        batch: dims.batch,
        groups: dims.geometry.groups,
        channels_in: dims.in_channels,
        channels_out: dims.out_channels,
        in_size: dims.in_size,
        out_size: dims.out_size,
        kernel: dims.kernel,
        stride: dims.geometry.stride,
        dilation: dims.geometry.dilation,
        pads: p,
        interleaved: false,
    }
}

/// Forward convolution (not depthwise; any stride, through the phase planes;
/// see [`supports`]).
///
/// # Shapes
/// `x` NCHW row-major (`dims.input_len()`), `w (C_out, C_in/g, kh, kw)`
/// row-major (`dims.weight_len()`) → `y (N, C_out, Ho, Wo)` (`dims.output_len()`).
pub fn forward<T: Real>(dims: &ConvDims, x: &[T], w: &[T]) -> Vec<T> {
    let (cout_g, k) = (dims.out_per_group(), dims.patch_len());
    forward_correlation(dims).run(x, |g, r, tap| w[(g * cout_g + r) * k + tap])
}

/// Input gradient (stride 1, not depthwise): the output gradient correlated
/// with the flipped, channel-transposed kernel.
pub fn input_grad<T: Real>(dims: &ConvDims, dy: &[T], w: &[T]) -> Vec<T> {
    let [kh, kw] = dims.kernel;
    let [dh, dw] = dims.geometry.dilation;
    let [pt, _, pl, _] = dims.geometry.padding.map(|v| v as isize);
    let before = |d: usize, k: usize, p: isize| (d * (k - 1)) as isize - p;
    let after =
        |axis: usize, p: isize| dims.in_size[axis] as isize - dims.out_size[axis] as isize + p;
    let correlation = Correlation {
        batch: dims.batch,
        groups: dims.geometry.groups,
        channels_in: dims.out_channels,
        channels_out: dims.in_channels,
        in_size: dims.out_size,
        out_size: dims.in_size,
        kernel: dims.kernel,
        stride: [1, 1],
        dilation: dims.geometry.dilation,
        pads: [
            before(dh, kh, pt),
            after(0, pt),
            before(dw, kw, pl),
            after(1, pl),
        ],
        interleaved: false,
    };
    let (cout_g, k) = (dims.out_per_group(), dims.patch_len());
    correlation.run(dy, |g, c, tap| {
        let (o, rest) = (tap / (kh * kw), tap % (kh * kw));
        let (u, v) = (kh - 1 - rest / kw, kw - 1 - rest % kw);
        w[(g * cout_g + o) * k + (c * kh + u) * kw + v]
    })
}

/// `dst[j] = src[j·stride + offset]` where that is inside `src`.
fn copy_phase<T: Real>(dst: &mut [T], src: &[T], stride: usize, offset: isize) {
    let (first, end) = super::valid_range(offset, stride, src.len(), dst.len());
    if stride == 1 {
        let start = (first as isize + offset) as usize;
        dst[first..end].copy_from_slice(&src[start..start + end - first]);
        return;
    }
    for (j, d) in dst.iter_mut().enumerate().take(end).skip(first) {
        *d = src[((j * stride) as isize + offset) as usize];
    }
}
