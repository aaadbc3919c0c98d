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
use crate::run::Op;
use crate::shape::Shape;
use candle_core::{Device, Tensor};
use huashi_rng::Rng;
use std::path::Path;

/// How one parameter tensor is initialised.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Init {
    /// Uniform in `±bound`.
    Uniform(f32),
    /// All `value`.
    Constant(f32),
}

/// One parameter tensor the model needs.
#[derive(Debug, Clone)]
struct ParamSpec {
    name: String,
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
        Ok(Model {
            input,
            nodes,
            order: graph.order,
            specs,
            analysis,
        })
    }

    /// Fresh parameters from `seed` on `device`.
    ///
    /// # Errors
    /// [`Error::File`] with [`huashi_io::Error::TooMuchMemory`] when the
    /// f32 parameters (and their moving statistics) would need more than
    /// the memory limit ([`huashi_io::check_memory`]), checked before any
    /// is allocated; tensor errors.
    pub fn init(&self, seed: u64, device: &Device) -> Result<ParamSet> {
        let t = &self.analysis.totals;
        let values = t.params.saturating_add(t.moving_stats);
        huashi_io::check_memory("the model's parameters", values.saturating_mul(4))?;
        let mut params = ParamSet::new();
        for (i, spec) in self.specs.iter().enumerate() {
            let n: usize = spec.shape.iter().product();
            let values = match spec.init {
                Init::Uniform(b) => uniform_f32(Rng::indexed(seed, "init", i as u64), n, b),
                Init::Constant(v) => vec![v; n],
            };
            params.insert(
                &spec.name,
                Tensor::from_vec(values, spec.shape.as_slice(), device)?,
            );
        }
        Ok(params)
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
        let target = self
            .nodes
            .iter()
            .position(|n| n.name == end_point)
            .ok_or_else(|| Error::UnknownNode {
                name: end_point.to_string(),
            })?;
        self.run(params, x, target)
    }

    fn run(&self, params: &ParamSet, x: &Tensor, target: usize) -> Result<Tensor> {
        match *x.dims() {
            [_, c, h, w] if [c, h, w] == self.input => {}
            _ => {
                return Err(Error::InputShape {
                    expected: self.input,
                    got: x.dims().to_vec(),
                })
            }
        }
        let needed = self.ancestors(target);
        let mut values: Vec<Option<Tensor>> = vec![None; self.nodes.len()];
        values[0] = Some(x.clone());
        for &slot in self.order.iter().filter(|&&s| needed[s]) {
            let node = &self.nodes[slot];
            let inputs: Vec<&Tensor> = node
                .inputs
                .iter()
                .map(|&s| values[s].as_ref().expect("inputs come first"))
                .collect();
            values[slot] = Some(node.op.apply(&node.name, params, &inputs)?);
            if slot == target {
                break;
            }
        }
        Ok(values[target].take().expect("the target is computed"))
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
/// `n` values uniform in `[−bound, bound)` as f32.
fn uniform_f32(mut rng: Rng, n: usize, bound: f32) -> Vec<f32> {
    let bound = f64::from(bound);
    (0..n)
        .map(|_| rng.uniform_in(-bound, bound) as f32)
        .collect()
}
