//! [`SeparableBank`]: a trained convolution rewritten as per-kernel rank-R
//! `k×1` then `1×k` filters and a sum (see the [parent module](super)).

use super::{aggregate_relative_error, check_rank, check_rank4, factor_conv_weight, KernelSvd};
use crate::cost::product;
use crate::error::{Error, Result};
use crate::geometry::{check_kernel_stride_dilation, ConvGeometry};
use crate::ops::conv2d;
use candle_core::{DType, Tensor};

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
        self.vertical_macs.saturating_add(self.horizontal_macs)
    }
}

impl SeparableBank {
    /// Factors `weight (C_out, C_in, kh, kw)` at `rank` (`1 ≤ rank ≤ min(kh, kw)`),
    /// keeping `bias (C_out)` and the dtype/device of `weight`.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] for `geometry.groups ≠ 1`, NaN/Inf weights or
    /// an out-of-range rank; [`Error::WrongRank`] for a weight that is not 4-D;
    /// [`Error::ShapeMismatch`] for a bias that is not `(C_out)`; the errors of
    /// [`check_kernel_stride_dilation`] (e.g. zero stride/dilation).
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
    ///
    /// # Shapes
    /// `x (N, C_in, H, W)` → `(N, C_out, Ho, Wo)`.
    ///
    /// # Errors
    /// [`Error::WrongRank`] unless `x` is 4-D, [`Error::ShapeMismatch`] when its
    /// channels are not `C_in`, and the errors of [`conv2d`].
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
    ///
    /// # Errors
    /// Only candle's (as [`Error::Candle`]); none for a bank built by
    /// [`Self::from_conv_weight`].
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
    ///
    /// # Errors
    /// The errors of [`ConvGeometry::output_size`] for `input_hw`, and
    /// [`Error::CostOverflow`] when a count does not fit 64 bits.
    pub fn macs(&self, input_hw: [usize; 2]) -> Result<SeparableCost> {
        let ([c_in, c_out], [kh, kw], rank) = (self.channels, self.kernel, self.rank);
        let [ho, wo] = self.geometry.output_size(input_hw, self.kernel)?;
        let bias = if self.bias.is_some() { c_out as u64 } else { 0 };
        let weights = [c_out, c_in, kh, kw];
        let maps = [c_in, c_out, rank];
        Ok(SeparableCost {
            output_hw: [ho, wo],
            original_params: product("the parameter count", &weights)? + bias,
            params: self.params(),
            original_macs: product("the MAC count", &[&weights[..], &[ho, wo]].concat())?,
            vertical_macs: product(
                "the MAC count",
                &[&maps[..], &[kh, ho, input_hw[1]]].concat(),
            )?,
            horizontal_macs: product("the MAC count", &[&maps[..], &[kw, ho, wo]].concat())?,
            reduction_adds: product("the addition count", &[c_in * rank - 1, c_out, ho, wo])?,
        })
    }
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
