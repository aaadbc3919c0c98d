//! The summary torchinfo and fvcore users expect, from one [`Analysis`]:
//! per row the input and output shapes, kernel / stride / dilation /
//! groups, parameters and MACs with their share of the total, the FLOPs
//! outside the MACs ([`ops`]), the output activation size, and the
//! receptive field; rows folded to a node-name depth like torchinfo's
//! `depth`; totals for a batch size and element type; totals by op type
//! (fvcore's `by_operator`).
//!
//! Memory, with `b` bytes per element and batch `N` (`MB = 10⁶ bytes`, as
//! torchinfo):
//!
//! - params size `= b · params` (batch-norm moving statistics apart, as
//!   torchinfo's "Params size");
//! - input size `= b · N · numel(input)`;
//! - forward activations `= b · N · Σ_nodes numel(output)` (every node's
//!   output held at once, an upper bound for inference);
//! - kept for backward `= b · N · Σ numel(t)` over the distinct tensors the
//!   backward pass keeps ([`ops`]);
//! - training estimate `= 2 · params size + kept for backward` (weights,
//!   their gradients and the saved activations; optimiser state apart);
//! - torchinfo's "Forward/backward pass size" `= 2 · b · N · Σ numel(output)`
//!   over the nodes with parameters, given for comparison.
//!
//! FLOPs `= 2 · MACs`; the other FLOPs are listed by kind, never added in.

mod columns;
mod fold;
pub mod ops;

pub use columns::Column;
pub use ops::{LayerGeometry, OtherFlops};

use crate::analysis::Analysis;
use crate::desc::Network;
use crate::error::{Error, Result};
use crate::field::Field;
use crate::shape::Shape;
use serde::Serialize;
use std::collections::{BTreeMap, HashMap, HashSet};

/// Element type of parameters and activations, for sizes in bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ElementType {
    /// 32-bit float (4 bytes).
    #[default]
    F32,
    /// 16-bit float (2 bytes).
    F16,
    /// bfloat16 (2 bytes).
    Bf16,
}

impl ElementType {
    /// Bytes per element.
    pub fn bytes(self) -> u64 {
        match self {
            ElementType::F32 => 4,
            ElementType::F16 | ElementType::Bf16 => 2,
        }
    }
}

/// Batch size, element type and folding depth of a summary.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct SummaryOptions {
    /// Samples per batch (at least 1); scales activations, MACs stay per sample.
    pub batch: usize,
    /// Element type for sizes in bytes.
    pub dtype: ElementType,
    /// Keep this many dot-separated name components (`None`: every node).
    pub depth: Option<usize>,
}

impl Default for SummaryOptions {
    fn default() -> Self {
        SummaryOptions {
            batch: 1,
            dtype: ElementType::F32,
            depth: None,
        }
    }
}

/// One row: a node, or the nodes sharing a name prefix at the depth.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SummaryRow {
    /// The node's name, or the shared prefix of a folded row.
    pub name: String,
    /// The op, or `"block"` when a folded row mixes ops.
    pub op: String,
    /// How many nodes the row holds.
    pub nodes: usize,
    /// Shapes read from outside the row, one per distinct source.
    pub input_shapes: Vec<Shape>,
    /// Output shape (of the row's last node in evaluation order).
    pub output: Shape,
    /// Kernel, stride, dilation and groups of a single windowed node.
    pub geometry: Option<LayerGeometry>,
    /// Trainable parameters.
    pub params: u64,
    /// Share of all trainable parameters, in percent.
    pub params_percent: f64,
    /// MACs per sample.
    pub macs: u64,
    /// Share of all MACs, in percent.
    pub macs_percent: f64,
    /// FLOPs outside the MACs per sample, by kind.
    pub other_flops: OtherFlops,
    /// Output elements for the whole batch.
    pub activation_elements: u64,
    /// Output bytes for the whole batch.
    pub activation_bytes: u64,
    /// Receptive field of the output.
    pub field: Field,
}

/// Totals of a summary (module docs for the memory formulas).
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize)]
pub struct SummaryTotals {
    /// Trainable parameters.
    pub params: u64,
    /// Batch-norm moving statistics, apart from `params`.
    pub moving_stats: u64,
    /// Bytes of the trainable parameters.
    pub params_bytes: u64,
    /// MACs per sample.
    pub macs: u64,
    /// `2 · macs`.
    pub flops: u64,
    /// FLOPs outside the MACs per sample, by kind.
    pub other_flops: OtherFlops,
    /// Bytes of the input batch.
    pub input_bytes: u64,
    /// Bytes of every node's output for the batch.
    pub forward_activation_bytes: u64,
    /// Bytes of the tensors the backward pass keeps.
    pub backward_kept_bytes: u64,
    /// Training estimate: weights, gradients and kept activations.
    pub training_bytes: u64,
    /// torchinfo's "Forward/backward pass size" convention.
    pub torchinfo_pass_bytes: u64,
}

/// Totals of one op type (fvcore's `by_operator`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct OperatorTotals {
    /// Nodes of this op.
    pub count: u64,
    /// Trainable parameters.
    pub params: u64,
    /// MACs per sample.
    pub macs: u64,
    /// Other FLOPs per sample.
    pub other_flops: u64,
}

/// The whole summary.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Summary {
    /// The options it was made with.
    pub options: SummaryOptions,
    /// The input row, then one row per node or folded prefix.
    pub rows: Vec<SummaryRow>,
    /// Totals.
    pub totals: SummaryTotals,
    /// Totals by op (`conv`, `batch_norm`, …), ordered by name.
    pub by_operator: BTreeMap<String, OperatorTotals>,
}

/// A node's own figures before folding.
pub(crate) struct NodeFacts<'a> {
    pub name: &'a str,
    pub op: &'static str,
    pub sources: Vec<&'a str>,
    pub output: Shape,
    pub geometry: Option<LayerGeometry>,
    pub params: u64,
    pub macs: u64,
    pub other: OtherFlops,
    pub kept: ops::Kept,
    pub field: &'a Field,
}

fn overflow(what: &'static str, node: &str, op: &'static str) -> Error {
    Error::Overflow {
        node: node.to_string(),
        op,
        what,
        detail: "the summary's sizes exceed 64 bits".into(),
    }
}

impl Summary {
    /// The summary of `network` analysed as `analysis` (which must come from
    /// [`Network::analyse`] of the same network).
    ///
    /// # Errors
    /// [`Error::InvalidField`] for a batch of 0, [`Error::UnknownNode`] when
    /// `analysis` is not of `network`, [`Error::Overflow`] naming the node
    /// whose sizes overflow 64 bits.
    pub fn build(network: &Network, analysis: &Analysis, options: SummaryOptions) -> Result<Self> {
        if options.batch == 0 || options.depth == Some(0) {
            return Err(Error::InvalidField {
                node: network.input.clone(),
                field: if options.batch == 0 { "batch" } else { "depth" },
                detail: "must be at least 1".into(),
            });
        }
        let facts = node_facts(network, analysis)?;
        let totals = totals(analysis, &facts, options)?;
        let by_operator = by_operator(&facts)?;
        let rows = fold::rows(&facts, analysis, &totals, options)?;
        Ok(Summary {
            options,
            rows,
            totals,
            by_operator,
        })
    }
}

/// The per-node figures, in the analysis' order (the input first).
fn node_facts<'a>(network: &'a Network, analysis: &'a Analysis) -> Result<Vec<NodeFacts<'a>>> {
    let layers: HashMap<&str, &crate::desc::Layer> = network
        .nodes
        .iter()
        .map(|n| (n.name.as_str(), &n.layer))
        .collect();
    let shapes: HashMap<&str, Shape> = analysis
        .nodes
        .iter()
        .map(|n| (n.name.as_str(), n.output))
        .collect();
    let mut out = Vec::with_capacity(analysis.nodes.len());
    for n in &analysis.nodes {
        let sources: Vec<&str> = n.inputs.iter().map(String::as_str).collect();
        let inputs: Vec<Shape> = sources
            .iter()
            .filter_map(|s| shapes.get(s).copied())
            .collect();
        let (geometry, other, kept) = match layers.get(n.name.as_str()) {
            Some(layer) => {
                let c = inputs.first().map_or(0, Shape::channels);
                let other = ops::other_flops(layer, &inputs, n.output)
                    .ok_or_else(|| overflow("the other FLOPs", &n.name, n.op))?;
                (ops::geometry(layer, c), other, ops::kept(layer))
            }
            None if n.op == "input" => (None, OtherFlops::default(), ops::Kept::Nothing),
            None => {
                return Err(Error::UnknownNode {
                    name: n.name.clone(),
                })
            }
        };
        out.push(NodeFacts {
            name: &n.name,
            op: n.op,
            sources,
            output: n.output,
            geometry,
            params: n.params,
            macs: n.macs,
            other,
            kept,
            field: &n.field,
        });
    }
    Ok(out)
}

/// `b · N · numel(shape)`, naming the node on overflow.
fn bytes_of(shape: Shape, options: SummaryOptions, node: &str, op: &'static str) -> Result<u64> {
    let numel = shape.numel().map(|n| n as u64);
    numel
        .and_then(|n| n.checked_mul(options.batch as u64))
        .and_then(|n| n.checked_mul(options.dtype.bytes()))
        .ok_or_else(|| overflow("the activation bytes", node, op))
}

fn totals(
    analysis: &Analysis,
    facts: &[NodeFacts],
    options: SummaryOptions,
) -> Result<SummaryTotals> {
    let t = &analysis.totals;
    let total = |what| move || overflow(what, "(totals)", "total");
    let params_bytes = t.params.checked_mul(options.dtype.bytes());
    let params_bytes = params_bytes.ok_or_else(total("the parameter bytes"))?;
    let mut s = SummaryTotals {
        params: t.params,
        moving_stats: t.moving_stats,
        params_bytes,
        macs: t.macs,
        flops: t.macs.checked_mul(2).ok_or_else(total("the FLOPs"))?,
        ..SummaryTotals::default()
    };
    for f in facts {
        s.other_flops = s
            .other_flops
            .checked_add(&f.other)
            .ok_or_else(|| overflow("the other FLOPs", f.name, f.op))?;
    }
    memory(facts, options, &mut s)?;
    s.training_bytes = params_bytes
        .checked_mul(2)
        .and_then(|p| p.checked_add(s.backward_kept_bytes))
        .ok_or_else(total("the training estimate"))?;
    Ok(s)
}

/// Input, forward, kept-for-backward and torchinfo bytes (module docs).
fn memory(facts: &[NodeFacts], options: SummaryOptions, s: &mut SummaryTotals) -> Result<()> {
    let shapes: HashMap<&str, Shape> = facts.iter().map(|f| (f.name, f.output)).collect();
    let mut kept: HashSet<&str> = HashSet::new();
    let add = |acc: &mut u64, v: u64, f: &NodeFacts| -> Result<()> {
        *acc = acc
            .checked_add(v)
            .ok_or_else(|| overflow("the summary totals", f.name, f.op))?;
        Ok(())
    };
    for (i, f) in facts.iter().enumerate() {
        let out = bytes_of(f.output, options, f.name, f.op)?;
        if i == 0 {
            s.input_bytes = out;
            continue;
        }
        add(&mut s.forward_activation_bytes, out, f)?;
        if f.params > 0 {
            add(&mut s.torchinfo_pass_bytes, out, f)?;
            add(&mut s.torchinfo_pass_bytes, out, f)?;
        }
        let tensor = match f.kept {
            ops::Kept::Nothing => None,
            ops::Kept::Input => f.sources.first().copied(),
            ops::Kept::Output => Some(f.name),
        };
        if let Some(name) = tensor.filter(|n| kept.insert(n)) {
            let shape = shapes.get(name).copied().unwrap_or(f.output);
            let bytes = bytes_of(shape, options, f.name, f.op)?;
            add(&mut s.backward_kept_bytes, bytes, f)?;
        }
    }
    Ok(())
}

fn by_operator(facts: &[NodeFacts]) -> Result<BTreeMap<String, OperatorTotals>> {
    let mut map: BTreeMap<String, OperatorTotals> = BTreeMap::new();
    for f in facts.iter().filter(|f| f.op != "input") {
        let e = map.entry(f.op.to_string()).or_default();
        let other = f.other.total();
        let sum = || -> Option<OperatorTotals> {
            Some(OperatorTotals {
                count: e.count + 1,
                params: e.params.checked_add(f.params)?,
                macs: e.macs.checked_add(f.macs)?,
                other_flops: e.other_flops.checked_add(other?)?,
            })
        };
        *e = sum().ok_or_else(|| overflow("the totals by operator", f.name, f.op))?;
    }
    Ok(map)
}
