//! Convolution arithmetic (Dumoulin & Visin, "A guide to convolution arithmetic
//! for deep learning", 2016).
//!
//! Along one axis, with input size `i`, kernel `k`, stride `s`, dilation `d`
//! and paddings `p_lo`, `p_hi`, the dilated kernel extent is
//! `k' = d·(k − 1) + 1` and a convolution produces
//!
//! ```text
//! o = ⌊(i + p_lo + p_hi − k') / s⌋ + 1
//! ```
//!
//! The transposed convolution with the same geometry maps `o` back to
//! `i = (o − 1)·s − p_lo − p_hi + k' + output_padding`, where
//! `0 ≤ output_padding < max(s, d)` selects among the inputs that share `o`.
//!
//! Padding rules:
//! - [`Padding::SamePyTorch`] is PyTorch's `padding='same'`: stride 1 only,
//!   total `d·(k − 1)`, the extra pixel (odd total) goes right/bottom.
//! - [`Padding::SameTensorFlow`] is TensorFlow's `'SAME'`: any stride,
//!   `o = ⌈i / s⌉`, total `max((o − 1)·s + k' − i, 0)`, extra pixel right/bottom.

use crate::error::{Axis, Error, Result};

/// How a layer pads its input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub enum Padding {
    /// No padding (Keras/TensorFlow `'valid'`, PyTorch `padding=0`).
    #[default]
    Valid,
    /// PyTorch `padding='same'`: stride 1 only; extra pixel right/bottom.
    SamePyTorch,
    /// TensorFlow `'SAME'`: output `⌈i/s⌉` for any stride; extra pixel right/bottom.
    SameTensorFlow,
    /// Explicit, possibly asymmetric, zero padding.
    Explicit {
        /// Rows added above.
        top: usize,
        /// Rows added below.
        bottom: usize,
        /// Columns added on the left.
        left: usize,
        /// Columns added on the right.
        right: usize,
    },
}

impl Padding {
    /// Symmetric explicit padding: `ph` rows above and below, `pw` columns left and right.
    pub fn symmetric(ph: usize, pw: usize) -> Self {
        Padding::Explicit {
            top: ph,
            bottom: ph,
            left: pw,
            right: pw,
        }
    }

    /// The rule split by axis for a k×1 then 1×k pair of convolutions: the
    /// first keeps the rows' padding, the second the columns'. Zero padding
    /// is a product of per-axis paddings, so the pair pads as the k×k would;
    /// the 'same' rules resolve per stage and are returned unchanged.
    pub fn split_axes(&self) -> (Padding, Padding) {
        match *self {
            Padding::Explicit {
                top,
                bottom,
                left,
                right,
            } => (
                Padding::Explicit {
                    top,
                    bottom,
                    left: 0,
                    right: 0,
                },
                Padding::Explicit {
                    top: 0,
                    bottom: 0,
                    left,
                    right,
                },
            ),
            rule => (rule, rule),
        }
    }

    /// Resolves the rule into explicit `[top, bottom, left, right]` for an input.
    ///
    /// ```
    /// use huashi_conv::Padding;
    /// // TensorFlow 'SAME', 224 input, 3x3 kernel, stride 2: 0 above, 1 below.
    /// let p = Padding::SameTensorFlow.resolve([224, 224], [3, 3], [2, 2], [1, 1]).unwrap();
    /// assert_eq!(p, [0, 1, 0, 1]);
    /// ```
    ///
    /// # Errors
    /// [`Error::ZeroKernel`], [`Error::ZeroStride`], [`Error::ZeroDilation`] or
    /// [`Error::SizeOverflow`] (see [`check_kernel_stride_dilation`]);
    /// [`Error::SameNeedsStrideOne`] for [`Padding::SamePyTorch`] with a stride ≠ 1.
    pub fn resolve(
        &self,
        input: [usize; 2],
        kernel: [usize; 2],
        stride: [usize; 2],
        dilation: [usize; 2],
    ) -> Result<[usize; 4]> {
        check_kernel_stride_dilation(kernel, stride, dilation)?;
        let extent = |a: usize| dilation[a] * (kernel[a] - 1) + 1;
        let split = |total: usize| [total / 2, total - total / 2];
        match *self {
            Padding::Valid => Ok([0; 4]),
            Padding::Explicit {
                top,
                bottom,
                left,
                right,
            } => Ok([top, bottom, left, right]),
            Padding::SamePyTorch => {
                if stride != [1, 1] {
                    return Err(Error::SameNeedsStrideOne { stride });
                }
                let [t, b] = split(extent(0) - 1);
                let [l, r] = split(extent(1) - 1);
                Ok([t, b, l, r])
            }
            Padding::SameTensorFlow => {
                // (⌈i/s⌉ − 1)·s ≤ i − 1, so only adding the extent can overflow.
                let total = |a: usize, axis| {
                    let out = input[a].div_ceil(stride[a]);
                    ((out.max(1) - 1) * stride[a])
                        .checked_add(extent(a))
                        .map(|n| n.saturating_sub(input[a]))
                        .ok_or(Error::SizeOverflow {
                            what: "TensorFlow 'SAME' padding",
                            axis,
                        })
                };
                let [t, b] = split(total(0, Axis::Height)?);
                let [l, r] = split(total(1, Axis::Width)?);
                Ok([t, b, l, r])
            }
        }
    }
}

/// The geometry shared by the three convolution ops: per-axis stride and
/// dilation, explicit asymmetric padding `[top, bottom, left, right]`, groups.
///
/// The depth multiplier of a depthwise convolution is not stored: it is
/// `C_out / C_in` with `groups = C_in`; output channel `c·m + q` reads input
/// channel `c`, as in PyTorch and TensorFlow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ConvGeometry {
    /// Stride `[vertical, horizontal]`.
    pub stride: [usize; 2],
    /// Dilation `[vertical, horizontal]`.
    pub dilation: [usize; 2],
    /// Zero padding `[top, bottom, left, right]`.
    pub padding: [usize; 4],
    /// Number of groups (`C_in` for depthwise).
    pub groups: usize,
}

impl Default for ConvGeometry {
    fn default() -> Self {
        ConvGeometry {
            stride: [1, 1],
            dilation: [1, 1],
            padding: [0; 4],
            groups: 1,
        }
    }
}

impl ConvGeometry {
    /// Stride 1, dilation 1, no padding, one group.
    pub fn new() -> Self {
        Self::default()
    }
    /// Sets the stride.
    pub fn with_stride(mut self, stride: [usize; 2]) -> Self {
        self.stride = stride;
        self
    }
    /// Sets the dilation.
    pub fn with_dilation(mut self, dilation: [usize; 2]) -> Self {
        self.dilation = dilation;
        self
    }
    /// Sets explicit padding `[top, bottom, left, right]`.
    pub fn with_padding(mut self, padding: [usize; 4]) -> Self {
        self.padding = padding;
        self
    }
    /// Sets the number of groups.
    pub fn with_groups(mut self, groups: usize) -> Self {
        self.groups = groups;
        self
    }

    /// Dilated kernel extent `d·(k − 1) + 1` along both axes.
    pub fn kernel_extent(&self, kernel: [usize; 2]) -> [usize; 2] {
        [0, 1].map(|a| self.dilation[a] * (kernel[a].max(1) - 1) + 1)
    }

    /// Output spatial size of the convolution of an `input`-sized map by a `kernel`.
    ///
    /// ```
    /// use huashi_conv::ConvGeometry;
    /// let g = ConvGeometry::new().with_stride([2, 2]).with_padding([1, 1, 1, 1]);
    /// assert_eq!(g.output_size([56, 56], [3, 3]).unwrap(), [28, 28]);
    /// ```
    ///
    /// # Errors
    /// The errors of [`check_kernel_stride_dilation`], [`Error::SizeOverflow`], and
    /// [`Error::KernelLargerThanInput`] when the dilated kernel exceeds the padded input.
    pub fn output_size(&self, input: [usize; 2], kernel: [usize; 2]) -> Result<[usize; 2]> {
        check_kernel_stride_dilation(kernel, self.stride, self.dilation)?;
        let extent = self.kernel_extent(kernel);
        let mut out = [0; 2];
        for (a, axis) in [Axis::Height, Axis::Width].into_iter().enumerate() {
            let padding = self.padding_sum(a, axis)?;
            let padded_input = input[a].checked_add(padding).ok_or(Error::SizeOverflow {
                what: "the padded input",
                axis,
            })?;
            if extent[a] > padded_input {
                return Err(Error::KernelLargerThanInput {
                    axis,
                    kernel_extent: extent[a],
                    padded_input,
                    input: input[a],
                    padding,
                });
            }
            out[a] = (padded_input - extent[a]) / self.stride[a] + 1;
        }
        Ok(out)
    }

    /// Output size of the transposed convolution (the input size of the
    /// convolution it transposes), with `output_padding < max(stride, dilation)`.
    ///
    /// ```
    /// use huashi_conv::ConvGeometry;
    /// let g = ConvGeometry::new().with_stride([2, 2]).with_padding([1, 1, 1, 1]);
    /// assert_eq!(g.transposed_output_size([28, 28], [3, 3], [1, 1]).unwrap(), [56, 56]);
    /// ```
    ///
    /// # Errors
    /// The errors of [`check_kernel_stride_dilation`] and
    /// [`Self::check_output_padding`]; [`Error::SizeOverflow`]; [`Error::InvalidArgument`]
    /// for an empty input or padding that removes the whole output.
    pub fn transposed_output_size(
        &self,
        input: [usize; 2],
        kernel: [usize; 2],
        output_padding: [usize; 2],
    ) -> Result<[usize; 2]> {
        check_kernel_stride_dilation(kernel, self.stride, self.dilation)?;
        self.check_output_padding(output_padding)?;
        let extent = self.kernel_extent(kernel);
        let mut out = [0; 2];
        for (a, axis) in [Axis::Height, Axis::Width].into_iter().enumerate() {
            if input[a] == 0 {
                return Err(Error::InvalidArgument {
                    what: "transposed convolution input",
                    detail: format!("{axis} is 0"),
                });
            }
            let full = (input[a] - 1)
                .checked_mul(self.stride[a])
                .and_then(|n| n.checked_add(extent[a]))
                .and_then(|n| n.checked_add(output_padding[a]))
                .ok_or(Error::SizeOverflow {
                    what: "the transposed convolution output",
                    axis,
                })?;
            let padding = self.padding_sum(a, axis)?;
            if full <= padding {
                return Err(Error::InvalidArgument {
                    what: "transposed convolution padding",
                    detail: format!(
                        "padding {padding} along {axis} removes the whole output of size {full}"
                    ),
                });
            }
            out[a] = full - padding;
        }
        Ok(out)
    }

    /// Padding before plus after along axis `a`.
    fn padding_sum(&self, a: usize, axis: Axis) -> Result<usize> {
        self.padding[2 * a]
            .checked_add(self.padding[2 * a + 1])
            .ok_or(Error::SizeOverflow {
                what: "the padding",
                axis,
            })
    }

    /// Checks `output_padding < max(stride, dilation)` on both axes.
    ///
    /// # Errors
    /// [`Error::OutputPaddingTooLarge`] naming the first offending axis.
    pub fn check_output_padding(&self, output_padding: [usize; 2]) -> Result<()> {
        for (a, axis) in [Axis::Height, Axis::Width].into_iter().enumerate() {
            if output_padding[a] >= self.stride[a].max(self.dilation[a]) {
                return Err(Error::OutputPaddingTooLarge {
                    axis,
                    output_padding: output_padding[a],
                    stride: self.stride[a],
                    dilation: self.dilation[a],
                });
            }
        }
        Ok(())
    }

    /// Checks channel counts against `groups`.
    ///
    /// # Errors
    /// [`Error::ZeroGroups`], [`Error::ZeroChannels`], or [`Error::ChannelsNotDivisible`].
    pub fn check_channels(&self, in_channels: usize, out_channels: usize) -> Result<()> {
        if self.groups == 0 {
            return Err(Error::ZeroGroups);
        }
        for (what, channels) in [("input", in_channels), ("output", out_channels)] {
            if channels == 0 {
                return Err(Error::ZeroChannels { what });
            }
            if channels % self.groups != 0 {
                return Err(Error::ChannelsNotDivisible {
                    what,
                    channels,
                    groups: self.groups,
                });
            }
        }
        Ok(())
    }
}

/// Rejects zero kernel extents, strides and dilations, and dilated extents
/// `d·(k − 1) + 1` that overflow (so [`ConvGeometry::kernel_extent`] is
/// exact after this check).
///
/// # Errors
/// [`Error::ZeroKernel`], [`Error::ZeroStride`], [`Error::ZeroDilation`] or
/// [`Error::SizeOverflow`] naming the axis.
pub fn check_kernel_stride_dilation(
    kernel: [usize; 2],
    stride: [usize; 2],
    dilation: [usize; 2],
) -> Result<()> {
    for (a, axis) in [Axis::Height, Axis::Width].into_iter().enumerate() {
        if kernel[a] == 0 {
            return Err(Error::ZeroKernel { axis });
        }
        if stride[a] == 0 {
            return Err(Error::ZeroStride { axis });
        }
        if dilation[a] == 0 {
            return Err(Error::ZeroDilation { axis });
        }
        dilation[a]
            .checked_mul(kernel[a] - 1)
            .and_then(|n| n.checked_add(1))
            .ok_or(Error::SizeOverflow {
                what: "the dilated kernel extent",
                axis,
            })?;
    }
    Ok(())
}

/// Output size of a pooling window (same arithmetic as a convolution, with
/// symmetric padding limited to half the window, as PyTorch requires).
///
/// # Errors
/// [`Error::PoolPaddingTooLarge`], or the errors of [`ConvGeometry::output_size`].
pub fn pool_output_size(
    input: [usize; 2],
    kernel: [usize; 2],
    stride: [usize; 2],
    padding: [usize; 2],
) -> Result<[usize; 2]> {
    for (a, axis) in [Axis::Height, Axis::Width].into_iter().enumerate() {
        if kernel[a] > 0 && padding[a] > kernel[a] / 2 {
            return Err(Error::PoolPaddingTooLarge {
                axis,
                padding: padding[a],
                kernel: kernel[a],
            });
        }
    }
    ConvGeometry::new()
        .with_stride(stride)
        .with_padding([padding[0], padding[0], padding[1], padding[1]])
        .output_size(input, kernel)
}
