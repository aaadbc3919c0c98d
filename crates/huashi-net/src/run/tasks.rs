//! Task-batched execution of the compiled ops: `T` tasks, each with its own
//! parameters, run as one computation (MAML's meta-batch).
//!
//! Every parameter carries a leading task dimension `(T, …)`. Values flow in
//! two layouts chosen so that no op needs a per-task loop:
//!
//! | value | layout | how ops run on it |
//! |---|---|---|
//! | feature map | `(B, T·C, H, W)` | a convolution with `groups·T` (each task's weights one block of groups, huashi-conv's `ConvLayer::with_tasks`); pooling as usual; per-channel statistics are per task and channel |
//! | feature vector | `(T, F, B)` | linear `W (T, O, F)`: one batched matmul `W·h`; per-row statistics are per task and feature |
//!
//! Batch norm normalises with the statistics of the current batch per task
//! and channel (`Norm::Batch`, the MAML convention) or with the running
//! statistics (`Norm::Running`); both run as huashi-conv's fused per-channel
//! affine ops on `(B, T·C, L)` (vectors as `(1, T·F, B)`), exact to any order
//! of differentiation. A batch norm or a linear layer whose only reader is a
//! ReLU applies it in the same pass (the ReLU node then passes its input on).

use super::compile::op_error;
use super::{Op, BN_EPS};
use crate::error::{Error, Result};
use crate::params::ParamSet;
use crate::spec::Activation;
use candle_core::Tensor;
use huashi_conv::fused;

/// How batch norm normalises in a task-batched pass.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Norm {
    /// The current batch's mean and (biased) variance, per task and channel
    /// (MAML's convention at meta-training and meta-test time).
    Batch,
    /// The running statistics `running_mean`, `running_var` (inference).
    Running,
}

/// A value of the task-batched pass (layouts in the module docs).
#[derive(Debug, Clone)]
pub(crate) enum Value {
    /// `(B, T·C, H, W)`.
    Map(Tensor),
    /// `(T, F, B)`.
    Vector(Tensor),
}

/// What a task-batched op needs besides its inputs.
#[derive(Debug, Clone, Copy)]
pub(crate) struct TaskRun {
    /// The number of tasks `T`.
    pub(crate) tasks: usize,
    /// Batch-norm statistics.
    pub(crate) norm: Norm,
    /// Apply a ReLU in the same pass (batch norm and linear only).
    pub(crate) relu: bool,
}

impl Value {
    /// The input `(T, B, C, H, W)` as a map.
    pub(crate) fn from_tasks(x: &Tensor) -> Result<Value> {
        let (t, b, c, h, w) = x.dims5()?;
        Ok(Value::Map(x.transpose(0, 1)?.reshape((b, t * c, h, w))?))
    }

    /// `(T, B, C, H, W)` for a map, `(T, B, F)` for a vector.
    pub(crate) fn into_tasks(self, tasks: usize) -> Result<Tensor> {
        Ok(match self {
            Value::Map(m) => {
                let (b, tc, h, w) = m.dims4()?;
                m.reshape((b, tasks, tc / tasks, h, w))?.transpose(0, 1)?
            }
            Value::Vector(v) => v.transpose(1, 2)?,
        })
    }

    fn map(&self, node: &str) -> Result<&Tensor> {
        match self {
            Value::Map(m) => Ok(m),
            Value::Vector(v) => Err(layout_error(node, "a feature map", v)),
        }
    }

    fn tensor(&self) -> &Tensor {
        match self {
            Value::Map(t) | Value::Vector(t) => t,
        }
    }

    /// The same layout around `t`.
    fn like(&self, t: Tensor) -> Value {
        match self {
            Value::Map(_) => Value::Map(t),
            Value::Vector(_) => Value::Vector(t),
        }
    }
}

fn layout_error(node: &str, expected: &str, got: &Tensor) -> Error {
    Error::Op {
        node: node.to_string(),
        cause: huashi_conv::Error::InvalidArgument {
            what: "task-batched input",
            detail: format!(
                "expected {expected}, got a tensor of shape {:?}",
                got.dims()
            ),
        },
    }
}

/// Parameter `node.suffix` with its task dimension `T` merged into the next:
/// `(T, d₀, d₁, …)` → `(T·d₀, d₁, …)`.
fn merged(params: &ParamSet, node: &str, suffix: &str, tasks: usize) -> Result<Tensor> {
    let name = format!("{node}.{suffix}");
    let p = params.require(&name)?;
    match p.dims() {
        [t, d0, rest @ ..] if *t == tasks => {
            let mut dims = vec![t * d0];
            dims.extend_from_slice(rest);
            Ok(p.reshape(dims)?)
        }
        dims => Err(Error::ParamShape {
            name,
            expected: vec![tasks],
            got: dims.to_vec(),
        }),
    }
}

impl Op {
    /// Runs the op of node `node` on task-batched `inputs`.
    pub(crate) fn apply_tasks(
        &self,
        node: &str,
        params: &ParamSet,
        inputs: &[&Value],
        run: TaskRun,
    ) -> Result<Value> {
        let x = inputs[0];
        let err = op_error(node);
        let tasks = run.tasks;
        Ok(match self {
            Op::Conv(conv) => {
                let layer = conv.with_tasks(tasks).map_err(&err)?;
                let mut own = ParamSet::new();
                for spec in layer.params() {
                    own.insert(&spec.name, merged(params, node, &spec.name, tasks)?);
                }
                Value::Map(layer.forward(x.map(node)?, |n| own.get(n)).map_err(err)?)
            }
            Op::MaxPool(config) => {
                Value::Map(huashi_conv::max_pool2d(x.map(node)?, config).map_err(err)?)
            }
            Op::AvgPool(config, include) => {
                Value::Map(huashi_conv::avg_pool2d(x.map(node)?, config, *include).map_err(err)?)
            }
            Op::GlobalAvgPool => {
                Value::Map(huashi_conv::global_avg_pool(x.map(node)?).map_err(err)?)
            }
            Op::BatchNorm { affine, .. } => batch_norm(node, params, x, *affine, run)?,
            Op::Activation(f, constants) => activation(x, *f, *constants, tasks)?,
            Op::Identity => x.clone(),
            Op::Add => {
                let sum = inputs[1..]
                    .iter()
                    .try_fold(x.tensor().clone(), |acc, t| acc + t.tensor())?;
                x.like(sum)
            }
            Op::Concat => concat(inputs, tasks)?,
            Op::Mul => {
                let tensors: Vec<&Tensor> = inputs.iter().map(|v| v.tensor()).collect();
                x.like(super::mul(&tensors)?)
            }
            Op::Sub | Op::Div => {
                let tensors: Vec<&Tensor> = inputs.iter().map(|v| v.tensor()).collect();
                x.like(super::sub_div(self, &tensors)?)
            }
            Op::Scale(m, a) => x.like(x.tensor().affine(*m, *a)?),
            Op::ChannelAffine { mul, add, .. } => {
                channel_affine_op(node, params, x, [*mul, *add], run)?
            }
            Op::Upsample(scale, bilinear) => {
                Value::Map(super::upsample(x.map(node)?, *scale, *bilinear)?)
            }
            Op::Slice(start, end) => {
                channels(x, tasks, |t| Ok(t.narrow(1, *start, end - start)?))?
            }
            Op::ChannelShuffle(groups) => channels(x, tasks, |t| super::shuffle(t, *groups))?,
            Op::Flatten => flatten(x, tasks)?,
            Op::Linear { bias, .. } => linear(node, params, x, *bias, run)?,
        })
    }
}

/// `f` on the channels of each task: a map `(B, T·C, H, W)` and a vector
/// `(T, F, B)` viewed as `(A, C, Z)` for `f`, and back.
fn channels(x: &Value, tasks: usize, f: impl Fn(&Tensor) -> Result<Tensor>) -> Result<Value> {
    Ok(match x {
        Value::Map(m) => {
            let (b, tc, h, w) = m.dims4()?;
            let y = f(&m.reshape((b * tasks, tc / tasks.max(1), h * w))?)?;
            let c = y.dim(1)?;
            Value::Map(y.reshape((b, tasks * c, h, w))?)
        }
        Value::Vector(v) => Value::Vector(f(v)?),
    })
}

/// `(B, T·C, H, W)` → `(T, C·H·W, B)`; a vector stays.
fn flatten(x: &Value, tasks: usize) -> Result<Value> {
    Ok(match x {
        Value::Map(m) => {
            let b = m.dim(0)?;
            let per_task = m.elem_count() / (b * tasks).max(1);
            let v = m.reshape((b, tasks * per_task))?.t()?.contiguous()?;
            Value::Vector(v.reshape((tasks, per_task, b))?)
        }
        Value::Vector(_) => x.clone(),
    })
}

/// Concatenation along channels (features), per task.
fn concat(inputs: &[&Value], tasks: usize) -> Result<Value> {
    Ok(match inputs[0] {
        Value::Map(first) => {
            let (b, _, h, w) = first.dims4()?;
            let parts = inputs
                .iter()
                .map(|v| {
                    let t = v.tensor();
                    t.reshape((b, tasks, t.dim(1)? / tasks, h * w))
                })
                .collect::<candle_core::Result<Vec<_>>>()?;
            let joined = Tensor::cat(&parts, 2)?;
            let c = joined.dim(2)?;
            Value::Map(joined.reshape((b, tasks * c, h, w))?)
        }
        Value::Vector(_) => {
            let parts: Vec<&Tensor> = inputs.iter().map(|v| v.tensor()).collect();
            Value::Vector(Tensor::cat(&parts, 1)?)
        }
    })
}

/// `x` as `(B, T·C, L)` for the fused per-channel ops, and back.
fn per_channel(x: &Value) -> Result<(Tensor, impl Fn(Tensor) -> Result<Value>)> {
    let dims = x.tensor().dims().to_vec();
    let is_map = matches!(x, Value::Map(_));
    let flat = match x {
        Value::Map(m) => m.flatten_from(2)?,
        Value::Vector(v) => v.flatten_to(1)?.unsqueeze(0)?,
    };
    let back = move |t: Tensor| -> Result<Value> {
        let t = t.reshape(dims.as_slice())?;
        Ok(if is_map {
            Value::Map(t)
        } else {
            Value::Vector(t)
        })
    };
    Ok((flat, back))
}

/// A learnable per-channel `w ⊙ x + b` per task (`w` when `mul`, `b` when
/// `add`; 1 and 0 otherwise).
fn channel_affine_op(
    node: &str,
    params: &ParamSet,
    x: &Value,
    [mul, add]: [bool; 2],
    run: TaskRun,
) -> Result<Value> {
    let (flat, back) = per_channel(x)?;
    let len = flat.dim(1)?;
    let (dtype, device) = (flat.dtype(), flat.device());
    let scale = match mul {
        true => merged(params, node, "weight", run.tasks)?,
        false => Tensor::ones(len, dtype, device)?,
    };
    let shift = match add {
        true => merged(params, node, "bias", run.tasks)?,
        false => Tensor::zeros(len, dtype, device)?,
    };
    back(channel_affine(node, &flat, &scale, &shift, false)?)
}

/// `y = s·x + t` (then ReLU) per task and channel, with
/// `s = γ/√(σ² + ε)`, `t = β − μ·s` from the batch's or the running
/// statistics.
fn batch_norm(
    node: &str,
    params: &ParamSet,
    x: &Value,
    affine: bool,
    run: TaskRun,
) -> Result<Value> {
    let (flat, back) = per_channel(x)?;
    let p = |suffix: &str| merged(params, node, suffix, run.tasks);
    let (mean, var) = match run.norm {
        Norm::Batch => fused::channel_moments(&flat).map_err(op_error(node))?,
        Norm::Running => (p("running_mean")?, p("running_var")?),
    };
    let std = (var + BN_EPS)?.sqrt()?;
    let (scale, shift) = if affine {
        let scale = p("weight")?.div(&std)?;
        let shift = p("bias")?.sub(&mean.mul(&scale)?)?;
        (scale, shift)
    } else {
        let scale = std.recip()?;
        let shift = mean.mul(&scale)?.neg()?;
        (scale, shift)
    };
    back(channel_affine(node, &flat, &scale, &shift, run.relu)?)
}

/// `W·h (+ b)` (then ReLU) on `h (T, F, B)`, `W (T, O, F)`, `b (T, O)`.
fn linear(node: &str, params: &ParamSet, x: &Value, bias: bool, run: TaskRun) -> Result<Value> {
    let h = match x {
        Value::Vector(v) => v,
        Value::Map(m) => return Err(layout_error(node, "a feature vector", m)),
    };
    let w = params.require(&format!("{node}.weight"))?;
    let z = w.matmul(h)?;
    if !bias && !run.relu {
        return Ok(Value::Vector(z));
    }
    let (t, o, b) = z.dims3()?;
    let flat = z.reshape((1, t * o, b))?;
    let shift = match bias {
        true => merged(params, node, "bias", run.tasks)?.flatten_all()?,
        false => Tensor::zeros(t * o, z.dtype(), z.device())?,
    };
    let ones = shift.ones_like()?;
    let y = channel_affine(node, &flat, &ones, &shift, run.relu)?;
    Ok(Value::Vector(y.reshape((t, o, b))?))
}

fn channel_affine(
    node: &str,
    x: &Tensor,
    scale: &Tensor,
    shift: &Tensor,
    relu: bool,
) -> Result<Tensor> {
    let result = match relu {
        true => fused::affine_relu(x, scale, shift),
        false => fused::affine(x, scale, shift),
    };
    result.map_err(op_error(node))
}

/// An element-wise activation; softmax over each task's channels.
fn activation(x: &Value, f: Activation, constants: [f64; 2], tasks: usize) -> Result<Value> {
    if f != Activation::Softmax {
        return Ok(x.like(super::activation(x.tensor(), f, constants)?));
    }
    Ok(match x {
        Value::Map(m) => {
            let (b, tc, h, w) = m.dims4()?;
            let split = m.reshape((b, tasks, tc / tasks, h * w))?;
            Value::Map(softmax(&split, 2)?.reshape((b, tc, h, w))?)
        }
        Value::Vector(v) => Value::Vector(softmax(v, 1)?),
    })
}

/// A numerically stable softmax along `dim`.
pub(super) fn softmax(x: &Tensor, dim: usize) -> Result<Tensor> {
    let shifted = x.broadcast_sub(&x.max_keepdim(dim)?.detach())?;
    let e = shifted.exp()?;
    Ok(e.broadcast_div(&e.sum_keepdim(dim)?)?)
}
