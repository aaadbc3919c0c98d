//! The reservoir step's hot loops, laid out for SIMD.
//!
//! [`Ell`] is a copy of a sparse matrix whose rows all hold the same number
//! `d` of entries (as every recurrent matrix drawn by [`crate::init`] does),
//! stored in ELLPACK form by groups of [`LANES`] rows: slot `s` of the four
//! rows of a group is contiguous, the four `x[j]` a slot needs are loaded
//! into one vector (four scalar loads, their four 16-bit column indices in
//! one 64-bit load rather than `vgatherdpd`) and the rows are summed in its
//! lanes, no horizontal reduction. Each row keeps the four partial sums of
//! [`CsrMatrix::mul_add`] (entry `s` into sum `s mod 4`, the `d mod 4` last
//! entries into sum 0, combined as `(s₀ + s₁) + (s₂ + s₃)`), so both give
//! bit-identical products. On x86-64 with AVX2 (detected at run time) the
//! product runs 4 lanes wide and the leaky `tanh` update 4 (AVX2) or 8
//! (AVX-512F) lanes wide; elsewhere a scalar loop does the same arithmetic.
//! A one-column matrix (a single input) is a plain scaled vector, added
//! without the gathers. The alternatives measured against this layout are
//! in `PERF.md` (section "Echo state networks").

use crate::sparse::CsrMatrix;

/// The extra terms of [`Ell::bias_mul_add_input`].
#[derive(Clone, Copy)]
struct Fused<'a> {
    bias: &'a [f64],
    /// The single input's weight of each row.
    input: &'a [f64],
    u0: f64,
}

/// Rows per group (one AVX2 vector of `f64`).
pub(crate) const LANES: usize = 4;

/// A fixed-degree sparse matrix in grouped ELLPACK form.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Ell {
    nrows: usize,
    ncols: usize,
    degree: usize,
    /// Column of slot `s` of row `g·LANES + l` at `(g·degree + s)·LANES + l`
    /// (padding rows: column 0, value 0).
    indices: Vec<u16>,
    values: Vec<f64>,
}

impl Ell {
    /// The ELLPACK copy of `a`, or `None` when its rows differ in length,
    /// it is empty or its columns do not fit a `u16` (indices are 16-bit to
    /// cut the memory traffic of the step: four come in one 64-bit load).
    pub(crate) fn from_csr(a: &CsrMatrix) -> Option<Self> {
        let (nrows, ncols) = (a.nrows(), a.ncols());
        let ptr = a.indptr();
        let degree = ptr.get(1).copied()?;
        let uniform = ptr.windows(2).all(|w| w[1] - w[0] == degree);
        if !uniform || ncols == 0 || nrows == 0 || u16::try_from(ncols - 1).is_err() {
            return None;
        }
        let groups = nrows.div_ceil(LANES);
        let mut indices = vec![0u16; groups * degree * LANES];
        let mut values = vec![0.0; groups * degree * LANES];
        for (row, &start) in ptr[..nrows].iter().enumerate() {
            let (g, l) = (row / LANES, row % LANES);
            for s in 0..degree {
                let at = (g * degree + s) * LANES + l;
                indices[at] = a.indices()[start + s] as u16;
                values[at] = a.values()[start + s];
            }
        }
        Some(Self {
            nrows,
            ncols,
            degree,
            indices,
            values,
        })
    }

    /// `y[i] += Σ_j A[i, j] x[j]`, bit-identical to [`CsrMatrix::mul_add`].
    ///
    /// # Panics
    /// If `x.len() != ncols` or `y.len() != nrows`.
    pub(crate) fn mul_add(&self, x: &[f64], y: &mut [f64]) {
        assert_eq!(x.len(), self.ncols, "x length");
        assert_eq!(y.len(), self.nrows, "y length");
        if self.ncols == 1 && self.degree == 1 {
            // One column (a single input), so one entry a row, stored row
            // by row: the general sum is `0 + v x₀` (`+0` for a `−0` product).
            let x0 = x[0];
            for (yi, v) in y.iter_mut().zip(&self.values) {
                *yi += 0.0 + v * x0;
            }
            return;
        }
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: AVX2 is available (checked above).
            unsafe { self.mul_avx2(x, y, None) };
            return;
        }
        self.mul_add_scalar(x, y);
    }

    /// Whether this is a one-column matrix with an entry in every row (a
    /// single input reaching every unit), stored row by row.
    pub(crate) fn is_single_column(&self) -> bool {
        self.ncols == 1 && self.degree == 1
    }

    /// `y = (b + A x) + (0 + v u₀)` in one pass: the bias `b`, this
    /// product and the term of a single input `u₀` whose weights `v` are
    /// the one-column `input` ([`Ell::is_single_column`]). Bit-identical to
    /// copying `b` into `y` and calling [`Ell::mul_add`] for this matrix and
    /// for `input`, with two passes over `y` fewer (0.12 µs of a 3.7 µs
    /// step of 500 units).
    ///
    /// # Panics
    /// If `x.len() != ncols`, `y`, `b` or `input` do not have `nrows`
    /// rows, or `input` is not a single column.
    pub(crate) fn bias_mul_add_input(
        &self,
        x: &[f64],
        b: &[f64],
        input: &Ell,
        u0: f64,
        y: &mut [f64],
    ) {
        assert_eq!(x.len(), self.ncols, "x length");
        assert_eq!(y.len(), self.nrows, "y length");
        assert_eq!(b.len(), self.nrows, "bias length");
        assert!(
            input.is_single_column() && input.nrows == self.nrows,
            "input column"
        );
        let fused = Fused {
            bias: b,
            input: &input.values[..self.nrows],
            u0,
        };
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx2") && !self.is_single_column() {
            // SAFETY: AVX2 is available (checked above).
            unsafe { self.mul_avx2(x, y, Some(fused)) };
            return;
        }
        y.copy_from_slice(b);
        self.mul_add(x, y);
        input.mul_add(&[u0], y);
    }

    /// The slot `s` goes into partial sum `slot(s)`.
    #[inline(always)]
    fn slot(&self, s: usize) -> usize {
        if s < self.degree / 4 * 4 {
            s % 4
        } else {
            0
        }
    }

    fn mul_add_scalar(&self, x: &[f64], y: &mut [f64]) {
        for (g, rows) in y.chunks_mut(LANES).enumerate() {
            let mut acc = [[0.0f64; LANES]; 4];
            for s in 0..self.degree {
                let base = (g * self.degree + s) * LANES;
                let lanes = &mut acc[self.slot(s)];
                for (l, a) in lanes.iter_mut().enumerate() {
                    let c = self.indices[base + l] as usize;
                    *a += self.values[base + l] * x[c];
                }
            }
            for (l, yi) in rows.iter_mut().enumerate() {
                *yi += (acc[0][l] + acc[1][l]) + (acc[2][l] + acc[3][l]);
            }
        }
    }

    /// [`Ell::mul_add`] with AVX2 (no FMA, so the rounding is that
    /// of the scalar loop), or with `fused` [`Ell::bias_mul_add_input`].
    ///
    /// # Safety
    /// AVX2 must be available; `x.len() == ncols`, `y.len() == nrows`, and
    /// the slices of `fused` have `nrows` values.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    unsafe fn mul_avx2(&self, x: &[f64], y: &mut [f64], fused: Option<Fused<'_>>) {
        use std::arch::x86_64::*;
        let (idx, val, xp) = (self.indices.as_ptr(), self.values.as_ptr(), x.as_ptr());
        let d = self.degree;
        for (g, rows) in y.chunks_mut(LANES).enumerate() {
            // SAFETY: every slot read lies in `g·d·LANES .. (g + 1)·d·LANES`,
            // within `indices` and `values`; every stored column is below
            // `ncols == x.len()` (padding uses column 0, and `ncols > 0`).
            let term = |s: usize| unsafe {
                let at = (g * d + s) * LANES;
                let cols = idx.add(at).cast::<u64>().read_unaligned();
                let c = |l: usize| *xp.add(((cols >> (16 * l)) & 0xffff) as usize);
                let xs = _mm256_set_pd(c(3), c(2), c(1), c(0));
                _mm256_mul_pd(_mm256_loadu_pd(val.add(at)), xs)
            };
            let [mut a0, mut a1, mut a2, mut a3] = [_mm256_setzero_pd(); 4];
            let full = d / 4 * 4;
            for s in (0..full).step_by(4) {
                a0 = _mm256_add_pd(a0, term(s));
                a1 = _mm256_add_pd(a1, term(s + 1));
                a2 = _mm256_add_pd(a2, term(s + 2));
                a3 = _mm256_add_pd(a3, term(s + 3));
            }
            for s in full..d {
                a0 = _mm256_add_pd(a0, term(s));
            }
            let acc = [a0, a1, a2, a3];
            let sum = _mm256_add_pd(_mm256_add_pd(acc[0], acc[1]), _mm256_add_pd(acc[2], acc[3]));
            let first = g * LANES;
            if rows.len() == LANES {
                // SAFETY: `rows` and the slices of `fused` hold `LANES`
                // values from `first`.
                unsafe {
                    let out = match fused {
                        Some(f) => {
                            let b = _mm256_loadu_pd(f.bias.as_ptr().add(first));
                            let v = _mm256_loadu_pd(f.input.as_ptr().add(first));
                            let vu = _mm256_mul_pd(v, _mm256_set1_pd(f.u0));
                            let input = _mm256_add_pd(_mm256_setzero_pd(), vu);
                            _mm256_add_pd(_mm256_add_pd(b, sum), input)
                        }
                        None => _mm256_add_pd(_mm256_loadu_pd(rows.as_ptr()), sum),
                    };
                    _mm256_storeu_pd(rows.as_mut_ptr(), out);
                }
                continue;
            }
            let mut lanes = [0.0; LANES];
            // SAFETY: `lanes` holds `LANES` values.
            unsafe { _mm256_storeu_pd(lanes.as_mut_ptr(), sum) };
            for (l, (yi, s)) in rows.iter_mut().zip(lanes).enumerate() {
                *yi = match fused {
                    Some(f) => (f.bias[first + l] + s) + (0.0 + f.input[first + l] * f.u0),
                    None => *yi + s,
                };
            }
        }
    }
}

/// `out[i] ← (1 − a) x[i] + a tanh(out[i])`, 8 lanes wide where AVX-512F
/// is available, else 4 where AVX2 is (with FMA, as [`crate::math::tanh`]
/// has it: same rounding every way).
pub(crate) fn leaky_tanh(x: &[f64], out: &mut [f64], a: f64) {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx512f") && std::arch::is_x86_feature_detected!("fma")
    {
        // SAFETY: AVX-512F is available (checked above).
        unsafe { leaky_tanh_avx512(x, out, a) };
        return;
    }
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma") {
        // SAFETY: AVX2 is available (checked above).
        unsafe { leaky_tanh_avx2(x, out, a) };
        return;
    }
    leaky_tanh_generic(x, out, a);
}

#[inline(always)]
fn leaky_tanh_generic(x: &[f64], out: &mut [f64], a: f64) {
    for (o, &xi) in out.iter_mut().zip(x) {
        *o = (1.0 - a) * xi + a * crate::math::tanh(*o);
    }
}

/// # Safety
/// AVX2 must be available.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn leaky_tanh_avx2(x: &[f64], out: &mut [f64], a: f64) {
    leaky_tanh_generic(x, out, a);
}

/// # Safety
/// AVX-512F must be available.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,fma")]
unsafe fn leaky_tanh_avx512(x: &[f64], out: &mut [f64], a: f64) {
    leaky_tanh_generic(x, out, a);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Distribution;

    #[test]
    fn ell_matches_csr_bit_for_bit() {
        for (n, c) in [(1, 1.0), (7, 0.3), (50, 0.05), (101, 0.1), (64, 0.5)] {
            let a = crate::init::recurrent(n, c, Distribution::Normal, 3, "t");
            let e = Ell::from_csr(&a).expect("uniform rows");
            let x: Vec<f64> = (0..n).map(|i| (i as f64 * 0.37).sin()).collect();
            let y0: Vec<f64> = (0..n).map(|i| i as f64 * 1e-3).collect();
            let (mut y1, mut y2, mut y3) = (y0.clone(), y0.clone(), y0.clone());
            a.mul_add(&x, &mut y1);
            e.mul_add(&x, &mut y2);
            e.mul_add_scalar(&x, &mut y3);
            assert_eq!(y1, y2, "n = {n}");
            assert_eq!(y1, y3, "n = {n}");
        }
        // One column (the single-input fast path), signed zeros included.
        let vals = [0.5, -0.0, 0.0, -2.0, 1e-300, 3.0, -0.25];
        let col = CsrMatrix::from_rows(1, vals.iter().map(|&v| vec![(0, v)]).collect());
        let e = Ell::from_csr(&col).expect("uniform rows");
        for x in [[1.5], [-0.0], [0.0], [-1e300]] {
            let y0 = [-0.0, 0.0, -0.0, 1.0, -1.0, 0.0, -0.0];
            let (mut y1, mut y2) = (y0, y0);
            col.mul_add(&x, &mut y1);
            e.mul_add(&x, &mut y2);
            let bits = |y: &[f64]| y.iter().map(|v| v.to_bits()).collect::<Vec<_>>();
            assert_eq!(bits(&y1), bits(&y2), "x = {x:?}");
        }
        let ragged = CsrMatrix::from_rows(2, vec![vec![(0, 1.0)], vec![]]);
        assert!(Ell::from_csr(&ragged).is_none());
        let widest = CsrMatrix::from_rows(1 << 16, vec![vec![(65_535, 2.0)]]);
        let e = Ell::from_csr(&widest).expect("columns fit a u16");
        let (x, mut y) = ((0..1 << 16).map(f64::from).collect::<Vec<_>>(), [1.0]);
        e.mul_add(&x, &mut y);
        assert_eq!(y, [1.0 + 2.0 * 65_535.0]);
        let too_wide = CsrMatrix::from_rows((1 << 16) + 1, vec![vec![(0, 1.0)]]);
        assert!(Ell::from_csr(&too_wide).is_none(), "falls back to CSR");
    }

    #[test]
    fn fused_bias_product_and_input_match_three_passes() {
        for (n, c) in [(1, 1.0), (7, 0.3), (50, 0.05), (101, 0.1), (64, 0.5)] {
            let a = crate::init::recurrent(n, c, Distribution::Normal, 3, "t");
            let e = Ell::from_csr(&a).expect("uniform rows");
            let rows = (0..n)
                .map(|i| vec![(0, [0.5, -0.0, -2.0][i % 3])])
                .collect();
            let w_in = Ell::from_csr(&CsrMatrix::from_rows(1, rows)).expect("one column");
            let x: Vec<f64> = (0..n).map(|i| (i as f64 * 0.37).sin()).collect();
            let b: Vec<f64> = (0..n).map(|i| [-0.0, 0.2, -0.1][i % 3]).collect();
            for u0 in [0.7, -0.0, -3.0] {
                let mut three = b.clone();
                e.mul_add(&x, &mut three);
                w_in.mul_add(&[u0], &mut three);
                let mut fused = vec![f64::NAN; n];
                e.bias_mul_add_input(&x, &b, &w_in, u0, &mut fused);
                let bits = |y: &[f64]| y.iter().map(|v| v.to_bits()).collect::<Vec<_>>();
                assert_eq!(bits(&three), bits(&fused), "n = {n}, u = {u0}");
            }
        }
    }

    #[test]
    fn leaky_tanh_matches_scalar() {
        let x: Vec<f64> = (0..37).map(|i| (i as f64 * 0.71).cos()).collect();
        let mut o1: Vec<f64> = (0..37).map(|i| (i as f64 - 18.0) * 0.4).collect();
        let mut o2 = o1.clone();
        leaky_tanh(&x, &mut o1, 0.3);
        for (o, &xi) in o2.iter_mut().zip(&x) {
            *o = (1.0 - 0.3) * xi + 0.3 * crate::math::tanh(*o);
        }
        assert_eq!(o1, o2);
    }
}
