//! Compiled ops of the functional model and how each one runs (semantics in
//! [`crate::model`]).

use crate::desc::Layer;
use crate::error::{Error, Result};
use crate::params::ParamSet;
use crate::shape::Shape;
use crate::spec::Activation;
use candle_core::Tensor;
use huashi_conv::{ConvLayer, Padding, PoolConfig};

mod compile;
mod tasks;
use crate::steps::{conv_layer, At};
use compile::{op_error, pool};
pub use tasks::Norm;
pub(crate) use tasks::{TaskRun, Value};

/// Batch-norm ε (PyTorch's default).
const BN_EPS: f64 = 1e-5;

/// A node's op with its geometry resolved for the model's input shape.
#[derive(Debug, Clone)]
pub(crate) enum Op {
    /// A convolution of any variant (huashi-conv's one definition).
    Conv(ConvLayer),
    MaxPool(PoolConfig),
    AvgPool(PoolConfig, bool),
    GlobalAvgPool,
    BatchNorm {
        channels: usize,
        affine: bool,
    },
    /// The function and its constants `[α, β]` (defaults filled in).
    Activation(Activation, [f64; 2]),
    Identity,
    Add,
    Concat,
    /// Element-wise product with broadcasting.
    Mul,
    /// Element-wise difference, quotient with broadcasting.
    Sub,
    Div,
    /// `mul·x + add`.
    Scale(f64, f64),
    /// Per-channel `w ⊙ x + b` over `channels`, with `w` when `mul`, `b`
    /// when `add`.
    ChannelAffine {
        channels: usize,
        mul: bool,
        add: bool,
    },
    /// Nearest (bilinear when `true`) upsampling by `[sh, sw]`.
    Upsample([usize; 2], bool),
    /// Channels `start..end`.
    Slice(usize, usize),
    /// Channel shuffle with `groups`.
    ChannelShuffle(usize),
    Flatten,
    Linear {
        weight: [usize; 2],
        bias: bool,
    },
}

/// `(suffix, shape, Some(uniform bound) | None for a constant)`.
pub(crate) type ParamShape = (String, Vec<usize>, Option<f32>);

impl Op {
    /// Compiles `layer` reading `shape` (already validated by the analysis).
    pub(crate) fn compile(node: &str, layer: &Layer, shape: Shape) -> Result<Op> {
        let c = shape.channels();
        if let Layer::Opaque { onnx_op, .. } = layer {
            return Err(Error::Onnx {
                what: format!("node \"{node}\" ({onnx_op})"),
                detail: "an opaque op (imported with --allow-unknown) has no forward pass".into(),
            });
        }
        Ok(match *layer {
            Layer::Conv { .. }
            | Layer::Depthwise { .. }
            | Layer::Pointwise { .. }
            | Layer::Separable { .. }
            | Layer::SpatiallySeparable { .. }
            | Layer::ConvTranspose { .. } => {
                let at = At {
                    node,
                    op: layer.op(),
                };
                Op::Conv(conv_layer(&at, layer, c)?)
            }
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
            Layer::Activation {
                function,
                alpha,
                beta,
            } => {
                let d = function.defaults();
                let or = |v: Option<f64>, i: usize| v.or(d.get(i).copied()).unwrap_or(0.0);
                Op::Activation(function, [or(alpha, 0), or(beta, 1)])
            }
            Layer::Dropout { .. } => Op::Identity,
            Layer::Opaque { .. } => unreachable!("refused above"),
            Layer::Add => Op::Add,
            Layer::Concat => Op::Concat,
            Layer::Mul => Op::Mul,
            Layer::Sub => Op::Sub,
            Layer::Div => Op::Div,
            Layer::Scale { mul, add } => Op::Scale(mul, add),
            Layer::ChannelAffine { mul, add } => Op::ChannelAffine {
                channels: c,
                mul,
                add,
            },
            Layer::Upsample { scale, bilinear } => Op::Upsample(scale.0, bilinear),
            Layer::Slice { start, end } => Op::Slice(start, end),
            Layer::ChannelShuffle { groups } => Op::ChannelShuffle(groups),
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
            let mut v = vec![("weight".to_string(), w, bound(fan_in))];
            if bias {
                v.push(("bias".to_string(), vec![out], bound(fan_in)));
            }
            v
        };
        match self {
            Op::Conv(conv) => conv
                .params()
                .into_iter()
                .map(|p| (p.name, p.shape, Some(p.bound as f32)))
                .collect(),
            Op::Linear { weight: w, bias } => weight_bias(w.to_vec(), w[0], w[1], *bias),
            Op::BatchNorm {
                channels: c,
                affine,
            } => {
                let c = *c;
                let mut v = Vec::new();
                if *affine {
                    v.push(("weight".to_string(), vec![c], None));
                    v.push(("bias".to_string(), vec![c], None));
                }
                v.push(("running_mean".to_string(), vec![c], None));
                v.push(("running_var".to_string(), vec![c], None));
                v
            }
            Op::ChannelAffine { channels, mul, add } => {
                let mut v = Vec::new();
                if *mul {
                    v.push(("weight".to_string(), vec![*channels], None));
                }
                if *add {
                    v.push(("bias".to_string(), vec![*channels], None));
                }
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
            Op::Conv(conv) => conv
                .forward(x, |suffix| params.get(&format!("{node}.{suffix}")))
                .map_err(err)?,
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
            Op::Activation(f, constants) => activation(x, *f, *constants)?,
            Op::Identity => x.clone(),
            Op::Add => inputs[1..].iter().try_fold(x.clone(), |acc, t| acc + *t)?,
            Op::Concat => Tensor::cat(inputs, 1)?,
            Op::Mul => mul(inputs)?,
            Op::Sub | Op::Div => sub_div(self, inputs)?,
            Op::Scale(m, a) => x.affine(*m, *a)?,
            Op::ChannelAffine { mul, add, .. } => {
                let mut shape = vec![1; x.rank()];
                shape[1] = x.dim(1)?;
                let mut y = x.clone();
                if *mul {
                    y = y.broadcast_mul(&p("weight")?.reshape(shape.as_slice())?)?;
                }
                if *add {
                    y = y.broadcast_add(&p("bias")?.reshape(shape.as_slice())?)?;
                }
                y
            }
            Op::Upsample(scale, bilinear) => upsample(x, *scale, *bilinear)?,
            Op::Slice(start, end) => x.narrow(1, *start, end - start)?,
            Op::ChannelShuffle(groups) => {
                let (n, c) = (x.dim(0)?, x.dim(1)?);
                let rest = x.elem_count() / (n * c).max(1);
                shuffle(&x.reshape((n, c, rest))?, *groups)?.reshape(x.shape())?
            }
            Op::Flatten => x.flatten_from(1)?,
            Op::Linear { bias, .. } => {
                linear(x, p("weight")?, bias.then(|| p("bias")).transpose()?)?
            }
        })
    }
}

/// Nearest (or bilinear, half-pixel) upsampling of an `(N, C, H, W)` map
/// by integer `[sh, sw]`.
pub(crate) fn upsample(x: &Tensor, [sh, sw]: [usize; 2], bilinear: bool) -> Result<Tensor> {
    let (_, _, h, w) = x.dims4()?;
    Ok(match bilinear {
        true => x.upsample_bilinear2d(h * sh, w * sw, false)?,
        false => x.upsample_nearest2d(h * sh, w * sw)?,
    })
}

/// ShuffleNet's channel shuffle of an `(A, C, Z)` tensor: `(A, g, C/g, Z)`
/// transposed to `(A, C/g, g, Z)`.
pub(crate) fn shuffle(x: &Tensor, groups: usize) -> Result<Tensor> {
    let (a, c, z) = x.dims3()?;
    Ok(x.reshape((a, groups, c / groups, z))?
        .transpose(1, 2)?
        .contiguous()?
        .reshape((a, c, z))?)
}

/// The first of `inputs` minus (`Op::Sub`) or divided by (`Op::Div`) the
/// others, broadcasting.
pub(crate) fn sub_div(op: &Op, inputs: &[&Tensor]) -> Result<Tensor> {
    let x = inputs[0].clone();
    Ok(inputs[1..].iter().try_fold(x, |acc, t| match op {
        Op::Sub => acc.broadcast_sub(t),
        _ => acc.broadcast_div(t),
    })?)
}

/// The broadcasting product of `inputs`.
pub(crate) fn mul(inputs: &[&Tensor]) -> Result<Tensor> {
    let x = inputs[0].clone();
    Ok(inputs[1..]
        .iter()
        .try_fold(x, |acc, t| acc.broadcast_mul(t))?)
}

/// `x·Wᵀ (+ b)` on a batch of feature vectors.
fn linear(x: &Tensor, w: &Tensor, b: Option<&Tensor>) -> Result<Tensor> {
    let y = x.matmul(&w.t()?)?;
    Ok(match b {
        Some(b) => y.broadcast_add(b)?,
        None => y,
    })
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

/// An element-wise activation (softmax over dim 1) with constants `[α, β]`.
fn activation(x: &Tensor, f: Activation, [alpha, beta]: [f64; 2]) -> Result<Tensor> {
    Ok(match f {
        Activation::Relu => x.relu()?,
        Activation::Relu6 => x.clamp(0f32, 6f32)?,
        Activation::LeakyRelu => (x.relu()? - (x.neg()?.relu()? * alpha)?)?,
        Activation::Sigmoid => (x.neg()?.exp()? + 1.0)?.recip()?,
        Activation::Tanh => x.tanh()?,
        Activation::Silu => x.silu()?,
        Activation::Gelu => x.gelu_erf()?,
        Activation::Elu => x.elu(alpha)?,
        Activation::Softmax => tasks::softmax(x, 1)?,
        Activation::Identity => x.clone(),
        Activation::HardSigmoid => x.affine(alpha, beta)?.clamp(0f32, 1f32)?,
        Activation::HardSwish => x.mul(&hard_sigmoid(x)?)?,
        Activation::Erf => x.erf()?,
    })
}

/// `clamp(x/6 + 1/2, 0, 1)`.
fn hard_sigmoid(x: &Tensor) -> Result<Tensor> {
    Ok(x.affine(1.0 / 6.0, 0.5)?.clamp(0f32, 1f32)?)
}
