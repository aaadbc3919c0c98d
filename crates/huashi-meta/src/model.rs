//! [`MetaModel`]: any huashi-net network as a functional model for
//! meta-learning, built from a serialisable [`ModelSpec`] (kept in
//! checkpoints, so a checkpoint rebuilds its own model).
//!
//! The network runs task-batched (huashi-net's `Model::forward_tasks`): every
//! parameter carries the task dimension `T`, convolutions of every kind run
//! as one grouped convolution over tasks, linear layers as batched matmuls,
//! and batch norm normalises with each task's batch statistics (the MAML
//! convention; running statistics are not parameters here).
//!
//! The papers' networks are zoo descriptions: [`NetworkSpec::Mlp`] is
//! `huashi_net::zoo::mlp` (the sinusoid 1-40-40-1 ReLU MLP, PyTorch's
//! initialisation), [`NetworkSpec::ConvNet`] is `zoo::few_shot_cnn_with`
//! (the 4-block Omniglot CNN, Xavier-uniform as learn2learn's `maml_init_`).

use crate::error::{Error, Result};
use crate::functional::Functional;
use candle_core::{DType, Device, Tensor};
use huashi_net::zoo::{self, FewShotVariant};
use huashi_net::{InitScheme, Model, Network, Norm, ParamSet};
use serde::{Deserialize, Serialize};

/// A network for meta-learning.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum NetworkSpec {
    /// The zoo's ReLU MLP with these layer sizes (input first).
    Mlp {
        /// Layer sizes.
        sizes: Vec<usize>,
    },
    /// The zoo's few-shot CNN (3×3 stride-2 blocks, batch norm, ReLU, mean).
    ConvNet {
        /// Input channels.
        in_channels: usize,
        /// Filters per block.
        hidden: usize,
        /// Blocks.
        blocks: usize,
        /// Head outputs (ways); `None` for an embedding.
        outputs: Option<usize>,
    },
    /// Any network description (from a file or the zoo), kept whole.
    Description {
        /// Where it came from (a file or zoo name), for reports.
        source: String,
        /// The description.
        network: Network,
    },
}

/// A model's architecture and how it is used.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(from = "StoredModelSpec")]
pub struct ModelSpec {
    /// The network.
    #[serde(flatten)]
    pub network: NetworkSpec,
    /// The input `[C, H, W]` of one example (`[F, 1, 1]` for vectors).
    pub input: [usize; 3],
    /// Weight initialisation.
    #[serde(default)]
    pub init: InitScheme,
    /// The node whose output is the model's output (Prototypical
    /// Networks' embedding); `None`: the last node.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output: Option<String>,
    /// The nodes ANIL adapts; empty: the last node with parameters.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub adapt_only: Vec<String>,
}

/// [`ModelSpec`] as checkpoints store it: those written before networks
/// of any input (huashi 0.1's `Mlp` and `ConvNet`) have no `input`; theirs
/// was the MLP's width or a 28×28 Omniglot drawing.
#[derive(Deserialize)]
struct StoredModelSpec {
    #[serde(flatten)]
    network: NetworkSpec,
    input: Option<[usize; 3]>,
    #[serde(default)]
    init: InitScheme,
    #[serde(default)]
    output: Option<String>,
    #[serde(default)]
    adapt_only: Vec<String>,
}

impl From<StoredModelSpec> for ModelSpec {
    fn from(s: StoredModelSpec) -> Self {
        let input = s.input.unwrap_or(match &s.network {
            NetworkSpec::Mlp { sizes } => [sizes.first().copied().unwrap_or(0), 1, 1],
            NetworkSpec::ConvNet { in_channels, .. } => [*in_channels, 28, 28],
            NetworkSpec::Description { network, .. } => network.input_shape.unwrap_or([0; 3]),
        });
        ModelSpec {
            network: s.network,
            input,
            init: s.init,
            output: s.output,
            adapt_only: s.adapt_only,
        }
    }
}

impl ModelSpec {
    /// The zoo's MLP with layer sizes `sizes`, PyTorch's initialisation.
    pub fn mlp(sizes: &[usize]) -> Self {
        ModelSpec {
            input: [sizes.first().copied().unwrap_or(0), 1, 1],
            network: NetworkSpec::Mlp {
                sizes: sizes.to_vec(),
            },
            init: InitScheme::PyTorch,
            output: None,
            adapt_only: Vec::new(),
        }
    }

    /// The few-shot CNN on `input` with `hidden` filters and `blocks` blocks,
    /// a head of `outputs` ways (`None`: the embedding), Xavier-uniform.
    pub fn conv_net(
        input: [usize; 3],
        hidden: usize,
        blocks: usize,
        outputs: Option<usize>,
    ) -> Self {
        ModelSpec {
            input,
            network: NetworkSpec::ConvNet {
                in_channels: input[0],
                hidden,
                blocks,
                outputs,
            },
            init: InitScheme::XavierUniform,
            output: None,
            adapt_only: Vec::new(),
        }
    }

    /// `network` (named `source` in reports) on inputs `input`, PyTorch's
    /// initialisation.
    pub fn description(source: &str, network: Network, input: [usize; 3]) -> Self {
        ModelSpec {
            input,
            network: NetworkSpec::Description {
                source: source.to_string(),
                network,
            },
            init: InitScheme::PyTorch,
            output: None,
            adapt_only: Vec::new(),
        }
    }

    /// The network's name for reports: its zoo name or file.
    pub fn name(&self) -> &str {
        match &self.network {
            NetworkSpec::Mlp { .. } => "maml_sinusoid",
            NetworkSpec::ConvNet { .. } => "maml_omniglot",
            NetworkSpec::Description { source, .. } => source,
        }
    }

    /// The network description.
    pub fn network(&self) -> Network {
        match &self.network {
            NetworkSpec::Mlp { sizes } => zoo::mlp(sizes),
            NetworkSpec::ConvNet {
                hidden,
                blocks,
                outputs,
                ..
            } => zoo::few_shot_cnn_with(
                FewShotVariant::StridedConv,
                *hidden,
                *blocks,
                self.input,
                *outputs,
            ),
            NetworkSpec::Description { network, .. } => network.clone(),
        }
    }

    /// The model and its initial f32 parameters from `seed` (without batch
    /// norm's running statistics).
    ///
    /// # Errors
    /// A size out of range ([`ModelSpec::check`]); the network's errors
    /// ([`Error::Net`]: invalid graph, shapes that do not fit `input`, an
    /// unknown output or ANIL node).
    pub fn build(&self, seed: u64) -> Result<(MetaModel, ParamSet)> {
        self.build_with(seed, DType::F32)
    }

    /// As [`ModelSpec::build`] with parameters of `dtype` (f32 or f64; the
    /// values are drawn in f32, as [`ModelSpec::build`]'s).
    ///
    /// # Errors
    /// As [`ModelSpec::build`]; [`Error::InvalidConfig`] for another dtype.
    pub fn build_with(&self, seed: u64, dtype: DType) -> Result<(MetaModel, ParamSet)> {
        if !matches!(dtype, DType::F32 | DType::F64) {
            return Err(Error::InvalidConfig {
                what: "model dtype (f32 or f64)",
                value: format!("{dtype:?}"),
            });
        }
        self.check()?;
        let model = Model::compile(&self.network(), self.input)?;
        let all = model.init_with(seed, &Device::Cpu, self.init)?;
        let mut params = ParamSet::new();
        for (name, t) in all.iter().filter(|(n, _)| !Model::is_statistic(n)) {
            params.insert(name, t.to_dtype(dtype)?);
        }
        let meta = MetaModel::new(model, self)?;
        Ok((meta, params))
    }

    /// Checks that `params` (e.g. from a checkpoint) fit this model: the
    /// same names and shapes as `reference` (its fresh parameters).
    ///
    /// # Errors
    /// [`Error::CheckpointMismatch`] naming the first parameter that is missing,
    /// has another shape, or is not the model's.
    pub fn check_params(reference: &ParamSet, params: &ParamSet) -> Result<()> {
        for (name, t) in reference.iter() {
            let found = params.get(name).ok_or_else(|| Error::CheckpointMismatch {
                name: name.to_string(),
                expected: format!("{:?}", t.dims()),
                found: "missing".into(),
            })?;
            if found.dims() != t.dims() {
                return Err(Error::CheckpointMismatch {
                    name: name.to_string(),
                    expected: format!("{:?}", t.dims()),
                    found: format!("{:?}", found.dims()),
                });
            }
        }
        if let Some((name, t)) = params.iter().find(|(n, _)| reference.get(n).is_none()) {
            return Err(Error::CheckpointMismatch {
                name: name.to_string(),
                expected: "absent".into(),
                found: format!("{:?}", t.dims()),
            });
        }
        Ok(())
    }
}

/// A compiled network as a functional meta-learning model (module docs).
#[derive(Debug, Clone)]
pub struct MetaModel {
    model: Model,
    output: Option<String>,
    head: Vec<String>,
}

impl MetaModel {
    /// `model` with `spec`'s output node and ANIL nodes (checked).
    fn new(model: Model, spec: &ModelSpec) -> Result<Self> {
        if let Some(node) = &spec.output {
            model.node_params(node)?;
        }
        let head = head_params(&model, &spec.adapt_only)?;
        Ok(MetaModel {
            model,
            output: spec.output.clone(),
            head,
        })
    }

    /// The compiled network.
    pub fn model(&self) -> &Model {
        &self.model
    }

    /// The names of the parameters ANIL adapts (the spec's `adapt_only`
    /// nodes, or the last node with parameters).
    pub fn head_names(&self) -> Vec<String> {
        self.head.clone()
    }
}

/// The learned parameters of `nodes` (or of the last node with parameters).
fn head_params(model: &Model, nodes: &[String]) -> Result<Vec<String>> {
    let last = model.last_node_with_params().map(str::to_string);
    let nodes = match nodes {
        [] => last.as_slice(),
        given => given,
    };
    let mut names = Vec::new();
    for node in nodes {
        let own = model.node_params(node)?;
        let learned: Vec<String> = own
            .into_iter()
            .filter(|n| !Model::is_statistic(n))
            .map(str::to_string)
            .collect();
        if learned.is_empty() {
            return Err(Error::InvalidConfig {
                what: "ANIL node (--adapt-only names a node without learned parameters)",
                value: node.clone(),
            });
        }
        names.extend(learned);
    }
    Ok(names)
}

impl Functional for MetaModel {
    /// `x` is `(T, B, C, H, W)`, or `(T, B, F)` for a model of vectors
    /// (`[F, 1, 1]` inputs); the output is `(T, B, …)`.
    fn forward(&self, params: &ParamSet, x: &Tensor) -> Result<Tensor> {
        let x = match *x.dims() {
            [t, b, f] => x.reshape((t, b, f, 1, 1))?,
            _ => x.clone(),
        };
        Ok(match &self.output {
            Some(node) => self.model.forward_tasks_to(params, &x, node, Norm::Batch)?,
            None => self.model.forward_tasks(params, &x, Norm::Batch)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checkpoints_of_the_specialised_models_still_read() {
        let old = r#"{"kind":"conv_net","in_channels":1,"hidden":64,"blocks":4,"outputs":5}"#;
        let spec: ModelSpec = serde_json::from_str(old).unwrap();
        assert_eq!(
            spec,
            ModelSpec {
                init: InitScheme::PyTorch,
                ..ModelSpec::conv_net([1, 28, 28], 64, 4, Some(5))
            }
        );
        let old = r#"{"kind":"mlp","sizes":[1,40,40,1]}"#;
        let spec: ModelSpec = serde_json::from_str(old).unwrap();
        assert_eq!(spec, ModelSpec::mlp(&[1, 40, 40, 1]));
        // And what is written now reads back the same.
        let mut spec = ModelSpec::conv_net([3, 12, 10], 8, 2, None);
        spec.output = Some("flatten".into());
        let text = serde_json::to_string(&spec).unwrap();
        assert_eq!(serde_json::from_str::<ModelSpec>(&text).unwrap(), spec);
    }
}
