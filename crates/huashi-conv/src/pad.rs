//! Spatial padding of the last two axes (PyTorch `F.pad` on `(…, H, W)`,
//! `Conv2d(padding_mode=…)`, ONNX `Pad` constant/reflect/edge) as a candle
//! custom op with exact gradients of every order.
//!
//! With `[top, bottom, left, right]` padding, output row `o ∈ [0, H + top +
//! bottom)` reads input row `src(o − top)` (columns alike), where for an
//! offset `i`:
//!
//! ```text
//! zeros:      i            if 0 ≤ i < H, else nothing (the value 0)
//! reflect:    −i if i < 0,  2(H − 1) − i if i ≥ H   (the edge is not repeated)
//! replicate:  clamp(i, 0, H − 1)                     (ONNX "edge")
//! circular:   i mod H                                (wraps around)
//! ```
//!
//! so `pad(x)[o₁, o₂] = x[src(o₁ − top), src(o₂ − left)]`. Padding is linear
//! with a 0/1 matrix `P`; its adjoint `Pᵀ` scatter-adds every output
//! position back onto the input position it read:
//! `Pᵀ(g)[i, j] = Σ_{src(o₁−top)=i, src(o₂−left)=j} g[o₁, o₂]`. The backward of
//! `P` is `Pᵀ` and the backward of `Pᵀ` is `P`, so the pair is closed under
//! differentiation (as the convolution ops in [`crate::ops`]).
//!
//! As PyTorch, reflect padding needs every pad `< H` (resp. `W`), circular
//! padding every pad `≤ H`, replicate a non-empty axis; anything else is
//! [`Error::PadTooLarge`].

use crate::custom::{run_unary, UnaryKernel};
use crate::error::{Axis, Error, Result};
use crate::kernels::Real;
use candle_core::{CpuStorage, CustomOp1, DType, Layout, Shape, Tensor};
use serde::{Deserialize, Serialize};

/// How a padded border is filled (PyTorch's `padding_mode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PaddingMode {
    /// Zeros (PyTorch's default; ONNX `constant` with value 0).
    #[default]
    Zeros,
    /// Mirror without repeating the edge (`[a b c]` → `c b | a b c | b a`).
    Reflect,
    /// Repeat the edge (`a a | a b c | c c`; ONNX `edge`).
    Replicate,
    /// Wrap around (`b c | a b c | a b`).
    Circular,
}

impl PaddingMode {
    /// The name as written in descriptions (`"zeros"`, `"reflect"`, …).
    pub fn name(self) -> &'static str {
        match self {
            PaddingMode::Zeros => "zeros",
            PaddingMode::Reflect => "reflect",
            PaddingMode::Replicate => "replicate",
            PaddingMode::Circular => "circular",
        }
    }

    /// Whether this is the default (zeros), for serialisers that skip it.
    pub fn is_zeros(&self) -> bool {
        *self == PaddingMode::Zeros
    }

    /// The input index read at offset `i` of an axis of `size`, `None` for a
    /// zero. Assumes [`PaddingMode::check`] passed.
    fn source(self, i: isize, size: usize) -> Option<usize> {
        let n = size as isize;
        let j = match self {
            PaddingMode::Zeros => return (0..n).contains(&i).then_some(i as usize),
            PaddingMode::Reflect if i < 0 => -i,
            PaddingMode::Reflect if i >= n => 2 * (n - 1) - i,
            PaddingMode::Reflect => i,
            PaddingMode::Replicate => i.clamp(0, n - 1),
            PaddingMode::Circular => i.rem_euclid(n),
        };
        Some(j as usize)
    }

    /// Checks `before`/`after` padding of an axis of `size` (module docs).
    ///
    /// # Errors
    /// [`Error::PadTooLarge`] naming the mode, axis, padding and size.
    pub fn check(self, axis: Axis, size: usize, before: usize, after: usize) -> Result<()> {
        let largest = before.max(after);
        let fits = match self {
            PaddingMode::Zeros => true,
            PaddingMode::Reflect => largest == 0 || largest < size,
            PaddingMode::Replicate => size > 0 || largest == 0,
            PaddingMode::Circular => largest <= size,
        };
        if fits {
            Ok(())
        } else {
            Err(Error::PadTooLarge {
                mode: self.name(),
                axis,
                padding: largest,
                input: size,
            })
        }
    }
}

/// Padding or its adjoint, with the sizes fixed.
#[derive(Debug, Clone, Copy)]
struct PadOp {
    /// `true` for the adjoint (scatter-add back).
    adjoint: bool,
    mode: PaddingMode,
    /// `[top, bottom, left, right]`.
    padding: [usize; 4],
    /// Input (unpadded) `[H, W]`.
    size: [usize; 2],
}

impl PadOp {
    fn padded(&self) -> [usize; 2] {
        let [t, b, l, r] = self.padding;
        [self.size[0] + t + b, self.size[1] + l + r]
    }

    /// Per output row (column) the input row (column) it reads.
    fn maps(&self) -> [Vec<Option<usize>>; 2] {
        let [t, _, l, _] = self.padding;
        let padded = self.padded();
        let map = |axis: usize, before: usize| -> Vec<Option<usize>> {
            (0..padded[axis])
                .map(|o| {
                    self.mode
                        .source(o as isize - before as isize, self.size[axis])
                })
                .collect()
        };
        [map(0, t), map(1, l)]
    }

    fn apply(&self, x: &Tensor) -> candle_core::Result<Tensor> {
        x.contiguous()?.apply_op1(*self)
    }
}

impl UnaryKernel for PadOp {
    fn run<T: Real>(&self, a: &[T]) -> Vec<T> {
        let [h, w] = self.size;
        let [ph, pw] = self.padded();
        let [rows, cols] = self.maps();
        let (inner, outer) = if self.adjoint {
            (ph * pw, h * w)
        } else {
            (h * w, ph * pw)
        };
        let planes = a.len().checked_div(inner).unwrap_or(0);
        let mut out = vec![T::default(); planes * outer];
        for p in 0..planes {
            let (pa, po) = (p * inner, p * outer);
            for (o1, r) in rows.iter().enumerate() {
                let Some(r) = *r else { continue };
                for (o2, c) in cols.iter().enumerate() {
                    let Some(c) = *c else { continue };
                    if self.adjoint {
                        out[po + r * w + c] += a[pa + o1 * pw + o2];
                    } else {
                        out[po + o1 * pw + o2] = a[pa + r * w + c];
                    }
                }
            }
        }
        out
    }
}

impl CustomOp1 for PadOp {
    fn name(&self) -> &'static str {
        if self.adjoint {
            "huashi-pad2d-adjoint"
        } else {
            "huashi-pad2d"
        }
    }

    fn cpu_fwd(&self, s: &CpuStorage, l: &Layout) -> candle_core::Result<(CpuStorage, Shape)> {
        let dims = l.dims();
        let expected = if self.adjoint {
            self.padded()
        } else {
            self.size
        };
        if dims.len() < 2 || dims[dims.len() - 2..] != expected {
            candle_core::bail!(
                "{}: operand {dims:?} does not end in {expected:?}",
                self.name()
            );
        }
        let storage = run_unary(self, self.name(), s, l)?;
        let mut out = dims.to_vec();
        let n = out.len();
        let size = if self.adjoint {
            self.size
        } else {
            self.padded()
        };
        out[n - 2..].copy_from_slice(&size);
        Ok((storage, Shape::from(out)))
    }

    fn bwd(
        &self,
        _arg: &Tensor,
        _res: &Tensor,
        grad: &Tensor,
    ) -> candle_core::Result<Option<Tensor>> {
        let other = PadOp {
            adjoint: !self.adjoint,
            ..*self
        };
        Ok(Some(other.apply(grad)?))
    }
}

/// Checks rank, dtype and device; returns the spatial size `[H, W]`.
fn spatial(x: &Tensor, what: &'static str) -> Result<[usize; 2]> {
    let dims = x.dims();
    if dims.len() < 2 {
        return Err(Error::WrongRank {
            what,
            expected: 4,
            got: dims.to_vec(),
        });
    }
    if !matches!(x.dtype(), DType::F32 | DType::F64) {
        return Err(Error::DType {
            what,
            expected: DType::F32,
            got: x.dtype(),
        });
    }
    if !x.device().is_cpu() {
        return Err(Error::InvalidArgument {
            what,
            detail: "huashi-conv kernels run on the CPU device only".into(),
        });
    }
    Ok([dims[dims.len() - 2], dims[dims.len() - 1]])
}

/// Pads the last two axes of `x` by `[top, bottom, left, right]` in `mode`
/// (PyTorch `F.pad(x, (left, right, top, bottom), mode)`, ONNX `Pad` with
/// `constant` 0 / `reflect` / `edge` on the spatial axes).
///
/// ```
/// use candle_core::{Device, Tensor};
/// use huashi_conv::pad::{pad2d, PaddingMode};
/// let x = Tensor::new(&[[[[0f32, 1., 2., 3.]]]], &Device::Cpu).unwrap();
/// let y = pad2d(&x, [0, 0, 2, 2], PaddingMode::Reflect).unwrap();
/// assert_eq!(y.flatten_all().unwrap().to_vec1::<f32>().unwrap(), [2., 1., 0., 1., 2., 3., 2., 1.]);
/// ```
///
/// # Shapes
/// `x (…, H, W)` → `(…, H + top + bottom, W + left + right)`.
///
/// # Errors
/// [`Error::WrongRank`] below rank 2, [`Error::DType`] unless f32 or f64,
/// [`Error::InvalidArgument`] off the CPU, [`Error::PadTooLarge`] (module
/// docs), [`Error::SizeOverflow`] when the padded size overflows.
pub fn pad2d(x: &Tensor, padding: [usize; 4], mode: PaddingMode) -> Result<Tensor> {
    let size = spatial(x, "pad2d input")?;
    let op = checked_op(false, mode, padding, size)?;
    Ok(op.apply(x)?)
}

/// The adjoint of [`pad2d`]: sums every padded position of `g` back onto
/// the input position it was read from (the gradient of [`pad2d`]).
///
/// # Shapes
/// `g (…, H + top + bottom, W + left + right)` → `(…, H, W)`, `[H, W] = size`.
///
/// # Errors
/// As [`pad2d`]; [`Error::ShapeMismatch`] when `g` is not the padded size.
pub fn pad2d_adjoint(
    g: &Tensor,
    padding: [usize; 4],
    mode: PaddingMode,
    size: [usize; 2],
) -> Result<Tensor> {
    let got = spatial(g, "pad2d_adjoint gradient")?;
    let op = checked_op(true, mode, padding, size)?;
    if got != op.padded() {
        return Err(Error::ShapeMismatch {
            what: "pad2d_adjoint gradient (spatial)",
            expected: op.padded().to_vec(),
            got: got.to_vec(),
        });
    }
    Ok(op.apply(g)?)
}

fn checked_op(
    adjoint: bool,
    mode: PaddingMode,
    padding: [usize; 4],
    size: [usize; 2],
) -> Result<PadOp> {
    let [t, b, l, r] = padding;
    mode.check(Axis::Height, size[0], t, b)?;
    mode.check(Axis::Width, size[1], l, r)?;
    for (axis, sum) in [
        (Axis::Height, [size[0], t, b]),
        (Axis::Width, [size[1], l, r]),
    ] {
        sum.iter()
            .try_fold(0usize, |acc, &v| acc.checked_add(v))
            .ok_or(Error::SizeOverflow {
                what: "the padded input",
                axis,
            })?;
    }
    Ok(PadOp {
        adjoint,
        mode,
        padding,
        size,
    })
}
