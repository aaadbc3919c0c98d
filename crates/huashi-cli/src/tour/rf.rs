//! The receptive-field section of the tour: the theoretical field of every
//! MobileNet v1 end point, and the growth of the field, layer by layer, in
//! MobileNet v1 and VGG-16 (all derived from the zoo descriptions), and an
//! effective-receptive-field heatmap beside the theoretical field.

use crate::report::fields;
use crate::report::plot::{self, Series};
use crate::report::table;
use huashi_net::{effective_receptive_field, zoo, Analysis, ErfConfig, Field, NodeReport};
use std::path::Path;

/// The chart written by this section.
pub const PLOT: &str = "rf_per_layer";

/// The effective-receptive-field heatmap written by this section.
pub const ERF_PLOT: &str = "erf_mobilenet";

/// Ops that are counted as layers in the chart.
const CONV_OPS: [&str; 6] = [
    "conv",
    "depthwise",
    "separable",
    "spatially_separable",
    "conv_transpose",
    "pointwise",
];

fn analysis(name: &str) -> anyhow::Result<Analysis> {
    Ok(zoo::by_name(name)?.analyse_default()?)
}

/// MobileNet v1's end points: `Conv2d_0` … `Conv2d_13_pointwise`.
fn is_mobilenet_end_point(n: &NodeReport) -> bool {
    n.name == "Conv2d_0" || n.name.ends_with("_depthwise") || n.name.ends_with("_pointwise")
}

/// `(layer index, receptive field height)` of every convolution on feature
/// maps (before the first global pooling or flatten: the classifier's fields
/// are the whole pooled map).
fn growth(a: &Analysis) -> Vec<(f64, f64)> {
    a.nodes
        .iter()
        .take_while(|n| !["global_avg_pool", "flatten"].contains(&n.op))
        .filter(|n| CONV_OPS.contains(&n.op))
        .filter_map(|n| match &n.field {
            Field::Defined(f) => Some(f[0].size as f64),
            Field::Misaligned { .. } | Field::Undefined { .. } => None,
        })
        .enumerate()
        .map(|(i, size)| ((i + 1) as f64, size))
        .collect()
}

fn chart(dir: &Path, mobilenet: &Analysis, vgg: &Analysis) -> anyhow::Result<()> {
    let series = [
        Series {
            name: "MobileNet v1 (224, 'SAME')".into(),
            points: growth(mobilenet),
        },
        Series {
            name: "VGG-16 (224, pad 1)".into(),
            points: growth(vgg),
        },
    ];
    plot::line_chart(
        &dir.join(format!("{PLOT}.png")),
        "Receptive field size per convolution layer (224×224 input)",
        (
            "convolution layer (in order)",
            "receptive field (input pixels)",
        ),
        &series,
    )
}

pub fn rf_section(dir: &Path) -> anyhow::Result<String> {
    let mobilenet = analysis("mobilenet_v1")?;
    let vgg = analysis("vgg16")?;
    chart(dir, &mobilenet, &vgg)?;
    let end_points = mobilenet.nodes.iter().filter(|n| is_mobilenet_end_point(n));
    let mut md = String::from("## Receptive fields of real networks\n\n");
    md += "The receptive field of a unit, measured in the input (Araujo, Norris & Sim, ";
    md += "Distill 2019): its size r, the effective stride S between neighbouring units and ";
    md +=
        "the effective padding P, so that unit j sees input positions [j·S − P, j·S − P + r − 1]. ";
    md +=
        "They are derived from the network descriptions of the zoo, never typed in. MobileNet v1 ";
    md += "(TF-slim, 224×224, TensorFlow 'SAME' padding resolved for this size), end points:\n\n";
    md += &table::markdown(&fields::HEADERS, &fields::rows(end_points));
    let c5 = vgg.receptive_field("conv5_3")?[0];
    md += &format!(
        "\nVGG-16's `conv5_3` sees {0}×{0} pixels with stride {1} and padding {2}: ",
        c5.size, c5.stride, c5.padding
    );
    md += "more than the 224×224 image, so its outer units look partly at padding. Depthwise ";
    md += "layers grow the field like any 3×3 convolution; the 1×1 pointwise layers leave it ";
    md += "unchanged, hence the steps in MobileNet's curve.\n\n";
    md += &format!("![receptive field per layer]({PLOT}.png)\n\n");
    md +=
        "Try `huashi summary --model mobilenet_v1` and `huashi rf --model vgg16 --layer conv5_3`; ";
    md += "both also accept a TOML/JSON description file.\n\n";
    md += &erf_part(dir)?;
    Ok(md)
}

/// The effective receptive field (Luo et al. 2016) of MobileNet v1's
/// `Conv2d_5_pointwise` at 96×96, untrained, beside its theoretical field.
fn erf_part(dir: &Path) -> anyhow::Result<String> {
    let (layer, input) = ("Conv2d_5_pointwise", [3, 96, 96]);
    let net = zoo::by_name("mobilenet_v1")?;
    let erf = effective_receptive_field(&net, input, layer, &ErfConfig::default())?;
    let title = format!("ERF of MobileNet v1 / {layer} (mean |∂y/∂x| / peak)");
    let path = dir.join(format!("{ERF_PLOT}.png"));
    plot::heatmap(&path, &title, &plot::relative_to_peak(&erf.map))?;
    let size = erf.theoretical[0].size;
    let mut md = String::from(
        "### Effective receptive field

",
    );
    md += "Not every pixel of the field counts equally (Luo, Li, Urtasun & Zemel, NeurIPS ";
    md += "2016): back-propagating a unit gradient from the centre unit and averaging ";
    md += "|∂y/∂x| over 20 random inputs and initialisations gives a roughly Gaussian ";
    md += &format!(
        "map. For MobileNet v1's `{layer}` (96×96 input, untrained), 95 % of the gradient mass \
         lies within {:.1} px of the centre and a Gaussian fit has σ = {:.1} px, while the \
         theoretical field is {size}×{size} px (half-width {:.1}, half-diagonal {:.1}).\n\n",
        erf.radius95,
        erf.sigma,
        (size as f64 - 1.0) / 2.0,
        (size as f64 - 1.0) / 2.0 * 2f64.sqrt()
    );
    md += &format!("![effective receptive field]({ERF_PLOT}.png)\n\n");
    md += "Try `huashi erf --model vgg16 --layer conv3_3 --input 64,64 --out erf.png`.\n\n";
    Ok(md)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn section_lists_mobilenet_end_points_and_draws_the_chart() {
        plot::register_fonts().unwrap();
        let dir = tempfile::tempdir().unwrap();
        let md = rf_section(dir.path()).unwrap();
        assert!(md.contains("| Conv2d_0 |") && md.contains("| Conv2d_13_pointwise |"));
        assert!(!md.contains("Conv2d_1_depthwise/BatchNorm"));
        assert!(md.contains("sees 196×196 pixels with stride 16 and padding 90"));
        for name in [PLOT, ERF_PLOT] {
            let png = std::fs::read(dir.path().join(format!("{name}.png"))).unwrap();
            assert!(png.starts_with(b"\x89PNG"), "{name}");
        }
        assert!(md.contains("Gaussian fit has σ ="));
    }

    #[test]
    fn growth_counts_convolutions_only() {
        let vgg = analysis("vgg16").unwrap();
        let g = growth(&vgg);
        assert_eq!(g.len(), 13);
        assert_eq!(g[0], (1.0, 3.0));
        assert_eq!(g[12], (13.0, 196.0));
        let mobilenet = growth(&analysis("mobilenet_v1").unwrap());
        assert_eq!(mobilenet.len(), 27);
        assert_eq!(mobilenet[26], (27.0, 315.0));
    }
}
