//! The analysis of a description for one input shape: per node the output
//! shape, trainable parameters, batch-norm moving statistics, MACs and
//! receptive field (see [`crate::shape`] and [`crate::field`] for the
//! formulas). Only shapes and integers are computed; no tensor is allocated.

use crate::desc::{Layer, Network};
use crate::error::{Error, Result};
use crate::field::{AxisField, Field};
use crate::graph::Graph;
use crate::shape::{Shape, Step};
use crate::steps::{opaque_field_issue, step, transposed_field_issue, At};
use serde::Serialize;

/// What the analysis found for one node.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NodeReport {
    /// The node's name (the input's for the first report).
    pub name: String,
    /// Its op (`"input"` for the network input).
    pub op: &'static str,
    /// The names of the nodes it reads.
    pub inputs: Vec<String>,
    /// Output shape of one sample.
    pub output: Shape,
    /// Trainable parameters.
    pub params: u64,
    /// Non-trainable batch-norm moving statistics (mean and variance).
    pub moving_stats: u64,
    /// Multiply-accumulates for one sample.
    pub macs: u64,
    /// Receptive field of one output unit in the network input.
    pub field: Field,
}

/// Sums over all nodes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct Totals {
    /// Trainable parameters.
    pub params: u64,
    /// Batch-norm moving statistics, stated separately from `params`.
    pub moving_stats: u64,
    /// Multiply-accumulates for one sample.
    pub macs: u64,
}

/// Shapes, costs and receptive fields of every node for one input shape.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Analysis {
    /// The input, then every node in an evaluation (topological) order.
    pub nodes: Vec<NodeReport>,
    /// Totals over all nodes.
    pub totals: Totals,
}

impl Network {
    /// Analyses the network for an input of shape `(C, H, W)`.
    ///
    /// ```
    /// use huashi_net::Network;
    /// let net = Network::from_toml(r#"
    ///     [[nodes]]
    ///     name = "conv"
    ///     op = "conv"
    ///     out_channels = 8
    ///     kernel = 3
    /// "#).unwrap();
    /// let a = net.analyse([3, 32, 32]).unwrap();
    /// assert_eq!(a.totals.params, 8 * 3 * 9 + 8);
    /// assert_eq!(a.receptive_field("conv").unwrap()[0].size, 3);
    /// ```
    ///
    /// # Errors
    /// The errors of [`Graph::build`]; [`Error::InvalidField`] for a zero in
    /// `input`; the per-node shape and cost errors (e.g. [`Error::MergeShapeMismatch`],
    /// [`Error::WrongInputKind`], [`Error::Layer`], [`Error::Overflow`]) naming the node.
    pub fn analyse(&self, input: [usize; 3]) -> Result<Analysis> {
        let graph = Graph::build(self)?;
        if input.contains(&0) {
            return Err(Error::InvalidField {
                node: self.input.clone(),
                field: "input_shape",
                detail: format!("every dimension must be at least 1, got {input:?}"),
            });
        }
        let mut reports: Vec<Option<NodeReport>> = vec![None; graph.names.len()];
        reports[0] = Some(input_report(&self.input, input));
        for &slot in &graph.order {
            let node = &self.nodes[slot - 1];
            let sources: Vec<&NodeReport> = graph.inputs[slot]
                .iter()
                .map(|&s| reports[s].as_ref().expect("inputs come first in the order"))
                .collect();
            reports[slot] = Some(node_report(&node.name, &node.layer, &sources)?);
        }
        let order = std::iter::once(0).chain(graph.order.iter().copied());
        let nodes: Vec<NodeReport> = order.filter_map(|s| reports[s].take()).collect();
        let totals = totals(&nodes)?;
        Ok(Analysis { nodes, totals })
    }

    /// Analyses the network for its `input_shape`.
    ///
    /// # Errors
    /// [`Error::InvalidField`] when the description has no `input_shape`; otherwise
    /// as [`Network::analyse`].
    pub fn analyse_default(&self) -> Result<Analysis> {
        let shape = self.input_shape.ok_or_else(|| Error::InvalidField {
            node: self.input.clone(),
            field: "input_shape",
            detail: "the description gives no input shape; pass one".into(),
        })?;
        self.analyse(shape)
    }
}

impl Analysis {
    /// The report of the node (or input) called `name`.
    ///
    /// # Errors
    /// [`Error::UnknownNode`] when no node or input is called `name`.
    pub fn node(&self, name: &str) -> Result<&NodeReport> {
        self.nodes
            .iter()
            .find(|n| n.name == name)
            .ok_or_else(|| Error::UnknownNode {
                name: name.to_string(),
            })
    }

    /// The receptive field `[height, width]` of node `name`, or
    /// [`Error::Misaligned`] when a merge on its paths is misaligned, or
    /// [`Error::UndefinedField`] when a layer on them has no field.
    ///
    /// # Errors
    /// [`Error::UnknownNode`], [`Error::Misaligned`] or [`Error::UndefinedField`].
    pub fn receptive_field(&self, name: &str) -> Result<[AxisField; 2]> {
        match &self.node(name)?.field {
            Field::Defined(f) => Ok(*f),
            Field::Misaligned {
                merge,
                axis,
                detail,
            } => Err(Error::Misaligned {
                node: name.to_string(),
                merge: merge.clone(),
                axis: (*axis).into(),
                detail: detail.clone(),
            }),
            Field::Undefined { node, reason } => Err(Error::UndefinedField {
                node: name.to_string(),
                at: node.clone(),
                reason: reason.clone(),
            }),
        }
    }

    /// The last node in evaluation order (the network output when there is one).
    pub fn output(&self) -> &NodeReport {
        self.nodes
            .last()
            .expect("an analysis has the input at least")
    }
}

/// Sums over all nodes; an overflowing sum names the node that made it overflow.
fn totals(nodes: &[NodeReport]) -> Result<Totals> {
    let mut t = Totals::default();
    for n in nodes {
        let at = At {
            node: &n.name,
            op: n.op,
        };
        t = Totals {
            params: at.sum("the total parameter count", &[t.params, n.params])?,
            moving_stats: at.sum(
                "the total moving-statistic count",
                &[t.moving_stats, n.moving_stats],
            )?,
            macs: at.sum("the total MAC count", &[t.macs, n.macs])?,
        };
    }
    Ok(t)
}

fn input_report(name: &str, [c, h, w]: [usize; 3]) -> NodeReport {
    NodeReport {
        name: name.to_string(),
        op: "input",
        inputs: Vec::new(),
        output: Shape::map(c, h, w),
        params: 0,
        moving_stats: 0,
        macs: 0,
        field: Field::INPUT,
    }
}

fn node_report(name: &str, layer: &Layer, sources: &[&NodeReport]) -> Result<NodeReport> {
    let at = At {
        node: name,
        op: layer.op(),
    };
    let inputs = sources.iter().map(|s| s.name.clone()).collect();
    let (step, field) = if layer.is_merge() {
        let output = merge_shape(&at, layer, sources)?;
        let fields: Vec<(&str, &Field)> = sources
            .iter()
            .filter(|s| {
                !matches!(layer, Layer::Mul | Layer::Sub | Layer::Div) || s.output == output
            })
            .map(|s| (s.name.as_str(), &s.field))
            .collect();
        (Step::free(output), Field::merge(name, &fields))
    } else {
        let step = step(&at, layer, sources[0].output)?;
        let issue = transposed_field_issue(layer).or_else(|| opaque_field_issue(layer));
        let field = match (&sources[0].field, issue) {
            (Field::Defined(_), Some(reason)) => Field::Undefined {
                node: name.to_string(),
                reason,
            },
            (field, _) => field.then(&step.window).ok_or_else(|| {
                at.overflow("the receptive field", field_overflow(field, &step.window))
            })?,
        };
        (step, field)
    };
    Ok(NodeReport {
        name: name.to_string(),
        op: layer.op(),
        inputs,
        output: step.output,
        params: step.params,
        moving_stats: step.moving_stats,
        macs: step.macs,
        field,
    })
}

/// `add`: all shapes equal. `concat`: maps of equal `H × W` (channels add
/// up) or vectors (features add up).
fn merge_shape(at: &At, layer: &Layer, sources: &[&NodeReport]) -> Result<Shape> {
    let first = sources[0];
    let mismatch = |other: &NodeReport| Error::MergeShapeMismatch {
        node: at.node.to_string(),
        op: at.op,
        first: first.name.clone(),
        first_shape: Box::new(first.output),
        other: other.name.clone(),
        other_shape: Box::new(other.output),
    };
    let mut out = first.output;
    for other in &sources[1..] {
        out = match (layer, out, other.output) {
            (Layer::Add | Layer::Mul | Layer::Sub | Layer::Div, a, b) if a == b => a,
            (Layer::Mul | Layer::Sub | Layer::Div, a, b) if is_gate(b, a) => a,
            (Layer::Mul, a, b) if is_gate(a, b) => b,
            (
                Layer::Concat,
                Shape::Map {
                    channels,
                    height,
                    width,
                },
                Shape::Map {
                    channels: c,
                    height: h,
                    width: w,
                },
            ) if (height, width) == (h, w) => {
                Shape::map(at.dim_sum("the channel count", &[channels, c])?, h, w)
            }
            (Layer::Concat, Shape::Vector { features }, Shape::Vector { features: f }) => {
                Shape::Vector {
                    features: at.dim_sum("the feature count", &[features, f])?,
                }
            }
            _ => return Err(mismatch(other)),
        };
    }
    Ok(out)
}

/// Whether `gate` is a `(C, 1, 1)` map broadcast over `map` `(C, H, W)`.
fn is_gate(gate: Shape, map: Shape) -> bool {
    matches!(
        (gate, map),
        (Shape::Map { channels: g, height: 1, width: 1 }, Shape::Map { channels: c, .. }) if g == c
    )
}

/// Why `field` followed by `window` overflows, in words (sizes, strides and
/// paddings of a receptive field stop at [`crate::field::AxisField::MAX`]).
fn field_overflow(field: &Field, window: &crate::shape::Window) -> String {
    let input = match field {
        Field::Defined([h, w]) => format!(
            "a field of size {}×{}, effective stride {}×{} and padding {}×{}",
            h.size, w.size, h.stride, w.stride, h.padding, w.padding
        ),
        _ => "an undefined field".to_string(),
    };
    let [k, s, p] = [window.extent, window.stride, window.padding];
    format!(
        "{input}, then a window of {}×{}, stride {}×{}, padding {}×{}, exceeds 2^62",
        k[0], k[1], s[0], s[1], p[0], p[1]
    )
}
