//! Register-tiled products over an offset table, the core of the dense
//! convolution kernels ([`super::direct`]).
//!
//! **Rows × pixels** ([`rows_times_pixels`]): for a block of `MR` rows,
//! `out[r, p] = Σ_k a[r, k] · src[offsets[k] + p]`. Row `k` of the right-hand
//! matrix is a contiguous run of `src` starting at `offsets[k]`: the im2col
//! matrix of a stride-1 convolution on a padded input, without building it
//! (`offsets[k] = c·plane + u·d·W_p + v·d`). A tile keeps `MR × NP`
//! accumulators in registers; per `k` it loads `NP` pixels once and
//! broadcasts `MR` weights, so the loop is bound by FMAs, not memory.
//!
//! The loops are written once, generically; [`Simd`] compiles them for
//! AVX-512F, AVX2 + FMA or plain x86-64 / other targets, chosen at run time,
//! each with its own tile size.

use super::Real;

/// Rows per tile of [`rows_times_pixels`] (the packing of `a` follows it).
pub const MR: usize = 8;

/// An instruction set the tiled loops are compiled for. A caller may ask
/// for any; the loops run with the lesser of it and [`Simd::detect`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Simd {
    /// Whatever the target gives by default.
    Baseline,
    /// AVX2 + FMA (16 registers of 32 bytes).
    Avx2,
    /// AVX-512F (32 vector registers of 64 bytes).
    Avx512,
}

impl Simd {
    /// The best instruction set of this CPU (detected once).
    pub fn detect() -> Simd {
        static DETECTED: std::sync::OnceLock<Simd> = std::sync::OnceLock::new();
        *DETECTED.get_or_init(Self::probe)
    }

    fn probe() -> Simd {
        #[cfg(target_arch = "x86_64")]
        {
            if is_x86_feature_detected!("avx512f") && is_x86_feature_detected!("fma") {
                return Simd::Avx512;
            }
            if is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma") {
                return Simd::Avx2;
            }
        }
        Simd::Baseline
    }
}

/// `a` packed for [`rows_times_pixels`]: blocks of [`MR`] rows, each stored
/// `k`-major (`[k][MR]`), rows past the end zero.
#[derive(Debug, Clone)]
pub struct PackedRows<T> {
    data: Vec<T>,
    rows: usize,
    depth: usize,
}

impl<T: Real> PackedRows<T> {
    /// Packs `rows × depth` values, element `(r, k)` at `a(r, k)`.
    pub fn new(rows: usize, depth: usize, a: impl Fn(usize, usize) -> T) -> Self {
        let blocks = rows.div_ceil(MR);
        let mut data = vec![T::ZERO; blocks * depth * MR];
        for (b, block) in data.chunks_exact_mut((depth * MR).max(1)).enumerate() {
            for (k, lane) in block.chunks_exact_mut(MR).enumerate() {
                for (i, v) in lane.iter_mut().enumerate() {
                    let r = b * MR + i;
                    if r < rows {
                        *v = a(r, k);
                    }
                }
            }
        }
        PackedRows { data, rows, depth }
    }
    /// Number of row blocks.
    pub fn blocks(&self) -> usize {
        self.rows.div_ceil(MR)
    }
    /// The rows of block `b` that exist.
    pub fn rows_of(&self, b: usize) -> std::ops::Range<usize> {
        b * MR..((b + 1) * MR).min(self.rows)
    }
    /// Block `b`, `k`-major: `MR · depth` values.
    pub fn block(&self, b: usize) -> &[T] {
        &self.data[b * self.depth * MR..(b + 1) * self.depth * MR]
    }
}

/// Where pixel `p` of a product lands: pixels come in rows of `src_width`
/// of which the first `out_width` are kept, and rows in images of
/// `src_rows` of which the first `out_rows` are kept; kept pixels are
/// written densely, image after image.
#[derive(Debug, Clone, Copy)]
pub struct PixelRows {
    /// Pixels per row of the product.
    pub src_width: usize,
    /// Leading pixels per row that are written out.
    pub out_width: usize,
    /// Rows per image of the product.
    pub src_rows: usize,
    /// Leading rows per image that are written out.
    pub out_rows: usize,
}

impl PixelRows {
    /// One image of rows of `src_width` pixels, the first `out_width` kept.
    pub fn plane(src_width: usize, out_width: usize) -> Self {
        PixelRows {
            src_width,
            out_width,
            src_rows: usize::MAX,
            out_rows: usize::MAX,
        }
    }
}

/// `out[r·out_stride + map(p)] = Σ_k a[r, k] · src[offsets[k] + p]` for the
/// rows of the row blocks `blocks` (`out` starts at their first row) and
/// pixels `p < pixels`, where `map` drops the columns [`PixelRows`] does not
/// keep. Pixel tiles are the outer loop, so one tile of `src` serves every
/// row block while it is in cache.
///
/// # Panics
/// If a read falls outside `src` or a write outside `out` (callers size both).
#[allow(clippy::too_many_arguments)]
pub fn rows_times_pixels<T: Real>(
    simd: Simd,
    a: &PackedRows<T>,
    blocks: std::ops::Range<usize>,
    src: &[T],
    offsets: &[usize],
    pixels: usize,
    layout: PixelRows,
    out: &mut [T],
    out_stride: usize,
) {
    assert_eq!(offsets.len(), a.depth);
    let simd = simd.min(Simd::detect());
    let job = RowsJob {
        a,
        blocks,
        src,
        offsets,
        pixels,
        layout,
        out_stride,
    };
    let lanes = 64 / std::mem::size_of::<T>();
    match simd {
        #[cfg(target_arch = "x86_64")]
        // SAFETY: `Simd::Avx512` only when the CPU has it (`simd` is at most
        // `Simd::detect()`); `run` checks the bounds contract of the tile.
        Simd::Avx512 if lanes == 16 => job.run::<48>(out, |a, src, offsets, p0| unsafe {
            T::avx512_tile::<48>(a, src, offsets, p0)
        }),
        #[cfg(target_arch = "x86_64")]
        // SAFETY: as above.
        Simd::Avx512 => job.run::<24>(out, |a, src, offsets, p0| unsafe {
            T::avx512_tile::<24>(a, src, offsets, p0)
        }),
        #[cfg(target_arch = "x86_64")]
        Simd::Avx2 => unsafe_simd::rows_avx2::<T, 16>(&job, out),
        _ => job.run::<8>(out, generic_tile::<T, 8>),
    }
}

/// One call of [`rows_times_pixels`].
struct RowsJob<'a, T> {
    a: &'a PackedRows<T>,
    blocks: std::ops::Range<usize>,
    src: &'a [T],
    offsets: &'a [usize],
    pixels: usize,
    layout: PixelRows,
    out_stride: usize,
}

impl<T: Real> RowsJob<'_, T> {
    #[inline(always)]
    fn run<const NP: usize>(&self, out: &mut [T], tile: TileFn<T, NP>) {
        let full = self.pixels / NP * NP;
        let last = self.offsets.iter().max().map_or(0, |&o| o + full);
        assert!(last <= self.src.len());
        for p0 in (0..full).step_by(NP) {
            self.each_block(out, |a| tile(a, self.src, self.offsets, p0), p0, NP);
        }
        if full < self.pixels && last + NP <= self.src.len() {
            // The last pixels, read in place: `src` has room for a whole
            // tile past them (the values read there are dropped).
            let width = self.pixels - full;
            self.each_block(out, |a| tile(a, self.src, self.offsets, full), full, width);
        } else if full < self.pixels {
            // The last pixels: copy them (zero past the end) into a small
            // buffer laid out like `src` with offsets `k·NP`.
            let width = self.pixels - full;
            let mut rest = vec![T::ZERO; self.offsets.len() * NP];
            let mut offsets = Vec::with_capacity(self.offsets.len());
            for (k, &off) in self.offsets.iter().enumerate() {
                rest[k * NP..k * NP + width].copy_from_slice(&self.src[off + full..][..width]);
                offsets.push(k * NP);
            }
            self.each_block(out, |a| tile(a, &rest, &offsets, 0), full, width);
        }
    }

    /// Computes one pixel tile for every row block and stores it.
    #[inline(always)]
    fn each_block<const NP: usize>(
        &self,
        out: &mut [T],
        tile: impl Fn(&[T]) -> [[T; NP]; MR],
        p0: usize,
        width: usize,
    ) {
        let first_row = self.blocks.start * MR;
        for b in self.blocks.clone() {
            let rows = self.a.rows_of(b);
            let acc = tile(self.a.block(b));
            let out = &mut out[(rows.start - first_row) * self.out_stride..];
            self.store(&acc, rows.len(), p0, width, out);
        }
    }

    /// Writes the kept pixels `p0..p0 + width` of a tile's existing rows.
    #[inline(always)]
    fn store<const NP: usize>(
        &self,
        acc: &[[T; NP]; MR],
        rows: usize,
        p0: usize,
        width: usize,
        out: &mut [T],
    ) {
        let PixelRows {
            src_width,
            out_width,
            src_rows,
            out_rows,
        } = self.layout;
        let mut p = p0;
        while p < p0 + width {
            let (row, col) = (p / src_width, p % src_width);
            let (image, row) = (row / src_rows, row % src_rows);
            let run_end = (p - col + src_width).min(p0 + width);
            if col < out_width && row < out_rows {
                let kept = (run_end - p).min(out_width - col);
                let at = (image * out_rows + row) * out_width + col;
                for (r, acc_r) in acc.iter().enumerate().take(rows) {
                    let dst = &mut out[r * self.out_stride + at..][..kept];
                    dst.copy_from_slice(&acc_r[p - p0..p - p0 + kept]);
                }
            }
            p = run_end;
        }
    }
}

/// A tile function: `acc[r][l] = Σ_k a[k][r] · src[offsets[k] + p0 + l]`.
/// It may assume `a.len() = MR·offsets.len()` and every read inside `src`.
type TileFn<T, const NP: usize> = fn(&[T], &[T], &[usize], usize) -> [[T; NP]; MR];

/// One `MR × NP` tile: `acc[r][l] = Σ_k a[k][r] · src[offsets[k] + p0 + l]`.
#[inline(always)]
pub(super) fn generic_tile<T: Real, const NP: usize>(
    a: &[T],
    src: &[T],
    offsets: &[usize],
    p0: usize,
) -> [[T; NP]; MR] {
    let mut acc = [[T::ZERO; NP]; MR];
    for (a_k, &off) in a.chunks_exact(MR).zip(offsets) {
        let a_k: &[T; MR] = a_k.try_into().expect("chunks of MR");
        let b: &[T; NP] = src[off + p0..off + p0 + NP].try_into().expect("NP pixels");
        for r in 0..MR {
            for l in 0..NP {
                acc[r][l] = a_k[r].mul_add(b[l], acc[r][l]);
            }
        }
    }
    acc
}

/// The target-feature entry points: each compiles the generic loops above
/// for one instruction set.
#[cfg(target_arch = "x86_64")]
mod unsafe_simd {
    use super::{Real, RowsJob};

    #[target_feature(enable = "avx2,fma")]
    fn rows_avx2_impl<T: Real, const NP: usize>(job: &RowsJob<T>, out: &mut [T]) {
        job.run::<NP>(out, super::generic_tile::<T, NP>)
    }
    pub(super) fn rows_avx2<T: Real, const NP: usize>(job: &RowsJob<T>, out: &mut [T]) {
        // SAFETY: only called for `Simd::Avx2` or better (AVX2 and FMA present).
        unsafe { rows_avx2_impl::<T, NP>(job, out) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LEVELS: [Simd; 3] = [Simd::Baseline, Simd::Avx2, Simd::Avx512];

    /// Deterministic values in [-1, 1).
    fn values<T: Real + From<f32>>(len: usize, seed: u32) -> Vec<T> {
        let mut state = seed.wrapping_mul(2_654_435_761).wrapping_add(1);
        (0..len)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 17;
                state ^= state << 5;
                T::from((state % 2000) as f32 / 1000.0 - 1.0)
            })
            .collect()
    }

    /// Every instruction set against a naive loop, with row and pixel
    /// remainders and dropped columns.
    fn check_rows<T: Real + From<f32> + Into<f64> + std::fmt::Debug>() {
        let (rows, depth, width, kept, lines) = (19, 7, 23, 20, 5);
        let pixels = width * lines;
        let a: Vec<T> = values(rows * depth, 1);
        let offsets: Vec<usize> = (0..depth).map(|k| k * 131 + k % 3).collect();
        let src: Vec<T> = values(offsets[depth - 1] + pixels, 2);
        let packed = PackedRows::new(rows, depth, |r, k| a[r * depth + k]);
        let layout = PixelRows::plane(width, kept);
        for simd in LEVELS {
            let mut out = vec![T::ZERO; rows * kept * lines];
            let blocks = 0..packed.blocks();
            rows_times_pixels(
                simd,
                &packed,
                blocks,
                &src,
                &offsets,
                pixels,
                layout,
                &mut out,
                kept * lines,
            );
            for r in 0..rows {
                for p in (0..pixels).filter(|p| p % width < kept) {
                    let want: f64 = (0..depth)
                        .map(|k| a[r * depth + k].into() * src[offsets[k] + p].into())
                        .sum();
                    let got: f64 = out[r * kept * lines + p / width * kept + p % width].into();
                    assert!(
                        (got - want).abs() < 1e-5,
                        "{simd:?} row {r} pixel {p}: {got} vs {want}"
                    );
                }
            }
        }
    }

    #[test]
    fn rows_times_pixels_matches_naive_on_every_instruction_set() {
        check_rows::<f32>();
        check_rows::<f64>();
    }
}
