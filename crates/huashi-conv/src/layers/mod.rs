//! Convolution and pooling layers as candle [`Module`](candle_core::Module)s.
//!
//! Parameters are created through candle-nn's `VarBuilder` under PyTorch
//! names (`weight`, `bias`; `depthwise.weight`, `pointwise.weight`,
//! `pointwise.bias` for [`SeparableConv2d`]), initialised as PyTorch does
//! (uniform in `±1/√fan_in`), so safetensors checkpoints round-trip and
//! PyTorch state dicts load. Every layer also has `try_forward`, which returns
//! the typed [`Error`]; `Module::forward` wraps it.

mod conv;
mod cost;
mod depthwise;
mod pool;
mod spatial;
mod transpose;

pub use crate::family::{Conv2dConfig, ConvTranspose2dConfig};
pub use conv::{Conv2d, PointwiseConv2d};
pub use depthwise::{DepthwiseConv2d, SeparableConv2d};
pub use pool::{AvgPool2d, GlobalAvgPool, MaxPool2d};
pub use spatial::SpatiallySeparableConv2d;
pub use transpose::ConvTranspose2d;

use crate::error::{Error, Result};
use crate::family::{ConvLayer, ParamSpec, Stage};
use candle_core::Tensor;
use candle_nn::{Init, VarBuilder};

/// Creates (or loads) the parameters of `stage` under `vb`, initialised as
/// [`Stage::params`] says: `(weight, bias)`.
fn make_params(vb: &VarBuilder, stage: &Stage) -> Result<(Tensor, Option<Tensor>)> {
    let make = |p: ParamSpec| {
        let init = Init::Uniform {
            lo: -p.bound,
            up: p.bound,
        };
        vb.get_with_hints(p.shape, &p.name, init)
    };
    let bias = stage.bias_spec("").map(make).transpose()?;
    Ok((make(stage.weight_spec(""))?, bias))
}

/// The error for a layer built from the wrong kind or number of stages.
fn no_such(what: &str) -> Error {
    Error::InvalidArgument {
        what: "convolution layer",
        detail: format!("the layer has no {what} where the candle layer needs one"),
    }
}

/// One [`Conv2d`] per stage of `layer`, each stage's parameters under
/// `vb.pp(stage name)` (`vb` itself for an unnamed stage).
fn conv_stages<const N: usize>(layer: &ConvLayer, vb: &VarBuilder) -> Result<[Conv2d; N]> {
    let mut convs = Vec::with_capacity(N);
    for (name, stage) in layer.stages() {
        let Stage::Conv(stage) = stage else {
            return Err(no_such("plain convolution stage"));
        };
        let vb = if name.is_empty() {
            vb.clone()
        } else {
            vb.pp(*name)
        };
        convs.push(Conv2d::from_stage(*stage, vb)?);
    }
    convs
        .try_into()
        .map_err(|_| no_such(&format!("{N} stages")))
}

/// Converts a typed error into candle's, for [`candle_core::Module`].
fn to_candle(e: Error) -> candle_core::Error {
    match e {
        Error::Candle(inner) => inner,
        other => candle_core::Error::wrap(other),
    }
}
