//! Folding rows to a name depth, like torchinfo's `depth`: a node named
//! `features.3.conv.0` at depth 2 belongs to the row `features.3`; every
//! node whose first `depth` dot-separated components agree shares one row,
//! placed where its first node is. A folded row sums parameters, MACs and
//! other FLOPs; its inputs are the shapes it reads from outside the row,
//! its output, activation size and field are its last node's; kernel and
//! geometry are shown only for a row of one node. Nodes imported from a
//! PyTorch ONNX export carry torch's scope names
//! (`/layer1/layer1.0/conv1/Conv`); they fold by their module path
//! (`layer1.0.conv1`), so `--depth 2` gives torchinfo's depth-2 rows.

use super::{overflow, NodeFacts, SummaryOptions, SummaryRow, SummaryTotals};
use crate::analysis::Analysis;
use crate::error::Result;
use crate::shape::Shape;
use std::borrow::Cow;
use std::collections::HashMap;

/// The first `depth` dot-separated components of `name` (all of them when
/// there are fewer, or when `depth` is `None`). A PyTorch ONNX scope name
/// (`/layer1/layer1.0/conv1/Conv`, see [`module_path`]) is first read as
/// its module path (`layer1.0.conv1`), so it folds as torchinfo folds that
/// module.
pub(crate) fn prefix(name: &str, depth: Option<usize>) -> Cow<'_, str> {
    let Some(depth) = depth else {
        return Cow::Borrowed(name);
    };
    let first = |path: &str| -> usize {
        match path.match_indices('.').nth(depth.saturating_sub(1)) {
            Some((end, _)) => end,
            None => path.len(),
        }
    };
    match module_path(name) {
        Some(path) => {
            let end = first(&path);
            Cow::Owned(path[..end].to_string())
        }
        None => Cow::Borrowed(&name[..first(name)]),
    }
}

/// The module path of a torch ONNX scope name: the segments between the
/// slashes, the last one (the op) dropped, each segment that extends the one
/// before it (`layer1` then `layer1.0`) replacing it, others appended with a
/// dot: `/layer1/layer1.0/downsample/downsample.0/Conv` →
/// `layer1.0.downsample.0`. `None` for a name without a leading `/` or
/// without a module (`/Flatten`).
pub(crate) fn module_path(name: &str) -> Option<String> {
    let mut segments: Vec<&str> = name.strip_prefix('/')?.split('/').collect();
    segments.pop();
    let mut path = String::new();
    let mut last = "";
    for s in segments.into_iter().filter(|s| !s.is_empty()) {
        let extends =
            s.len() > last.len() + 1 && s.starts_with(last) && s.as_bytes()[last.len()] == b'.';
        if !last.is_empty() && extends {
            path.truncate(path.len() - last.len());
        } else if !path.is_empty() {
            path.push('.');
        }
        path.push_str(s);
        last = s;
    }
    (!path.is_empty()).then_some(path)
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
    let mut order: Vec<Cow<str>> = Vec::new();
    let mut groups: HashMap<Cow<str>, Vec<&NodeFacts>> = HashMap::new();
    for (i, f) in facts.iter().enumerate() {
        // The input is always a row of its own.
        let key = if i == 0 {
            Cow::Borrowed(f.name)
        } else {
            prefix(f.name, options.depth)
        };
        let group = groups.entry(key.clone()).or_default();
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
    use super::{module_path, prefix};

    #[test]
    fn prefixes_keep_the_first_components() {
        assert_eq!(prefix("features.3.conv.0", Some(2)), "features.3");
        assert_eq!(prefix("features.3.conv.0", Some(1)), "features");
        assert_eq!(prefix("features.3.conv.0", Some(9)), "features.3.conv.0");
        assert_eq!(prefix("fc", Some(1)), "fc");
        assert_eq!(prefix("a.b", None), "a.b");
    }

    #[test]
    fn torch_scope_names_fold_as_their_module_paths() {
        let conv = "/layer1/layer1.0/conv1/Conv";
        assert_eq!(prefix(conv, Some(1)), "layer1");
        assert_eq!(prefix(conv, Some(2)), "layer1.0");
        assert_eq!(prefix(conv, Some(3)), "layer1.0.conv1");
        assert_eq!(prefix(conv, Some(9)), "layer1.0.conv1");
        assert_eq!(prefix(conv, None), conv);
        let ds = "/layer1/layer1.0/downsample/downsample.0/Conv";
        assert_eq!(prefix(ds, Some(4)), "layer1.0.downsample.0");
        assert_eq!(prefix(ds, Some(3)), "layer1.0.downsample");
        // MobileNet's `features.3.block.0.0`: `/features/features.3/block/block.0/block.0.0/Conv`.
        let mb = "/features/features.3/block/block.0/block.0.0/Conv";
        assert_eq!(module_path(mb).as_deref(), Some("features.3.block.0.0"));
        // No module: the name as it is.
        assert_eq!(prefix("/Flatten", Some(1)), "/Flatten");
        assert_eq!(module_path("/Flatten"), None);
        assert_eq!(
            module_path("/layer1x/layer1/Relu").as_deref(),
            Some("layer1x.layer1")
        );
    }
}
