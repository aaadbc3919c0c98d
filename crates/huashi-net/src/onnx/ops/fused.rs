//! Activations exported as chains of ops, fused back into one activation
//! when nothing else reads the chain's inner values: SiLU (`nn.SiLU()`,
//! EfficientNet) as `Mul(x, Sigmoid(x))`, and the exact GELU as PyTorch
//! exports `nn.GELU()` below opset 20:
//! `Div(x, √2) → Erf → Add(1) → Mul(x, ·) → Mul(0.5)`. Each op maps on its
//! own (`scale`, `activation` erf, `scale`, `mul`, `scale`), which computes
//! GELU exactly; when the last `Mul` closes such a chain whose inner values
//! nothing else reads, the chain becomes one `gelu` activation, as
//! torchinfo and fvcore show the module (one row, one element-wise op).

use crate::desc::Layer;
use crate::error::Result;
use crate::onnx::proto::NodeProto;
use crate::onnx::Importer;
use crate::shape::Shape;
use crate::spec::Activation;

impl Importer {
    /// `Mul(x, Sigmoid(x))` (either order) for `n` as one SiLU, removing the
    /// sigmoid node; whether it did.
    pub(crate) fn fuse_silu(
        &mut self,
        n: &NodeProto,
        [a, b]: [&String; 2],
        shape: Shape,
    ) -> Result<bool> {
        let sigmoid = |name: &str| {
            self.node_named(name).is_some_and(|node| {
                matches!(
                    node.layer,
                    Layer::Activation {
                        function: Activation::Sigmoid,
                        ..
                    }
                )
            }) && self.read_once(name)
        };
        let input_of = |name: &str| one(self.node_named(name).and_then(|node| node.inputs.clone()));
        for (x, s) in [(a, b), (b, a)] {
            if sigmoid(s) && input_of(s).as_ref() == Some(x) {
                let (x, s) = (x.clone(), s.clone());
                self.remove_nodes(&[&s]);
                self.push(n, activation(Activation::Silu), vec![x], shape)?;
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// Replaces the chain ending in `mul` (the `Mul(x, Erf(…) + 1)` node)
    /// by a GELU for `n`, the `Mul(·, 0.5)`; whether it did.
    pub(crate) fn fuse_gelu(&mut self, n: &NodeProto, mul: &str, shape: Shape) -> Result<bool> {
        let Some((x, chain)) = self.gelu_chain(mul) else {
            return Ok(false);
        };
        let names: Vec<&str> = chain.iter().map(String::as_str).collect();
        if !names.iter().all(|c| self.read_once(c)) {
            return Ok(false);
        }
        self.remove_nodes(&names);
        self.push(n, activation(Activation::Gelu), vec![x], shape)?;
        Ok(true)
    }

    /// `(x, [scale, erf, plus_one, mul])` when `mul` multiplies `x` by
    /// `erf(x/√2) + 1` built from nodes of this import.
    fn gelu_chain(&self, mul: &str) -> Option<(String, [String; 4])> {
        let inputs = |name: &str, want: &dyn Fn(&Layer) -> bool| -> Option<Vec<String>> {
            let node = self.node_named(name)?;
            want(&node.layer).then(|| node.inputs.clone()).flatten()
        };
        let m = inputs(mul, &|l| *l == Layer::Mul)?;
        let [a, b] = &m[..] else { return None };
        let close = |v: f64, to: f64| (v - to).abs() < 1e-6;
        let plus_one = |l: &Layer| matches!(*l, Layer::Scale { mul, add } if close(mul, 1.0) && close(add, 1.0));
        let erf = |l: &Layer| {
            matches!(
                l,
                Layer::Activation {
                    function: Activation::Erf,
                    ..
                }
            )
        };
        let by_root2 = |l: &Layer| matches!(*l, Layer::Scale { mul, add } if close(mul, std::f64::consts::FRAC_1_SQRT_2) && add == 0.0);
        for (x, p) in [(a, b), (b, a)] {
            let Some(e) = one(inputs(p, &plus_one)) else {
                continue;
            };
            let Some(d) = one(inputs(&e, &erf)) else {
                continue;
            };
            if one(inputs(&d, &by_root2)).as_ref() == Some(x) {
                return Some((x.clone(), [d, e, p.clone(), mul.to_string()]));
            }
        }
        None
    }
}

/// The single input of a node, if it has exactly one.
fn one(inputs: Option<Vec<String>>) -> Option<String> {
    match <[String; 1]>::try_from(inputs?) {
        Ok([name]) => Some(name),
        Err(_) => None,
    }
}

/// An activation layer without constants.
fn activation(function: Activation) -> Layer {
    Layer::Activation {
        function,
        alpha: None,
        beta: None,
    }
}
