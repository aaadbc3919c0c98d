//! Output shapes and costs, layer by layer, without tensors.
//!
//! With `C_in → C_out` channels, kernel `kh × kw`, `g` groups and output
//! `Ho × Wo` (batch 1):
//!
//! - convolution: params `C_out·(C_in/g)·kh·kw (+ C_out bias)`,
//!   MACs `C_out·Ho·Wo·(C_in/g)·kh·kw`;
//! - depthwise (multiplier `m`): the convolution with `g = C_in`, `C_out = m·C_in`;
//! - separable: depthwise (no bias) then pointwise 1×1 (with bias);
//! - linear `F_in → F_out`: params `F_in·F_out (+ F_out)`, MACs `F_in·F_out`;
//! - batch norm: `2·C` trainable (γ, β) when affine, and `2·C` moving
//!   statistics (mean, variance) counted separately, never as trainable;
//! - pooling, activations, add, concat, flatten: no parameters, no MACs
//!   (as torchinfo and the papers count).
//!
//! The per-op rules live in `steps` (crate-private).

use serde::Serialize;
use std::fmt;

/// The shape of one sample flowing along an edge (batch dimension omitted).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Shape {
    /// A feature map `(C, H, W)`.
    Map {
        /// Channels.
        channels: usize,
        /// Height.
        height: usize,
        /// Width.
        width: usize,
    },
    /// A feature vector.
    Vector {
        /// Features.
        features: usize,
    },
}

impl Shape {
    /// The feature map `(c, h, w)`.
    pub const fn map(c: usize, h: usize, w: usize) -> Self {
        Shape::Map {
            channels: c,
            height: h,
            width: w,
        }
    }

    /// Channels of a map, features of a vector.
    pub fn channels(&self) -> usize {
        match *self {
            Shape::Map { channels, .. } => channels,
            Shape::Vector { features } => features,
        }
    }

    /// Number of values, or `None` when it does not fit a `usize`.
    pub fn numel(&self) -> Option<usize> {
        match *self {
            Shape::Map {
                channels,
                height,
                width,
            } => channels.checked_mul(height)?.checked_mul(width),
            Shape::Vector { features } => Some(features),
        }
    }
}

impl fmt::Display for Shape {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Shape::Map {
                channels,
                height,
                width,
            } => write!(f, "({channels}, {height}, {width})"),
            Shape::Vector { features } => write!(f, "({features})"),
        }
    }
}

/// The spatial footprint of a layer along both axes, for receptive fields:
/// dilated kernel extent `k' = d·(k − 1) + 1`, stride, and padding before
/// the first row / column (top, left).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    /// Dilated kernel extent `[k'_h, k'_w]`.
    pub extent: [usize; 2],
    /// Stride `[s_h, s_w]`.
    pub stride: [usize; 2],
    /// Padding `[top, left]`.
    pub padding: [usize; 2],
}

impl Window {
    /// The footprint of element-wise layers: `k' = 1`, `s = 1`, `p = 0`.
    pub const IDENTITY: Window = Window {
        extent: [1, 1],
        stride: [1, 1],
        padding: [0, 0],
    };
}

/// What one single-input layer does to a shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Step {
    /// Output shape.
    pub output: Shape,
    /// Trainable parameters.
    pub params: u64,
    /// Non-trainable state (batch-norm moving mean and variance).
    pub moving_stats: u64,
    /// Multiply-accumulates for one sample.
    pub macs: u64,
    /// Spatial footprint.
    pub window: Window,
}

impl Step {
    /// A parameter-free step with the identity footprint.
    pub fn free(output: Shape) -> Self {
        Step {
            output,
            params: 0,
            moving_stats: 0,
            macs: 0,
            window: Window::IDENTITY,
        }
    }
}

impl Step {
    /// The same step with another footprint.
    pub fn with_window(self, window: Window) -> Self {
        Step { window, ..self }
    }
}
