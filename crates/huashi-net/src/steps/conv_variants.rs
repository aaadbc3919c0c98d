//! Steps of the two-stage and transposed convolutions: spatially separable
//! (k×1 then 1×k) and transposed (fractionally strided) convolution.

use super::{conv_step, At, ConvSpec};
use crate::desc::Layer;
use crate::error::{Error, Result};
use crate::shape::{Shape, Step, Window};

use huashi_conv::layers::{Conv2dConfig, ConvTranspose2dConfig};
use huashi_conv::Padding;

/// The two stages of a `spatially_separable` layer as conv specs: `[kh, 1]`
/// `C_in → C_mid` (no bias, rows' stride, dilation and padding), then
/// `[1, kw]` `C_mid → C_out` (columns' stride, dilation and padding, bias).
pub(crate) fn spatial_stages(layer: &Layer) -> [(usize, [usize; 2], Conv2dConfig); 2] {
    let Layer::SpatiallySeparable {
        out_channels,
        mid_channels,
        kernel,
        stride,
        dilation,
        padding,
        bias,
    } = *layer
    else {
        unreachable!("only spatially separable layers reach spatial_stages")
    };
    let (rows, cols) = padding.0.split_axes();
    let vertical = Conv2dConfig {
        stride: [stride.0[0], 1],
        dilation: [dilation.0[0], 1],
        padding: rows,
        groups: 1,
        bias: false,
    };
    let horizontal = Conv2dConfig {
        stride: [1, stride.0[1]],
        dilation: [1, dilation.0[1]],
        padding: cols,
        groups: 1,
        bias,
    };
    [
        (
            mid_channels.unwrap_or(out_channels),
            [kernel.0[0], 1],
            vertical,
        ),
        (out_channels, [1, kernel.0[1]], horizontal),
    ]
}

/// `[kh, 1]` then `[1, kw]`: costs add up, footprints compose per axis.
pub(super) fn spatially_separable(at: &At, layer: &Layer, input: Shape) -> Result<Step> {
    let [(mid, vk, vc), (out, hk, hc)] = spatial_stages(layer);
    let v = conv_step(
        at,
        input,
        &ConvSpec {
            out: mid,
            kernel: vk,
            config: vc,
        },
    )?;
    let h = conv_step(
        at,
        v.output,
        &ConvSpec {
            out,
            kernel: hk,
            config: hc,
        },
    )?;
    let window = Window {
        extent: [v.window.extent[0], h.window.extent[1]],
        stride: [v.window.stride[0], h.window.stride[1]],
        padding: [v.window.padding[0], h.window.padding[1]],
    };
    Ok(Step {
        params: at.sum("the parameter count", &[v.params, h.params])?,
        macs: at.sum("the MAC count", &[v.macs, h.macs])?,
        ..h.with_window(window)
    })
}

/// The huashi-conv configuration of a `conv_transpose` layer (explicit
/// padding only; `"valid"` is zero padding).
pub(crate) fn transpose_config(
    at: &At,
    layer: &Layer,
) -> Result<(ConvTranspose2dConfig, usize, [usize; 2])> {
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
pub(super) fn conv_transpose(at: &At, layer: &Layer, input: Shape) -> Result<Step> {
    let [c, h, w] = at.map(input)?;
    let (config, out, kernel) = transpose_config(at, layer)?;
    let geometry = config.geometry();
    let conv_error = |e| at.conv_error(e);
    geometry.check_channels(c, out).map_err(conv_error)?;
    let [ho, wo] = geometry
        .transposed_output_size([h, w], kernel, config.output_padding)
        .map_err(conv_error)?;
    let [per_group, kh, kw] = [out / config.groups, kernel[0], kernel[1]].map(|n| n as u64);
    let weights = at.product("the weight count", &[c as u64, per_group, kh, kw])?;
    let bias = if config.bias { out as u64 } else { 0 };
    let params = at.sum("the parameter count", &[weights, bias])?;
    let macs = at.product("the MAC count", &[weights, h as u64, w as u64])?;
    let extent = geometry.kernel_extent(kernel);
    let window = Window {
        extent,
        stride: [1, 1],
        padding: [0, 1].map(|a| (extent[a] - 1).saturating_sub(config.padding[2 * a])),
    };
    Ok(Step {
        output: Shape::map(out, ho, wo),
        params,
        moving_stats: 0,
        macs,
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
