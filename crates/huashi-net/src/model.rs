//! A runnable functional model of a [`Network`]: `forward(&ParamSet, &Tensor)`
//! with the parameters passed explicitly (any weights: initialised, loaded or adapted).
//!
//! The model is built for one input shape `(C, H, W)`: padding rules such as
//! TensorFlow 'SAME' are resolved for it, exactly as the analysis resolves
//! them, and [`Model::forward`] checks that the input is `(N, C, H, W)`.
//!
//! Semantics at inference:
//! - convolutions run through `huashi_conv::conv2d`; `separable` is the
//!   depthwise stage (no bias) then the pointwise stage;
//!   `spatially_separable` the `[kh, 1]` stage (no bias) then the `[1, kw]`
//!   stage; `conv_transpose` runs through `huashi_conv::conv_transpose2d`;
//! - batch norm uses the running statistics: `y = γ·(x − μ)/√(σ² + ε) + β`,
//!   `ε = 1e-5` (PyTorch's default);
//! - average pooling with TensorFlow 'SAME' padding divides by the number of
//!   real pixels (TensorFlow), with any other padding by the window size
//!   (PyTorch's `count_include_pad=True`);
//! - dropout is the identity; softmax runs over channels / features.
//!
//! Initialisation (PyTorch's defaults): conv and linear weights and biases
//! uniform in `±1/√fan_in` with `fan_in = (C_in/groups)·kh·kw` (features for
//! linear, `(C_out/groups)·kh·kw` for transposed convolutions, as PyTorch);
//! batch norm `γ = 1`, `β = 0`, running mean 0 and variance 1. One
//! seed; every tensor draws from its own stream.

use crate::analysis::Analysis;
use crate::desc::{Layer, Network};
use crate::error::{Error, Result};
use crate::graph::Graph;
use crate::params::ParamSet;
use crate::run::{Norm, Op, TaskRun, Value};
use crate::shape::Shape;
use crate::spec::Activation;
use candle_core::{Device, Tensor};
use std::path::Path;

mod init;
use init::Init;
pub use init::InitScheme;

/// One parameter tensor the model needs.
#[derive(Debug, Clone)]
struct ParamSpec {
    name: String,
    /// The node it belongs to.
    node: String,
    shape: Vec<usize>,
    init: Init,
}

/// A compiled node: its name, input slots and op.
#[derive(Debug, Clone)]
pub(crate) struct Compiled {
    pub(crate) name: String,
    pub(crate) inputs: Vec<usize>,
    pub(crate) op: Op,
}

/// A network compiled for one input shape.
#[derive(Debug, Clone)]
pub struct Model {
    input: [usize; 3],
    nodes: Vec<Compiled>,
    order: Vec<usize>,
    specs: Vec<ParamSpec>,
    analysis: Analysis,
    /// Per slot: a batch norm or linear layer whose only reader is a ReLU
    /// (the task-batched pass applies the ReLU in the same op).
    relu_fused: Vec<bool>,
}

impl Model {
    /// Compiles `network` for inputs `[C, H, W]` and initialises its
    /// parameters from `seed` (f32, CPU).
    ///
    /// # Errors
    /// As [`Model::compile`] and [`Model::init`].
    pub fn new(network: &Network, input: [usize; 3], seed: u64) -> Result<(Model, ParamSet)> {
        let model = Self::compile(network, input)?;
        let params = model.init(seed, &Device::Cpu)?;
        Ok((model, params))
    }

    /// Compiles `network` for inputs `[C, H, W]` without parameters.
    ///
    /// # Errors
    /// The errors of [`Network::analyse`] and [`Graph::build`] (an invalid graph,
    /// shapes that do not fit `input`).
    pub fn compile(network: &Network, input: [usize; 3]) -> Result<Model> {
        let analysis = network.analyse(input)?;
        let graph = Graph::build(network)?;
        let shape_of =
            |slot: usize| -> Result<Shape> { Ok(analysis.node(&graph.names[slot])?.output) };
        let mut nodes = vec![Compiled {
            name: network.input.clone(),
            inputs: Vec::new(),
            op: Op::Identity,
        }];
        let mut specs = Vec::new();
        for (i, node) in network.nodes.iter().enumerate() {
            let inputs = graph.inputs[i + 1].clone();
            let shape = shape_of(inputs[0])?;
            let (op, mut node_specs) = compile_layer(&node.name, &node.layer, shape)?;
            specs.append(&mut node_specs);
            nodes.push(Compiled {
                name: node.name.clone(),
                inputs,
                op,
            });
        }
        let relu_fused = relu_fusable(&nodes);
        Ok(Model {
            input,
            nodes,
            order: graph.order,
            specs,
            analysis,
            relu_fused,
        })
    }

    /// The input shape `[C, H, W]` the model was built for.
    pub fn input_shape(&self) -> [usize; 3] {
        self.input
    }

    /// The analysis of the network at the model's input shape.
    pub fn analysis(&self) -> &Analysis {
        &self.analysis
    }

    /// Names and shapes of the parameters, in order.
    pub fn param_shapes(&self) -> impl Iterator<Item = (&str, &[usize])> {
        self.specs
            .iter()
            .map(|s| (s.name.as_str(), s.shape.as_slice()))
    }

    /// The names of node `node`'s parameters (statistics included).
    ///
    /// # Errors
    /// [`Error::UnknownNode`] when no node is called `node`.
    pub fn node_params(&self, node: &str) -> Result<Vec<&str>> {
        self.slot(node)?;
        let own = self.specs.iter().filter(|s| s.node == node);
        Ok(own.map(|s| s.name.as_str()).collect())
    }

    /// The last node (in description order) that has parameters.
    pub fn last_node_with_params(&self) -> Option<&str> {
        self.specs.last().map(|s| s.node.as_str())
    }

    /// Checks that `params` holds exactly the model's tensors with the right
    /// shapes; the error names the first offending tensor.
    ///
    /// # Errors
    /// [`Error::MissingParam`], [`Error::ParamShape`] or [`Error::UnexpectedParam`].
    pub fn check(&self, params: &ParamSet) -> Result<()> {
        for spec in &self.specs {
            let t = params.get(&spec.name).ok_or_else(|| Error::MissingParam {
                name: spec.name.clone(),
                expected: spec.shape.clone(),
            })?;
            if t.dims() != spec.shape.as_slice() {
                return Err(Error::ParamShape {
                    name: spec.name.clone(),
                    expected: spec.shape.clone(),
                    got: t.dims().to_vec(),
                });
            }
        }
        match params
            .names()
            .find(|n| !self.specs.iter().any(|s| s.name == *n))
        {
            Some(name) => Err(Error::UnexpectedParam {
                name: name.to_string(),
            }),
            None => Ok(()),
        }
    }

    /// Reads parameters from a safetensors file and [checks](Self::check) them.
    ///
    /// # Errors
    /// The errors of [`ParamSet::load`] and [`Model::check`].
    pub fn load(&self, path: impl AsRef<Path>, device: &Device) -> Result<ParamSet> {
        let names: Vec<&str> = self.specs.iter().map(|s| s.name.as_str()).collect();
        let params = ParamSet::load(path, &names, device)?;
        self.check(&params)?;
        Ok(params)
    }

    /// The output of the network (its last node in evaluation order) for a
    /// batch `x` of shape `(N, C, H, W)`.
    ///
    /// # Shapes
    /// `x (N, C, H, W)` with `[C, H, W]` = [`Self::input_shape`] → the last node's
    /// output: `(N, C', H', W')` for a map, `(N, F)` for a vector.
    ///
    /// # Errors
    /// [`Error::InputShape`] for another input shape, [`Error::MissingParam`] when
    /// `params` lacks a tensor, and the ops' errors ([`Error::Op`], [`Error::Tensor`]).
    pub fn forward(&self, params: &ParamSet, x: &Tensor) -> Result<Tensor> {
        let last = *self.order.last().ok_or(Error::Empty)?;
        self.run(params, x, last)
    }

    /// The output of node `end_point`, computing only the nodes it depends on.
    ///
    /// # Shapes
    /// `x (N, C, H, W)` with `[C, H, W]` = [`Self::input_shape`] → `end_point`'s
    /// output: `(N, C', H', W')` for a map, `(N, F)` for a vector.
    ///
    /// # Errors
    /// [`Error::UnknownNode`] when no node is called `end_point`; otherwise as
    /// [`Self::forward`].
    pub fn forward_to(&self, params: &ParamSet, x: &Tensor, end_point: &str) -> Result<Tensor> {
        self.run(params, x, self.slot(end_point)?)
    }

    /// The network's output for `T` tasks at once, each with its own
    /// parameters (a meta-batch; see the task-batched layouts in
    /// `run/tasks.rs`): every tensor of `params` carries a leading task
    /// dimension `T` (`params.map(|_, t| t.unsqueeze(0)…)` or adapted
    /// copies). Batch norm uses `norm`.
    ///
    /// # Shapes
    /// `x (T, B, C, H, W)` with `[C, H, W]` = [`Self::input_shape`] → the last
    /// node's output per task: `(T, B, C', H', W')` for a map, `(T, B, F)`
    /// for a vector.
    ///
    /// # Errors
    /// As [`Self::forward`]; [`Error::ParamShape`] when a parameter's leading
    /// dimension is not `T`.
    pub fn forward_tasks(&self, params: &ParamSet, x: &Tensor, norm: Norm) -> Result<Tensor> {
        let last = *self.order.last().ok_or(Error::Empty)?;
        self.run_tasks(params, x, last, norm)
    }

    /// As [`Self::forward_tasks`], the output of node `end_point`.
    ///
    /// # Shapes
    /// `x (T, B, C, H, W)` → `end_point`'s output per task.
    ///
    /// # Errors
    /// [`Error::UnknownNode`]; otherwise as [`Self::forward_tasks`].
    pub fn forward_tasks_to(
        &self,
        params: &ParamSet,
        x: &Tensor,
        end_point: &str,
        norm: Norm,
    ) -> Result<Tensor> {
        self.run_tasks(params, x, self.slot(end_point)?, norm)
    }

    fn run_tasks(
        &self,
        params: &ParamSet,
        x: &Tensor,
        target: usize,
        norm: Norm,
    ) -> Result<Tensor> {
        self.check_input(x.dims(), 2)?;
        let tasks = x.dim(0)?;
        let fused = |slot: usize| self.relu_fused[slot] && slot != target;
        let value = self.evaluate(Value::from_tasks(x)?, target, |slot, node, inputs| {
            if node.inputs.first().is_some_and(|&i| fused(i)) {
                return Ok(inputs[0].clone()); // the ReLU ran with its input
            }
            let run = TaskRun {
                tasks,
                norm,
                relu: fused(slot),
            };
            node.op.apply_tasks(&node.name, params, inputs, run)
        })?;
        value.into_tasks(tasks)
    }

    /// The slot of node `name`.
    fn slot(&self, name: &str) -> Result<usize> {
        self.nodes
            .iter()
            .position(|n| n.name == name)
            .ok_or_else(|| Error::UnknownNode {
                name: name.to_string(),
            })
    }

    fn run(&self, params: &ParamSet, x: &Tensor, target: usize) -> Result<Tensor> {
        self.check_input(x.dims(), 1)?;
        self.evaluate(x.clone(), target, |_, node, inputs| {
            node.op.apply(&node.name, params, inputs)
        })
    }

    /// Checks that `dims` ends with the model's `[C, H, W]` after `lead` dims.
    fn check_input(&self, dims: &[usize], lead: usize) -> Result<()> {
        match dims.split_at(dims.len().saturating_sub(3)) {
            (head, chw) if head.len() == lead && chw == self.input => Ok(()),
            _ => Err(Error::InputShape {
                expected: self.input,
                got: dims.to_vec(),
            }),
        }
    }

    /// Evaluates the nodes `target` depends on, in order, with `apply`
    /// (slot, node, its inputs' values), starting from the input value `x`.
    fn evaluate<V: Clone>(
        &self,
        x: V,
        target: usize,
        apply: impl Fn(usize, &Compiled, &[&V]) -> Result<V>,
    ) -> Result<V> {
        let needed = self.ancestors(target);
        let mut values: Vec<Option<V>> = vec![None; self.nodes.len()];
        values[0] = Some(x);
        for &slot in self.order.iter().filter(|&&s| needed[s] && s != 0) {
            let node = &self.nodes[slot];
            let inputs = node
                .inputs
                .iter()
                .map(|&s| values[s].as_ref().ok_or(Error::Empty))
                .collect::<Result<Vec<&V>>>()?;
            values[slot] = Some(apply(slot, node, &inputs)?);
        }
        values[target].take().ok_or(Error::Empty)
    }

    /// Which slots `target` depends on (itself included).
    fn ancestors(&self, target: usize) -> Vec<bool> {
        let mut needed = vec![false; self.nodes.len()];
        let mut stack = vec![target];
        while let Some(s) = stack.pop() {
            if !std::mem::replace(&mut needed[s], true) {
                stack.extend(&self.nodes[s].inputs);
            }
        }
        needed
    }
}

/// The op and parameter specs of one node reading `shape`.
fn compile_layer(name: &str, layer: &Layer, shape: Shape) -> Result<(Op, Vec<ParamSpec>)> {
    let op = Op::compile(name, layer, shape)?;
    let specs = op
        .param_shapes()
        .into_iter()
        .map(|(suffix, shape, init)| ParamSpec {
            name: format!("{name}.{suffix}"),
            node: name.to_string(),
            init: match init {
                Some(bound) => Init::Uniform(bound),
                None if suffix.ends_with("running_var") || suffix == "weight" => {
                    Init::Constant(1.0)
                }
                None => Init::Constant(0.0),
            },
            shape,
        })
        .collect();
    Ok((op, specs))
}

/// Per slot, whether it is a batch norm or linear layer read only by one
/// ReLU node.
fn relu_fusable(nodes: &[Compiled]) -> Vec<bool> {
    let mut readers = vec![Vec::new(); nodes.len()];
    for (slot, node) in nodes.iter().enumerate() {
        for &i in &node.inputs {
            readers[i].push(slot);
        }
    }
    let relu = |slot: usize| matches!(nodes[slot].op, Op::Activation(Activation::Relu, _));
    nodes
        .iter()
        .zip(&readers)
        .map(|(node, r)| {
            matches!(node.op, Op::BatchNorm { .. } | Op::Linear { .. })
                && matches!(r.as_slice(), [only] if relu(*only) && nodes[*only].inputs.len() == 1)
        })
        .collect()
}
