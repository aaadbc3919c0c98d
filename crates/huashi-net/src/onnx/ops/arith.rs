//! The element-wise arithmetic of the table in [`super`]: `Add`, `Sub`,
//! `Mul`, `Div` of two activations (equal shapes, or a `(C, 1, 1)` gate
//! broadcast over a map) become the merges `add`, `sub`, `mul`, `div`; with
//! a single-valued constant they become a `scale` layer (`y = mul·x + add`:
//! normalisation constants, the pieces of an exported GELU), with one value
//! per channel a `channel_affine` layer holding it as its weight or bias
//! (ConvNeXt's layer scale); a constant after a `MatMul` is its bias. Other
//! constants (per pixel, or divided by an activation) are an unsupported-op
//! error naming the node.

use crate::desc::Layer;
use crate::error::Result;
use crate::onnx::proto::NodeProto;
use crate::onnx::tensor::{Const, Data};
use crate::onnx::{Importer, Value};
use crate::shape::Shape;

impl Importer {
    /// `Add`, `Sub`, `Mul` or `Div` (ONNX broadcasting, within the forms
    /// the module docs list).
    pub(crate) fn arithmetic(&mut self, n: &NodeProto) -> Result<()> {
        let (a, b) = (self.act(n, 0)?.clone(), self.act(n, 1)?.clone());
        match (a, b) {
            (Value::Act { node, shape }, Value::Const(c)) => {
                self.with_constant(n, node, shape, c, false)
            }
            (Value::Const(c), Value::Act { node, shape }) => {
                self.with_constant(n, node, shape, c, true)
            }
            (Value::Const(_), Value::Const(_)) => {
                Err(self.error(n, "arithmetic on two constants that could not be folded"))
            }
            _ => self.merge(n),
        }
    }

    /// Two activations: equal shapes (any of the four) or a `(C, 1, 1)` gate
    /// (`Mul`, `Sub`, `Div`).
    fn merge(&mut self, n: &NodeProto) -> Result<()> {
        let (x, sx) = self.activation_input(n, 0)?;
        let (y, sy) = self.activation_input(n, 1)?;
        let layer = match n.op_type.as_str() {
            "Add" => Layer::Add,
            "Sub" => Layer::Sub,
            "Mul" => Layer::Mul,
            _ => Layer::Div,
        };
        let gate = |g: Shape, m: Shape| {
            layer != Layer::Add
                && matches!((g, m), (Shape::Map { channels: a, height: 1, width: 1 }, Shape::Map { channels: b, .. }) if a == b)
        };
        let out = match (sx, sy) {
            (a, b) if a == b || gate(b, a) => a,
            (a, b) if gate(a, b) && matches!(layer, Layer::Mul) => b,
            (a, b) => {
                let op = &n.op_type;
                return Err(self.unsupported(
                    n,
                    &format!("{op} of {a:?} and {b:?}; equal shapes or (for Mul, Sub, Div) a (C, 1, 1) gate as the second input are supported"),
                ));
            }
        };
        if layer == Layer::Mul && self.fuse_silu(n, [&x, &y], out)? {
            return Ok(());
        }
        self.push(n, layer, vec![x, y], out).map(drop)
    }

    /// Activation `node` with constant `c` (`c` first when `reversed`).
    fn with_constant(
        &mut self,
        n: &NodeProto,
        node: String,
        shape: Shape,
        c: Const,
        reversed: bool,
    ) -> Result<()> {
        if n.op_type == "Add" && self.fuse_bias(&node, &c)? {
            return self.set(n, 0, Value::Act { node, shape });
        }
        if c.len() != 1 {
            return self.channel_constant(n, node, shape, c, reversed);
        }
        let c = self.files.resolve(&c)?;
        let value = f64::from(c.as_floats()[0]);
        if n.op_type == "Mul" && value == 0.5 && self.fuse_gelu(n, &node, shape)? {
            return Ok(());
        }
        let (mul, add) = match (n.op_type.as_str(), reversed) {
            ("Add", _) => (1.0, value),
            ("Mul", _) => (value, 0.0),
            ("Sub", false) => (1.0, -value),
            ("Sub", true) => (-1.0, value),
            ("Div", false) if value != 0.0 => (1.0 / value, 0.0),
            _ => {
                return Err(
                    self.unsupported(n, "division by zero or of a constant by an activation")
                )
            }
        };
        self.single(n, Layer::Scale { mul, add }).map(drop)
    }

    /// Activation `node` with a per-channel constant `c` (`(C, 1, 1)` or
    /// `(1, C, 1, 1)` on a map, `(C)` or `(1, C)` on a vector): a
    /// `channel_affine` whose weight (`Mul`, `Div` by `c`: `c`, `1/c`) or
    /// bias (`Add`, `Sub` of `c`: `c`, `−c`) holds it.
    fn channel_constant(
        &mut self,
        n: &NodeProto,
        node: String,
        shape: Shape,
        c: Const,
        reversed: bool,
    ) -> Result<()> {
        let ch = shape.channels();
        let fits = match shape {
            Shape::Map { .. } => c.dims == [ch, 1, 1] || c.dims == [1, ch, 1, 1],
            Shape::Vector { .. } => c.dims == [ch] || c.dims == [1, ch],
        };
        let op = n.op_type.as_str();
        if !fits || (reversed && matches!(op, "Sub" | "Div")) {
            let what = format!(
                "{op} with a constant of dims {:?} on {shape:?}; single values and one value per channel (the activation first for Sub, Div) are supported",
                c.dims
            );
            return Err(self.unsupported(n, &what));
        }
        let c = if self.shapes_only {
            c
        } else {
            self.files.resolve(&c)?
        };
        let values = c.as_floats();
        if op == "Div" && values.contains(&0.0) {
            return Err(self.error(n, "division by a constant holding 0"));
        }
        let map = |f: fn(f32) -> f32| Const {
            dims: vec![ch],
            data: match c.is_external() {
                true => c.data.clone(),
                false => Data::F32(values.iter().map(|&v| f(v)).collect()),
            },
        };
        let (mul, value) = match op {
            "Mul" => (true, map(|v| v)),
            "Div" => (true, map(|v| 1.0 / v)),
            "Add" => (false, map(|v| v)),
            _ => (false, map(|v| -v)),
        };
        let layer = Layer::ChannelAffine { mul, add: !mul };
        let name = self.push(n, layer, vec![node], shape)?;
        self.weight(&name, if mul { "weight" } else { "bias" }, &value, &[ch])
    }

    /// Makes `c` the bias of `node` when it is a linear layer without one
    /// with as many outputs; whether it did.
    fn fuse_bias(&mut self, node: &str, c: &Const) -> Result<bool> {
        let len = c.len();
        let fits = self.node_mut(node).is_some_and(|x| {
            matches!(x.layer, Layer::Linear { bias: false, out_features } if out_features == len)
        });
        if !fits {
            return Ok(false);
        }
        let c = if self.shapes_only {
            c.clone()
        } else {
            self.files.resolve(c)?
        };
        if let Some(Layer::Linear { bias, .. }) = self.node_mut(node).map(|x| &mut x.layer) {
            *bias = true;
        }
        self.weight(node, "bias", &c, &[len])?;
        Ok(true)
    }
}
