//! The step of every single-input op: output shape, parameters, moving
//! statistics, MACs and spatial footprint (formulas in [`crate::shape`]).

use crate::desc::Layer;
use crate::error::{Error, Result};
use crate::shape::{Shape, Step, Window};
use crate::spec::{PaddingSpec, Pair};
use huashi_conv::layers::Conv2dConfig;
use huashi_conv::PoolConfig;

mod checked;
mod conv_variants;
use conv_variants::{conv_transpose, spatially_separable};
pub(crate) use conv_variants::{spatial_stages, transpose_config, transposed_field_issue};

/// Conv parameters gathered from the different conv-like ops.
struct ConvSpec {
    out: usize,
    kernel: [usize; 2],
    config: Conv2dConfig,
}

impl ConvSpec {
    fn new(out: usize, kernel: Pair, stride: Pair, dilation: Pair, padding: PaddingSpec) -> Self {
        let config = Conv2dConfig {
            stride: stride.0,
            dilation: dilation.0,
            padding: padding.0,
            ..Conv2dConfig::default()
        };
        ConvSpec {
            out,
            kernel: kernel.0,
            config,
        }
    }

    fn groups(mut self, groups: usize, bias: bool) -> Self {
        self.config.groups = groups;
        self.config.bias = bias;
        self
    }
}

/// The node an error is about.
pub(crate) struct At<'a> {
    /// The node's name.
    pub node: &'a str,
    /// Its op.
    pub op: &'static str,
}

impl At<'_> {
    fn conv_error(&self, source: huashi_conv::Error) -> Error {
        Error::Layer {
            node: self.node.to_string(),
            op: self.op,
            cause: source,
        }
    }

    fn wrong_input(&self, expected: &'static str, got: Shape) -> Error {
        Error::WrongInputKind {
            node: self.node.to_string(),
            op: self.op,
            expected,
            got,
        }
    }

    fn map(&self, shape: Shape) -> Result<[usize; 3]> {
        match shape {
            Shape::Map {
                channels,
                height,
                width,
            } => Ok([channels, height, width]),
            other => Err(self.wrong_input("a (C, H, W) feature map", other)),
        }
    }
}

/// The step of a single-input `layer` on `input`.
pub(crate) fn step(at: &At, layer: &Layer, input: Shape) -> Result<Step> {
    match *layer {
        Layer::Conv { .. }
        | Layer::Depthwise { .. }
        | Layer::Separable { .. }
        | Layer::SpatiallySeparable { .. }
        | Layer::ConvTranspose { .. }
        | Layer::Pointwise { .. } => conv_family(at, layer, input),
        Layer::MaxPool {
            kernel,
            stride,
            padding,
        }
        | Layer::AvgPool {
            kernel,
            stride,
            padding,
        } => pool_step(at, input, kernel.0, stride.unwrap_or(kernel).0, padding),
        Layer::GlobalAvgPool => {
            let [c, h, w] = at.map(input)?;
            let window = Window {
                extent: [h, w],
                stride: [1, 1],
                padding: [0, 0],
            };
            Ok(Step::free(Shape::map(c, 1, 1)).with_window(window))
        }
        Layer::BatchNorm { affine } => batch_norm(at, input, affine),
        Layer::Activation { .. } | Layer::Dropout { .. } => Ok(Step::free(input)),
        Layer::Flatten => flatten(at, input),
        Layer::Linear { out_features, bias } => linear(at, input, out_features, bias),
        Layer::Add | Layer::Concat => unreachable!("merges are handled by the analysis"),
    }
}

/// Batch norm: `2·C` trainable (when affine) and `2·C` moving statistics.
fn batch_norm(at: &At, input: Shape, affine: bool) -> Result<Step> {
    let stats = at.product(
        "the batch-norm statistic count",
        &[2, input.channels() as u64],
    )?;
    Ok(Step {
        params: if affine { stats } else { 0 },
        moving_stats: stats,
        ..Step::free(input)
    })
}

/// Convolution, depthwise, separable and pointwise.
fn conv_family(at: &At, layer: &Layer, input: Shape) -> Result<Step> {
    match *layer {
        Layer::Conv {
            out_channels,
            kernel,
            stride,
            dilation,
            padding,
            groups,
            bias,
        } => {
            let spec = ConvSpec::new(out_channels, kernel, stride, dilation, padding);
            conv_step(at, input, &spec.groups(groups, bias))
        }
        Layer::Depthwise {
            kernel,
            multiplier,
            stride,
            dilation,
            padding,
            bias,
        } => {
            let c = at.map(input)?[0];
            let out = at.dim_product("the output channel count", &[c, multiplier])?;
            let spec = ConvSpec::new(out, kernel, stride, dilation, padding);
            conv_step(at, input, &spec.groups(c, bias))
        }
        Layer::Separable { .. } => separable(at, layer, input),
        Layer::SpatiallySeparable { .. } => spatially_separable(at, layer, input),
        Layer::ConvTranspose { .. } => conv_transpose(at, layer, input),
        Layer::Pointwise { out_channels, bias } => pointwise(at, input, out_channels, bias),
        _ => unreachable!("only conv-like layers reach conv_family"),
    }
}

/// Depthwise (no bias) then pointwise, the footprint of the depthwise stage.
fn separable(at: &At, layer: &Layer, input: Shape) -> Result<Step> {
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
        unreachable!("only separable layers reach separable")
    };
    let c = at.map(input)?[0];
    let mid = at.dim_product("the depthwise channel count", &[c, multiplier])?;
    let spec = ConvSpec::new(mid, kernel, stride, dilation, padding);
    let dw = conv_step(at, input, &spec.groups(c, false))?;
    let pw = pointwise(at, dw.output, out_channels, bias)?;
    let params = at.sum("the parameter count", &[dw.params, pw.params])?;
    let macs = at.sum("the MAC count", &[dw.macs, pw.macs])?;
    Ok(Step {
        params,
        macs,
        ..pw.with_window(dw.window)
    })
}

/// A convolution: huashi-conv's geometry checks, output size and cost.
fn conv_step(at: &At, input: Shape, spec: &ConvSpec) -> Result<Step> {
    let [c, h, w] = at.map(input)?;
    let (kernel, config) = (spec.kernel, spec.config);
    config
        .check(c, spec.out, kernel)
        .map_err(|e| at.conv_error(e))?;
    let geometry = config
        .geometry([h, w], kernel)
        .map_err(|e| at.conv_error(e))?;
    let [ho, wo] = geometry
        .output_size([h, w], kernel)
        .map_err(|e| at.conv_error(e))?;
    let [c_g, kh, kw] = [c / config.groups, kernel[0], kernel[1]].map(|n| n as u64);
    let out = spec.out as u64;
    let weights = at.product("the weight count", &[out, c_g, kh, kw])?;
    let bias = if config.bias { out } else { 0 };
    let params = at.sum("the parameter count", &[weights, bias])?;
    let macs = at.product("the MAC count", &[weights, ho as u64, wo as u64])?;
    Ok(Step {
        output: Shape::map(spec.out, ho, wo),
        params,
        moving_stats: 0,
        macs,
        window: Window {
            extent: geometry.kernel_extent(kernel),
            stride: geometry.stride,
            padding: [geometry.padding[0], geometry.padding[2]],
        },
    })
}

/// A 1×1 convolution, stride 1, no padding.
fn pointwise(at: &At, input: Shape, out: usize, bias: bool) -> Result<Step> {
    let config = Conv2dConfig {
        bias,
        ..Conv2dConfig::default()
    };
    conv_step(
        at,
        input,
        &ConvSpec {
            out,
            kernel: [1, 1],
            config,
        },
    )
}

/// Max or average pooling (huashi-conv's [`PoolConfig`] rules).
fn pool_step(
    at: &At,
    input: Shape,
    kernel: [usize; 2],
    stride: [usize; 2],
    padding: PaddingSpec,
) -> Result<Step> {
    let [c, h, w] = at.map(input)?;
    let config = PoolConfig::new(kernel)
        .with_stride(stride)
        .with_padding(padding.0);
    let geometry = config.geometry([h, w]).map_err(|e| at.conv_error(e))?;
    let [ho, wo] = geometry
        .output_size([h, w], kernel)
        .map_err(|e| at.conv_error(e))?;
    let window = Window {
        extent: geometry.kernel_extent(kernel),
        stride,
        padding: [geometry.padding[0], geometry.padding[2]],
    };
    Ok(Step {
        window,
        ..Step::free(Shape::map(c, ho, wo))
    })
}

/// A map becomes a vector; every feature sees the whole map.
fn flatten(at: &At, input: Shape) -> Result<Step> {
    match input {
        Shape::Map {
            channels,
            height,
            width,
        } => {
            let window = Window {
                extent: [height, width],
                stride: [1, 1],
                padding: [0, 0],
            };
            let features = at.dim_product("the feature count", &[channels, height, width])?;
            Ok(Step {
                window,
                ..Step::free(Shape::Vector { features })
            })
        }
        vector => Ok(Step::free(vector)),
    }
}

/// A fully connected layer on a feature vector.
fn linear(at: &At, input: Shape, out: usize, bias: bool) -> Result<Step> {
    let Shape::Vector { features } = input else {
        return Err(at.wrong_input(
            "a feature vector (add a flatten or global_avg_pool node)",
            input,
        ));
    };
    if out == 0 {
        return Err(Error::InvalidField {
            node: at.node.to_string(),
            field: "out_features",
            detail: "must be at least 1".into(),
        });
    }
    let macs = at.product("the weight count", &[features as u64, out as u64])?;
    let bias = if bias { out as u64 } else { 0 };
    Ok(Step {
        params: at.sum("the parameter count", &[macs, bias])?,
        macs,
        ..Step::free(Shape::Vector { features: out })
    })
}
