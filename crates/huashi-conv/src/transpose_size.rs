//! A transposed convolution whose output size is given (PyTorch's
//! `ConvTranspose2d.forward(x, output_size=…)`, ONNX `ConvTranspose`'s
//! `output_shape`), resolved into output padding.
//!
//! Per axis the natural size is `o₀ = (i − 1)·s − p_lo − p_hi + d·(k − 1) + 1`
//! and a requested size `o` needs `output_padding = o − o₀`, which must lie in
//! `[0, max(s, d))` (the constructor's rule; PyTorch's `output_size` path
//! allows `[0, s)`, a subset). Anything else is
//! [`Error::OutputSizeUnreachable`] naming the reachable range.
//!
//! Keras `Conv2DTranspose(padding='same')` (TensorFlow's `conv2d_transpose`
//! with `SAME`) is the adjoint of the 'SAME' convolution from an input of
//! `o = i·s` down to `i`: its padding is that convolution's (TensorFlow
//! 'SAME' resolved at `o`), and its output size `i·s` fixes the output
//! padding ([`keras_same_transposed`]).

use crate::error::{Axis, Error, Result};
use crate::geometry::{ConvGeometry, Padding};
use candle_core::Tensor;

/// The output padding that makes a transposed convolution of `input` by a
/// `kernel` under `geometry` produce `output_size`.
///
/// ```
/// use huashi_conv::{transpose_size::output_padding_for, ConvGeometry};
/// // i = 4, k = 3, s = 2, p = 1: o₀ = 3·2 − 2 + 3 = 7, so 8 needs padding 1.
/// let g = ConvGeometry::new().with_stride([2, 2]).with_padding([1; 4]);
/// assert_eq!(output_padding_for(&g, [4, 4], [3, 3], [8, 7]).unwrap(), [1, 0]);
/// ```
///
/// # Errors
/// The errors of [`ConvGeometry::transposed_output_size`];
/// [`Error::OutputSizeUnreachable`] when `output_size` is outside
/// `[o₀, o₀ + max(s, d) − 1]` on an axis.
pub fn output_padding_for(
    geometry: &ConvGeometry,
    input: [usize; 2],
    kernel: [usize; 2],
    output_size: [usize; 2],
) -> Result<[usize; 2]> {
    let natural = geometry.transposed_output_size(input, kernel, [0, 0])?;
    let mut padding = [0; 2];
    for (a, axis) in [Axis::Height, Axis::Width].into_iter().enumerate() {
        let span = geometry.stride[a].max(geometry.dilation[a]);
        let extra = output_size[a].checked_sub(natural[a]);
        match extra {
            Some(extra) if extra < span => padding[a] = extra,
            _ => {
                return Err(Error::OutputSizeUnreachable {
                    axis,
                    requested: output_size[a],
                    min: natural[a],
                    max: natural[a].saturating_add(span - 1),
                })
            }
        }
    }
    Ok(padding)
}

/// [`crate::conv_transpose2d`] to a given spatial `output_size`.
///
/// # Shapes
/// `x (N, C_in, H, W)`, `w (C_in, C_out/groups, kh, kw)` →
/// `(N, C_out, output_size[0], output_size[1])`.
///
/// # Errors
/// As [`crate::conv_transpose2d`] and [`output_padding_for`].
pub fn conv_transpose2d_sized(
    x: &Tensor,
    w: &Tensor,
    geometry: &ConvGeometry,
    output_size: [usize; 2],
) -> Result<Tensor> {
    let (input, kernel) = match (x.dims(), w.dims()) {
        (&[_, _, h, wd], &[_, _, kh, kw]) => ([h, wd], [kh, kw]),
        _ => {
            return Err(Error::WrongRank {
                what: "conv_transpose2d_sized input and weight",
                expected: 4,
                got: x.dims().to_vec(),
            })
        }
    };
    let output_padding = output_padding_for(geometry, input, kernel, output_size)?;
    crate::ops::conv_transpose2d(x, w, geometry, output_padding)
}

/// Padding `[top, bottom, left, right]` and output padding of Keras
/// `Conv2DTranspose(padding='same')` on an `input` of `[H, W]`: output
/// `[H·s_h, W·s_w]` (module docs).
///
/// ```
/// use huashi_conv::transpose_size::keras_same_transposed;
/// // i = 4, k = 3, s = 2: 'SAME' at o = 8 pads 0 above, 1 below; the full
/// // transposed output 3·2 + 3 = 9 loses 1 row and gives 8.
/// let (padding, extra) = keras_same_transposed([4, 4], [3, 3], [2, 2], [1, 1]).unwrap();
/// assert_eq!((padding, extra), ([0, 1, 0, 1], [0, 0]));
/// ```
///
/// # Errors
/// The errors of [`Padding::resolve`] and [`output_padding_for`];
/// [`Error::SizeOverflow`] when `H·s_h` or `W·s_w` overflows.
pub fn keras_same_transposed(
    input: [usize; 2],
    kernel: [usize; 2],
    stride: [usize; 2],
    dilation: [usize; 2],
) -> Result<([usize; 4], [usize; 2])> {
    let mut output = [0; 2];
    for (a, axis) in [Axis::Height, Axis::Width].into_iter().enumerate() {
        output[a] = input[a].checked_mul(stride[a]).ok_or(Error::SizeOverflow {
            what: "the transposed convolution output",
            axis,
        })?;
    }
    let padding = Padding::SameTensorFlow.resolve(output, kernel, stride, dilation)?;
    let geometry = ConvGeometry::new()
        .with_stride(stride)
        .with_dilation(dilation)
        .with_padding(padding);
    let output_padding = output_padding_for(&geometry, input, kernel, output)?;
    Ok((padding, output_padding))
}
