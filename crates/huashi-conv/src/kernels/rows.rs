//! Fused row kernels for stride-1 depthwise loops: one pass over a row
//! applies all `kw` taps of a kernel row, so the destination row is read and
//! written once per kernel row instead of once per tap.
//!
//! Forward: `y[j] += Σ_v w[v] · x[j + off_v]`; input gradient (stride 1):
//! `dx[j] += Σ_v w[v] · dy[j − off_v]`, the same shape of loop with negated
//! offsets; weight gradient: `dw[v] += Σ_j dy[j] · x[j + off_v]` for all `v`
//! in one pass.

use super::Real;

/// Columns `j < dst_len` with `0 ≤ j + offset < src_len`.
#[inline(always)]
fn tap_columns(offset: isize, dst_len: usize, src_len: usize) -> (usize, usize) {
    let lo = (-offset).max(0) as usize;
    let hi = (src_len as isize - offset).clamp(0, dst_len as isize) as usize;
    (lo.min(hi), hi)
}

/// Columns where every tap is inside `src`.
#[inline(always)]
fn interior(offsets: &[isize], dst_len: usize, src_len: usize) -> (usize, usize) {
    offsets.iter().fold((0, dst_len), |(lo, hi), &offset| {
        let (a, b) = tap_columns(offset, dst_len, src_len);
        (lo.max(a), hi.min(b))
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
    let taps: [&[T]; K] = std::array::from_fn(|v| {
        let start = (lo as isize + offsets[v]) as usize;
        &src[start..start + n]
    });
    for j in 0..n {
        let mut acc = dst[j];
        for v in 0..K {
            acc += w[v] * taps[v][j];
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

/// `dst[j] += Σ_v weights[v] · src[j + offsets[v]]` wherever the tap is inside `src`.
#[inline(always)]
pub fn correlate_row<T: Real>(dst: &mut [T], src: &[T], weights: &[T], offsets: &[isize]) {
    let (lo, hi) = interior(offsets, dst.len(), src.len());
    if lo >= hi {
        for (&weight, &offset) in weights.iter().zip(offsets) {
            axpy_columns(
                dst,
                src,
                weight,
                offset,
                tap_columns(offset, dst.len(), src.len()),
            );
        }
        return;
    }
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
    for (&weight, &offset) in weights.iter().zip(offsets) {
        let (a, b) = tap_columns(offset, dst.len(), src.len());
        axpy_columns(dst, src, weight, offset, (a, b.min(lo)));
        axpy_columns(dst, src, weight, offset, (a.max(hi), b));
    }
}

#[inline(always)]
fn fused_dots<T: Real, const K: usize>(
    acc: &mut [T],
    a: &[T],
    src: &[T],
    offsets: &[isize],
    lo: usize,
) {
    const LANES: usize = 8;
    let n = a.len();
    let taps: [&[T]; K] = std::array::from_fn(|v| {
        let start = (lo as isize + offsets[v]) as usize;
        &src[start..start + n]
    });
    let mut partial = [[T::ZERO; LANES]; K];
    let full = n - n % LANES;
    for base in (0..full).step_by(LANES) {
        for v in 0..K {
            for l in 0..LANES {
                partial[v][l] += a[base + l] * taps[v][base + l];
            }
        }
    }
    for v in 0..K {
        let tail: T = (full..n).map(|j| a[j] * taps[v][j]).sum();
        acc[v] += partial[v].iter().copied().sum::<T>() + tail;
    }
}

fn dot_columns<T: Real>(a: &[T], src: &[T], offset: isize, range: (usize, usize)) -> T {
    (range.0..range.1)
        .map(|j| a[j] * src[(j as isize + offset) as usize])
        .sum()
}

/// `acc[v] += Σ_j a[j] · src[j + offsets[v]]` over the columns where the tap is inside `src`.
#[inline(always)]
pub fn correlate_dots<T: Real>(acc: &mut [T], a: &[T], src: &[T], offsets: &[isize]) {
    let (lo, hi) = interior(offsets, a.len(), src.len());
    if lo >= hi {
        for (slot, &offset) in acc.iter_mut().zip(offsets) {
            *slot += dot_columns(a, src, offset, tap_columns(offset, a.len(), src.len()));
        }
        return;
    }
    let middle = &a[lo..hi];
    match offsets.len() {
        1 => fused_dots::<T, 1>(acc, middle, src, offsets, lo),
        3 => fused_dots::<T, 3>(acc, middle, src, offsets, lo),
        5 => fused_dots::<T, 5>(acc, middle, src, offsets, lo),
        _ => {
            for (slot, &offset) in acc.iter_mut().zip(offsets) {
                *slot += dot_columns(a, src, offset, (lo, hi));
            }
        }
    }
    for (slot, &offset) in acc.iter_mut().zip(offsets) {
        let (x0, x1) = tap_columns(offset, a.len(), src.len());
        *slot += dot_columns(a, src, offset, (x0, x1.min(lo)));
        *slot += dot_columns(a, src, offset, (x0.max(hi), x1));
    }
}
