//! Fused row kernels for stride-1 depthwise loops: one pass over a row
//! applies all `kw` taps of a kernel row, so the destination row is read and
//! written once per kernel row instead of once per tap.
//!
//! Forward: `y[j] += Σ_v w[v] · x[j + off_v]`; input gradient (stride 1):
//! `dx[j] += Σ_v w[v] · dy[j − off_v]`, the same loop with negated offsets;
//! weight gradient: `dw[v] += Σ_j dy[j] · x[j + off_v]` for all `v` in one
//! pass, into per-lane partial sums that are reduced once at the end.
//!
//! The column ranges depend only on the offsets and the row lengths, so a
//! [`RowPlan`] computes them once per call of the op, not once per row.

use super::Real;

/// Lanes of the partial sums of [`correlate_dots`].
pub const LANES: usize = 8;

/// Column ranges of one row-correlation shape.
#[derive(Debug, Clone)]
pub struct RowPlan {
    offsets: Vec<isize>,
    /// Columns where every tap is inside the source (empty if none).
    interior: (usize, usize),
    /// Per tap, the valid columns outside the interior (left part, right part).
    edges: Vec<[(usize, usize); 2]>,
}

/// Columns `j < dst_len` with `0 ≤ j + offset < src_len`.
fn tap_columns(offset: isize, dst_len: usize, src_len: usize) -> (usize, usize) {
    let lo = (-offset).max(0) as usize;
    let hi = (src_len as isize - offset).clamp(0, dst_len as isize) as usize;
    (lo.min(hi), hi)
}

impl RowPlan {
    /// Plans `dst[j] (+)= … src[j + offsets[v]]` for rows of these lengths.
    pub fn new(offsets: &[isize], dst_len: usize, src_len: usize) -> Self {
        let columns: Vec<_> = offsets
            .iter()
            .map(|&o| tap_columns(o, dst_len, src_len))
            .collect();
        let (lo, hi) = columns
            .iter()
            .fold((0, dst_len), |(lo, hi), &(a, b)| (lo.max(a), hi.min(b)));
        let interior = if lo < hi { (lo, hi) } else { (0, 0) };
        let edges = columns
            .iter()
            .map(|&(a, b)| {
                if interior.0 == interior.1 {
                    [(a, b), (b, b)]
                } else {
                    [(a, b.min(interior.0)), (a.max(interior.1), b)]
                }
            })
            .collect();
        RowPlan {
            offsets: offsets.to_vec(),
            interior,
            edges,
        }
    }
}

#[inline(always)]
fn tap_slices<'a, T, const K: usize>(
    src: &'a [T],
    offsets: &[isize],
    lo: usize,
    n: usize,
) -> [&'a [T]; K] {
    std::array::from_fn(|v| {
        let start = (lo as isize + offsets[v]) as usize;
        &src[start..start + n]
    })
}

#[inline(always)]
fn fused<T: Real, const K: usize>(
    dst: &mut [T],
    src: &[T],
    weights: &[T],
    offsets: &[isize],
    lo: usize,
) {
    let n = dst.len();
    let w: [T; K] = std::array::from_fn(|v| weights[v]);
    let taps: [&[T]; K] = tap_slices(src, offsets, lo, n);
    for j in 0..n {
        let mut acc = dst[j];
        for v in 0..K {
            acc += w[v] * taps[v][j];
        }
        dst[j] = acc;
    }
}

/// `dst[j] += Σ_v weights[v] · src[j + offsets[v]]` wherever the tap is inside `src`.
#[inline(always)]
pub fn correlate_row<T: Real>(dst: &mut [T], src: &[T], weights: &[T], plan: &RowPlan) {
    let (lo, hi) = plan.interior;
    let offsets = &plan.offsets;
    if lo < hi {
        let middle = &mut dst[lo..hi];
        match weights.len() {
            1 => fused::<T, 1>(middle, src, weights, offsets, lo),
            2 => fused::<T, 2>(middle, src, weights, offsets, lo),
            3 => fused::<T, 3>(middle, src, weights, offsets, lo),
            5 => fused::<T, 5>(middle, src, weights, offsets, lo),
            7 => fused::<T, 7>(middle, src, weights, offsets, lo),
            _ => {
                for (&weight, &offset) in weights.iter().zip(offsets) {
                    axpy_columns(dst, src, weight, offset, (lo, hi));
                }
            }
        }
    }
    correlate_edges(dst, src, weights, plan);
}

/// The columns of [`correlate_row`] outside the interior.
#[inline(always)]
fn correlate_edges<T: Real>(dst: &mut [T], src: &[T], weights: &[T], plan: &RowPlan) {
    for ((&weight, &offset), parts) in weights.iter().zip(&plan.offsets).zip(&plan.edges) {
        for &range in parts {
            axpy_columns(dst, src, weight, offset, range);
        }
    }
}

/// Rows of a plane correlation: destination row `r` reads source row
/// `r·stride + offsets[u]` with kernel row `u`; `columns` plans each row.
#[derive(Debug, Clone)]
pub struct PlanePlan {
    /// Vertical stride.
    pub stride: usize,
    /// Source-row offset of each kernel row.
    pub offsets: Vec<isize>,
    /// Number of source rows.
    pub src_rows: usize,
    /// The column plan shared by every row.
    pub columns: RowPlan,
}

impl PlanePlan {
    /// Source row `r·stride + offsets[u]`, if inside the source.
    #[inline(always)]
    fn source_row<'a, T>(&self, src: &'a [T], width: usize, r: usize, u: usize) -> Option<&'a [T]> {
        let row = (r * self.stride) as isize + self.offsets[u];
        (row >= 0 && (row as usize) < self.src_rows)
            .then(|| &src[row as usize * width..(row as usize + 1) * width])
    }
}

/// `dst[r, j] += Σ_{u,v} kernel[u, v] · src[r·s + off_u, j + off_v]` over the
/// taps inside `src`; a 3×3 kernel with all three source rows present runs
/// as one fused pass over the row.
#[inline(always)]
pub fn correlate_plane<T: Real>(
    dst: &mut [T],
    dst_width: usize,
    src: &[T],
    src_width: usize,
    kernel: &[T],
    plan: &PlanePlan,
) {
    let kh = plan.offsets.len();
    let kw = kernel.len() / kh.max(1);
    let (lo, hi) = plan.columns.interior;
    for (r, dst_row) in dst.chunks_exact_mut(dst_width.max(1)).enumerate() {
        let src_row = |u: usize| plan.source_row(src, src_width, r, u);
        if kh == 3 && kw == 3 && lo < hi {
            if let (Some(a), Some(b), Some(c)) = (src_row(0), src_row(1), src_row(2)) {
                let offsets = &plan.columns.offsets;
                fused_3x3(&mut dst_row[lo..hi], [a, b, c], kernel, offsets, lo);
                for (u, row) in [a, b, c].into_iter().enumerate() {
                    correlate_edges(dst_row, row, &kernel[u * 3..u * 3 + 3], &plan.columns);
                }
                continue;
            }
        }
        for u in 0..kh {
            if let Some(row) = src_row(u) {
                correlate_row(dst_row, row, &kernel[u * kw..(u + 1) * kw], &plan.columns);
            }
        }
    }
}

#[inline(always)]
fn fused_3x3<T: Real>(dst: &mut [T], rows: [&[T]; 3], kernel: &[T], offsets: &[isize], lo: usize) {
    let n = dst.len();
    let w: [T; 9] = std::array::from_fn(|t| kernel[t]);
    let taps: [&[T]; 9] = std::array::from_fn(|t| {
        let start = (lo as isize + offsets[t % 3]) as usize;
        &rows[t / 3][start..start + n]
    });
    for j in 0..n {
        let mut acc = dst[j];
        for t in 0..9 {
            acc += w[t] * taps[t][j];
        }
        dst[j] = acc;
    }
}

#[inline(always)]
fn axpy_columns<T: Real>(
    dst: &mut [T],
    src: &[T],
    weight: T,
    offset: isize,
    range: (usize, usize),
) {
    for j in range.0..range.1 {
        dst[j] += weight * src[(j as isize + offset) as usize];
    }
}

#[inline(always)]
fn fused_dots<T: Real, const K: usize>(
    partial: &mut [[T; LANES]],
    a: &[T],
    src: &[T],
    offsets: &[isize],
    lo: usize,
) {
    let n = a.len();
    let taps: [&[T]; K] = tap_slices(src, offsets, lo, n);
    let mut lanes: [[T; LANES]; K] = std::array::from_fn(|v| partial[v]);
    let full = n - n % LANES;
    for base in (0..full).step_by(LANES) {
        for v in 0..K {
            for l in 0..LANES {
                lanes[v][l] += a[base + l] * taps[v][base + l];
            }
        }
    }
    for v in 0..K {
        for j in full..n {
            lanes[v][j - full] += a[j] * taps[v][j];
        }
        partial[v] = lanes[v];
    }
}

/// `partial[v] += Σ_j a[j] · src[j + offsets[v]]` (spread over [`LANES`]
/// lanes) over the columns where the tap is inside `src`.
#[inline(always)]
pub fn correlate_dots<T: Real>(partial: &mut [[T; LANES]], a: &[T], src: &[T], plan: &RowPlan) {
    let (lo, hi) = plan.interior;
    let offsets = &plan.offsets;
    if lo < hi {
        let middle = &a[lo..hi];
        match offsets.len() {
            1 => fused_dots::<T, 1>(partial, middle, src, offsets, lo),
            3 => fused_dots::<T, 3>(partial, middle, src, offsets, lo),
            5 => fused_dots::<T, 5>(partial, middle, src, offsets, lo),
            _ => {
                for (slot, &offset) in partial.iter_mut().zip(offsets) {
                    slot[0] += dot_columns(a, src, offset, (lo, hi));
                }
            }
        }
    }
    dots_edges(partial, a, src, plan);
}

/// The columns of [`correlate_dots`] outside the interior.
#[inline(always)]
fn dots_edges<T: Real>(partial: &mut [[T; LANES]], a: &[T], src: &[T], plan: &RowPlan) {
    for ((slot, &offset), parts) in partial.iter_mut().zip(&plan.offsets).zip(&plan.edges) {
        for &range in parts {
            slot[0] += dot_columns(a, src, offset, range);
        }
    }
}

fn dot_columns<T: Real>(a: &[T], src: &[T], offset: isize, range: (usize, usize)) -> T {
    (range.0..range.1)
        .map(|j| a[j] * src[(j as isize + offset) as usize])
        .sum()
}
