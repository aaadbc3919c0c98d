//! The step of every single-input op: output shape, parameters, moving
//! statistics, MACs and spatial footprint (formulas in [`crate::shape`]).

use crate::desc::Layer;
use crate::error::{Error, Result};
use crate::shape::{Shape, Step, Window};
use crate::spec::PaddingSpec;
use huashi_conv::PoolConfig;

mod checked;
mod conv;
use conv::conv_family;
pub(crate) use conv::{conv_layer, transposed_field_issue};

/// The node an error is about.
pub(crate) struct At<'a> {
    /// The node's name.
    pub node: &'a str,
    /// Its op.
    pub op: &'static str,
}

impl At<'_> {
    /// huashi-conv's error about this node (an overflowing count becomes
    /// [`Error::Overflow`]).
    pub(crate) fn conv_error(&self, source: huashi_conv::Error) -> Error {
        match source {
            huashi_conv::Error::CostOverflow { what, detail } => self.overflow(what, detail),
            cause => Error::Layer {
                node: self.node.to_string(),
                op: self.op,
                cause,
            },
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
        Layer::Activation {
            function,
            alpha,
            beta,
        } => activation(at, input, function, [alpha, beta]),
        Layer::Dropout { .. } => Ok(Step::free(input)),
        Layer::Flatten => flatten(at, input),
        Layer::Upsample { scale, .. } => upsample(at, input, scale.0),
        Layer::Slice { start, end } => slice(at, input, start, end),
        Layer::ChannelShuffle { groups } => channel_shuffle(at, input, groups),
        Layer::Linear { out_features, bias } => linear(at, input, out_features, bias),
        Layer::Opaque { ref output, .. } => opaque(at, output),
        Layer::Scale { mul, add } => scale(at, input, mul, add),
        Layer::ChannelAffine { mul, add } => {
            let per_channel = u64::from(mul) + u64::from(add);
            let params = at.product(
                "the parameter count",
                &[input.channels() as u64, per_channel],
            )?;
            Ok(Step {
                params,
                ..Step::free(input)
            })
        }
        Layer::Add | Layer::Concat | Layer::Mul | Layer::Sub | Layer::Div => {
            unreachable!("merges are handled by the analysis")
        }
    }
}

/// An activation: free; only the constants `function` takes may be given,
/// and they must be finite.
fn activation(
    at: &At,
    input: Shape,
    function: crate::spec::Activation,
    constants: [Option<f64>; 2],
) -> Result<Step> {
    let takes = function.defaults().len();
    for (i, (field, value)) in ["alpha", "beta"].into_iter().zip(constants).enumerate() {
        let Some(v) = value else { continue };
        if i >= takes || !v.is_finite() {
            return Err(Error::InvalidField {
                node: at.node.to_string(),
                field,
                detail: format!(
                    "{function:?} takes {takes} constant(s) ([alpha, beta] in order); got {field} = {v}"
                ),
            });
        }
    }
    Ok(Step::free(input))
}

/// `mul·x + add`: free, finite constants.
fn scale(at: &At, input: Shape, mul: f64, add: f64) -> Result<Step> {
    if !(mul.is_finite() && add.is_finite()) {
        return Err(Error::InvalidField {
            node: at.node.to_string(),
            field: "mul",
            detail: format!("the constants must be finite, got mul {mul}, add {add}"),
        });
    }
    Ok(Step::free(input))
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

/// An opaque op: the recorded shape, no cost, an undefined field.
fn opaque(at: &At, output: &[usize]) -> Result<Step> {
    let shape = match *output {
        [channels, height, width] if output.iter().all(|&d| d > 0) => {
            Shape::map(channels, height, width)
        }
        [features] if features > 0 => Shape::Vector { features },
        _ => {
            return Err(Error::InvalidField {
                node: at.node.to_string(),
                field: "output",
                detail: format!(
                    "an opaque op needs [C, H, W] or [features], all ≥ 1, got {output:?}"
                ),
            })
        }
    };
    Ok(Step::free(shape))
}

/// Nearest upsampling: `(C, sh·H, sw·W)`, no cost; each output pixel reads
/// one input pixel (the footprint of one step is a single pixel).
fn upsample(at: &At, input: Shape, [sh, sw]: [usize; 2]) -> Result<Step> {
    let [c, h, w] = at.map(input)?;
    if sh == 0 || sw == 0 {
        return Err(Error::InvalidField {
            node: at.node.to_string(),
            field: "scale",
            detail: "factors must be at least 1".into(),
        });
    }
    let ho = at.dim_product("the upsampled height", &[h, sh])?;
    let wo = at.dim_product("the upsampled width", &[w, sw])?;
    Ok(Step::free(Shape::map(c, ho, wo)))
}

/// Channels `start..end`: the same map (vector) with `end − start`
/// channels (features), no cost, each pixel read in place.
fn slice(at: &At, input: Shape, start: usize, end: usize) -> Result<Step> {
    let c = input.channels();
    if start >= end || end > c {
        return Err(Error::InvalidField {
            node: at.node.to_string(),
            field: "end",
            detail: format!("channels {start}..{end} are not a non-empty range of the input's {c}"),
        });
    }
    Ok(Step::free(match input {
        Shape::Map { height, width, .. } => Shape::map(end - start, height, width),
        Shape::Vector { .. } => Shape::Vector {
            features: end - start,
        },
    }))
}

/// A channel shuffle: the input's shape, no cost; `groups` must divide the
/// channels.
fn channel_shuffle(at: &At, input: Shape, groups: usize) -> Result<Step> {
    let c = input.channels();
    if groups == 0 || !c.is_multiple_of(groups) {
        return Err(Error::InvalidField {
            node: at.node.to_string(),
            field: "groups",
            detail: format!("{groups} groups do not divide {c} channels"),
        });
    }
    Ok(Step::free(input))
}

/// Why the receptive field is undefined after `layer`: an opaque op, or
/// upsampling by more than 1 (a fractional stride).
pub(crate) fn opaque_field_issue(layer: &Layer) -> Option<String> {
    match layer {
        Layer::Opaque { onnx_op, .. } => Some(format!("opaque ONNX op {onnx_op}")),
        Layer::Upsample { scale, bilinear } if scale.0 != [1, 1] => Some(format!(
            "{} upsampling by {:?} (a fractional stride)",
            if *bilinear { "bilinear" } else { "nearest" },
            scale.0
        )),
        _ => None,
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
