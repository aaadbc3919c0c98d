//! Compiling description nodes into [`Op`]s: resolved geometry and the
//! parameter shapes each op needs.

use super::Op;
use crate::desc::Layer;
use crate::error::{Error, Result};
use crate::shape::Shape;
use crate::spec::{PaddingSpec, Pair};
use crate::steps::{spatial_stages, transpose_config, At};
use huashi_conv::layers::Conv2dConfig;
use huashi_conv::{ConvGeometry, PoolConfig};

pub(super) fn op_error(node: &str) -> impl Fn(huashi_conv::Error) -> Error + '_ {
    move |cause| Error::Op {
        node: node.to_string(),
        cause,
    }
}

pub(super) fn conv(
    node: &str,
    shape: Shape,
    kernel: [usize; 2],
    out: usize,
    config: Conv2dConfig,
) -> Result<(ConvGeometry, [usize; 4])> {
    let Shape::Map {
        channels: c,
        height,
        width,
    } = shape
    else {
        unreachable!("the analysis checked the input kind")
    };
    let geometry = config
        .geometry([height, width], kernel)
        .map_err(op_error(node))?;
    Ok((geometry, [out, c / config.groups, kernel[0], kernel[1]]))
}

/// A [`Conv2dConfig`] from description fields.
pub(super) fn config(
    stride: Pair,
    dilation: Pair,
    padding: PaddingSpec,
    groups: usize,
    bias: bool,
) -> Conv2dConfig {
    Conv2dConfig {
        stride: stride.0,
        dilation: dilation.0,
        padding: padding.0,
        groups,
        bias,
    }
}

/// `conv`, `depthwise` and `pointwise` nodes.
pub(super) fn compile_conv(node: &str, layer: &Layer, shape: Shape) -> Result<Op> {
    let c = shape.channels();
    let (cfg, kernel, out) = match *layer {
        Layer::Conv {
            out_channels,
            kernel,
            stride,
            dilation,
            padding,
            groups,
            bias,
        } => (
            config(stride, dilation, padding, groups, bias),
            kernel,
            out_channels,
        ),
        Layer::Depthwise {
            kernel,
            multiplier,
            stride,
            dilation,
            padding,
            bias,
        } => (
            config(stride, dilation, padding, c, bias),
            kernel,
            c * multiplier,
        ),
        Layer::Pointwise { out_channels, bias } => {
            let one = Pair::square(1);
            (
                config(one, one, PaddingSpec::default(), 1, bias),
                one,
                out_channels,
            )
        }
        _ => unreachable!("only conv-like layers reach compile_conv"),
    };
    let (geometry, weight) = conv(node, shape, kernel.0, out, cfg)?;
    Ok(Op::Conv {
        geometry,
        weight,
        bias: cfg.bias,
    })
}

/// `separable` nodes: the depthwise stage's geometry and weight shape.
pub(super) fn compile_separable(node: &str, layer: &Layer, shape: Shape) -> Result<Op> {
    let Layer::Separable {
        out_channels,
        kernel,
        multiplier,
        stride,
        dilation,
        padding,
        bias,
    } = *layer
    else {
        unreachable!("only separable layers reach compile_separable")
    };
    let c = shape.channels();
    let cfg = config(stride, dilation, padding, c, false);
    let (geometry, depthwise) = conv(node, shape, kernel.0, c * multiplier, cfg)?;
    Ok(Op::Separable {
        geometry,
        depthwise,
        out: out_channels,
        bias,
    })
}

/// `spatially_separable` nodes: both stages' geometry and weight shape.
pub(super) fn compile_spatial(node: &str, layer: &Layer, shape: Shape) -> Result<Op> {
    let [(mid, vk, vc), (out, hk, hc)] = spatial_stages(layer);
    let vertical = conv(node, shape, vk, mid, vc)?;
    let Shape::Map { height, width, .. } = shape else {
        unreachable!("the analysis checked the input kind")
    };
    let [h, w] = vertical
        .0
        .output_size([height, width], vk)
        .map_err(op_error(node))?;
    let horizontal = conv(node, Shape::map(mid, h, w), hk, out, hc)?;
    Ok(Op::SpatiallySeparable {
        vertical,
        horizontal,
        bias: hc.bias,
    })
}

/// `conv_transpose` nodes.
pub(super) fn compile_transpose(node: &str, layer: &Layer, shape: Shape) -> Result<Op> {
    let at = At {
        node,
        op: layer.op(),
    };
    let (cfg, out, kernel) = transpose_config(&at, layer)?;
    Ok(Op::ConvTranspose {
        geometry: cfg.geometry(),
        weight: [shape.channels(), out / cfg.groups, kernel[0], kernel[1]],
        output_padding: cfg.output_padding,
        out,
        bias: cfg.bias,
    })
}

/// Pooling with PyTorch's default stride (the window).
pub(super) fn pool(kernel: Pair, stride: Option<Pair>, padding: PaddingSpec) -> PoolConfig {
    PoolConfig::new(kernel.0)
        .with_stride(stride.unwrap_or(kernel).0)
        .with_padding(padding.0)
}
