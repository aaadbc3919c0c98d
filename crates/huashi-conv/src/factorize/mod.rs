//! SVD factorisation of convolution kernels into spatially separable filters.
//!
//! A `kh×kw` kernel `K` has the singular value decomposition
//! `K = Σ_r σ_r u_r w_rᵀ` with `σ_1 ≥ σ_2 ≥ … ≥ 0`. Folding `√σ_r` into each
//! factor gives rank-one pairs `v_r = √σ_r·u_r` (length `kh`, a vertical
//! `kh×1` filter) and `h_r = √σ_r·w_r` (length `kw`, a horizontal `1×kw`
//! filter). By Eckart–Young the truncation `K_R = Σ_{r≤R} v_r h_rᵀ` is the best
//! rank-`R` approximation in the Frobenius norm, with relative error
//!
//! ```text
//! ‖K − K_R‖_F / ‖K‖_F = √(Σ_{r>R} σ_r²) / √(Σ_r σ_r²)      (0 for K = 0).
//! ```
//!
//! `K` is *exactly separable* when it has rank one; numerically we test
//! `σ_2 ≤ tol·σ_1` ([`DEFAULT_SEPARABILITY_TOL`] = 1e-6). The SVD runs on
//! `K / max|K|` and the singular values are scaled back, so the test is the
//! same for a kernel of any magnitude (tiny or subnormal-in-`f32` weights
//! included): the SVD's absolute thresholds never decide it.
//!
//! [`SeparableBank`] turns a trained `Conv2d` weight `W (C_out, C_in, kh, kw)`
//! (groups = 1) into a bank of `k×1` then `1×k` convolutions by factoring every
//! 2-D kernel `W[o, c]` separately, by SVD, with no retraining. For context:
//! Jaderberg, Vedaldi & Zisserman, "Speeding up convolutional neural networks
//! with low rank expansions" (BMVC 2014) learn `k×1` then `1×k` bases shared
//! across filters, and Denton et al., "Exploiting linear structure within
//! convolutional networks for efficient evaluation" (NeurIPS 2014) approximate
//! trained filters by low-rank (SVD/tensor) decompositions; the bank here is
//! the simplest per-kernel member of that family. Zero padding of a 2-D map is the
//! product of a vertical and a horizontal padding, so at full rank the bank
//! reproduces the convolution exactly, and at rank `R` it computes exactly
//! `conv2d(x, W_R)` (see [`SeparableBank::low_rank_weight`]).

use crate::error::{Error, Result};
use crate::geometry::check_kernel_stride_dilation;
use candle_core::{DType, Tensor};

mod bank;
pub use bank::{SeparableBank, SeparableCost};

/// Default relative tolerance of [`KernelSvd::is_separable`]: a kernel is
/// separable when `σ_2 ≤ 1e-6·σ_1`. This sits well above the round-off of an
/// outer product stored in `f32` (about `6e-8·√(kh·kw)` relative) and well
/// below any deliberately non-separable kernel.
pub const DEFAULT_SEPARABILITY_TOL: f64 = 1e-6;

/// The SVD of one `kh×kw` kernel as rank-one separable pairs.
#[derive(Debug, Clone, PartialEq)]
pub struct KernelSvd {
    shape: [usize; 2],
    singular_values: Vec<f64>,
    vertical: Vec<Vec<f64>>,
    horizontal: Vec<Vec<f64>>,
}

impl KernelSvd {
    /// Factors a row-major `shape = [kh, kw]` kernel (any `kh, kw ≥ 1`).
    ///
    /// Each pair's sign is fixed so that the largest-magnitude entry of `v_r`
    /// is positive, making the factors deterministic.
    ///
    /// # Errors
    /// [`Error::ZeroKernel`] for an empty shape, [`Error::ShapeMismatch`] when
    /// `kernel.len() ≠ kh·kw`, [`Error::InvalidArgument`] for a non-finite entry or an
    /// SVD that does not converge.
    pub fn new(kernel: &[f64], shape: [usize; 2]) -> Result<Self> {
        let [kh, kw] = shape;
        check_kernel_stride_dilation(shape, [1, 1], [1, 1])?;
        if kernel.len() != kh * kw {
            return Err(Error::ShapeMismatch {
                what: "kernel data",
                expected: vec![kh * kw],
                got: vec![kernel.len()],
            });
        }
        check_finite("kernel", kernel)?;
        let scale = kernel.iter().fold(0.0_f64, |m, &k| m.max(k.abs()));
        // Dividing (not multiplying by 1/scale, infinite for a subnormal
        // scale) keeps every magnitude exact.
        let mat = faer::Mat::from_fn(kh, kw, |i, j| {
            if scale > 0.0 {
                kernel[i * kw + j] / scale
            } else {
                0.0
            }
        });
        let svd = mat.thin_svd().map_err(|e| Error::InvalidArgument {
            what: "kernel",
            detail: format!("SVD did not converge: {e:?}"),
        })?;
        let (u, s, w) = (svd.U(), svd.S(), svd.V());
        let singular_values: Vec<f64> = (0..kh.min(kw)).map(|r| s[r].max(0.0) * scale).collect();
        let (vertical, horizontal) = singular_values
            .iter()
            .enumerate()
            .map(|(r, &sigma)| rank_one_pair(u.col(r), w.col(r), sigma))
            .unzip();
        Ok(KernelSvd {
            shape,
            singular_values,
            vertical,
            horizontal,
        })
    }

    /// The kernel shape `[kh, kw]`.
    pub fn shape(&self) -> [usize; 2] {
        self.shape
    }

    /// The largest possible rank, `min(kh, kw)`.
    pub fn full_rank(&self) -> usize {
        self.singular_values.len()
    }

    /// Singular values `σ_1 ≥ σ_2 ≥ … ≥ 0` (`min(kh, kw)` of them).
    pub fn singular_values(&self) -> &[f64] {
        &self.singular_values
    }

    /// The vertical factor `v_r = √σ_r·u_r` (length `kh`) of pair `r` (0-based).
    ///
    /// # Panics
    /// If `r ≥ full_rank()`.
    pub fn vertical(&self, r: usize) -> &[f64] {
        &self.vertical[r]
    }

    /// The horizontal factor `h_r = √σ_r·w_r` (length `kw`) of pair `r` (0-based).
    ///
    /// # Panics
    /// If `r ≥ full_rank()`.
    pub fn horizontal(&self, r: usize) -> &[f64] {
        &self.horizontal[r]
    }

    /// `‖K − K_R‖_F / ‖K‖_F` for `R = rank` (clamped to the full rank); 0 for a
    /// zero kernel, 1 at rank 0 otherwise.
    pub fn relative_error(&self, rank: usize) -> f64 {
        aggregate_relative_error(std::slice::from_ref(self), rank)
    }

    /// [`relative_error`](Self::relative_error) for every rank `0..=full_rank()`
    /// (index = rank); non-increasing and 0 at full rank.
    pub fn error_by_rank(&self) -> Vec<f64> {
        (0..=self.full_rank())
            .map(|r| self.relative_error(r))
            .collect()
    }

    /// Number of singular values above `tol·σ_1` (0 for a zero kernel).
    pub fn numerical_rank(&self, tol: f64) -> usize {
        let top = self.singular_values[0];
        self.singular_values
            .iter()
            .filter(|&&s| s > tol * top)
            .count()
    }

    /// Whether the kernel is rank one up to `σ_2 ≤ tol·σ_1` (a zero kernel and
    /// any `1×k` or `k×1` kernel are separable). See [`DEFAULT_SEPARABILITY_TOL`].
    pub fn is_separable(&self, tol: f64) -> bool {
        self.singular_values
            .get(1)
            .is_none_or(|&s2| s2 <= tol * self.singular_values[0])
    }

    /// The rank-`rank` reconstruction `K_R = Σ_{r<rank} v_r h_rᵀ`, row-major.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] when `rank > full_rank()`.
    pub fn reconstruct(&self, rank: usize) -> Result<Vec<f64>> {
        check_rank(rank, self.full_rank(), true)?;
        let [kh, kw] = self.shape;
        let mut out = vec![0.0; kh * kw];
        for (v, h) in self.vertical.iter().zip(&self.horizontal).take(rank) {
            for (i, &vi) in v.iter().enumerate() {
                out[i * kw..(i + 1) * kw]
                    .iter_mut()
                    .zip(h)
                    .for_each(|(o, &hj)| *o += vi * hj);
            }
        }
        Ok(out)
    }
}

/// Factors every 2-D kernel `W[o, c]` of a conv weight `(C_out, C_in, kh, kw)`;
/// the result is indexed `o·C_in + c`. Any float dtype is accepted (computed in `f64`).
///
/// # Errors
/// [`Error::WrongRank`] unless `weight` is 4-D, [`Error::ZeroKernel`] for an empty
/// kernel, [`Error::InvalidArgument`] for non-finite weights, and the errors of
/// [`KernelSvd::new`].
pub fn factor_conv_weight(weight: &Tensor) -> Result<Vec<KernelSvd>> {
    let dims = check_rank4("conv weight", weight)?;
    let shape = [dims[2], dims[3]];
    check_kernel_stride_dilation(shape, [1, 1], [1, 1])?;
    let data = weight
        .to_dtype(DType::F64)?
        .flatten_all()?
        .to_vec1::<f64>()?;
    check_finite("conv weight", &data)?;
    data.chunks(shape[0] * shape[1])
        .map(|k| KernelSvd::new(k, shape))
        .collect()
}

/// Aggregate relative error `‖W − W_R‖_F / ‖W‖_F` over a set of kernels, each
/// truncated to `rank`: `√(Σ_kernels Σ_{r>R} σ_r²) / √(Σ_kernels Σ_r σ_r²)`.
///
/// The singular values are divided by the largest one before squaring, so
/// tiny or huge kernels neither underflow nor overflow.
pub fn aggregate_relative_error(kernels: &[KernelSvd], rank: usize) -> f64 {
    let top = kernels
        .iter()
        .filter_map(|k| k.singular_values.first())
        .fold(0.0_f64, |m, &s| m.max(s));
    if top <= 0.0 {
        return 0.0;
    }
    let squares = |values: &[f64]| values.iter().map(|s| (s / top).powi(2)).sum::<f64>();
    let rest = kernels
        .iter()
        .map(|k| squares(&k.singular_values[rank.min(k.full_rank())..]));
    let total = kernels.iter().map(|k| squares(&k.singular_values));
    ratio(rest.sum(), total.sum())
}

/// `(√σ·u, √σ·w)` with the sign making the largest-magnitude entry of the first positive.
pub(crate) fn rank_one_pair(
    u: faer::ColRef<'_, f64>,
    w: faer::ColRef<'_, f64>,
    sigma: f64,
) -> (Vec<f64>, Vec<f64>) {
    let root = sigma.sqrt();
    let pivot = u
        .iter()
        .fold(0.0_f64, |a, &b| if b.abs() > a.abs() { b } else { a });
    let sign = if pivot < 0.0 { -root } else { root };
    (
        u.iter().map(|x| sign * x).collect(),
        w.iter().map(|x| sign * x).collect(),
    )
}

fn ratio(rest: f64, total: f64) -> f64 {
    if total > 0.0 {
        (rest / total).sqrt()
    } else {
        0.0
    }
}

pub(crate) fn check_finite(what: &'static str, data: &[f64]) -> Result<()> {
    match data.iter().position(|x| !x.is_finite()) {
        Some(i) => Err(Error::InvalidArgument {
            what,
            detail: format!("entry {i} is {} (weights must be finite)", data[i]),
        }),
        None => Ok(()),
    }
}

pub(crate) fn check_rank(rank: usize, full: usize, allow_zero: bool) -> Result<()> {
    if rank > full || (rank == 0 && !allow_zero) {
        let low = usize::from(!allow_zero);
        return Err(Error::InvalidArgument {
            what: "rank",
            detail: format!("must be in {low}..={full} (min(kh, kw)), got {rank}"),
        });
    }
    Ok(())
}

pub(crate) fn check_rank4<'a>(what: &'static str, t: &'a Tensor) -> Result<&'a [usize]> {
    match t.dims() {
        dims @ [_, _, _, _] => Ok(dims),
        dims => Err(Error::WrongRank {
            what,
            expected: 4,
            got: dims.to_vec(),
        }),
    }
}
