//! # huashi-conv — convolutions of every useful shape
//!
//! Convolutions run through our own CPU kernels, plugged into candle as custom
//! ops. Three bilinear ops close the family under differentiation:
//!
//! - `conv2d(x, w)`: `y[n, o, i, j] = Σ_{c ∈ group(o), u, v} w[o, c, u, v] ·
//!   x[n, c, i·s_h − p_top + u·d_h, j·s_w − p_left + v·d_w]` (zero outside);
//! - `conv_input_grad(dy, w)`: the adjoint in `x` (the transposed convolution);
//! - `conv_weight_grad(x, dy)`: the adjoint in `w`.
//!
//! Each op's backward pass is written with the three ops, so gradients of any
//! order are exact (MAML needs second order). See [`ops`] for details.
#![warn(missing_docs)]

pub mod cost;
pub mod custom;
pub mod error;
pub mod factorize;
pub mod family;
pub mod fused;
pub mod geometry;
pub mod kernels;
pub mod layers;
pub mod ops;
pub mod pad;
pub mod pool;
pub mod reference;
pub mod transpose_size;

pub use cost::{Cost, LayerCost};
pub use error::{Axis, Error, Result};
pub use factorize::{KernelSvd, SeparableBank, SeparableCost};
pub use family::{ConvLayer, ConvStage, ParamSpec, Stage, TransposeStage};
pub use geometry::{pool_output_size, ConvGeometry, Padding};
pub use layers::{
    AvgPool2d, Conv2d, Conv2dConfig, ConvTranspose2d, ConvTranspose2dConfig, DepthwiseConv2d,
    GlobalAvgPool, MaxPool2d, PointwiseConv2d, SeparableConv2d, SpatiallySeparableConv2d,
};
pub use ops::{
    conv2d, conv_input_grad, conv_transpose2d, conv_weight_grad, ensure_second_order,
    second_order_enabled,
};
pub use pad::{pad2d, pad2d_adjoint, PaddingMode};
pub use pool::{avg_pool2d, global_avg_pool, max_pool2d, PoolConfig};
pub use transpose_size::{conv_transpose2d_sized, keras_same_transposed, output_padding_for};
