//! The convolution family's steps: a description node becomes huashi-conv's
//! [`ConvLayer`] (the one definition of each variant), whose stages give
//! the output shape, parameters and MACs; footprints compose stage by
//! stage, except for transposed convolutions (see [`conv_transpose`]).

use super::At;
use crate::desc::Layer;
use crate::error::{Error, Result};
use crate::shape::{Shape, Step, Window};
use crate::spec::{PaddingSpec, Pair};
use huashi_conv::layers::{Conv2dConfig, ConvTranspose2dConfig};
use huashi_conv::{ConvLayer, ConvStage, Cost, Padding, PaddingMode, Stage};

/// The [`ConvLayer`] of a conv-family node reading `in_channels` channels.
///
/// # Errors
/// The geometry errors of huashi-conv's constructors, naming the node.
pub(crate) fn conv_layer(at: &At, layer: &Layer, in_channels: usize) -> Result<ConvLayer> {
    let c = in_channels;
    let built = match *layer {
        Layer::Conv {
            out_channels,
            kernel,
            stride,
            dilation,
            padding,
            padding_mode,
            groups,
            bias,
        } => ConvLayer::conv(
            c,
            out_channels,
            kernel.0,
            config(stride, dilation, padding, groups, bias).with_mode(padding_mode),
        ),
        Layer::Depthwise {
            kernel,
            multiplier,
            stride,
            dilation,
            padding,
            padding_mode,
            bias,
        } => ConvLayer::depthwise(
            c,
            multiplier,
            kernel.0,
            config(stride, dilation, padding, 1, bias).with_mode(padding_mode),
        ),
        Layer::Pointwise { out_channels, bias } => ConvLayer::pointwise(c, out_channels, bias),
        Layer::Separable {
            out_channels,
            kernel,
            multiplier,
            stride,
            dilation,
            padding,
            padding_mode,
            bias,
        } => ConvLayer::separable(
            c,
            out_channels,
            kernel.0,
            multiplier,
            config(stride, dilation, padding, 1, bias).with_mode(padding_mode),
        ),
        Layer::SpatiallySeparable {
            out_channels,
            mid_channels,
            kernel,
            stride,
            dilation,
            padding,
            padding_mode,
            bias,
        } => ConvLayer::spatially_separable(
            c,
            mid_channels,
            out_channels,
            kernel.0,
            config(stride, dilation, padding, 1, bias).with_mode(padding_mode),
        ),
        Layer::ConvTranspose { .. } => {
            let (config, out, kernel) = transpose_config(at, layer)?;
            ConvLayer::transpose(c, out, kernel, config)
        }
        _ => unreachable!("only conv-family layers reach conv_layer"),
    };
    built.map_err(|e| at.conv_error(e))
}

/// A [`Conv2dConfig`] from description fields.
fn config(
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
        padding_mode: PaddingMode::Zeros,
    }
}

/// A conv-family node: the stages' costs add up and their footprints
/// compose (`k' = k'₁ + (k'₂ − 1)·s₁`, `s = s₁·s₂`, `p = p₁ + p₂·s₁` per
/// axis).
pub(super) fn conv_family(at: &At, layer: &Layer, input: Shape) -> Result<Step> {
    let [c, h, w] = at.map(input)?;
    if let Layer::ConvTranspose { .. } = layer {
        return conv_transpose(at, layer, [c, h, w]);
    }
    let conv = conv_layer(at, layer, c)?;
    let mut step = Step::free(input);
    for (_, stage) in conv.stages() {
        let Stage::Conv(stage) = stage else {
            unreachable!("only transposed layers have transposed stages")
        };
        let next = conv_step(at, step.output, stage)?;
        step = Step {
            output: next.output,
            params: at.sum("the parameter count", &[step.params, next.params])?,
            moving_stats: 0,
            macs: at.sum("the MAC count", &[step.macs, next.macs])?,
            window: compose(step.window, next.window),
        };
    }
    Ok(step)
}

/// The footprint of `first` then `second`, per axis.
fn compose(first: Window, second: Window) -> Window {
    let axis = |a: usize| {
        (
            first.extent[a] + (second.extent[a] - 1) * first.stride[a],
            first.stride[a] * second.stride[a],
            first.padding[a] + second.padding[a] * first.stride[a],
        )
    };
    let [(eh, sh, ph), (ew, sw, pw)] = [axis(0), axis(1)];
    Window {
        extent: [eh, ew],
        stride: [sh, sw],
        padding: [ph, pw],
    }
}

/// One convolution stage for one sample: huashi-conv's geometry and cost.
fn conv_step(at: &At, input: Shape, stage: &ConvStage) -> Result<Step> {
    let [c, h, w] = at.map(input)?;
    let cost = stage.cost([1, c, h, w]).map_err(|e| at.conv_error(e))?;
    let geometry = stage.geometry([h, w]).map_err(|e| at.conv_error(e))?;
    let [_, out, ho, wo] = cost.output_shape;
    Ok(Step {
        output: Shape::map(out, ho, wo),
        params: cost.params,
        moving_stats: 0,
        macs: cost.macs,
        window: Window {
            extent: geometry.kernel_extent(stage.kernel),
            stride: geometry.stride,
            padding: [geometry.padding[0], geometry.padding[2]],
        },
    })
}

/// The huashi-conv configuration of a `conv_transpose` layer (explicit
/// padding only; `"valid"` is zero padding).
fn transpose_config(at: &At, layer: &Layer) -> Result<(ConvTranspose2dConfig, usize, [usize; 2])> {
    let Layer::ConvTranspose {
        out_channels,
        kernel,
        stride,
        dilation,
        padding,
        output_padding,
        groups,
        bias,
    } = *layer
    else {
        unreachable!("only transposed convolutions reach transpose_config")
    };
    let padding = match padding.0 {
        Padding::Valid => [0; 4],
        Padding::Explicit {
            top,
            bottom,
            left,
            right,
        } => [top, bottom, left, right],
        rule => {
            return Err(Error::InvalidField {
                node: at.node.to_string(),
                field: "padding",
                detail: format!(
                    "conv_transpose takes explicit padding (p, [ph, pw] or [top, bottom, left, right]), not {rule:?}"
                ),
            })
        }
    };
    let config = ConvTranspose2dConfig {
        stride: stride.0,
        dilation: dilation.0,
        padding,
        output_padding: output_padding.0,
        groups,
        bias,
    };
    Ok((config, out_channels, kernel.0))
}

/// A transposed convolution: output size, `C_in·(C_out/g)·kh·kw (+ C_out)`
/// parameters, `C_in·H·W·(C_out/g)·kh·kw` MACs (as `huashi_conv::cost`).
/// With stride 1 it is the convolution with the flipped kernel and padding
/// `d·(k − 1) − p` per side, whose footprint it takes; with a larger stride
/// (or padding over `d·(k − 1)`) the field is undefined (see
/// [`transposed_field_issue`]) and the footprint here is unused.
fn conv_transpose(at: &At, layer: &Layer, [c, h, w]: [usize; 3]) -> Result<Step> {
    let (config, out, kernel) = transpose_config(at, layer)?;
    let conv = ConvLayer::transpose(c, out, kernel, config).map_err(|e| at.conv_error(e))?;
    let cost = conv.cost([1, c, h, w]).map_err(|e| at.conv_error(e))?;
    let [_, out, ho, wo] = cost.output_shape;
    let extent = config.geometry().kernel_extent(kernel);
    let window = Window {
        extent,
        stride: [1, 1],
        padding: [0, 1].map(|a| (extent[a] - 1).saturating_sub(config.padding[2 * a])),
    };
    Ok(Step {
        output: Shape::map(out, ho, wo),
        params: cost.params,
        moving_stats: 0,
        macs: cost.macs,
        window,
    })
}

/// Why the receptive field after `layer` is not defined, if it is not: a
/// transposed convolution with stride > 1 is fractionally strided (its
/// output units are `1/s` input units apart), and one whose padding exceeds
/// `d·(k − 1)` crops like a negative padding.
pub(crate) fn transposed_field_issue(layer: &Layer) -> Option<String> {
    let Layer::ConvTranspose {
        kernel,
        stride,
        dilation,
        padding,
        ..
    } = *layer
    else {
        return None;
    };
    let [sh, sw] = stride.0;
    if sh > 1 || sw > 1 {
        let s = if sh == sw {
            sh.to_string()
        } else {
            format!("{sh}×{sw}")
        };
        return Some(format!("transposed stride {s}"));
    }
    let lo = match padding.0 {
        Padding::Explicit { top, left, .. } => [top, left],
        _ => [0, 0],
    };
    (0..2)
        .any(|a| lo[a] > dilation.0[a].saturating_mul(kernel.0[a].saturating_sub(1)))
        .then(|| "transposed padding over d·(k − 1)".to_string())
}
