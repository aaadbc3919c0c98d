//! The model of a run: the papers' network, or any network description
//! (`RunOptions::model`: a zoo name or a TOML/JSON file), with the options
//! that say how it is used — Prototypical Networks' embedding end point,
//! ANIL's adapted nodes, and a linear head added to fit the ways.
//!
//! Checked before anything trains: the model's output (or the embedding) is
//! a feature vector of the right width (the ways for classification, 1 for
//! sinusoids; any width for an embedding), and each option belongs to the
//! algorithm it is given with.

use super::RunOptions;
use crate::algorithm::{Algorithm, LossKind};
use crate::error::{Error, Result};
use crate::model::ModelSpec;
use crate::tasks::TaskSpec;
use huashi_net::{Layer, Network, Node, Shape};

/// The name of the head [`RunOptions::head`] adds.
pub const ADDED_HEAD: &str = "head";

impl RunOptions {
    /// The run's model for `task`.
    pub(super) fn model_spec(&self, task: &TaskSpec) -> Result<ModelSpec> {
        self.check_model_options()?;
        let protonet = self.algorithm == Algorithm::Protonet;
        let mut spec = match &self.model {
            None => task.model(self.hidden.unwrap_or(64), protonet),
            Some(source) => {
                let mut network = huashi_net::zoo::load(source)?;
                let input = task.input_shape();
                if self.head {
                    add_head(&mut network, input, output_width(task))?;
                }
                ModelSpec::description(source, network, input)
            }
        };
        spec.init = self.init.unwrap_or(spec.init);
        spec.output = self.embedding.clone();
        spec.adapt_only = self.adapt_only.clone();
        spec.check()?;
        check_output(&spec, task, protonet)?;
        Ok(spec)
    }

    /// Each model option with the algorithm and model it applies to.
    fn check_model_options(&self) -> Result<()> {
        let wrong = [
            (
                self.hidden.is_some() && self.model.is_some(),
                "option combination (--hidden sets the papers' CNN's filters, not a --model's)",
            ),
            (
                self.embedding.is_some() && self.algorithm != Algorithm::Protonet,
                "option combination (--embedding is for Prototypical Networks only)",
            ),
            (
                !self.adapt_only.is_empty() && self.algorithm != Algorithm::Anil,
                "option combination (--adapt-only is for ANIL only)",
            ),
            (
                self.head && self.algorithm == Algorithm::Protonet,
                "option combination (--head: Prototypical Networks classify by distances to prototypes)",
            ),
            (
                self.head && self.model.is_none(),
                "option combination (--head needs a --model; the papers' networks have their head)",
            ),
        ];
        match wrong.iter().find(|(given, _)| *given) {
            Some((_, what)) => Err(Error::InvalidConfig {
                what,
                value: format!("--algo {}", self.algorithm.name()),
            }),
            None => Ok(()),
        }
    }
}

/// The output width the tasks need: the ways, or 1 for regression.
fn output_width(task: &TaskSpec) -> usize {
    match task.loss() {
        LossKind::CrossEntropy { ways } => ways,
        LossKind::Mse => 1,
    }
}

/// Appends a linear layer `head` of `width` outputs to the network's last
/// node (after a `head.flatten` when that node gives a feature map).
fn add_head(network: &mut Network, input: [usize; 3], width: usize) -> Result<()> {
    if network.nodes.iter().any(|n| n.name == ADDED_HEAD) {
        return Err(Error::InvalidConfig {
            what: "--head (the network already has a node named `head`)",
            value: ADDED_HEAD.into(),
        });
    }
    let analysis = network.analyse(input)?;
    let last = analysis.output().name.clone();
    let mut from = last.clone();
    if matches!(analysis.output().output, Shape::Map { .. }) {
        from = format!("{ADDED_HEAD}.flatten");
        network.nodes.push(node(&from, &last, Layer::Flatten));
    }
    let linear = Layer::Linear {
        out_features: width,
        bias: true,
    };
    network.nodes.push(node(ADDED_HEAD, &from, linear));
    Ok(())
}

fn node(name: &str, input: &str, layer: Layer) -> Node {
    Node {
        name: name.to_string(),
        inputs: Some(vec![input.to_string()]),
        layer,
    }
}

/// Checks the output node (or the embedding) against what the tasks need.
fn check_output(spec: &ModelSpec, task: &TaskSpec, protonet: bool) -> Result<()> {
    let analysis = spec.network().analyse(spec.input)?;
    let report = match &spec.output {
        Some(node) => analysis.node(node)?,
        None => analysis.output(),
    };
    let width = output_width(task);
    let (needed, hint) = match (protonet, task.loss()) {
        (true, _) => (
            "an embedding must be a feature vector".to_string(),
            "choose an end point after a flatten or global pool with --embedding",
        ),
        (false, LossKind::CrossEntropy { .. }) => (
            format!("the tasks are {width}-way (a vector of {width} logits)"),
            "describe a head of that width, or pass --head to add one",
        ),
        (false, LossKind::Mse) => (
            "sinusoid regression needs a vector of 1".to_string(),
            "describe a 1-output head, or pass --head to add one",
        ),
    };
    match report.output {
        Shape::Vector { .. } if protonet => Ok(()),
        Shape::Vector { features } if features == width => Ok(()),
        found => Err(Error::OutputShape {
            node: report.name.clone(),
            found: found.to_string(),
            needed,
            hint,
        }),
    }
}
