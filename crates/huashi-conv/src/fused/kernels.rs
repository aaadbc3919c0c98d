//! The loops behind the fused ops of [`super`], generic over f32 and f64.
//!
//! Every operand is a contiguous `(B, C, L)` array (row `r = b·C + c` is
//! `L` elements of channel `c`); coefficients are `(k, C)` with `k ∈ {1, 2}`
//! (scale, then shift when `k = 2`). Element-wise results are written once
//! each into uninitialised memory (no zeroing pass); per-channel reductions
//! accumulate each channel sequentially, so the result does not depend on
//! the thread count. Work is split over rayon threads only above
//! [`PARALLEL_MIN`] elements: the Omniglot blocks range from ~2M elements
//! (first block of a 32-task meta-batch) down to ~10K (last block).

use rayon::prelude::*;
use std::cmp::Ordering;
use std::mem::MaybeUninit;
use std::ops::{Add, Div, Mul, Sub};

/// Below this many elements a pass runs on the calling thread.
pub const PARALLEL_MIN: usize = 1 << 15;

/// Elements per parallel task (rounded to whole rows).
const GRAIN: usize = 1 << 14;

/// f32 or f64.
pub trait Elem:
    Copy
    + Send
    + Sync
    + PartialOrd
    + Add<Output = Self>
    + Sub<Output = Self>
    + Mul<Output = Self>
    + Div<Output = Self>
    + 'static
{
    /// Zero.
    const ZERO: Self;
    /// A count as this type.
    fn count(n: usize) -> Self;
}

impl Elem for f32 {
    const ZERO: Self = 0.0;
    fn count(n: usize) -> Self {
        n as f32
    }
}

impl Elem for f64 {
    const ZERO: Self = 0.0;
    fn count(n: usize) -> Self {
        n as f64
    }
}

/// The sizes of a `(B, C, L)` operand.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Dims {
    /// `B`.
    pub batch: usize,
    /// `C`.
    pub channels: usize,
    /// `L`.
    pub len: usize,
}

impl Dims {
    /// `B·C·L`.
    pub fn numel(&self) -> usize {
        self.batch * self.channels * self.len
    }
}

/// `(scale, shift)` of channel `c` from `(k, C)` coefficients (shift 0 when
/// `k = 1`).
fn coefficients<T: Elem>(st: &[T], channels: usize, c: usize) -> (T, T) {
    let shift = if st.len() > channels {
        st[channels + c]
    } else {
        T::ZERO
    };
    (st[c], shift)
}

/// ReLU that keeps NaN (so divergence stays visible).
#[inline(always)]
fn relu<T: Elem>(v: T) -> T {
    if v < T::ZERO {
        T::ZERO
    } else {
        v
    }
}

/// The ReLU mask from the forward output `y`: `1[y > 0]`, NaN counted in.
#[inline(always)]
fn open<T: Elem>(y: T) -> bool {
    // Written as a partial comparison so NaN (incomparable) opens the mask.
    !matches!(
        y.partial_cmp(&T::ZERO),
        Some(Ordering::Less | Ordering::Equal)
    )
}

/// A `(B, C, L)` result whose row `r` is written by `row(r, out)`, which must
/// write every element of `out` (length `L`).
fn fill_rows<T: Elem>(dims: Dims, row: impl Fn(usize, &mut [MaybeUninit<T>]) + Sync) -> Vec<T> {
    let (n, len) = (dims.numel(), dims.len.max(1));
    let mut out = Vec::with_capacity(n);
    let spare = &mut out.spare_capacity_mut()[..n];
    let chunk = GRAIN.div_ceil(len).max(1) * len;
    let run = |(i, block): (usize, &mut [MaybeUninit<T>])| {
        for (j, r) in block.chunks_mut(len).enumerate() {
            row(i * chunk / len + j, r);
        }
    };
    if n >= PARALLEL_MIN {
        spare.par_chunks_mut(chunk).enumerate().for_each(run);
    } else {
        spare.chunks_mut(chunk).enumerate().for_each(run);
    }
    // SAFETY: the chunks cover `spare[..n]` and `row` writes every element of
    // each row it is given (each kernel zips its output row with input rows
    // of the same length `L`).
    unsafe { out.set_len(n) };
    out
}

/// `act(x·s[c] + t[c])`, `act` = ReLU or the identity.
///
/// # Shapes
/// `x (B, C, L)`, `st (k, C)` → `(B, C, L)`.
pub fn affine<T: Elem>(dims: Dims, x: &[T], st: &[T], use_relu: bool) -> Vec<T> {
    let (len, channels) = (dims.len, dims.channels);
    fill_rows(dims, |r, out| {
        let (s, t) = coefficients(st, channels, r % channels);
        let src = &x[r * len..(r + 1) * len];
        if use_relu {
            for (o, &v) in out.iter_mut().zip(src) {
                o.write(relu(v * s + t));
            }
        } else {
            for (o, &v) in out.iter_mut().zip(src) {
                o.write(v * s + t);
            }
        }
    })
}

/// `(g·s[c] + t[c]) ⊙ 1[y > 0]`.
///
/// # Shapes
/// `g, y (B, C, L)`, `st (k, C)` → `(B, C, L)`.
pub fn masked_affine<T: Elem>(dims: Dims, g: &[T], y: &[T], st: &[T]) -> Vec<T> {
    let (len, channels) = (dims.len, dims.channels);
    fill_rows(dims, |r, out| {
        let (s, t) = coefficients(st, channels, r % channels);
        let range = r * len..(r + 1) * len;
        for ((o, &gv), &yv) in out.iter_mut().zip(&g[range.clone()]).zip(&y[range]) {
            o.write(if open(yv) { gv * s + t } else { T::ZERO });
        }
    })
}

/// One value per channel, `f(c)`, in parallel when the operand is large.
fn per_channel<T: Elem>(dims: Dims, f: impl Fn(usize) -> [T; 2] + Sync + Send) -> Vec<[T; 2]> {
    if dims.numel() >= PARALLEL_MIN {
        (0..dims.channels).into_par_iter().map(f).collect()
    } else {
        (0..dims.channels).map(f).collect()
    }
}

/// The elements of batch entry `b`, channel `c`.
fn row_range(dims: Dims, b: usize, c: usize) -> std::ops::Range<usize> {
    let start = (b * dims.channels + c) * dims.len;
    start..start + dims.len
}

/// Independent partial sums, so reductions vectorise.
const LANES: usize = 8;

/// `Σ_{i<n} f(i)` in [`LANES`] partial sums.
#[inline(always)]
fn sum_by<T: Elem>(n: usize, f: impl Fn(usize) -> T) -> T {
    let mut lanes = [T::ZERO; LANES];
    let whole = n / LANES * LANES;
    for base in (0..whole).step_by(LANES) {
        for (k, lane) in lanes.iter_mut().enumerate() {
            *lane = *lane + f(base + k);
        }
    }
    let tail = (whole..n).fold(T::ZERO, |acc, i| acc + f(i));
    lanes.iter().fold(tail, |acc, &v| acc + v)
}

/// Row 0, then (when `rows = 2`) row 1 of per-channel pairs.
fn stack_rows<T: Elem>(pairs: &[[T; 2]], rows: usize) -> Vec<T> {
    let mut out = Vec::with_capacity(rows * pairs.len());
    for k in 0..rows {
        out.extend(pairs.iter().map(|p| p[k]));
    }
    out
}

/// `[Σ m⊙a⊙x ; Σ m⊙a]` over one row, in [`LANES`] partial sums.
#[inline(always)]
fn row_dot_sum<T: Elem>(a: &[T], x: &[T], y: Option<&[T]>) -> [T; 2] {
    let (mut ax, mut sa) = ([T::ZERO; LANES], [T::ZERO; LANES]);
    let mut add = |k: usize, av: T, xv: T| {
        ax[k] = ax[k] + av * xv;
        sa[k] = sa[k] + av;
    };
    let whole = a.len() / LANES * LANES;
    match y {
        None => {
            for (pa, px) in a[..whole].chunks_exact(LANES).zip(x.chunks_exact(LANES)) {
                (0..LANES).for_each(|k| add(k, pa[k], px[k]));
            }
            (whole..a.len()).for_each(|i| add(0, a[i], x[i]));
        }
        Some(y) => {
            // `y ≤ 0` is closed, anything else (NaN included) open.
            let m = |av: T, yv: T| if yv <= T::ZERO { T::ZERO } else { av };
            let chunks = a[..whole].chunks_exact(LANES).zip(x.chunks_exact(LANES));
            for ((pa, px), py) in chunks.zip(y.chunks_exact(LANES)) {
                (0..LANES).for_each(|k| add(k, m(pa[k], py[k]), px[k]));
            }
            (whole..a.len()).for_each(|i| add(0, m(a[i], y[i]), x[i]));
        }
    }
    let total = |v: [T; LANES]| v.iter().fold(T::ZERO, |acc, &e| acc + e);
    [total(ax), total(sa)]
}

/// `[Σ_{b,l} m⊙a⊙x ; Σ_{b,l} m⊙a]` (the second row only when `rows = 2`),
/// `m = 1[y > 0]` when a mask source `y` is given, else 1.
///
/// # Shapes
/// `a, x, y (B, C, L)` → `(rows, C)`.
pub fn dot_sum<T: Elem>(dims: Dims, a: &[T], x: &[T], y: Option<&[T]>, rows: usize) -> Vec<T> {
    let pairs = per_channel(dims, |c| {
        (0..dims.batch).fold([T::ZERO; 2], |acc, b| {
            let range = row_range(dims, b, c);
            let y = y.map(|y| &y[range.clone()]);
            let [ax, sa] = row_dot_sum(&a[range.clone()], &x[range], y);
            [acc[0] + ax, acc[1] + sa]
        })
    });
    stack_rows(&pairs, rows)
}

/// `[mean ; var]` per channel over `(B, L)` (biased variance, two passes
/// over the channel so no cancellation of `E[x²] − μ²`).
///
/// # Shapes
/// `x (B, C, L)` → `(2, C)`.
pub fn moments<T: Elem>(dims: Dims, x: &[T]) -> Vec<T> {
    let count = T::count(dims.batch * dims.len);
    let rows = |c: usize| (0..dims.batch).map(move |b| &x[row_range(dims, b, c)]);
    let pairs = per_channel(dims, |c| {
        let sum = rows(c).fold(T::ZERO, |acc, r| acc + sum_by(r.len(), |i| r[i]));
        let mean = sum / count;
        let squares = rows(c).fold(T::ZERO, |acc, r| {
            acc + sum_by(r.len(), |i| (r[i] - mean) * (r[i] - mean))
        });
        [mean, squares / count]
    });
    stack_rows(&pairs, 2)
}

#[cfg(test)]
mod tests {
    use super::*;

    const DIMS: Dims = Dims {
        batch: 2,
        channels: 3,
        len: 2,
    };

    fn ramp() -> Vec<f64> {
        (0..12).map(|i| i as f64 - 5.5).collect()
    }

    #[test]
    fn affine_and_mask_by_hand() {
        let st = [1.0, 2.0, -1.0, 0.5, 0.0, 0.0];
        let y = affine(DIMS, &ramp(), &st, true);
        // Row 0 is channel 0 (s = 1, t = 0.5): −5.5, −4.5 → 0.
        assert_eq!(&y[..2], &[0.0, 0.0]);
        // Row 5 is channel 2 (s = −1, t = 0): 4.5, 5.5 → 0 after ReLU.
        assert_eq!(&y[10..], &[0.0, 0.0]);
        // Row 4 is channel 1 (s = 2, t = 0): 2.5, 3.5.
        assert_eq!(&y[8..10], &[5.0, 7.0]);
        let m = masked_affine(DIMS, &[1.0; 12], &y, &st[..3]);
        assert_eq!(&m[8..10], &[2.0, 2.0]);
        assert_eq!(&m[..2], &[0.0, 0.0]);
        assert!(relu(f64::NAN).is_nan());
    }

    #[test]
    fn reductions_by_hand() {
        let x = ramp();
        let [mean0, mean1, mean2, var0, var1, var2] = moments(DIMS, &x)[..] else {
            panic!("six values");
        };
        // Channel 0 holds −5.5, −4.5, 0.5, 1.5.
        assert_eq!([mean0, mean1, mean2], [-2.0, 0.0, 2.0]);
        assert_eq!(var0, (12.25 + 6.25 + 6.25 + 12.25) / 4.0);
        assert_eq!([var1, var2], [var0, var0]);
        let ds = dot_sum(DIMS, &[1.0; 12], &x, None, 2);
        assert_eq!(&ds[3..], &[4.0, 4.0, 4.0]);
        assert_eq!(ds[0], -5.5 - 4.5 + 0.5 + 1.5);
        let masked = dot_sum(DIMS, &[1.0; 12], &x, Some(&x), 1);
        // Σ of the positive entries of each channel.
        assert_eq!(masked, vec![0.5 + 1.5, 2.5 + 3.5, 4.5 + 5.5]);
    }

    #[test]
    fn parallel_equals_serial() {
        let dims = Dims {
            batch: 3,
            channels: 700,
            len: 17,
        };
        let x: Vec<f32> = (0..dims.numel())
            .map(|i| ((i * 37) % 101) as f32 - 50.0)
            .collect();
        let st: Vec<f32> = (0..1400).map(|i| (i % 7) as f32 - 3.0).collect();
        let y = affine(dims, &x, &st, true);
        for (i, &v) in y.iter().enumerate() {
            let c = (i / 17) % 700;
            assert_eq!(v, (x[i] * st[c] + st[700 + c]).max(0.0));
        }
    }
}
