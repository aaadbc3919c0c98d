//! Folding rows to a name depth, like torchinfo's `depth`: a node named
//! `features.3.conv.0` at depth 2 belongs to the row `features.3`; every
//! node whose first `depth` dot-separated components agree shares one row,
//! placed where its first node is. A folded row sums parameters, MACs and
//! other FLOPs; its inputs are the shapes it reads from outside the row,
//! its output, activation size and field are its last node's; kernel and
//! geometry are shown only for a row of one node.

use super::{overflow, NodeFacts, SummaryOptions, SummaryRow, SummaryTotals};
use crate::analysis::Analysis;
use crate::error::Result;
use crate::shape::Shape;
use std::collections::HashMap;

/// The first `depth` dot-separated components of `name` (all of them when
/// there are fewer, or when `depth` is `None`).
pub(crate) fn prefix(name: &str, depth: Option<usize>) -> &str {
    let Some(depth) = depth else { return name };
    match name.match_indices('.').nth(depth.saturating_sub(1)) {
        Some((end, _)) => &name[..end],
        None => name,
    }
}

fn percent(part: u64, total: u64) -> f64 {
    if total == 0 {
        0.0
    } else {
        100.0 * part as f64 / total as f64
    }
}

/// The rows of the summary: the input alone, then the nodes grouped by
/// [`prefix`] in order of first appearance.
pub(super) fn rows(
    facts: &[NodeFacts],
    analysis: &Analysis,
    totals: &SummaryTotals,
    options: SummaryOptions,
) -> Result<Vec<SummaryRow>> {
    let shapes: HashMap<&str, Shape> = analysis
        .nodes
        .iter()
        .map(|n| (n.name.as_str(), n.output))
        .collect();
    let mut order: Vec<&str> = Vec::new();
    let mut groups: HashMap<&str, Vec<&NodeFacts>> = HashMap::new();
    for (i, f) in facts.iter().enumerate() {
        // The input is always a row of its own.
        let key = if i == 0 {
            f.name
        } else {
            prefix(f.name, options.depth)
        };
        let group = groups.entry(key).or_default();
        if group.is_empty() {
            order.push(key);
        }
        group.push(f);
    }
    order
        .iter()
        .map(|key| row(key, &groups[key], &shapes, totals, options))
        .collect()
}

fn row(
    key: &str,
    members: &[&NodeFacts],
    shapes: &HashMap<&str, Shape>,
    totals: &SummaryTotals,
    options: SummaryOptions,
) -> Result<SummaryRow> {
    let last = members[members.len() - 1];
    let inside = |name: &str| members.iter().any(|m| m.name == name);
    let mut sources: Vec<&str> = Vec::new();
    for s in members.iter().flat_map(|m| m.sources.iter().copied()) {
        if !inside(s) && !sources.contains(&s) {
            sources.push(s);
        }
    }
    let fail = || overflow("the folded row's sums", last.name, last.op);
    let (mut params, mut macs, mut other) = (0u64, 0u64, super::OtherFlops::default());
    for m in members {
        params = params.checked_add(m.params).ok_or_else(fail)?;
        macs = macs.checked_add(m.macs).ok_or_else(fail)?;
        other = other.checked_add(&m.other).ok_or_else(fail)?;
    }
    let op = if members.iter().all(|m| m.op == last.op) {
        last.op
    } else {
        "block"
    };
    let elements = last.output.numel().map(|n| n as u64);
    let elements = elements
        .and_then(|n| n.checked_mul(options.batch as u64))
        .ok_or_else(|| overflow("the activation elements", last.name, last.op))?;
    Ok(SummaryRow {
        name: key.to_string(),
        op: op.to_string(),
        nodes: members.len(),
        input_shapes: sources
            .iter()
            .filter_map(|s| shapes.get(s).copied())
            .collect(),
        output: last.output,
        geometry: if members.len() == 1 {
            last.geometry
        } else {
            None
        },
        params,
        params_percent: percent(params, totals.params),
        macs,
        macs_percent: percent(macs, totals.macs),
        other_flops: other,
        activation_elements: elements,
        activation_bytes: super::bytes_of(last.output, options, last.name, last.op)?,
        field: last.field.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::prefix;

    #[test]
    fn prefixes_keep_the_first_components() {
        assert_eq!(prefix("features.3.conv.0", Some(2)), "features.3");
        assert_eq!(prefix("features.3.conv.0", Some(1)), "features");
        assert_eq!(prefix("features.3.conv.0", Some(9)), "features.3.conv.0");
        assert_eq!(prefix("fc", Some(1)), "fc");
        assert_eq!(prefix("a.b", None), "a.b");
    }
}
