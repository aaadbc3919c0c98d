//! Pooling layers over [`crate::pool`]'s differentiable pooling functions.

use super::to_candle;
use crate::error::Result;
use crate::pool::{avg_pool2d, global_avg_pool, max_pool2d, PoolConfig};
use candle_core::{Module, Tensor};

/// Max pooling (PyTorch `nn.MaxPool2d`, Keras `MaxPooling2D`).
#[derive(Debug, Clone, Copy)]
pub struct MaxPool2d {
    /// Window, stride, dilation and padding.
    pub config: PoolConfig,
}

impl MaxPool2d {
    /// The forward pass with typed errors.
    ///
    /// # Shapes
    /// `x (N, C, H, W)` → `(N, C, Ho, Wo)`.
    ///
    /// # Errors
    /// As [`max_pool2d`].
    pub fn try_forward(&self, x: &Tensor) -> Result<Tensor> {
        max_pool2d(x, &self.config)
    }
}

impl Module for MaxPool2d {
    fn forward(&self, x: &Tensor) -> candle_core::Result<Tensor> {
        self.try_forward(x).map_err(to_candle)
    }
}

/// Average pooling (PyTorch `nn.AvgPool2d`, Keras `AveragePooling2D` with
/// `count_include_pad = false`).
#[derive(Debug, Clone, Copy)]
pub struct AvgPool2d {
    /// Window, stride and padding.
    pub config: PoolConfig,
    /// Divide by the whole window (PyTorch default) or only the real pixels.
    pub count_include_pad: bool,
}

impl AvgPool2d {
    /// The forward pass with typed errors.
    ///
    /// # Shapes
    /// `x (N, C, H, W)` → `(N, C, Ho, Wo)`.
    ///
    /// # Errors
    /// As [`avg_pool2d`].
    pub fn try_forward(&self, x: &Tensor) -> Result<Tensor> {
        avg_pool2d(x, &self.config, self.count_include_pad)
    }
}

impl Module for AvgPool2d {
    fn forward(&self, x: &Tensor) -> candle_core::Result<Tensor> {
        self.try_forward(x).map_err(to_candle)
    }
}

/// Global average pooling to `(N, C, 1, 1)`.
#[derive(Debug, Clone, Copy, Default)]
pub struct GlobalAvgPool;

impl GlobalAvgPool {
    /// The forward pass with typed errors.
    ///
    /// # Shapes
    /// `x (N, C, H, W)` → `(N, C, 1, 1)`.
    ///
    /// # Errors
    /// As [`global_avg_pool`].
    pub fn try_forward(&self, x: &Tensor) -> Result<Tensor> {
        global_avg_pool(x)
    }
}

impl Module for GlobalAvgPool {
    fn forward(&self, x: &Tensor) -> candle_core::Result<Tensor> {
        self.try_forward(x).map_err(to_candle)
    }
}
