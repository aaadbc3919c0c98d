//! The element-wise arithmetic of the table in [`super`]: `Add`, `Sub`,
//! `Mul`, `Div` of two activations (equal shapes, or a `(C, 1, 1)` gate
//! broadcast over a map) become the merges `add`, `sub`, `mul`, `div`; with
//! a single-valued constant they become a `scale` layer (`y = mul·x + add`:
//! normalisation constants, the pieces of an exported GELU); a constant
//! after a `MatMul` is its bias. Other constants (per channel or per pixel)
//! are an unsupported-op error naming the node.

use crate::desc::Layer;
use crate::error::Result;
use crate::onnx::proto::NodeProto;
use crate::onnx::tensor::Const;
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
        let c = self.files.resolve(&c)?;
        let value = match c.as_floats()[..] {
            [v] => f64::from(v),
            _ => {
                return Err(self.unsupported(
                    n,
                    &format!(
                        "{} with a constant of dims {:?}; single values (and a bias after MatMul) are supported",
                        n.op_type, c.dims
                    ),
                ))
            }
        };
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
