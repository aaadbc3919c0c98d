//! The lower triangle of `C += A Aᵀ` (a symmetric rank-k update, "SYRK"),
//! the bulk of a ridge readout's training: `ΦᵀΦ` summed over blocks of time
//! steps.
//!
//! `C` is `R × S` (`S ≤ R`) and `A` is `R × K`; only `C[r, s]` with `r ≥ s`
//! is updated, and column `s` of `C` pairs with row `s` of `A`, so the same
//! kernel serves the whole triangle and its two parts in
//! [`super::ridge::Ridge::parts`]. With AVX-512F it runs tiles of up to 24
//! rows by 8 columns of `C` held in registers for the whole of `K` (`A`'s
//! columns are contiguous: up to 3 vector loads and 8 broadcasts a step
//! for up to 24 fused multiply-adds); masked loads and stores keep every
//! access within `C` and `A` and leave `C` above the diagonal untouched.
//! Each entry is summed over `k` in order in one register, so the result is
//! the same however the work is split. Elsewhere, or when a column is not
//! contiguous, faer's triangular product does it (the comparison of the two
//! is in `PERF.md`, section "Echo state networks").

use faer::linalg::matmul::matmul;
use faer::linalg::matmul::triangular::{matmul as tri, BlockStructure as B};
use faer::reborrow::ReborrowMut;
use faer::{Accum, MatMut, MatRef, Par};

/// Rows of a register tile of `C`.
#[cfg(target_arch = "x86_64")]
const TILE_ROWS: usize = 24;
/// Columns of a register tile of `C`.
const TILE_COLS: usize = 8;

/// `C[r, s] += Σ_k A[r, k] A[s, k]` for `s ≤ r` (`C` is `R × S`, `A` is
/// `R × K`), on up to `par`'s threads (with AVX-512F the result does not
/// depend on them).
///
/// # Panics
/// If `C` has more columns than rows or `A` and `C` differ in rows.
pub(crate) fn syrk_lower(c: MatMut<'_, f64>, a: MatRef<'_, f64>, par: Par) {
    let (rows, cols) = (c.nrows(), c.ncols());
    assert!(cols <= rows, "more columns than rows");
    assert_eq!(a.nrows(), rows, "rows of A");
    let threads = par.degree();
    if threads > 1 && cols >= 4 * TILE_COLS {
        // Columns `0..p` (rows `0..R`) and the triangle from `p` on: about
        // the same work when `p ≈ S (1 − 1/√2)` for a whole triangle.
        let p = (cols as f64 * (1.0 - std::f64::consts::FRAC_1_SQRT_2)) as usize;
        let p = p.next_multiple_of(TILE_COLS).min(cols);
        let (left, right) = c.split_at_col_mut(p);
        let right = right.subrows_mut(p, rows - p);
        let half = Par::rayon(threads.div_ceil(2));
        rayon::join(
            || syrk_lower(left, a, half),
            || syrk_lower(right, a.subrows(p, rows - p), half),
        );
        return;
    }
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx512f")
        && c.row_stride() == 1
        && a.row_stride() == 1
        && rows > 0
        && a.ncols() > 0
    {
        // SAFETY: AVX-512F is available; both matrices have contiguous
        // columns, and `rows`, `cols` and `a.ncols()` bound every access.
        unsafe { syrk_avx512(c, a) };
        return;
    }
    syrk_faer(c, a);
}

/// [`syrk_lower`] by faer: the triangle on top, the rectangle below.
fn syrk_faer(mut c: MatMut<'_, f64>, a: MatRef<'_, f64>) {
    let cols = c.ncols();
    let (top, bottom) = a.split_at_row(cols);
    let (head, tail) = c.rb_mut().split_at_row_mut(cols);
    let full = B::Rectangular;
    let one = 1.0;
    tri(
        head,
        B::TriangularLower,
        Accum::Add,
        top,
        full,
        top.transpose(),
        full,
        one,
        Par::Seq,
    );
    matmul(tail, Accum::Add, bottom, top.transpose(), one, Par::Seq);
}

/// [`syrk_lower`] with AVX-512F: strips of [`TILE_COLS`] columns, each
/// from its diagonal down in tiles of [`TILE_ROWS`] rows; a strip's last
/// tile has only as many vectors of 8 rows as it needs (a tile of 3 vectors
/// throughout wasted 5 % of the multiply-adds on rows past the edge).
///
/// # Safety
/// AVX-512F must be available; `c` and `a` have unit row strides, at least
/// one row and `a` at least one column.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
unsafe fn syrk_avx512(mut c: MatMut<'_, f64>, a: MatRef<'_, f64>) {
    let (rows, cols) = (c.nrows(), c.ncols());
    let (ldc, cp) = (c.col_stride(), c.rb_mut().as_ptr_mut());
    for s0 in (0..cols).step_by(TILE_COLS) {
        for r0 in (s0..rows).step_by(TILE_ROWS) {
            let tile = Tile {
                r0,
                s0,
                rows: (rows - r0).min(TILE_ROWS),
                cols: (cols - s0).min(TILE_COLS),
            };
            // SAFETY: as for this function; the tile lies within `c`.
            unsafe {
                match tile.rows.div_ceil(8) {
                    1 => tile.update::<1>(cp, ldc, a),
                    2 => tile.update::<2>(cp, ldc, a),
                    _ => tile.update::<3>(cp, ldc, a),
                }
            }
        }
    }
}

/// A register tile: rows `r0..r0 + rows`, columns `s0..s0 + cols` of `C`.
#[cfg(target_arch = "x86_64")]
#[derive(Clone, Copy)]
struct Tile {
    r0: usize,
    s0: usize,
    rows: usize,
    cols: usize,
}

#[cfg(target_arch = "x86_64")]
impl Tile {
    /// Lanes of vector `i` (rows `r0 + 8i ..`) within `C`'s rows.
    fn row_mask(&self, i: usize) -> u8 {
        let valid = self.rows.saturating_sub(8 * i).min(8);
        ((1u16 << valid) - 1) as u8
    }

    /// `C[r, s] += Σ_k A[r, k] A[s, k]` over the tile, for `r ≥ s`, in `V`
    /// vectors of 8 rows.
    ///
    /// # Safety
    /// AVX-512F must be available; `c` points at `C` (unit row stride,
    /// column stride `ldc`), the tile lies within `C` and `a`'s rows, and
    /// its rows fit in `V` vectors.
    #[target_feature(enable = "avx512f")]
    unsafe fn update<const V: usize>(&self, c: *mut f64, ldc: isize, a: MatRef<'_, f64>) {
        use std::arch::x86_64::*;
        let masks: [u8; V] = std::array::from_fn(|i| self.row_mask(i));
        // Columns past the edge repeat the last one and are not stored.
        let b_rows: [usize; TILE_COLS] = std::array::from_fn(|q| self.s0 + q.min(self.cols - 1));
        let mut acc = [[_mm512_setzero_pd(); V]; TILE_COLS];
        let (lda, ap) = (a.col_stride(), a.as_ptr());
        for k in 0..a.ncols() as isize {
            // SAFETY: column `k` of `A` holds its rows contiguously; the
            // masks keep the loads within them, and `b_rows` are rows of A.
            unsafe {
                let col = ap.offset(k * lda);
                let x = col.add(self.r0);
                let v: [__m512d; V] =
                    std::array::from_fn(|i| _mm512_maskz_loadu_pd(masks[i], x.add(8 * i)));
                for q in 0..TILE_COLS {
                    let b = _mm512_set1_pd(*col.add(b_rows[q]));
                    for i in 0..V {
                        acc[q][i] = _mm512_fmadd_pd(v[i], b, acc[q][i]);
                    }
                }
            }
        }
        for (q, column) in acc.iter().enumerate().take(self.cols) {
            let s = self.s0 + q;
            for (i, &sum) in column.iter().enumerate() {
                // Rows `r ≥ s` only: lanes `l` with `r0 + 8i + l ≥ s`.
                let first = s.saturating_sub(self.r0 + 8 * i).min(8);
                let mask = masks[i] & (0xffu16 << first) as u8;
                // SAFETY: the masked lanes are rows of column `s` of `C`.
                unsafe {
                    let p = c.offset(s as isize * ldc).add(self.r0 + 8 * i);
                    let old = _mm512_maskz_loadu_pd(mask, p);
                    _mm512_mask_storeu_pd(p, mask, _mm512_add_pd(old, sum));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use faer::Mat;

    /// The naive loops.
    fn naive(c: &mut Mat<f64>, a: MatRef<'_, f64>) {
        for s in 0..c.ncols() {
            for r in s..c.nrows() {
                c[(r, s)] += (0..a.ncols()).map(|k| a[(r, k)] * a[(s, k)]).sum::<f64>();
            }
        }
    }

    /// `C` updated by `update` from a fixed start, and by the naive loops.
    fn both(
        rows: usize,
        cols: usize,
        k: usize,
        update: impl Fn(MatMut<'_, f64>, MatRef<'_, f64>),
    ) -> (Mat<f64>, Mat<f64>) {
        let a = Mat::from_fn(rows, k, |r, t| ((r * 31 + t * 17) % 23) as f64 / 11.0 - 1.0);
        let start = Mat::from_fn(rows, cols, |r, s| (r * 3 + s) as f64 * 1e-3);
        let (mut fast, mut slow) = (start.clone(), start);
        update(fast.as_mut(), a.as_ref());
        naive(&mut slow, a.as_ref());
        (fast, slow)
    }

    #[test]
    fn lower_triangle_matches_naive_loops_and_leaves_the_rest() {
        let shapes = [
            (502, 144, 192),
            (355, 355, 48),
            (37, 21, 5),
            (9, 9, 1),
            (1, 1, 3),
        ];
        for (rows, cols, k) in shapes {
            let kernel = both(rows, cols, k, |c, a| syrk_lower(c, a, Par::Seq));
            let faer = both(rows, cols, k, syrk_faer);
            for (name, (fast, slow)) in [("kernel", kernel), ("faer", faer)] {
                for s in 0..cols {
                    for r in 0..rows {
                        let (f, e) = (fast[(r, s)], slow[(r, s)]);
                        let close = (f - e).abs() <= 1e-12 * (1.0 + e.abs());
                        assert!(close, "{name} {rows}x{cols} ({r}, {s}): {f} vs {e}");
                    }
                }
            }
        }
    }

    #[test]
    fn threads_do_not_change_the_sums() {
        let serial = both(300, 300, 64, |c, a| syrk_lower(c, a, Par::Seq)).0;
        let parallel = both(300, 300, 64, |c, a| syrk_lower(c, a, Par::rayon(4))).0;
        assert_eq!(serial, parallel);
    }
}
