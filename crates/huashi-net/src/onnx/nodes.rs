//! Building the description while importing: huashi-net nodes pushed for
//! ONNX nodes (unique names from the ONNX node names), their weights, and
//! amending or removing nodes already pushed (a bias fused into a linear
//! layer, a GELU chain fused into one activation).

use super::proto::NodeProto;
use super::tensor::Const;
use super::{Importer, Value};
use crate::desc::{Layer, Node};
use crate::error::Result;
use crate::shape::Shape;

impl Importer {
    /// Adds huashi-net node `layer` for ONNX node `n` reading `inputs`, with
    /// output shape `shape`; returns its name.
    pub(crate) fn push(
        &mut self,
        n: &NodeProto,
        layer: Layer,
        inputs: Vec<String>,
        shape: Shape,
    ) -> Result<String> {
        self.push_output(n, 0, layer, inputs, shape)
    }

    /// As [`Importer::push`], bound to output `output` of `n` (named
    /// `<node>_<output>` for outputs after the first).
    pub(crate) fn push_output(
        &mut self,
        n: &NodeProto,
        output: usize,
        layer: Layer,
        inputs: Vec<String>,
        shape: Shape,
    ) -> Result<String> {
        let mut base = if n.name.is_empty() {
            format!("{}_{}", n.op_type, self.position)
        } else {
            n.name.clone()
        };
        if output > 0 {
            base = format!("{base}_{output}");
        }
        let mut name = base.clone();
        let mut k = 1;
        while self.used.contains(&name) {
            name = format!("{base}_{k}");
            k += 1;
        }
        self.used.insert(name.clone());
        self.nodes.push(Node {
            name: name.clone(),
            inputs: Some(inputs),
            layer,
        });
        if let Some(value) = n.output.get(output) {
            self.produced.insert(name.clone(), value.clone());
        }
        self.set(
            n,
            output,
            Value::Act {
                node: name.clone(),
                shape,
            },
        )?;
        Ok(name)
    }

    /// Stores weight `<node>.<suffix>` of `value` with `dims` (nothing for
    /// external values left unread with `shapes_only`).
    pub(crate) fn weight(
        &mut self,
        node: &str,
        suffix: &str,
        value: &Const,
        dims: &[usize],
    ) -> Result<()> {
        if value.is_external() {
            return Ok(());
        }
        let values = value.as_floats();
        let t = candle_core::Tensor::from_vec(values, dims, &candle_core::Device::Cpu)?;
        self.params.insert(format!("{node}.{suffix}"), t);
        Ok(())
    }

    /// The huashi-net node called `name`, to amend (a bias fused into a linear).
    pub(crate) fn node_mut(&mut self, name: &str) -> Option<&mut Node> {
        self.nodes.iter_mut().find(|n| n.name == name)
    }

    /// Removes the huashi-net nodes called `names` (fused into another).
    pub(crate) fn remove_nodes(&mut self, names: &[&str]) {
        self.nodes.retain(|n| !names.contains(&n.name.as_str()));
    }

    /// The huashi-net node called `name`.
    pub(crate) fn node_named(&self, name: &str) -> Option<&Node> {
        self.nodes.iter().find(|n| n.name == name)
    }

    /// Whether huashi-net node `name`'s ONNX value has exactly one reader.
    pub(crate) fn read_once(&self, name: &str) -> bool {
        self.produced
            .get(name)
            .is_some_and(|v| self.readers.get(v) == Some(&1))
    }
}
