//! The variants `huashi conv compare` sets side by side: standard, grouped,
//! depthwise-separable, spatially separable and 1×1 convolutions with the
//! same input and output channels, 'same' padding, stride 1 and no bias.
//!
//! Cost per sample (N = 1) of a stage with kernel `kh × kw` and `g` groups:
//! `params = C_out·(C_in/g)·kh·kw`, `MACs = params·Ho·Wo`, `FLOPs = 2·MACs`;
//! a variant's cost is the sum over its stages.

use super::Conv2dConfig;
use super::{ConvLayer, Stage};
use crate::cost::{Cost, LayerCost};
use crate::error::{Error, Result};
use crate::geometry::Padding;
use serde::Serialize;

/// What to compare: channels, kernel, input size and the knobs of the variants.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct VariantSpec {
    /// Input channels `C_in`.
    pub c_in: usize,
    /// Output channels `C_out`.
    pub c_out: usize,
    /// Kernel size `k` (the standard variant is `k × k`).
    pub kernel: usize,
    /// Height and width of the square input.
    pub size: usize,
    /// Groups of the grouped variant.
    pub groups: usize,
    /// Depth multiplier of the depthwise-separable variant.
    pub multiplier: usize,
    /// Channels between the `k×1` and `1×k` stages of the spatially separable
    /// variant; `None`: [`ConvLayer::default_mid`].
    pub mid: Option<usize>,
}

impl Default for VariantSpec {
    /// A ResNet-like stage: 64 → 128 channels, 3×3, a 56×56 map, 4 groups,
    /// multiplier 1, `mid` = [`ConvLayer::default_mid`].
    fn default() -> Self {
        VariantSpec {
            c_in: 64,
            c_out: 128,
            kernel: 3,
            size: 56,
            groups: 4,
            multiplier: 1,
            mid: None,
        }
    }
}

/// One named variant.
#[derive(Debug, Clone, Serialize)]
pub struct Variant {
    /// Short name, e.g. `depthwise-separable`.
    pub name: String,
    /// Channels and stages in words.
    pub detail: String,
    /// The layer.
    pub layer: ConvLayer,
}

impl Variant {
    /// Input channels.
    pub fn in_channels(&self) -> usize {
        match self.layer.stages().first() {
            Some((_, Stage::Conv(s))) => s.in_channels,
            Some((_, Stage::Transpose(s))) => s.in_channels,
            None => 0,
        }
    }

    /// Output shape, parameters and MACs of one `size × size` sample.
    ///
    /// # Errors
    /// A geometry that does not fit, or counts over 64 bits.
    pub fn cost(&self, size: usize) -> Result<LayerCost> {
        self.layer.cost([1, self.in_channels(), size, size])
    }

    /// Bytes a timed forward+backward run on a batch needs, estimated before
    /// allocating: the f32 input, weights and every stage's output, three
    /// times over (values, gradients, temporaries). Saturating: an estimate
    /// over 64 bits is above any limit.
    ///
    /// # Errors
    /// A geometry that does not fit.
    pub fn memory_estimate(&self, batch: usize, size: usize) -> Result<u64> {
        let map = |shape: [usize; 4]| {
            let [_, c, h, w] = shape;
            [batch, c, h, w]
                .iter()
                .fold(1u64, |n, &d| n.saturating_mul(d as u64))
        };
        let mut shape = [1, self.in_channels(), size, size];
        let mut values = map(shape);
        for (_, stage) in self.layer.stages() {
            let cost = stage.cost(shape)?;
            values = values
                .saturating_add(cost.params)
                .saturating_add(map(cost.output_shape));
            shape = cost.output_shape;
        }
        Ok(values.saturating_mul(3 * 4))
    }
}

/// Standard, grouped, depthwise-separable, spatially separable and 1×1.
///
/// # Errors
/// [`Error::InvalidArgument`] for a zero size; the geometry errors of the
/// layers (e.g. groups that do not divide the channels).
pub fn variants(spec: &VariantSpec) -> Result<Vec<Variant>> {
    let s = *spec;
    let sizes = [s.c_in, s.c_out, s.kernel, s.size, s.groups, s.multiplier];
    if sizes.contains(&0) || s.mid == Some(0) {
        return Err(Error::InvalidArgument {
            what: "variant spec",
            detail: format!(
                "channels, kernel, size, groups, multiplier and mid must all be ≥ 1: {s:?}"
            ),
        });
    }
    let (c_in, c_out, k, m, g) = (s.c_in, s.c_out, s.kernel, s.multiplier, s.groups);
    let mid = s.mid.unwrap_or(ConvLayer::default_mid(c_in, c_out));
    let same = Conv2dConfig {
        padding: Padding::SamePyTorch,
        bias: false,
        ..Conv2dConfig::default()
    };
    let grouped = Conv2dConfig { groups: g, ..same };
    let kk = format!("{k}×{k}");
    let cm = c_in.saturating_mul(m);
    let variant = |name: &str, detail: String, layer: ConvLayer| Variant {
        name: name.into(),
        detail,
        layer,
    };
    Ok(vec![
        variant(
            "standard",
            format!("{kk}, {c_in}→{c_out}"),
            ConvLayer::conv(c_in, c_out, [k, k], same)?,
        ),
        variant(
            "grouped",
            format!("{kk}, {c_in}→{c_out}, groups={g}"),
            ConvLayer::conv(c_in, c_out, [k, k], grouped)?,
        ),
        variant(
            "depthwise-separable",
            format!("depthwise {kk} {c_in}→{cm} (multiplier {m}) then 1×1 →{c_out}"),
            ConvLayer::separable(c_in, c_out, [k, k], m, same)?,
        ),
        variant(
            "spatially separable",
            format!("{k}×1 {c_in}→{mid} then 1×{k} {mid}→{c_out}"),
            ConvLayer::spatially_separable(c_in, Some(mid), c_out, [k, k], same)?,
        ),
        variant(
            "1×1 (pointwise)",
            format!("1×1, {c_in}→{c_out} (no spatial context)"),
            ConvLayer::pointwise(c_in, c_out, false)?,
        ),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec() -> VariantSpec {
        VariantSpec::default()
    }

    #[test]
    fn textbook_costs_for_64_to_128_3x3_56() {
        let costs: Vec<LayerCost> = variants(&spec())
            .unwrap()
            .iter()
            .map(|v| v.cost(56).unwrap())
            .collect();
        let params: Vec<u64> = costs.iter().map(|c| c.params).collect();
        // 128·64·9; /4; 64·9 + 64·128; 64·64·3 + 128·64·3 (mid = C_in); 64·128.
        assert_eq!(params, vec![73_728, 18_432, 8_768, 36_864, 8_192]);
        assert_eq!(costs[0].macs, 73_728 * 56 * 56);
        assert_eq!(costs[2].macs, 8_768 * 56 * 56);
        assert!(costs.iter().all(|c| c.output_shape == [1, 128, 56, 56]));
    }

    #[test]
    fn even_kernel_keeps_the_size() {
        let v = variants(&VariantSpec {
            kernel: 4,
            ..spec()
        })
        .unwrap();
        assert!(v
            .iter()
            .all(|v| v.cost(8).unwrap().output_shape[2..] == [8, 8]));
    }

    #[test]
    fn indivisible_groups_and_zero_sizes_are_errors() {
        let err = variants(&VariantSpec {
            groups: 3,
            ..spec()
        })
        .unwrap_err();
        assert!(err.to_string().contains("divisible"), "{err}");
        let err = variants(&VariantSpec {
            mid: Some(0),
            ..spec()
        })
        .unwrap_err();
        assert!(matches!(err, Error::InvalidArgument { .. }), "{err}");
    }
}
