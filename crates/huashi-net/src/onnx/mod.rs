//! ONNX import: an ONNX model (`ModelProto`, opset 13–18 as PyTorch's
//! `torch.onnx.export` writes it) → a huashi-net [`Network`] plus its
//! weights as a [`ParamSet`], so `summary`, `rf` and `erf` analyse the model
//! the user already has.
//!
//! The graph's nodes are read in their (topological) order. Each value is
//! either a constant (an initializer, a `Constant` node, or a value folded
//! from constants — the `Shape → Gather → Unsqueeze → Concat → Reshape`
//! chains exporters write for `flatten`) or an activation produced by a
//! huashi-net node. Ops on activations map to huashi-net layers (see
//! `onnx/ops.rs` and the README for the table); layer names are the ONNX node names. Weights keep
//! ONNX's layouts, which are PyTorch's: a conv weight `(O, C/g, kh, kw)` is
//! `<node>.weight`, a `Gemm` weight `(out, in)` (transposed when
//! `transB = 0`), batch norm's scale, bias, mean and variance are
//! `<node>.weight`, `.bias`, `.running_mean`, `.running_var`; batch norm's
//! ε is folded into the variance (`var + ε − 10⁻⁵`), exact for inference.
//!
//! Hostile input: the file is read with [`huashi_io::read_capped`]'s size
//! limit, every tensor's element count is checked against its data before
//! allocation ([`tensor::MAX_ELEMENTS`]), a value read before it is produced
//! (a missing input or a cycle) is an error, and an op that is not mapped is
//! [`Error::UnsupportedOp`] naming the op, the node and its position.

mod attrs;
mod external;
mod fold;
mod inputs;
mod nodes;
mod ops;
pub mod proto;
pub mod tensor;

use crate::desc::{check_fields, Network, Node};
use crate::error::{Error, Result};
use crate::params::ParamSet;
use crate::shape::Shape;
use external::DataFiles;
use inputs::{check_weights, declared_dims, input_shape};
use prost::Message;
use proto::{GraphProto, ModelProto, NodeProto};
use std::collections::{HashMap, HashSet};
use std::path::Path;
use tensor::Const;

/// The most nodes a graph may have.
pub const MAX_NODES: usize = 1_000_000;

/// The largest input height, width or channel count accepted.
pub const MAX_INPUT_DIM: usize = 1 << 16;

/// An imported model: the description and the weights it was exported with.
#[derive(Debug, Clone)]
pub struct OnnxModel {
    /// The network (its `input_shape` is the graph input's `(C, H, W)`).
    pub network: Network,
    /// The weights named `<node>.<param>`, as [`crate::Model::forward`]
    /// takes them; with [`ImportOptions::shapes_only`], only those stored
    /// in the `.onnx` file itself (external data is not read).
    pub params: ParamSet,
}

/// Reads and imports the ONNX file at `path` (at most
/// [`huashi_io::read_capped`]'s limit).
///
/// # Errors
/// [`Error::File`] when the file cannot be read or is too large;
/// [`Error::InFile`] naming the path around the errors of [`from_bytes`]
/// and [`Error::OnnxExternalData`] (external data next to the model,
/// `location` relative to its folder, missing or short).
pub fn from_path(path: impl AsRef<Path>) -> Result<OnnxModel> {
    from_path_with(path, &ImportOptions::default())
}

/// How the importer treats what it does not map.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ImportOptions {
    /// Keep an unsupported op as an opaque layer ([`crate::Layer::Opaque`]: shape
    /// from the graph's `value_info`, cost unknown, receptive field undefined
    /// downstream) instead of failing.
    pub allow_unknown: bool,
    /// Read only the graph and the tensors' shapes: weights stored as
    /// external data are not read (their data file need not exist), which
    /// is all `summary` and `rf` need. Constants a shape computation reads
    /// are still read.
    pub shapes_only: bool,
}

/// As [`from_path`], with `options`.
///
/// # Errors
/// As [`from_path`].
pub fn from_path_with(path: impl AsRef<Path>, options: &ImportOptions) -> Result<OnnxModel> {
    let path = path.as_ref();
    let bytes = huashi_io::read_capped(path, "an ONNX model")?;
    import(&bytes, options, DataFiles::new(Some(path))).map_err(|e| Error::InFile {
        path: path.display().to_string(),
        error: Box::new(e),
    })
}

/// Imports an ONNX model from its serialised bytes.
///
/// # Errors
/// [`Error::Onnx`] when the bytes are no ONNX protobuf, the graph is
/// missing, has other than one 4-D `(N, C, H, W)` input, a tensor or
/// attribute is malformed, or a value is read before it is produced;
/// [`Error::UnsupportedOp`] for an op that is not mapped; the errors of
/// [`Network::analyse`] and [`crate::Model::check`] when shapes or weights do not fit.
pub fn from_bytes(bytes: &[u8]) -> Result<OnnxModel> {
    from_bytes_with(bytes, &ImportOptions::default())
}

/// As [`from_bytes`], with `options`.
///
/// # Errors
/// As [`from_bytes`]; with `allow_unknown`, an unsupported op whose output
/// has no `(N, C, H, W)` or `(N, F)` shape in `value_info` is still
/// [`Error::UnsupportedOp`].
pub fn from_bytes_with(bytes: &[u8], options: &ImportOptions) -> Result<OnnxModel> {
    import(bytes, options, DataFiles::new(None))
}

/// Imports `bytes`, reading external data through `files`.
fn import(bytes: &[u8], options: &ImportOptions, files: DataFiles) -> Result<OnnxModel> {
    let model = ModelProto::decode(bytes).map_err(|e| file_error(format!("not ONNX: {e}")))?;
    let graph = model
        .graph
        .as_ref()
        .ok_or_else(|| file_error("the model has no graph".into()))?;
    if graph.node.len() > MAX_NODES {
        return Err(file_error(format!(
            "{} nodes, more than {MAX_NODES}",
            graph.node.len()
        )));
    }
    let mut importer = Importer::new(graph, files)?;
    importer.allow_unknown = options.allow_unknown;
    importer.shapes_only = options.shapes_only;
    for (position, node) in graph.node.iter().enumerate() {
        importer.position = position;
        importer.node(node)?;
    }
    importer.finish(graph)
}

fn file_error(detail: String) -> Error {
    Error::Onnx {
        what: "file".into(),
        detail,
    }
}

/// A value of the graph while importing.
#[derive(Debug, Clone)]
pub(crate) enum Value {
    /// Known at import time.
    Const(Const),
    /// The output of huashi-net node `node` (or the network input).
    Act {
        /// The huashi-net node (or input) name.
        node: String,
        /// Its shape (one sample).
        shape: Shape,
    },
    /// Activation `node` of `shape` with a `Pad` `[top, bottom, left,
    /// right]` pending, folded into the `Conv` (any mode, as its
    /// `padding_mode`) or `AveragePool` (zero padding) reading it.
    Padded {
        /// The huashi-net node (or input) name.
        node: String,
        /// Its shape before padding.
        shape: Shape,
        /// The pending padding.
        pads: [usize; 4],
        /// Zeros (`constant` 0), `Reflect` (`reflect`) or `Replicate` (`edge`).
        mode: huashi_conv::PaddingMode,
    },
    /// Map `node` of `shape` viewed as `(N, groups, C/groups, H, W)` by a
    /// `Reshape` (the first step of a channel shuffle), its two group axes
    /// swapped when `transposed` (by `Transpose` with perm `[0, 2, 1, 3, 4]`).
    Grouped {
        /// The huashi-net node (or input) name.
        node: String,
        /// Its shape as a map.
        shape: Shape,
        /// The number of groups.
        groups: usize,
        /// Whether the group axes are swapped.
        transposed: bool,
    },
}

/// The importer's state: values by ONNX name, nodes and weights so far.
pub(crate) struct Importer {
    values: HashMap<String, Value>,
    nodes: Vec<Node>,
    params: ParamSet,
    used: HashSet<String>,
    input: String,
    input_shape: [usize; 3],
    position: usize,
    allow_unknown: bool,
    shapes: HashMap<String, Vec<i64>>,
    files: DataFiles,
    shapes_only: bool,
    /// How many nodes (and graph outputs) read each ONNX value.
    readers: HashMap<String, usize>,
    /// The ONNX value each huashi-net node was pushed for.
    produced: HashMap<String, String>,
}

impl Importer {
    /// Reads the initializers and the one activation input.
    fn new(graph: &GraphProto, files: DataFiles) -> Result<Self> {
        let mut values = HashMap::new();
        for t in &graph.initializer {
            let what = format!("initializer \"{}\"", t.name);
            values.insert(t.name.clone(), Value::Const(tensor::decode(&what, t)?));
        }
        let inputs: Vec<_> = graph
            .input
            .iter()
            .filter(|i| !values.contains_key(&i.name))
            .collect();
        let [input] = inputs[..] else {
            return Err(file_error(format!(
                "the graph has {} inputs that are not initializers; one (N, C, H, W) input is supported",
                inputs.len()
            )));
        };
        let input_shape = input_shape(input)?;
        let name = input.name.clone();
        let [c, h, w] = input_shape;
        values.insert(
            name.clone(),
            Value::Act {
                node: name.clone(),
                shape: Shape::map(c, h, w),
            },
        );
        Ok(Importer {
            values,
            nodes: Vec::new(),
            params: ParamSet::new(),
            used: HashSet::from([name.clone()]),
            input: name,
            input_shape,
            position: 0,
            allow_unknown: false,
            shapes: graph
                .value_info
                .iter()
                .chain(&graph.output)
                .filter_map(|v| Some((v.name.clone(), declared_dims(v)?)))
                .collect(),
            files,
            shapes_only: false,
            readers: readers(graph),
            produced: HashMap::new(),
        })
    }

    /// The description and weights, checked against each other.
    fn finish(self, graph: &GraphProto) -> Result<OnnxModel> {
        if self.nodes.is_empty() {
            return Err(file_error("the graph has no layer on its input".into()));
        }
        let network = Network {
            name: (!graph.name.is_empty()).then(|| graph.name.clone()),
            input: self.input,
            input_shape: Some(self.input_shape),
            nodes: self.nodes,
        };
        check_fields(&network)?;
        if self.shapes_only {
            network.analyse(self.input_shape)?;
        } else {
            check_weights(&network, self.input_shape, &self.params)?;
        }
        Ok(OnnxModel {
            network,
            params: self.params,
        })
    }

    /// An error about the current node.
    pub(crate) fn error(&self, n: &NodeProto, detail: impl Into<String>) -> Error {
        Error::Onnx {
            what: format!("node #{} \"{}\" ({})", self.position, n.name, n.op_type),
            detail: detail.into(),
        }
    }

    /// The current node's op is not mapped (`detail` says why, if anything).
    pub(crate) fn unsupported(&self, n: &NodeProto, detail: &str) -> Error {
        let op = if n.domain.is_empty() || n.domain == "ai.onnx" {
            n.op_type.clone()
        } else {
            format!("{}::{}", n.domain, n.op_type)
        };
        Error::UnsupportedOp {
            op,
            node: n.name.clone(),
            position: self.position,
            detail: if detail.is_empty() {
                String::new()
            } else {
                format!(" ({detail})")
            },
        }
    }

    /// Input `i` of `n`: `None` when absent or empty (optional inputs).
    pub(crate) fn input(&self, n: &NodeProto, i: usize) -> Result<Option<&Value>> {
        match n.input.get(i).filter(|s| !s.is_empty()) {
            None => Ok(None),
            Some(name) => self.values.get(name).map(Some).ok_or_else(|| {
                self.error(
                    n,
                    format!("input \"{name}\" is not produced by an earlier node (a missing input or a cycle)"),
                )
            }),
        }
    }

    /// Binds output `i` of `n` to `value`.
    pub(crate) fn set(&mut self, n: &NodeProto, i: usize, value: Value) -> Result<()> {
        let name = n
            .output
            .get(i)
            .ok_or_else(|| self.error(n, format!("output {i} is missing")))?;
        self.values.insert(name.clone(), value);
        Ok(())
    }
}

/// How many nodes (and graph outputs) read each value of `graph`.
fn readers(graph: &GraphProto) -> HashMap<String, usize> {
    let mut count = HashMap::new();
    let names = graph.node.iter().flat_map(|n| &n.input);
    for name in names.chain(graph.output.iter().map(|o| &o.name)) {
        *count.entry(name.clone()).or_insert(0) += 1;
    }
    count
}
