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
//! `σ_2 ≤ tol·σ_1` ([`DEFAULT_SEPARABILITY_TOL`] = 1e-6).
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
use crate::geometry::{check_kernel_stride_dilation, ConvGeometry};
use crate::ops::conv2d;
use candle_core::{DType, Tensor};

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
        let mat = faer::Mat::from_fn(kh, kw, |i, j| kernel[i * kw + j]);
        let svd = mat.thin_svd().map_err(|e| Error::InvalidArgument {
            what: "kernel",
            detail: format!("SVD did not converge: {e:?}"),
        })?;
        let (u, s, w) = (svd.U(), svd.S(), svd.V());
        let singular_values: Vec<f64> = (0..kh.min(kw)).map(|r| s[r].max(0.0)).collect();
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
        let total = sum_squares(&self.singular_values);
        let rest = sum_squares(&self.singular_values[rank.min(self.full_rank())..]);
        ratio(rest, total)
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
pub fn aggregate_relative_error(kernels: &[KernelSvd], rank: usize) -> f64 {
    let rest = kernels
        .iter()
        .map(|k| sum_squares(&k.singular_values[rank.min(k.full_rank())..]));
    let total = kernels.iter().map(|k| sum_squares(&k.singular_values));
    ratio(rest.sum(), total.sum())
}

/// A trained `Conv2d` (groups = 1) rewritten as a rank-`R` spatially separable bank.
///
/// Construction, for input `x (N, C_in, H, W)` and geometry
/// (stride `(s_h, s_w)`, dilation `(d_h, d_w)`, padding `(t, b, l, r)`):
///
/// 1. **vertical**: `kh×1` convolution, `groups = C_in`, depth multiplier
///    `C_out·R`; channel `c·C_out·R + o·R + r` is `v_{o,c,r}` applied to input
///    channel `c`, stride `(s_h, 1)`, dilation `(d_h, 1)`, padding `(t, b, 0, 0)`
///    → `(N, C_in·C_out·R, H_o, W)`;
/// 2. **horizontal**: depthwise `1×kw` convolution with `h_{o,c,r}`, stride
///    `(1, s_w)`, dilation `(1, d_w)`, padding `(0, 0, l, r)` → `(N, C_in·C_out·R, H_o, W_o)`;
/// 3. **sum**: reshape to `(N, C_in, C_out, R, H_o·W_o)`, sum over `C_in` and
///    `R`, add the bias.
///
/// Cost (per sample; see [`SeparableCost`]): `C_in·C_out·R·(kh + kw)` weights
/// (plus `C_out` bias) versus `C_out·C_in·kh·kw`; MACs `C_in·C_out·R·kh·H_o·W`
/// (stage 1 is not strided horizontally, since stage 2 reads every column) plus
/// `C_in·C_out·R·kw·H_o·W_o`, plus `(C_in·R − 1)·C_out·H_o·W_o` additions,
/// versus `C_out·C_in·kh·kw·H_o·W_o`. The per-kernel scheme saves weights only
/// when `R·(kh + kw) < kh·kw`, and holds `C_in·C_out·R` intermediate maps.
#[derive(Debug, Clone)]
pub struct SeparableBank {
    vertical: Tensor,
    horizontal: Tensor,
    bias: Option<Tensor>,
    geometry: ConvGeometry,
    channels: [usize; 2],
    kernel: [usize; 2],
    rank: usize,
    errors: Vec<f64>,
}

/// Parameter and per-sample MAC counts of a [`SeparableBank`] against the
/// convolution it replaces (bias additions are not counted as MACs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SeparableCost {
    /// Output spatial size `[H_o, W_o]`.
    pub output_hw: [usize; 2],
    /// Weights of the original conv: `C_out·C_in·kh·kw` (+ `C_out` bias).
    pub original_params: u64,
    /// Weights of the bank: `C_in·C_out·R·(kh + kw)` (+ `C_out` bias).
    pub params: u64,
    /// MACs of the original conv: `C_out·C_in·kh·kw·H_o·W_o`.
    pub original_macs: u64,
    /// Stage 1 MACs: `C_in·C_out·R·kh·H_o·W`.
    pub vertical_macs: u64,
    /// Stage 2 MACs: `C_in·C_out·R·kw·H_o·W_o`.
    pub horizontal_macs: u64,
    /// Stage 3 additions: `(C_in·R − 1)·C_out·H_o·W_o`.
    pub reduction_adds: u64,
}

impl SeparableCost {
    /// `vertical_macs + horizontal_macs` (the additions of stage 3 excluded).
    pub fn total_macs(&self) -> u64 {
        self.vertical_macs + self.horizontal_macs
    }
}

impl SeparableBank {
    /// Factors `weight (C_out, C_in, kh, kw)` at `rank` (`1 ≤ rank ≤ min(kh, kw)`),
    /// keeping `bias (C_out)` and the dtype/device of `weight`.
    ///
    /// Errors: `geometry.groups ≠ 1`, a weight that is not rank 4, a bias of
    /// the wrong shape, NaN/Inf weights, an out-of-range rank, zero
    /// stride/dilation.
    pub fn from_conv_weight(
        weight: &Tensor,
        bias: Option<&Tensor>,
        geometry: &ConvGeometry,
        rank: usize,
    ) -> Result<Self> {
        if geometry.groups != 1 {
            let detail = format!("must be 1 for a separable bank, got {}", geometry.groups);
            return Err(Error::InvalidArgument {
                what: "groups",
                detail,
            });
        }
        let kernels = factor_conv_weight(weight)?;
        let (c_out, c_in, kh, kw) = weight.dims4()?;
        check_kernel_stride_dilation([kh, kw], geometry.stride, geometry.dilation)?;
        geometry.check_channels(c_in, c_out)?;
        check_rank(rank, kh.min(kw), false)?;
        let bias = bias
            .map(|b| check_bias(b, c_out, weight.dtype()))
            .transpose()?;
        let (vdata, hdata) = stack_factors(&kernels, c_in, rank);
        let n = c_in * c_out * rank;
        let to_tensor = |data: Vec<f64>, shape: (usize, usize, usize, usize)| {
            Tensor::from_vec(data, shape, weight.device())?.to_dtype(weight.dtype())
        };
        Ok(SeparableBank {
            vertical: to_tensor(vdata, (n, 1, kh, 1))?,
            horizontal: to_tensor(hdata, (n, 1, 1, kw))?,
            bias,
            geometry: *geometry,
            channels: [c_in, c_out],
            kernel: [kh, kw],
            rank,
            errors: (0..=kh.min(kw))
                .map(|r| aggregate_relative_error(&kernels, r))
                .collect(),
        })
    }

    /// Runs the three stages on `x (N, C_in, H, W)`; equals
    /// `conv2d(x, self.low_rank_weight()) + bias` up to round-off.
    pub fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let [c_in, c_out] = self.channels;
        let dims = check_rank4("input", x)?;
        if dims[1] != c_in {
            let expected = vec![dims[0], c_in, dims[2], dims[3]];
            return Err(Error::ShapeMismatch {
                what: "input",
                expected,
                got: dims.to_vec(),
            });
        }
        let [g1, g2] = self.stage_geometries();
        let z = conv2d(&conv2d(x, &self.vertical, &g1)?, &self.horizontal, &g2)?;
        let (n, _, ho, wo) = z.dims4()?;
        let y = z
            .reshape((n, c_in, c_out, self.rank, ho * wo))?
            .sum((1, 3))?;
        let y = y.reshape((n, c_out, ho, wo))?;
        Ok(match &self.bias {
            Some(bias) => y.broadcast_add(&bias.reshape((1, c_out, 1, 1))?)?,
            None => y,
        })
    }

    /// The geometries of stage 1 (vertical) and stage 2 (horizontal).
    pub fn stage_geometries(&self) -> [ConvGeometry; 2] {
        let ([s_h, s_w], [d_h, d_w]) = (self.geometry.stride, self.geometry.dilation);
        let [t, b, l, r] = self.geometry.padding;
        let [c_in, c_out] = self.channels;
        let g1 = ConvGeometry {
            stride: [s_h, 1],
            dilation: [d_h, 1],
            padding: [t, b, 0, 0],
            groups: c_in,
        };
        let g2 = ConvGeometry {
            stride: [1, s_w],
            dilation: [1, d_w],
            padding: [0, 0, l, r],
            groups: c_in * c_out * self.rank,
        };
        [g1, g2]
    }

    /// The rank-`R` weight `W_R[o, c] = Σ_{r<R} v_{o,c,r} h_{o,c,r}ᵀ`, shape
    /// `(C_out, C_in, kh, kw)`, that the bank applies exactly.
    pub fn low_rank_weight(&self) -> Result<Tensor> {
        let ([c_in, c_out], [kh, kw], rank) = (self.channels, self.kernel, self.rank);
        let v = self.vertical.reshape((c_in, c_out, rank, kh, 1))?;
        let h = self.horizontal.reshape((c_in, c_out, rank, 1, kw))?;
        Ok(v.broadcast_mul(&h)?.sum(2)?.transpose(0, 1)?.contiguous()?)
    }

    /// Stage 1 weight `(C_in·C_out·R, 1, kh, 1)`, channel `c·C_out·R + o·R + r`.
    pub fn vertical(&self) -> &Tensor {
        &self.vertical
    }

    /// Stage 2 weight `(C_in·C_out·R, 1, 1, kw)`, same channel order.
    pub fn horizontal(&self) -> &Tensor {
        &self.horizontal
    }

    /// The original bias `(C_out)`, if any.
    pub fn bias(&self) -> Option<&Tensor> {
        self.bias.as_ref()
    }

    /// The geometry of the original convolution.
    pub fn geometry(&self) -> &ConvGeometry {
        &self.geometry
    }

    /// `C_in`.
    pub fn in_channels(&self) -> usize {
        self.channels[0]
    }

    /// `C_out`.
    pub fn out_channels(&self) -> usize {
        self.channels[1]
    }

    /// `[kh, kw]`.
    pub fn kernel_size(&self) -> [usize; 2] {
        self.kernel
    }

    /// The rank `R` of every kernel's factorisation.
    pub fn rank(&self) -> usize {
        self.rank
    }

    /// Relative weight error `‖W − W_R‖_F / ‖W‖_F` at this bank's rank.
    pub fn weight_error(&self) -> f64 {
        self.errors[self.rank]
    }

    /// Relative weight error of the whole tensor for every rank `0..=min(kh, kw)` (index = rank).
    pub fn error_by_rank(&self) -> &[f64] {
        &self.errors
    }

    /// Number of weights: `C_in·C_out·R·(kh + kw)` plus `C_out` if there is a bias.
    pub fn params(&self) -> u64 {
        let ([c_in, c_out], [kh, kw]) = (self.channels, self.kernel);
        let bias = if self.bias.is_some() { c_out } else { 0 };
        (c_in * c_out * self.rank * (kh + kw) + bias) as u64
    }

    /// Per-sample cost of the bank and the original conv for an `[H, W]` input.
    pub fn macs(&self, input_hw: [usize; 2]) -> Result<SeparableCost> {
        let ([c_in, c_out], [kh, kw], rank) = (self.channels, self.kernel, self.rank);
        let [ho, wo] = self.geometry.output_size(input_hw, self.kernel)?;
        let (maps, out) = ((c_in * c_out * rank) as u64, (ho * wo) as u64);
        let bias = if self.bias.is_some() { c_out as u64 } else { 0 };
        Ok(SeparableCost {
            output_hw: [ho, wo],
            original_params: (c_out * c_in * kh * kw) as u64 + bias,
            params: self.params(),
            original_macs: (c_out * c_in * kh * kw) as u64 * out,
            vertical_macs: maps * (kh * ho * input_hw[1]) as u64,
            horizontal_macs: maps * kw as u64 * out,
            reduction_adds: (c_in * rank - 1) as u64 * c_out as u64 * out,
        })
    }
}

/// `(√σ·u, √σ·w)` with the sign making the largest-magnitude entry of the first positive.
fn rank_one_pair(
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

/// Concatenates `v_{o,c,r}` and `h_{o,c,r}` in bank channel order `c·C_out·R + o·R + r`
/// (`kernels` is indexed `o·C_in + c`).
fn stack_factors(kernels: &[KernelSvd], c_in: usize, rank: usize) -> (Vec<f64>, Vec<f64>) {
    let (mut vdata, mut hdata) = (Vec::new(), Vec::new());
    for c in 0..c_in {
        for k in kernels.iter().skip(c).step_by(c_in) {
            (0..rank).for_each(|r| vdata.extend_from_slice(k.vertical(r)));
            (0..rank).for_each(|r| hdata.extend_from_slice(k.horizontal(r)));
        }
    }
    (vdata, hdata)
}

fn check_rank4<'a>(what: &'static str, t: &'a Tensor) -> Result<&'a [usize]> {
    match t.dims() {
        dims @ [_, _, _, _] => Ok(dims),
        dims => Err(Error::WrongRank {
            what,
            expected: 4,
            got: dims.to_vec(),
        }),
    }
}

fn sum_squares(values: &[f64]) -> f64 {
    values.iter().map(|s| s * s).sum()
}

fn ratio(rest: f64, total: f64) -> f64 {
    if total > 0.0 {
        (rest / total).sqrt()
    } else {
        0.0
    }
}

fn check_finite(what: &'static str, data: &[f64]) -> Result<()> {
    match data.iter().position(|x| !x.is_finite()) {
        Some(i) => Err(Error::InvalidArgument {
            what,
            detail: format!("entry {i} is {} (weights must be finite)", data[i]),
        }),
        None => Ok(()),
    }
}

fn check_rank(rank: usize, full: usize, allow_zero: bool) -> Result<()> {
    if rank > full || (rank == 0 && !allow_zero) {
        let low = usize::from(!allow_zero);
        return Err(Error::InvalidArgument {
            what: "rank",
            detail: format!("must be in {low}..={full} (min(kh, kw)), got {rank}"),
        });
    }
    Ok(())
}

fn check_bias(bias: &Tensor, c_out: usize, dtype: DType) -> Result<Tensor> {
    if bias.dims() != [c_out] {
        return Err(Error::ShapeMismatch {
            what: "bias",
            expected: vec![c_out],
            got: bias.dims().to_vec(),
        });
    }
    Ok(bias.to_dtype(dtype)?)
}
