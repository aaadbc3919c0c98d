//! Network descriptions: `huashi summary`, `huashi rf` and `huashi erf`, and
//! what they share: loading a network (a zoo name or a description file),
//! choosing its input size, and finding a node by name.

pub mod erf;
pub mod rf;
pub mod summary;

/// The network a command reads and its input size.
#[derive(Debug, Args)]
pub struct ModelArgs {
    /// A zoo model (vgg16, mobilenet_v1, resnet50, xception, maml_omniglot,
    /// …; a wrong name lists them all), the path of a TOML/JSON
    /// description file, or an ONNX model `FILE.onnx` (its graph and
    /// weights are imported; `erf` then runs those weights).
    #[arg(long, value_name = "NAME|FILE")]
    pub model: String,
    /// Input height and width `H,W` (or `C,H,W`) [default: the model's
    /// native input size; TensorFlow 'SAME' padding depends on it, and a
    /// smaller input makes `erf` faster].
    #[arg(long, value_name = "H,W", value_parser = parse_input)]
    pub input: Option<InputSize>,
    /// For an ONNX `--model`: keep ops huashi does not map as opaque layers
    /// (shape from the file's value_info, cost unknown, receptive field
    /// undefined downstream, `erf` refuses them) instead of failing.
    #[arg(long)]
    pub allow_unknown: bool,
}

use anyhow::{bail, Context};
use clap::Args;
use huashi_net::{zoo, Analysis, Field, Network, NodeReport, ParamSet};

/// The dimensions given to `--input`: `H, W` or `C, H, W`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputSize(pub Vec<usize>);

/// Parses `H,W` (or `C,H,W`) for `--input`.
pub fn parse_input(text: &str) -> Result<InputSize, String> {
    let dims: Vec<usize> = text
        .split(',')
        .map(|d| d.trim().parse::<usize>())
        .collect::<Result<_, _>>()
        .map_err(|e| format!("`{text}`: {e}; expected H,W (or C,H,W), e.g. 224,224"))?;
    match dims.len() {
        2 | 3 if dims.iter().all(|&d| d > 0) => Ok(InputSize(dims)),
        2 | 3 => Err(format!("`{text}`: every dimension must be at least 1")),
        n => Err(format!(
            "`{text}`: expected 2 numbers H,W (or 3, C,H,W), got {n}"
        )),
    }
}

/// The input shape `(C, H, W)`: the description's own, with `H, W` (or
/// `C, H, W`) replaced by `input` when given.
pub fn input_shape(net: &Network, input: Option<&[usize]>) -> anyhow::Result<[usize; 3]> {
    match (input, net.input_shape) {
        (None, Some(shape)) => Ok(shape),
        (Some(&[c, h, w]), _) => Ok([c, h, w]),
        (Some(&[h, w]), Some([c, _, _])) => Ok([c, h, w]),
        (Some(_), None) => {
            bail!("the description gives no input_shape, so the channels are unknown; pass --input C,H,W")
        }
        (None, None) => {
            bail!("the description gives no input_shape; pass --input C,H,W")
        }
        (Some(other), _) => bail!("--input takes 2 or 3 numbers, got {other:?}"),
    }
}

/// Loads and analyses `spec` for `input` (see [`input_shape`]); the
/// commands call [`analyse_model`].
#[cfg(test)]
pub fn analyse(
    spec: &str,
    input: Option<&InputSize>,
) -> anyhow::Result<(Network, [usize; 3], Analysis)> {
    let options = huashi_net::onnx::ImportOptions::default();
    let (net, shape, analysis, _) = analyse_weighted(spec, input, &options)?;
    Ok((net, shape, analysis))
}

/// Loads `--model` (honouring `--allow-unknown`) and analyses it at `--input`
/// (see [`input_shape`]); an ONNX model's weights are not read (only the
/// graph and the tensors' shapes: external data files need not be there).
pub fn analyse_model(args: &ModelArgs) -> anyhow::Result<(Network, [usize; 3], Analysis)> {
    let options = args.import_options(false);
    let (net, shape, analysis, _) = analyse_weighted(&args.model, args.input.as_ref(), &options)?;
    Ok((net, shape, analysis))
}

impl ModelArgs {
    /// How an ONNX `--model` is imported: `--allow-unknown`, and its
    /// weights read only when `weights`.
    pub fn import_options(&self, weights: bool) -> huashi_net::onnx::ImportOptions {
        huashi_net::onnx::ImportOptions {
            allow_unknown: self.allow_unknown,
            shapes_only: !weights,
        }
    }
}

/// Loads `spec` (an ONNX model with `options`) and analyses it for `input`
/// (see [`input_shape`]), with the weights an ONNX model carries.
pub fn analyse_weighted(
    spec: &str,
    input: Option<&InputSize>,
    options: &huashi_net::onnx::ImportOptions,
) -> anyhow::Result<(Network, [usize; 3], Analysis, Option<ParamSet>)> {
    let (net, weights) = zoo::load_weighted(spec, options)?;
    let shape = input_shape(&net, input.map(|i| i.0.as_slice()))?;
    let analysis = net
        .analyse(shape)
        .with_context(|| format!("analysing {spec} at input {shape:?}"))?;
    Ok((net, shape, analysis, weights))
}

/// "the paths merging at "m" are misaligned along height (detail)", or
/// "undefined (transposed stride 2) at "node"".
pub fn misaligned_message(field: &Field) -> Option<String> {
    match field {
        Field::Misaligned {
            merge,
            axis,
            detail,
        } => Some(format!(
            "undefined: the paths merging at \"{merge}\" are misaligned along the {} axis ({detail})",
            format!("{axis:?}").to_lowercase()
        )),
        Field::Undefined { node, reason } => Some(format!(
            "undefined ({reason}) at \"{node}\": a fractionally-strided layer has no integer receptive field"
        )),
        Field::Defined(_) => None,
    }
}

/// Up to 8 node names close to `wanted` (substring matches first, then by
/// edit distance).
pub fn nearby_names<'a>(wanted: &str, names: impl Iterator<Item = &'a str>) -> Vec<&'a str> {
    let lower = wanted.to_lowercase();
    let mut scored: Vec<(usize, &str)> = names
        .map(|n| {
            let contains = n.to_lowercase().contains(&lower) || lower.contains(&n.to_lowercase());
            let d = edit_distance(&lower, &n.to_lowercase());
            (if contains { d.min(1) } else { d + 1 }, n)
        })
        .collect();
    scored.sort_by_key(|&(d, n)| (d, n.len()));
    scored.into_iter().take(8).map(|(_, n)| n).collect()
}

/// Levenshtein distance over chars.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, &cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = (prev + usize::from(ca != cb)).min(row[j] + 1).min(cur + 1);
            prev = cur;
        }
    }
    row[b.len()]
}

/// The node called `name`, or an error listing nearby names.
pub fn find<'a>(a: &'a Analysis, name: &str, model: &str) -> anyhow::Result<&'a NodeReport> {
    if let Ok(n) = a.node(name) {
        return Ok(n);
    }
    let near = nearby_names(name, a.nodes.iter().map(|n| n.name.as_str()));
    bail!(
        "{model} has no layer \"{name}\"; nearby names: {} ({} nodes in all; `huashi summary --model {model}` lists them)",
        near.join(", "),
        a.nodes.len()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn input_parsing() {
        assert_eq!(parse_input("224,224").unwrap().0, vec![224, 224]);
        assert_eq!(parse_input("3, 32,32").unwrap().0, vec![3, 32, 32]);
        assert!(parse_input("224").is_err());
        assert!(parse_input("0,4").is_err());
        assert!(parse_input("a,b").is_err());
    }

    #[test]
    fn input_shape_keeps_the_channels() {
        let net = zoo::by_name("vgg16").unwrap();
        assert_eq!(input_shape(&net, None).unwrap(), [3, 224, 224]);
        assert_eq!(input_shape(&net, Some(&[64, 48])).unwrap(), [3, 64, 48]);
    }

    #[test]
    fn nearby_names_rank_close_ones_first() {
        let names = ["conv5_3", "conv5_2", "pool5", "fc6", "conv1_1"];
        let near = nearby_names("conv5_4", names.into_iter());
        assert_eq!(&near[..2], &["conv5_3", "conv5_2"]);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
    }

    #[test]
    fn unknown_model_lists_the_zoo() {
        let err = zoo::load("no_such_model").unwrap_err().to_string();
        assert!(
            err.contains("vgg16") && err.contains("no_such_model"),
            "{err}"
        );
    }
}
