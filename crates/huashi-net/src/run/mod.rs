//! Compiled ops of the functional model and how each one runs (semantics in
//! [`crate::model`]).

use crate::desc::Layer;
use crate::error::{Error, Result};
use crate::params::ParamSet;
use crate::shape::Shape;
use crate::spec::Activation;
use candle_core::Tensor;
use huashi_conv::{ConvGeometry, Padding, PoolConfig};

mod compile;
use compile::{
    compile_conv, compile_separable, compile_spatial, compile_transpose, op_error, pool,
};

/// Batch-norm ε (PyTorch's default).
const BN_EPS: f64 = 1e-5;

/// A node's op with its geometry resolved for the model's input shape.
#[derive(Debug, Clone)]
pub(crate) enum Op {
    /// Convolution with weight `(C_out, C_in/groups, kh, kw)`.
    Conv {
        geometry: ConvGeometry,
        weight: [usize; 4],
        bias: bool,
    },
    /// Depthwise stage `(C·m, 1, kh, kw)` then pointwise `(C_out, C·m, 1, 1)`.
    Separable {
        geometry: ConvGeometry,
        depthwise: [usize; 4],
        out: usize,
        bias: bool,
    },
    /// `[kh, 1]` stage `(C_mid, C_in, kh, 1)` (no bias), then `[1, kw]`
    /// stage `(C_out, C_mid, 1, kw)` with the bias.
    SpatiallySeparable {
        vertical: (ConvGeometry, [usize; 4]),
        horizontal: (ConvGeometry, [usize; 4]),
        bias: bool,
    },
    /// Transposed convolution with weight `(C_in, C_out/groups, kh, kw)`.
    ConvTranspose {
        geometry: ConvGeometry,
        weight: [usize; 4],
        output_padding: [usize; 2],
        out: usize,
        bias: bool,
    },
    MaxPool(PoolConfig),
    AvgPool(PoolConfig, bool),
    GlobalAvgPool,
    BatchNorm {
        channels: usize,
        affine: bool,
    },
    Activation(Activation),
    Identity,
    Add,
    Concat,
    Flatten,
    Linear {
        weight: [usize; 2],
        bias: bool,
    },
}

/// `(suffix, shape, Some(uniform bound) | None for a constant)`.
pub(crate) type ParamShape = (&'static str, Vec<usize>, Option<f32>);

impl Op {
    /// Compiles `layer` reading `shape` (already validated by the analysis).
    pub(crate) fn compile(node: &str, layer: &Layer, shape: Shape) -> Result<Op> {
        let c = shape.channels();
        Ok(match *layer {
            Layer::Conv { .. } | Layer::Depthwise { .. } | Layer::Pointwise { .. } => {
                compile_conv(node, layer, shape)?
            }
            Layer::Separable { .. } => compile_separable(node, layer, shape)?,
            Layer::SpatiallySeparable { .. } => compile_spatial(node, layer, shape)?,
            Layer::ConvTranspose { .. } => compile_transpose(node, layer, shape)?,
            Layer::MaxPool {
                kernel,
                stride,
                padding,
            } => Op::MaxPool(pool(kernel, stride, padding)),
            Layer::AvgPool {
                kernel,
                stride,
                padding,
            } => Op::AvgPool(
                pool(kernel, stride, padding),
                padding.0 != Padding::SameTensorFlow,
            ),
            Layer::GlobalAvgPool => Op::GlobalAvgPool,
            Layer::BatchNorm { affine } => Op::BatchNorm {
                channels: c,
                affine,
            },
            Layer::Activation { function } => Op::Activation(function),
            Layer::Dropout { .. } => Op::Identity,
            Layer::Add => Op::Add,
            Layer::Concat => Op::Concat,
            Layer::Flatten => Op::Flatten,
            Layer::Linear { out_features, bias } => Op::Linear {
                weight: [out_features, c],
                bias,
            },
        })
    }

    /// The parameter tensors of the op.
    pub(crate) fn param_shapes(&self) -> Vec<ParamShape> {
        let bound = |fan_in: usize| Some(1.0 / (fan_in as f32).sqrt());
        let weight_bias = |w: Vec<usize>, out: usize, fan_in: usize, bias: bool| {
            let mut v = vec![("weight", w, bound(fan_in))];
            if bias {
                v.push(("bias", vec![out], bound(fan_in)));
            }
            v
        };
        match *self {
            Op::Conv {
                weight: w, bias, ..
            } => weight_bias(w.to_vec(), w[0], w[1] * w[2] * w[3], bias),
            Op::Separable {
                depthwise: d,
                out,
                bias,
                ..
            } => {
                let mut v = vec![("depthwise.weight", d.to_vec(), bound(d[2] * d[3]))];
                v.push(("pointwise.weight", vec![out, d[0], 1, 1], bound(d[0])));
                if bias {
                    v.push(("pointwise.bias", vec![out], bound(d[0])));
                }
                v
            }
            Op::SpatiallySeparable {
                vertical: (_, v),
                horizontal: (_, h),
                bias,
            } => {
                let mut v = vec![("vertical.weight", v.to_vec(), bound(v[1] * v[2] * v[3]))];
                let fan_in = h[1] * h[2] * h[3];
                v.push(("horizontal.weight", h.to_vec(), bound(fan_in)));
                if bias {
                    v.push(("horizontal.bias", vec![h[0]], bound(fan_in)));
                }
                v
            }
            // PyTorch: fan_in = weight.size(1)·kh·kw for transposed convs.
            Op::ConvTranspose {
                weight: w,
                out,
                bias,
                ..
            } => weight_bias(w.to_vec(), out, w[1] * w[2] * w[3], bias),
            Op::Linear { weight: w, bias } => weight_bias(w.to_vec(), w[0], w[1], bias),
            Op::BatchNorm {
                channels: c,
                affine,
            } => {
                let mut v = Vec::new();
                if affine {
                    v.push(("weight", vec![c], None));
                    v.push(("bias", vec![c], None));
                }
                v.push(("running_mean", vec![c], None));
                v.push(("running_var", vec![c], None));
                v
            }
            _ => Vec::new(),
        }
    }

    /// Runs the op of node `node` on `inputs`.
    pub(crate) fn apply(
        &self,
        node: &str,
        params: &ParamSet,
        inputs: &[&Tensor],
    ) -> Result<Tensor> {
        let p = |suffix: &str| params.require(&format!("{node}.{suffix}"));
        let x = inputs[0];
        let err = op_error(node);
        Ok(match self {
            Op::Conv { geometry, bias, .. } => {
                let y = huashi_conv::conv2d(x, p("weight")?, geometry).map_err(err)?;
                add_bias(y, bias.then(|| p("bias")).transpose()?)?
            }
            Op::Separable { geometry, bias, .. } => {
                let d = huashi_conv::conv2d(x, p("depthwise.weight")?, geometry).map_err(&err)?;
                let y = huashi_conv::conv2d(&d, p("pointwise.weight")?, &ConvGeometry::new())
                    .map_err(err)?;
                add_bias(y, bias.then(|| p("pointwise.bias")).transpose()?)?
            }
            Op::SpatiallySeparable {
                vertical: (v, _),
                horizontal: (h, _),
                bias,
            } => {
                let m = huashi_conv::conv2d(x, p("vertical.weight")?, v).map_err(&err)?;
                let y = huashi_conv::conv2d(&m, p("horizontal.weight")?, h).map_err(err)?;
                add_bias(y, bias.then(|| p("horizontal.bias")).transpose()?)?
            }
            Op::ConvTranspose {
                geometry,
                output_padding,
                bias,
                ..
            } => {
                let y = huashi_conv::conv_transpose2d(x, p("weight")?, geometry, *output_padding)
                    .map_err(err)?;
                add_bias(y, bias.then(|| p("bias")).transpose()?)?
            }
            Op::MaxPool(config) => huashi_conv::max_pool2d(x, config).map_err(err)?,
            Op::AvgPool(config, include) => {
                huashi_conv::avg_pool2d(x, config, *include).map_err(err)?
            }
            Op::GlobalAvgPool => huashi_conv::global_avg_pool(x).map_err(err)?,
            Op::BatchNorm { affine, .. } => {
                let affine = affine.then(|| Ok::<_, Error>((p("weight")?, p("bias")?)));
                let stats = (p("running_mean")?, p("running_var")?);
                batch_norm(x, stats, affine.transpose()?)?
            }
            Op::Activation(f) => activation(x, *f)?,
            Op::Identity => x.clone(),
            Op::Add => inputs[1..].iter().try_fold(x.clone(), |acc, t| acc + *t)?,
            Op::Concat => Tensor::cat(inputs, 1)?,
            Op::Flatten => x.flatten_from(1)?,
            Op::Linear { bias, .. } => {
                linear(x, p("weight")?, bias.then(|| p("bias")).transpose()?)?
            }
        })
    }
}

/// `x·Wᵀ (+ b)` on a batch of feature vectors.
fn linear(x: &Tensor, w: &Tensor, b: Option<&Tensor>) -> Result<Tensor> {
    let y = x.matmul(&w.t()?)?;
    Ok(match b {
        Some(b) => y.broadcast_add(b)?,
        None => y,
    })
}

/// `y + b` with `b` broadcast over `(N, ·, H, W)`.
fn add_bias(y: Tensor, b: Option<&Tensor>) -> Result<Tensor> {
    match b {
        Some(b) => Ok(y.broadcast_add(&b.reshape((1, b.elem_count(), 1, 1))?)?),
        None => Ok(y),
    }
}

/// Inference-mode batch norm over dim 1 of a map or a vector batch.
fn batch_norm(
    x: &Tensor,
    (mean, var): (&Tensor, &Tensor),
    affine: Option<(&Tensor, &Tensor)>,
) -> Result<Tensor> {
    let mut shape = vec![1; x.rank()];
    shape[1] = mean.elem_count();
    let mut scale = (var + BN_EPS)?.sqrt()?.recip()?;
    let mut shift = mean.neg()?.mul(&scale)?;
    if let Some((gamma, beta)) = affine {
        scale = scale.mul(gamma)?;
        shift = shift.mul(gamma)?.add(beta)?;
    }
    let (scale, shift) = (
        scale.reshape(shape.as_slice())?,
        shift.reshape(shape.as_slice())?,
    );
    Ok(x.broadcast_mul(&scale)?.broadcast_add(&shift)?)
}

/// An element-wise activation (softmax over dim 1).
fn activation(x: &Tensor, f: Activation) -> Result<Tensor> {
    Ok(match f {
        Activation::Relu => x.relu()?,
        Activation::Relu6 => x.clamp(0f32, 6f32)?,
        Activation::LeakyRelu => x.maximum(&(x * 0.01)?)?,
        Activation::Sigmoid => (x.neg()?.exp()? + 1.0)?.recip()?,
        Activation::Tanh => x.tanh()?,
        Activation::Silu => x.silu()?,
        Activation::Gelu => x.gelu_erf()?,
        Activation::Elu => x.elu(1.0)?,
        Activation::Softmax => {
            let shifted = x.broadcast_sub(&x.max_keepdim(1)?.detach())?;
            let e = shifted.exp()?;
            e.broadcast_div(&e.sum_keepdim(1)?)?
        }
        Activation::Identity => x.clone(),
    })
}
