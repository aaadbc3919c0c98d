//! The three convolution ops as candle custom ops.
//!
//! With `F(x, w)` the convolution, `Gx(dy, w)` its adjoint in `x` (the
//! transposed convolution) and `Gw(x, dy)` its adjoint in `w`, all three
//! bilinear, the backward passes are
//!
//! ```text
//! y  = F(x, w):    ∂x = Gx(ḡ, w),   ∂w = Gw(x, ḡ)
//! dx = Gx(dy, w):  ∂dy = F(ḡ, w),   ∂w = Gw(ḡ, dy)
//! dw = Gw(x, dy):  ∂x = Gx(dy, ḡ),  ∂dy = F(x, ḡ)
//! ```
//!
//! so the family is closed under differentiation and derivatives of any order
//! are exact — provided candle keeps the graph of gradients, which it does
//! only when `CANDLE_GRAD_DO_NOT_DETACH` is set (see [`ensure_second_order`]).

use crate::custom::contiguous_slice;
use crate::error::{Error, Result};
use crate::geometry::ConvGeometry;
use crate::kernels::{self, ConvDims, Real};
use candle_core::{CpuStorage, CustomOp2, DType, Layout, Shape, Tensor};

/// Which of the three ops.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Forward,
    InputGrad,
    WeightGrad,
}

/// One of the three convolution ops with its sizes fixed.
#[derive(Debug, Clone, Copy)]
struct ConvOp {
    kind: Kind,
    dims: ConvDims,
}

impl ConvOp {
    fn apply(kind: Kind, dims: ConvDims, a: &Tensor, b: &Tensor) -> candle_core::Result<Tensor> {
        a.contiguous()?
            .apply_op2(&b.contiguous()?, ConvOp { kind, dims })
    }

    /// Expected shapes of the two operands and of the result.
    fn shapes(&self) -> [Vec<usize>; 3] {
        let d = &self.dims;
        let x = vec![d.batch, d.in_channels, d.in_size[0], d.in_size[1]];
        let w = vec![d.out_channels, d.in_per_group(), d.kernel[0], d.kernel[1]];
        let y = vec![d.batch, d.out_channels, d.out_size[0], d.out_size[1]];
        match self.kind {
            Kind::Forward => [x, w, y],
            Kind::InputGrad => [y, w, x],
            Kind::WeightGrad => [x, y, w],
        }
    }

    fn run<T: Real>(&self, a: &[T], b: &[T]) -> Vec<T> {
        match self.kind {
            Kind::Forward => kernels::forward(&self.dims, a, b),
            Kind::InputGrad => kernels::input_grad(&self.dims, a, b),
            Kind::WeightGrad => kernels::weight_grad(&self.dims, a, b),
        }
    }
}

impl CustomOp2 for ConvOp {
    fn name(&self) -> &'static str {
        match self.kind {
            Kind::Forward => "huashi-conv2d",
            Kind::InputGrad => "huashi-conv-input-grad",
            Kind::WeightGrad => "huashi-conv-weight-grad",
        }
    }

    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
    ) -> candle_core::Result<(CpuStorage, Shape)> {
        let [sa, sb, out] = self.shapes();
        if l1.dims() != sa.as_slice() || l2.dims() != sb.as_slice() {
            candle_core::bail!(
                "{}: operands {:?}, {:?} do not match the op's {sa:?}, {sb:?}",
                self.name(),
                l1.dims(),
                l2.dims()
            );
        }
        let storage = match (s1, s2) {
            (CpuStorage::F32(a), CpuStorage::F32(b)) => CpuStorage::F32(self.run(
                contiguous_slice(a, l1, self.name())?,
                contiguous_slice(b, l2, self.name())?,
            )),
            (CpuStorage::F64(a), CpuStorage::F64(b)) => CpuStorage::F64(self.run(
                contiguous_slice(a, l1, self.name())?,
                contiguous_slice(b, l2, self.name())?,
            )),
            _ => candle_core::bail!("{}: operands must both be f32 or both f64", self.name()),
        };
        Ok((storage, Shape::from(out)))
    }

    fn bwd(
        &self,
        a: &Tensor,
        b: &Tensor,
        _result: &Tensor,
        grad: &Tensor,
    ) -> candle_core::Result<(Option<Tensor>, Option<Tensor>)> {
        let d = self.dims;
        let (ga, gb) = match self.kind {
            Kind::Forward => (
                ConvOp::apply(Kind::InputGrad, d, grad, b)?,
                ConvOp::apply(Kind::WeightGrad, d, a, grad)?,
            ),
            Kind::InputGrad => (
                ConvOp::apply(Kind::Forward, d, grad, b)?,
                ConvOp::apply(Kind::WeightGrad, d, grad, a)?,
            ),
            Kind::WeightGrad => (
                ConvOp::apply(Kind::InputGrad, d, b, grad)?,
                ConvOp::apply(Kind::Forward, d, a, grad)?,
            ),
        };
        Ok((Some(ga), Some(gb)))
    }
}

fn dims4(t: &Tensor, what: &'static str) -> Result<[usize; 4]> {
    match *t.dims() {
        [a, b, c, d] => Ok([a, b, c, d]),
        _ => Err(Error::WrongRank {
            what,
            expected: 4,
            got: t.dims().to_vec(),
        }),
    }
}

fn check_dtypes(a: &Tensor, b: &Tensor, what: &'static str) -> Result<()> {
    let expected = a.dtype();
    if !matches!(expected, DType::F32 | DType::F64) {
        return Err(Error::DType {
            what,
            expected: DType::F32,
            got: expected,
        });
    }
    if b.dtype() != expected {
        return Err(Error::DType {
            what,
            expected,
            got: b.dtype(),
        });
    }
    if !a.device().is_cpu() || !b.device().is_cpu() {
        return Err(Error::InvalidArgument {
            what,
            detail: "huashi-conv kernels run on the CPU device only".into(),
        });
    }
    Ok(())
}

/// Validates a weight `(C_out, C_in/groups, kh, kw)` against the geometry.
fn weight_dims(w: &Tensor, in_channels: usize, geometry: &ConvGeometry) -> Result<[usize; 4]> {
    let [out_channels, per_group, kh, kw] = dims4(w, "weight")?;
    geometry.check_channels(in_channels, out_channels)?;
    if per_group * geometry.groups != in_channels {
        return Err(Error::ShapeMismatch {
            what: "weight",
            expected: vec![out_channels, in_channels / geometry.groups, kh, kw],
            got: w.dims().to_vec(),
        });
    }
    Ok([out_channels, per_group, kh, kw])
}

/// Convolution (cross-correlation, as in PyTorch) of NCHW `x` by
/// `w (C_out, C_in/groups, kh, kw)`.
///
/// ```
/// use candle_core::{Device, Tensor};
/// use huashi_conv::{conv2d, ConvGeometry};
/// let x = Tensor::ones((1, 2, 5, 5), candle_core::DType::F32, &Device::Cpu).unwrap();
/// let w = Tensor::ones((4, 1, 3, 3), candle_core::DType::F32, &Device::Cpu).unwrap();
/// // Depthwise with depth multiplier 2, 'same'-style padding 1.
/// let g = ConvGeometry::new().with_groups(2).with_padding([1, 1, 1, 1]);
/// let y = conv2d(&x, &w, &g).unwrap();
/// assert_eq!(y.dims(), &[1, 4, 5, 5]);
/// ```
///
/// # Shapes
/// `x (N, C_in, H, W)`, `w (C_out, C_in/groups, kh, kw)` → `(N, C_out, Ho, Wo)`,
/// `Ho, Wo` as [`ConvGeometry::output_size`].
///
/// # Errors
/// [`Error::DType`] unless both are f32 or both f64, [`Error::InvalidArgument`]
/// off the CPU, [`Error::WrongRank`]/[`Error::ShapeMismatch`] for bad shapes, and
/// the geometry errors of [`ConvGeometry::check_channels`] and [`ConvGeometry::output_size`].
pub fn conv2d(x: &Tensor, w: &Tensor, geometry: &ConvGeometry) -> Result<Tensor> {
    check_dtypes(x, w, "conv2d")?;
    let [batch, in_channels, h, width] = dims4(x, "input")?;
    let [out_channels, _, kh, kw] = weight_dims(w, in_channels, geometry)?;
    let out_size = geometry.output_size([h, width], [kh, kw])?;
    let dims = ConvDims {
        batch,
        in_channels,
        out_channels,
        in_size: [h, width],
        out_size,
        kernel: [kh, kw],
        geometry: *geometry,
    };
    Ok(ConvOp::apply(Kind::Forward, dims, x, w)?)
}

/// The adjoint of [`conv2d`] in its input: the gradient with respect to an
/// input of spatial size `input_size`, given the output gradient `dy` and the
/// conv weight `w (C_out, C_in/groups, kh, kw)`.
///
/// # Shapes
/// `dy (N, C_out, Ho, Wo)`, `w (C_out, C_in/groups, kh, kw)` → `(N, C_in, H, W)`
/// with `[H, W] = input_size`.
///
/// # Errors
/// As [`conv2d`]; [`Error::ShapeMismatch`] when `dy`'s spatial size is not the
/// output size of `input_size`.
pub fn conv_input_grad(
    dy: &Tensor,
    w: &Tensor,
    geometry: &ConvGeometry,
    input_size: [usize; 2],
) -> Result<Tensor> {
    check_dtypes(dy, w, "conv_input_grad")?;
    let [_, _, kh, kw] = dims4(w, "weight")?;
    let [_, _, ho, wo] = dims4(dy, "output gradient")?;
    let natural = geometry.output_size(input_size, [kh, kw])?;
    if natural != [ho, wo] {
        return Err(Error::ShapeMismatch {
            what: "output gradient (spatial)",
            expected: natural.to_vec(),
            got: vec![ho, wo],
        });
    }
    input_grad_unchecked(dy, w, geometry, input_size)
}

fn input_grad_unchecked(
    dy: &Tensor,
    w: &Tensor,
    geometry: &ConvGeometry,
    input_size: [usize; 2],
) -> Result<Tensor> {
    let [batch, out_channels, ho, wo] = dims4(dy, "output gradient")?;
    let [w_out, per_group, kh, kw] = dims4(w, "weight")?;
    if w_out != out_channels {
        return Err(Error::ShapeMismatch {
            what: "weight",
            expected: vec![out_channels, per_group, kh, kw],
            got: w.dims().to_vec(),
        });
    }
    let in_channels = per_group * geometry.groups;
    geometry.check_channels(in_channels, out_channels)?;
    let dims = ConvDims {
        batch,
        in_channels,
        out_channels,
        in_size: input_size,
        out_size: [ho, wo],
        kernel: [kh, kw],
        geometry: *geometry,
    };
    Ok(ConvOp::apply(Kind::InputGrad, dims, dy, w)?)
}

/// Transposed convolution (PyTorch `conv_transpose2d`): `x (N, C_in, H, W)`,
/// `w (C_in, C_out/groups, kh, kw)`; output size
/// `(H − 1)·s − p_top − p_bottom + d·(kh − 1) + 1 + output_padding` per axis.
///
/// It is [`conv_input_grad`] at that size, except when `output_padding ≥ s`
/// (allowed when the dilation exceeds the stride, as in PyTorch): the extra
/// rows/columns are then beyond every kernel tap and come out zero (plus the
/// layer's bias).
///
/// # Shapes
/// `x (N, C_in, H, W)`, `w (C_in, C_out/groups, kh, kw)` → `(N, C_out, Ho, Wo)`.
///
/// # Errors
/// As [`conv2d`], plus those of [`ConvGeometry::transposed_output_size`]
/// (e.g. [`Error::OutputPaddingTooLarge`]).
pub fn conv_transpose2d(
    x: &Tensor,
    w: &Tensor,
    geometry: &ConvGeometry,
    output_padding: [usize; 2],
) -> Result<Tensor> {
    check_dtypes(x, w, "conv_transpose2d")?;
    let [_, _, h, width] = dims4(x, "input")?;
    let [_, _, kh, kw] = dims4(w, "weight")?;
    let size = geometry.transposed_output_size([h, width], [kh, kw], output_padding)?;
    input_grad_unchecked(x, w, geometry, size)
}

/// The adjoint of [`conv2d`] in its weight: the gradient with respect to a
/// `kernel`-sized weight, given the input `x` and output gradient `dy`.
///
/// # Shapes
/// `x (N, C_in, H, W)`, `dy (N, C_out, Ho, Wo)` → `(C_out, C_in/groups, kh, kw)`
/// with `[kh, kw] = kernel`.
///
/// # Errors
/// As [`conv2d`]; [`Error::ShapeMismatch`] when `dy` is not the output shape of
/// `x` under `geometry` and `kernel`.
pub fn conv_weight_grad(
    x: &Tensor,
    dy: &Tensor,
    geometry: &ConvGeometry,
    kernel: [usize; 2],
) -> Result<Tensor> {
    check_dtypes(x, dy, "conv_weight_grad")?;
    let [batch, in_channels, h, width] = dims4(x, "input")?;
    let [dy_batch, out_channels, ho, wo] = dims4(dy, "output gradient")?;
    geometry.check_channels(in_channels, out_channels)?;
    let natural = geometry.output_size([h, width], kernel)?;
    if natural != [ho, wo] || dy_batch != batch {
        return Err(Error::ShapeMismatch {
            what: "output gradient",
            expected: vec![batch, out_channels, natural[0], natural[1]],
            got: dy.dims().to_vec(),
        });
    }
    let dims = ConvDims {
        batch,
        in_channels,
        out_channels,
        in_size: [h, width],
        out_size: natural,
        kernel,
        geometry: *geometry,
    };
    Ok(ConvOp::apply(Kind::WeightGrad, dims, x, dy)?)
}

/// Whether candle keeps the graph of gradients on this thread, probed with
/// `d²/dx² (x²)² = 12x²` at `x = 1` (two chained ops: through a single op the
/// local derivative keeps its dependence on `x` even when candle detaches, so
/// `x³` would not tell). Candle reads `CANDLE_GRAD_DO_NOT_DETACH` once per
/// thread, at its first backward pass.
pub fn second_order_enabled() -> bool {
    let probe = || -> candle_core::Result<bool> {
        let x = candle_core::Var::new(1f64, &candle_core::Device::Cpu)?;
        let quartic = x.as_tensor().sqr()?.sqr()?;
        let first = match quartic.backward()?.get(&x) {
            Some(g) => g.clone(),
            None => return Ok(false),
        };
        let second = first.backward()?;
        let value = second.get(&x).map(|g| g.to_scalar::<f64>()).transpose()?;
        Ok(value.is_some_and(|v| (v - 12.0).abs() < 1e-9))
    };
    probe().unwrap_or(false)
}

/// Returns [`Error::SecondOrderDisabled`] unless second-order gradients work.
///
/// # Errors
/// [`Error::SecondOrderDisabled`] when [`second_order_enabled`] is false.
pub fn ensure_second_order() -> Result<()> {
    if second_order_enabled() {
        Ok(())
    } else {
        Err(Error::SecondOrderDisabled)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::{Device, Var};

    fn random(shape: &[usize], seed: u64) -> Tensor {
        let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
        let len = shape.iter().product::<usize>();
        let data: Vec<f64> = (0..len)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                (state % 2001) as f64 / 1000.0 - 1.0
            })
            .collect();
        Tensor::from_vec(data, shape, &Device::Cpu).unwrap()
    }

    /// candle's built-in conv2d (square geometry only) as a second reference.
    #[test]
    fn matches_candle_builtin_on_square_geometry() {
        // (n, c_in, c_out, size, k, stride, pad, dilation, groups)
        let cases = [
            (2, 3, 4, 7, 3, 1, 1, 1, 1),
            (1, 4, 8, 9, 3, 2, 0, 2, 2),
            (2, 4, 8, 8, 3, 1, 1, 1, 4),
            (3, 6, 6, 6, 1, 1, 0, 1, 1),
            (1, 5, 3, 6, 2, 3, 1, 1, 1),
        ];
        for (i, &(n, ci, co, size, k, s, p, d, g)) in cases.iter().enumerate() {
            let x = random(&[n, ci, size, size], i as u64);
            let w = random(&[co, ci / g, k, k], 100 + i as u64);
            let geometry = ConvGeometry::new()
                .with_stride([s, s])
                .with_dilation([d, d])
                .with_padding([p; 4])
                .with_groups(g);
            let ours = conv2d(&x, &w, &geometry).unwrap();
            let theirs = x.conv2d(&w, p, s, d, g).unwrap();
            let diff = (ours - theirs).unwrap().abs().unwrap().max_all().unwrap();
            assert!(diff.to_scalar::<f64>().unwrap() < 1e-12, "case {i}");
        }
    }

    #[test]
    fn backward_gives_both_gradients() {
        let x = Var::from_tensor(&random(&[2, 4, 6, 5], 1)).unwrap();
        let w = Var::from_tensor(&random(&[4, 1, 3, 2], 2)).unwrap();
        let g = ConvGeometry::new()
            .with_groups(4)
            .with_padding([1, 0, 2, 1]);
        let y = conv2d(&x, &w, &g).unwrap();
        let grads = y.sum_all().unwrap().backward().unwrap();
        assert_eq!(grads.get(&x).unwrap().dims(), x.dims());
        assert_eq!(grads.get(&w).unwrap().dims(), w.dims());
    }

    #[test]
    fn errors_name_the_offending_values() {
        let x = random(&[1, 3, 5, 5], 3);
        let w = random(&[4, 3, 7, 3], 4);
        let err = conv2d(&x, &w, &ConvGeometry::new()).unwrap_err();
        assert!(matches!(
            err,
            Error::KernelLargerThanInput {
                kernel_extent: 7,
                padded_input: 5,
                ..
            }
        ));
        let err = conv2d(
            &x,
            &random(&[4, 1, 3, 3], 5),
            &ConvGeometry::new().with_groups(3),
        )
        .unwrap_err();
        assert!(matches!(
            err,
            Error::ChannelsNotDivisible {
                what: "output",
                channels: 4,
                groups: 3
            }
        ));
        let err = conv2d(&x, &random(&[4, 2, 3, 3], 6), &ConvGeometry::new()).unwrap_err();
        assert!(matches!(err, Error::ShapeMismatch { what: "weight", .. }));
        let err = conv2d(&random(&[3, 5, 5], 7), &w, &ConvGeometry::new()).unwrap_err();
        assert!(matches!(
            err,
            Error::WrongRank {
                what: "input",
                expected: 4,
                ..
            }
        ));
        let err = conv2d(&x, &w, &ConvGeometry::new().with_stride([0, 1])).unwrap_err();
        assert!(matches!(err, Error::ZeroStride { .. }));
        let x32 = x.to_dtype(DType::F32).unwrap();
        let err = conv2d(&x32, &random(&[4, 3, 3, 3], 8), &ConvGeometry::new()).unwrap_err();
        assert!(matches!(err, Error::DType { .. }));
    }
}
