//! The op table: which ONNX op on activations becomes which huashi-net layer.
//!
//! | ONNX | huashi-net |
//! |---|---|
//! | `Conv` (group, dilations, strides, pads, `auto_pad`) | `conv` |
//! | `ConvTranspose` (output_padding, output_shape) | `conv_transpose` |
//! | `MaxPool`, `AveragePool` (pads, `ceil_mode`, `count_include_pad`) | `max_pool`, `avg_pool` |
//! | `GlobalAveragePool` | `global_avg_pool` |
//! | `BatchNormalization` | `batch_norm` (ε folded into the variance) |
//! | `Relu`, `Clip(0, 6)`, `HardSigmoid(α, β)`, `HardSwish`, `LeakyRelu(α)`, `Sigmoid`, `Tanh`, `Gelu` (exact), `Erf`, `Elu(α)`, `Softmax` (channels) | `activation` (α, β kept as its `alpha`, `beta`) |
//! | `Add` of equal shapes, `Concat` on channels | `add`, `concat` |
//! | `Mul`, `Sub`, `Div` of equal shapes or with a `(C, 1, 1)` gate (squeeze-and-excitation) | `mul`, `sub`, `div` |
//! | `Add`, `Sub`, `Mul`, `Div` with a single-valued constant | `scale` (`y = mul·x + add`) |
//! | `Add`, `Sub`, `Mul`, `Div` with a `(C, 1, 1)` constant | `channel_affine` (the constant as its weight or bias) |
//! | `Div(x, √2) → Erf → Add(1) → Mul(x, ·) → Mul(0.5)` (exported `nn.GELU()`) | one `activation` `gelu` |
//! | `Mul(x, Sigmoid(x))` (exported `nn.SiLU()`) | one `activation` `silu` |
//! | `Flatten(axis 1)`, `Reshape` to `(N, −1)` | `flatten` |
//! | `Reshape` to `(N, g, C/g, H, W)`, `Transpose(0, 2, 1, 3, 4)`, `Reshape` to `(N, C, H, W)` | `channel_shuffle` |
//! | `Slice` of channels (step 1), `Split` on channels | `slice` (one per output) |
//! | `Gemm` (`transB`), `MatMul` by a constant (+ `Add` of a bias) | `linear` |
//! | `ReduceMean` over H and W (`keepdims` 1, or 0 then a flatten) | `global_avg_pool` (+ `flatten`) |
//! | `Pad` (zeros on H and W) before `Conv` / `AveragePool` | added to their explicit padding |
//! | `Pad` (reflect, edge) before a `Conv` without padding of its own | the conv's padding and `padding_mode` |
//! | `Resize`, `Upsample` (nearest, integer factors) | `upsample` |
//! | `Identity`, `Dropout` | the input itself |
//!
//! Padding: ONNX `pads = [top, left, bottom, right]`; `SAME_UPPER` is
//! TensorFlow's 'SAME' (extra at the bottom/right), `SAME_LOWER` puts the
//! extra `total − ⌊total/2⌋` at the top/left with
//! `total = max((⌈i/s⌉ − 1)·s + d·(k − 1) + 1 − i, 0)`. `ceil_mode` on max
//! pooling adds the rows a ceiling needs at the bottom/right (padding
//! never wins a max), so `o = ⌈(i + p − k)/s⌉ + 1` exactly.

use super::proto::NodeProto;
use super::tensor::Const;
use super::{attrs, fold, Importer, Value};
use crate::desc::Layer;
use crate::error::Result;
use crate::shape::Shape;
use crate::spec::{Activation, PaddingSpec, Pair};
use crate::steps::{step, At};
use huashi_conv::Padding;
pub(crate) use pad::with_pad;

mod arith;
mod fused;
mod layers;
mod pad;
mod resize;
mod shuffle;
mod structure;

impl Importer {
    /// Imports ONNX node `n`.
    pub(crate) fn node(&mut self, n: &NodeProto) -> Result<()> {
        if !(n.domain.is_empty() || n.domain == "ai.onnx") {
            return Err(self.unsupported(n, "not in the default ONNX domain"));
        }
        if fold::try_fold(self, n)? {
            return Ok(());
        }
        match n.op_type.as_str() {
            "Identity" | "Dropout" => {
                let v = self.act(n, 0)?.clone();
                self.set(n, 0, v)
            }
            "Conv" => self.conv(n),
            "ConvTranspose" => self.conv_transpose(n),
            "MaxPool" | "AveragePool" => self.pool(n),
            "GlobalAveragePool" => self.single(n, Layer::GlobalAvgPool).map(drop),
            "BatchNormalization" => self.batch_norm(n),
            "Flatten" => self.flatten(n),
            "Reshape" => self.reshape(n),
            "Transpose" => self.transpose(n),
            "Slice" => self.slice(n),
            "Split" => self.split(n),
            "Gemm" => self.gemm(n),
            "MatMul" => self.matmul(n),
            "Add" | "Sub" | "Mul" | "Div" => self.arithmetic(n),
            "Concat" => self.concat(n),
            "ReduceMean" => self.reduce_mean(n),
            "Pad" => self.pad(n),
            "Resize" | "Upsample" => self.resize(n),
            _ => match self.activation(n)? {
                Some(layer) => self.single(n, layer).map(drop),
                None if self.allow_unknown => self.opaque(n),
                None => Err(self.unsupported(n, "")),
            },
        }
    }

    /// Input `i` of `n`, required.
    pub(crate) fn act(&self, n: &NodeProto, i: usize) -> Result<&Value> {
        self.input(n, i)?
            .ok_or_else(|| self.error(n, format!("input {i} is required")))
    }

    /// Input `i` of `n` as an activation `(node, shape)`.
    pub(crate) fn activation_input(&self, n: &NodeProto, i: usize) -> Result<(String, Shape)> {
        match self.act(n, i)? {
            Value::Act { node, shape } => Ok((node.clone(), *shape)),
            Value::Const(_) => Err(self.unsupported(
                n,
                &format!("input {i} is a constant where an activation is expected"),
            )),
            Value::Padded { .. } => Err(self.unsupported(
                n,
                "reading a zero Pad; Conv and AveragePool after a Pad are supported",
            )),
            Value::Grouped { .. } => Err(self.unsupported(
                n,
                "reading a map reshaped to 5-D; a channel shuffle (Reshape, Transpose, Reshape) is supported",
            )),
        }
    }

    /// Input `i` of `n` as a constant with its values (external data read).
    pub(crate) fn constant(&self, n: &NodeProto, i: usize) -> Result<Option<Const>> {
        self.constant_as(n, i, true)
    }

    /// Input `i` of `n` as a weight: external values are read unless
    /// importing `shapes_only` (then only its dims are known).
    pub(crate) fn weight_constant(&self, n: &NodeProto, i: usize) -> Result<Option<Const>> {
        self.constant_as(n, i, !self.shapes_only)
    }

    /// Input `i` of `n` as a constant, its external values read if `read`.
    fn constant_as(&self, n: &NodeProto, i: usize, read: bool) -> Result<Option<Const>> {
        match self.input(n, i)? {
            None => Ok(None),
            Some(Value::Const(c)) if read => self.files.resolve(c).map(Some),
            Some(Value::Const(c)) => Ok(Some(c.clone())),
            Some(Value::Act { .. } | Value::Padded { .. } | Value::Grouped { .. }) => {
                Err(self.unsupported(n, &format!("input {i} must be a constant (an initializer)")))
            }
        }
    }

    /// A single-input layer on input 0; its shape from the analysis step.
    pub(crate) fn single(&mut self, n: &NodeProto, layer: Layer) -> Result<String> {
        let (input, shape) = self.activation_input(n, 0)?;
        let at = At {
            node: &n.name,
            op: layer.op(),
        };
        let out = step(&at, &layer, shape)?.output;
        self.push(n, layer, vec![input], out)
    }

    /// The activation layer of `n`, when it is one: the function and the
    /// constants it takes when they differ from PyTorch's defaults.
    fn activation(&self, n: &NodeProto) -> Result<Option<Layer>> {
        let function = match n.op_type.as_str() {
            "Relu" => Activation::Relu,
            "Sigmoid" => Activation::Sigmoid,
            "HardSwish" => Activation::HardSwish,
            "HardSigmoid" => Activation::HardSigmoid,
            "Tanh" => Activation::Tanh,
            "Erf" => Activation::Erf,
            "Gelu" if attrs::string(n, "approximate", "none") == "none" => Activation::Gelu,
            "Gelu" => return Err(self.unsupported(n, "the tanh approximation of GELU")),
            "Elu" => Activation::Elu,
            "LeakyRelu" => Activation::LeakyRelu,
            "Softmax" => self.softmax(n)?,
            "Clip" => self.clip(n)?,
            _ => return Ok(None),
        };
        // ONNX's defaults: LeakyRelu α 0.01, Elu α 1, HardSigmoid α 0.2, β 0.5.
        let onnx = match function {
            Activation::HardSigmoid => [0.2, 0.5],
            Activation::LeakyRelu => [0.01, 0.0],
            Activation::Elu => [1.0, 0.0],
            _ => [0.0; 2],
        };
        let ours = function.defaults();
        let close = |a: f64, b: f64| (a - b).abs() <= 1e-6 * b.abs().max(1.0);
        let mut constants = [None; 2];
        for (i, name) in ["alpha", "beta"].into_iter().enumerate().take(ours.len()) {
            let v = f64::from(attrs::float(n, name, onnx[i] as f32));
            constants[i] = (!close(v, ours[i])).then_some(v);
        }
        Ok(Some(Layer::Activation {
            function,
            alpha: constants[0],
            beta: constants[1],
        }))
    }

    /// `Softmax` over the channels (axis 1; −1 for a vector).
    fn softmax(&self, n: &NodeProto) -> Result<Activation> {
        let (_, shape) = self.activation_input(n, 0)?;
        let axis = attrs::int(n, "axis", -1);
        let ok = match shape {
            Shape::Vector { .. } => axis == 1 || axis == -1,
            Shape::Map { .. } => axis == 1 || axis == -3,
        };
        if !ok {
            return Err(self.unsupported(n, "softmax over an axis other than the channels"));
        }
        Ok(Activation::Softmax)
    }

    /// `Clip` to `[0, 6]` (ReLU6) or `[0, ∞)` (ReLU).
    fn clip(&self, n: &NodeProto) -> Result<Activation> {
        let bound = |i: usize, name: &str, default: f32| -> Result<f32> {
            Ok(match self.constant(n, i)? {
                Some(c) => c.as_floats().first().copied().unwrap_or(default),
                None => attrs::float(n, name, default),
            })
        };
        match (
            bound(1, "min", f32::NEG_INFINITY)?,
            bound(2, "max", f32::INFINITY)?,
        ) {
            (lo, hi) if lo == 0.0 && hi == 6.0 => Ok(Activation::Relu6),
            (lo, hi) if lo == 0.0 && hi == f32::INFINITY => Ok(Activation::Relu),
            (lo, hi) => Err(self.unsupported(
                n,
                &format!("Clip to [{lo}, {hi}]; [0, 6] and [0, ∞) are supported"),
            )),
        }
    }
}

impl Importer {
    /// `ReduceMean` over the spatial axes: a global average pool, followed
    /// by a flatten when `keepdims = 0` (axes from the attribute before
    /// opset 18, from input 1 since).
    fn reduce_mean(&mut self, n: &NodeProto) -> Result<()> {
        let axes = match attrs::ints(n, "axes") {
            Some(a) => a,
            None => self
                .constant(n, 1)?
                .and_then(|c| c.as_ints())
                .unwrap_or_default(),
        };
        let mut sorted: Vec<i64> = axes
            .iter()
            .map(|&a| if a < 0 { a + 4 } else { a })
            .collect();
        sorted.sort_unstable();
        if sorted != [2, 3] || !matches!(self.activation_input(n, 0)?.1, Shape::Map { .. }) {
            return Err(self.unsupported(
                n,
                &format!(
                    "ReduceMean over axes {axes:?}; the spatial axes [2, 3] of a map are supported"
                ),
            ));
        }
        if attrs::int(n, "keepdims", 1) != 0 {
            return self.single(n, Layer::GlobalAvgPool).map(drop);
        }
        let (input, shape) = self.activation_input(n, 0)?;
        let pooled = Shape::map(shape.channels(), 1, 1);
        let name = self.push(n, Layer::GlobalAvgPool, vec![input], pooled)?;
        let flat = Shape::Vector {
            features: shape.channels(),
        };
        let mut flatten = n.clone();
        flatten.name = format!("{name}.flatten");
        self.push(&flatten, Layer::Flatten, vec![name], flat)
            .map(drop)
    }
}

impl Importer {
    /// An unsupported op kept opaque (`allow_unknown`): it reads its first
    /// activation input and has the shape `value_info` declares.
    fn opaque(&mut self, n: &NodeProto) -> Result<()> {
        let no_shape = || {
            self.unsupported(n, "and its output has no (N, C, H, W) or (N, F) shape in value_info to keep it opaque")
        };
        let dims = n
            .output
            .first()
            .and_then(|o| self.shapes.get(o))
            .ok_or_else(no_shape)?;
        let output: Vec<usize> = match dims[..] {
            [_, ref rest @ ..] if matches!(rest.len(), 1 | 3) => rest
                .iter()
                .map(|&d| {
                    usize::try_from(d)
                        .ok()
                        .filter(|&d| (1..=super::MAX_INPUT_DIM).contains(&d))
                })
                .collect::<Option<_>>()
                .ok_or_else(no_shape)?,
            _ => return Err(no_shape()),
        };
        let input = (0..n.input.len())
            .find_map(|i| match self.input(n, i) {
                Ok(Some(Value::Act { node, .. })) => Some(node.clone()),
                _ => None,
            })
            .ok_or_else(|| self.unsupported(n, "and it reads no activation"))?;
        let layer = Layer::Opaque {
            onnx_op: n.op_type.clone(),
            output,
        };
        let at = At {
            node: &n.name,
            op: layer.op(),
        };
        let shape = step(&at, &layer, Shape::Vector { features: 1 })?.output;
        self.push(n, layer, vec![input], shape).map(drop)
    }
}

/// ONNX padding of a window op on an `[h, w]` input.
pub(crate) fn padding(
    imp: &Importer,
    n: &NodeProto,
    input: [usize; 2],
    extent: [usize; 2],
    stride: [usize; 2],
) -> Result<Padding> {
    match attrs::string(n, "auto_pad", "NOTSET").as_str() {
        "NOTSET" => {
            let pads = pair_list(imp, n, "pads", 4, 0)?;
            Ok(Padding::Explicit {
                top: pads[0],
                left: pads[1],
                bottom: pads[2],
                right: pads[3],
            })
        }
        "VALID" => Ok(Padding::Valid),
        "SAME_UPPER" => Ok(Padding::SameTensorFlow),
        "SAME_LOWER" => {
            let total = |a: usize| {
                let o = input[a].div_ceil(stride[a]);
                ((o - 1) * stride[a] + extent[a]).saturating_sub(input[a])
            };
            let (th, tw) = (total(0), total(1));
            Ok(Padding::Explicit {
                top: th - th / 2,
                bottom: th / 2,
                left: tw - tw / 2,
                right: tw / 2,
            })
        }
        other => Err(imp.error(n, format!("auto_pad \"{other}\" is not an ONNX value"))),
    }
}

/// Integer-list attribute `name` of `len` values (default all `default`),
/// each in `0..=2^20`.
pub(crate) fn pair_list(
    imp: &Importer,
    n: &NodeProto,
    name: &str,
    len: usize,
    default: usize,
) -> Result<Vec<usize>> {
    let Some(values) = attrs::ints(n, name) else {
        return Ok(vec![default; len]);
    };
    if values.len() != len {
        return Err(imp.unsupported(
            n,
            &format!("`{name}` has {} values; 2-D ops need {len}", values.len()),
        ));
    }
    values
        .iter()
        .map(|&v| {
            usize::try_from(v)
                .ok()
                .filter(|&v| v <= 1 << 20)
                .ok_or_else(|| imp.error(n, format!("`{name}` value {v} is not in 0..=2^20")))
        })
        .collect()
}

/// `[a, b]` as a [`Pair`] after checking each is at least 1.
pub(crate) fn positive(imp: &Importer, n: &NodeProto, name: &str, v: &[usize]) -> Result<Pair> {
    if v.contains(&0) {
        return Err(imp.error(n, format!("`{name}` must be at least 1, got {v:?}")));
    }
    Ok(Pair([v[0], v[1]]))
}

/// The padding as the description's type.
pub(crate) fn spec(p: Padding) -> PaddingSpec {
    PaddingSpec(p)
}
