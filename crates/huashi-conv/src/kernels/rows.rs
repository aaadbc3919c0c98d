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
    for ((&weight, &offset), parts) in weights.iter().zip(offsets).zip(&plan.edges) {
        for &range in parts {
            axpy_columns(dst, src, weight, offset, range);
        }
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
    for ((slot, &offset), parts) in partial.iter_mut().zip(offsets).zip(&plan.edges) {
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
