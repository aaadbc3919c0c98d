//! [`MetaModel`]: the models the trainer and the CLI build from a
//! serialisable [`ModelSpec`] (kept in checkpoints, so a checkpoint rebuilds
//! its own model).

use crate::cnn::{ConvNet, ConvNetConfig};
use crate::error::{Error, Result};
use crate::functional::Functional;
use crate::mlp::Mlp;
use candle_core::{DType, Device, Tensor};
use huashi_net::ParamSet;
use serde::{Deserialize, Serialize};

/// A model's architecture.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ModelSpec {
    /// A ReLU MLP with these layer sizes (input first).
    Mlp {
        /// Layer sizes.
        sizes: Vec<usize>,
    },
    /// The few-shot CNN.
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
}

impl ModelSpec {
    /// The model and its initial f32 parameters from `seed`.
    ///
    /// # Errors
    /// A size out of range ([`ModelSpec::check`]), or a failure of candle.
    pub fn build(&self, seed: u64) -> Result<(MetaModel, ParamSet)> {
        self.check()?;
        let device = Device::Cpu;
        match self {
            ModelSpec::Mlp { sizes } => {
                let (mlp, params) = Mlp::new_with(sizes, seed, DType::F32, &device)?;
                Ok((MetaModel::Mlp(mlp), params))
            }
            ModelSpec::ConvNet {
                in_channels,
                hidden,
                blocks,
                outputs,
            } => {
                let config = ConvNetConfig {
                    in_channels: *in_channels,
                    hidden: *hidden,
                    blocks: *blocks,
                    outputs: *outputs,
                };
                let (net, params) = ConvNet::new(config, seed, DType::F32, &device)?;
                Ok((MetaModel::ConvNet(net), params))
            }
        }
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

/// One of the functional models of this crate.
#[derive(Debug, Clone)]
pub enum MetaModel {
    /// An MLP.
    Mlp(Mlp),
    /// The few-shot CNN.
    ConvNet(ConvNet),
}

impl MetaModel {
    /// The names of the head's parameters (what ANIL adapts): the last
    /// layer of an MLP, `head.*` of the CNN.
    pub fn head_names(&self) -> Vec<String> {
        match self {
            MetaModel::Mlp(m) => {
                let last = m.sizes().len() - 2;
                vec![
                    format!("layers.{last}.weight"),
                    format!("layers.{last}.bias"),
                ]
            }
            MetaModel::ConvNet(_) => vec!["head.weight".into(), "head.bias".into()],
        }
    }
}

impl Functional for MetaModel {
    fn forward(&self, params: &ParamSet, x: &Tensor) -> Result<Tensor> {
        match self {
            MetaModel::Mlp(m) => m.forward(params, x),
            MetaModel::ConvNet(m) => m.forward(params, x),
        }
    }
}
