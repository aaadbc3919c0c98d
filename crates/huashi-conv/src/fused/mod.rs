//! Fused per-channel ops for batch normalisation and ReLU on `(B, C, L)`
//! tensors, as candle custom ops whose backward passes are written with
//! each other, so gradients of every order are exact (as the convolution ops
//! of [`crate::ops`]).
//!
//! Coefficients are packed as `st (k, C)`: row 0 the scales `s`, row 1 (when
//! `k = 2`) the shifts `t` (zero when `k = 1`). With `m = 1[y > 0]` a ReLU
//! mask read from a tensor `y` (the ReLU's output: derivative zero almost
//! everywhere, so no gradient flows into `y`), `s₁ = st[0..1]` and `ḡ` the
//! incoming gradient:
//!
//! ```text
//! op                                    result   ∂a                    ∂b                   ∂y
//! A(a, st)      = a·s + t               (B,C,L)  A(ḡ, s₁)              D(ḡ, a)              –
//! R(a, st)      = relu(a·s + t)         (B,C,L)  A_m(ḡ, s₁), y = R     D_m(ḡ, a), y = R     –
//! A_m(a, st, y) = m ⊙ (a·s + t)         (B,C,L)  A_m(ḡ, s₁, y)         D_m(ḡ, a, y)         0
//! D(a, x)       = [Σ a⊙x ; Σ a]         (k, C)   A(x, ḡ)               A(a, ḡ₁)             –
//! D_m(a, x, y)  = [Σ m⊙a⊙x ; Σ m⊙a]     (k, C)   A_m(x, ḡ, y)          A_m(a, ḡ₁, y)        0
//! M(x)          = [μ ; σ²]              (2, C)   A(x, [2ḡ_σ/N ; (ḡ_μ − 2μ ḡ_σ)/N])
//! ```
//!
//! where `Σ` runs over `(B, L)`, `N = B·L`, `μ = Σ x / N`,
//! `σ² = Σ (x − μ)² / N` (biased, as batch normalisation) and `ḡ₁` is the
//! first row of `ḡ`. `D` has as many rows `k` as the coefficients it is the
//! gradient of. Every backward is made of ops of the table (plus candle
//! arithmetic on `(C)`-sized vectors), so the family is closed under
//! differentiation — provided candle keeps the graph of gradients
//! (`CANDLE_GRAD_DO_NOT_DETACH`). Each op is one pass over contiguous
//! memory, multi-threaded (rayon) only above 32K elements.
//!
//! ReLU keeps NaN (`relu(NaN) = NaN`, mask 1), so divergence stays visible.

mod kernels;
mod ops;

use crate::error::{Error, Result};
use candle_core::{DType, Tensor};
use ops::Kind;

/// The `(B, C, L)` sizes of `x`, checked to be f32/f64 on the CPU.
fn dims3(x: &Tensor, what: &'static str) -> Result<kernels::Dims> {
    if !matches!(x.dtype(), DType::F32 | DType::F64) || !x.device().is_cpu() {
        return Err(Error::InvalidArgument {
            what: "fused op operand (f32 or f64 on the CPU)",
            detail: format!("{what}: {:?} on {:?}", x.dtype(), x.device()),
        });
    }
    match *x.dims() {
        [batch, channels, len] => Ok(kernels::Dims {
            batch,
            channels,
            len,
        }),
        _ => Err(Error::WrongRank {
            what,
            expected: 3,
            got: x.dims().to_vec(),
        }),
    }
}

/// Checks that `t` has `x`'s dtype and the shape `expected`.
fn check_like(t: &Tensor, x: &Tensor, expected: &[usize], what: &'static str) -> Result<()> {
    if t.dims() != expected || t.dtype() != x.dtype() || !t.device().same_device(x.device()) {
        return Err(Error::ShapeMismatch {
            what,
            expected: expected.to_vec(),
            got: t.dims().to_vec(),
        });
    }
    Ok(())
}

/// The packed coefficients `[scale ; shift]`, `(2, C)`, checked against `x`.
fn coefficients(x: &Tensor, scale: &Tensor, shift: &Tensor) -> Result<(kernels::Dims, Tensor)> {
    let dims = dims3(x, "fused affine input")?;
    check_like(scale, x, &[dims.channels], "scale")?;
    check_like(shift, x, &[dims.channels], "shift")?;
    Ok((dims, Tensor::stack(&[scale, shift], 0)?))
}

/// `relu(x·scale[c] + shift[c])` in one pass.
///
/// # Shapes
/// `x (B, C, L)`, `scale (C)`, `shift (C)` → `(B, C, L)`.
///
/// # Errors
/// [`Error::ShapeMismatch`] for other shapes or mixed dtypes,
/// [`Error::InvalidArgument`] for dtypes other than f32/f64 or a non-CPU device.
pub fn affine_relu(x: &Tensor, scale: &Tensor, shift: &Tensor) -> Result<Tensor> {
    let (dims, st) = coefficients(x, scale, shift)?;
    Ok(ops::apply(Kind::AffineRelu, dims, 2, x, &st, None)?)
}

/// `x·scale[c] + shift[c]` in one pass.
///
/// # Shapes
/// `x (B, C, L)`, `scale (C)`, `shift (C)` → `(B, C, L)`.
///
/// # Errors
/// As [`affine_relu`].
pub fn affine(x: &Tensor, scale: &Tensor, shift: &Tensor) -> Result<Tensor> {
    let (dims, st) = coefficients(x, scale, shift)?;
    Ok(ops::apply(Kind::Affine, dims, 2, x, &st, None)?)
}

/// `1[y > 0] ⊙ (g·scale[c] + shift[c])`: the ReLU mask of `y` applied to an
/// affine map of `g` (with `y` a ReLU output, `masked_affine(g, y, s, 0)`
/// is the gradient through `relu(x·s + t)` of an output gradient `g`).
///
/// # Shapes
/// `g, y (B, C, L)`, `scale (C)`, `shift (C)` → `(B, C, L)`.
///
/// # Errors
/// As [`affine_relu`].
pub fn masked_affine(g: &Tensor, y: &Tensor, scale: &Tensor, shift: &Tensor) -> Result<Tensor> {
    let (dims, st) = coefficients(g, scale, shift)?;
    check_like(y, g, g.dims(), "mask source")?;
    Ok(ops::apply(Kind::Affine, dims, 2, g, &st, Some(y))?)
}

/// Per-channel `(Σ m⊙a⊙x, Σ m⊙a)` over batch and length, with
/// `m = 1[mask > 0]` (or 1 without a mask): the gradients of an affine map's
/// scale and shift.
///
/// # Shapes
/// `a, x, mask (B, C, L)` → `((C), (C))`.
///
/// # Errors
/// As [`affine_relu`].
pub fn channel_dot_sum(a: &Tensor, x: &Tensor, mask: Option<&Tensor>) -> Result<(Tensor, Tensor)> {
    let dims = dims3(a, "channel_dot_sum operand")?;
    check_like(x, a, a.dims(), "channel_dot_sum operand")?;
    if let Some(y) = mask {
        check_like(y, a, a.dims(), "mask source")?;
    }
    let both = ops::apply(Kind::DotSum, dims, 2, a, x, mask)?;
    Ok((both.get(0)?, both.get(1)?))
}

/// Per-channel mean and (biased) variance over batch and length, in one op.
///
/// # Shapes
/// `x (B, C, L)` → `((C), (C))`.
///
/// # Errors
/// As [`affine_relu`].
pub fn channel_moments(x: &Tensor) -> Result<(Tensor, Tensor)> {
    let dims = dims3(x, "channel_moments input")?;
    if dims.batch * dims.len == 0 {
        return Err(Error::InvalidArgument {
            what: "channel_moments input",
            detail: format!("needs B·L > 0, got shape {:?}", x.dims()),
        });
    }
    let both = ops::moments(dims, x)?;
    Ok((both.get(0)?, both.get(1)?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::Device;

    #[test]
    fn bad_shapes_are_errors() -> Result<()> {
        let x = Tensor::ones((2, 3, 4), DType::F64, &Device::Cpu)?;
        let c3 = Tensor::ones(3, DType::F64, &Device::Cpu)?;
        let c2 = Tensor::ones(2, DType::F64, &Device::Cpu)?;
        let shape_error = |r: Result<Tensor>| {
            matches!(
                r,
                Err(Error::ShapeMismatch { .. }
                    | Error::WrongRank { .. }
                    | Error::InvalidArgument { .. })
            )
        };
        assert!(shape_error(affine_relu(&x, &c2, &c3)));
        assert!(shape_error(affine(&x.flatten_all()?, &c3, &c3)));
        assert!(shape_error(affine_relu(&x, &c3, &c3.to_dtype(DType::F32)?)));
        assert!(shape_error(masked_affine(&x, &x.get(0)?, &c3, &c3)));
        let narrow = x.narrow(2, 0, 2)?;
        assert!(shape_error(channel_dot_sum(&x, &narrow, None).map(|p| p.0)));
        let empty = Tensor::zeros((0, 3, 4), DType::F64, &Device::Cpu)?;
        assert!(shape_error(channel_moments(&empty).map(|p| p.0)));
        let bytes = Tensor::zeros((2, 3, 4), DType::U8, &Device::Cpu)?;
        let err = channel_moments(&bytes).unwrap_err();
        assert!(matches!(err, Error::InvalidArgument { .. }), "{err}");
        Ok(())
    }
}
