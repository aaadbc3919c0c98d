//! The configurations of the family's stages: stride, dilation, padding,
//! groups, bias and padding mode of a convolution ([`Conv2dConfig`]) and of a transposed
//! convolution ([`ConvTranspose2dConfig`]).

use crate::error::{Error, Result};
use crate::geometry::{ConvGeometry, Padding};
use crate::pad::PaddingMode;

/// Stride, dilation, padding rule, groups and bias of a convolution layer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Conv2dConfig {
    /// Stride `[sh, sw]`.
    pub stride: [usize; 2],
    /// Dilation `[dh, dw]`.
    pub dilation: [usize; 2],
    /// Padding rule.
    pub padding: Padding,
    /// Number of groups.
    pub groups: usize,
    /// Whether the layer adds a bias.
    pub bias: bool,
    /// How the padded border is filled (PyTorch `padding_mode`; default zeros).
    #[serde(skip_serializing_if = "PaddingMode::is_zeros")]
    pub padding_mode: PaddingMode,
}

impl Default for Conv2dConfig {
    fn default() -> Self {
        Conv2dConfig {
            stride: [1, 1],
            dilation: [1, 1],
            padding: Padding::Valid,
            groups: 1,
            bias: true,
            padding_mode: PaddingMode::Zeros,
        }
    }
}

impl Conv2dConfig {
    /// The same configuration with another padding mode.
    pub fn with_mode(self, padding_mode: PaddingMode) -> Self {
        Conv2dConfig {
            padding_mode,
            ..self
        }
    }

    /// Checks what can be checked before an input is seen: stride, dilation,
    /// kernel, groups against channels, and the PyTorch 'same' stride rule.
    ///
    /// # Errors
    /// The errors of [`ConvGeometry::check_channels`] and
    /// [`crate::geometry::check_kernel_stride_dilation`]; [`Error::SameNeedsStrideOne`].
    pub fn check(&self, in_channels: usize, out_channels: usize, kernel: [usize; 2]) -> Result<()> {
        ConvGeometry::new()
            .with_groups(self.groups)
            .check_channels(in_channels, out_channels)?;
        crate::geometry::check_kernel_stride_dilation(kernel, self.stride, self.dilation)?;
        if self.padding == Padding::SamePyTorch && self.stride != [1, 1] {
            return Err(Error::SameNeedsStrideOne {
                stride: self.stride,
            });
        }
        Ok(())
    }

    /// Resolves the padding rule for an input of spatial size `input` and
    /// checks it against the padding mode.
    ///
    /// # Errors
    /// The errors of [`Padding::resolve`] and [`PaddingMode::check`].
    pub fn geometry(&self, input: [usize; 2], kernel: [usize; 2]) -> Result<ConvGeometry> {
        let padding = self
            .padding
            .resolve(input, kernel, self.stride, self.dilation)?;
        let [t, b, l, r] = padding;
        let mode = self.padding_mode;
        mode.check(crate::error::Axis::Height, input[0], t, b)?;
        mode.check(crate::error::Axis::Width, input[1], l, r)?;
        Ok(ConvGeometry {
            stride: self.stride,
            dilation: self.dilation,
            padding,
            groups: self.groups,
        })
    }
}

/// Configuration of a transposed convolution ([`crate::ConvTranspose2d`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct ConvTranspose2dConfig {
    /// Stride `[sh, sw]`.
    pub stride: [usize; 2],
    /// Dilation `[dh, dw]`.
    pub dilation: [usize; 2],
    /// Padding `[top, bottom, left, right]` removed from the full output.
    pub padding: [usize; 4],
    /// Extra rows/columns at the bottom/right, `< max(stride, dilation)`.
    pub output_padding: [usize; 2],
    /// Number of groups.
    pub groups: usize,
    /// Whether the layer adds a bias.
    pub bias: bool,
}

impl Default for ConvTranspose2dConfig {
    fn default() -> Self {
        ConvTranspose2dConfig {
            stride: [1, 1],
            dilation: [1, 1],
            padding: [0; 4],
            output_padding: [0, 0],
            groups: 1,
            bias: true,
        }
    }
}

impl ConvTranspose2dConfig {
    /// The shared convolution geometry (without `output_padding`).
    pub fn geometry(&self) -> ConvGeometry {
        ConvGeometry {
            stride: self.stride,
            dilation: self.dilation,
            padding: self.padding,
            groups: self.groups,
        }
    }
}
