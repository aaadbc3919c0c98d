//! The convolution variants that `conv compare`, `tour` and `bench` measure:
//! each is a chain of convolution stages with 'same' padding and no bias.
//!
//! Cost of one stage, per sample (N = 1): `params = C_out·(C_in/g)·kh·kw`,
//! `MACs = C_out·Ho·Wo·(C_in/g)·kh·kw`, `FLOPs = 2·MACs`.

use anyhow::{ensure, Context};
use candle_core::{Tensor, Var};
use huashi_conv::{conv2d, ConvGeometry, Padding};
use serde::Serialize;

/// One convolution of a variant.
#[derive(Debug, Clone, Serialize)]
pub struct Stage {
    /// What this stage is, e.g. "depthwise 3×3".
    pub label: String,
    pub c_in: usize,
    pub c_out: usize,
    pub kernel: [usize; 2],
    pub groups: usize,
    /// `[top, bottom, left, right]`.
    pub padding: [usize; 4],
}

impl Stage {
    /// A stride-1 stage with PyTorch 'same' padding for an `input`-sized map.
    pub fn same(
        label: String,
        channels: [usize; 2],
        kernel: [usize; 2],
        groups: usize,
        input: [usize; 2],
    ) -> anyhow::Result<Self> {
        let padding = Padding::SamePyTorch.resolve(input, kernel, [1, 1], [1, 1])?;
        let [c_in, c_out] = channels;
        let stage = Stage {
            label,
            c_in,
            c_out,
            kernel,
            groups,
            padding,
        };
        stage
            .geometry()
            .check_channels(c_in, c_out)
            .with_context(|| stage.label.clone())?;
        Ok(stage)
    }

    pub fn geometry(&self) -> ConvGeometry {
        ConvGeometry::new()
            .with_padding(self.padding)
            .with_groups(self.groups)
    }

    /// `(C_out, C_in/groups, kh, kw)`.
    pub fn weight_shape(&self) -> [usize; 4] {
        [
            self.c_out,
            self.c_in / self.groups,
            self.kernel[0],
            self.kernel[1],
        ]
    }

    /// `C_out·(C_in/g)·kh·kw`, or an overflow error naming the stage.
    pub fn params(&self) -> anyhow::Result<u64> {
        let dims = self.weight_shape().map(|d| d as u64);
        let what = format!("the weight count of {}", self.label);
        Ok(huashi_io::checked_product(&what, &dims)?)
    }

    pub fn output_hw(&self, input: [usize; 2]) -> anyhow::Result<[usize; 2]> {
        Ok(self.geometry().output_size(input, self.kernel)?)
    }

    /// Multiply-accumulates for one sample producing an `output`-sized map,
    /// or an overflow error naming the stage.
    pub fn macs_per_sample(&self, output: [usize; 2]) -> anyhow::Result<u64> {
        let factors = [self.params()?, output[0] as u64, output[1] as u64];
        let what = format!("the MAC count of {}", self.label);
        Ok(huashi_io::checked_product(&what, &factors)?)
    }
}

/// A named chain of stages.
#[derive(Debug, Clone, Serialize)]
pub struct Variant {
    pub name: String,
    pub detail: String,
    pub stages: Vec<Stage>,
}

/// Parameters and cost of a variant, per sample (N = 1).
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Cost {
    pub params: u64,
    pub macs_per_sample: u64,
    /// `2 · macs_per_sample`.
    pub flops_per_sample: u64,
    /// `[C, H, W]` of one sample's output.
    pub output_chw: [usize; 3],
}

impl Variant {
    pub fn cost(&self, input: [usize; 2]) -> anyhow::Result<Cost> {
        let (mut hw, mut params, mut macs) = (input, 0u64, 0u64);
        let overflow = |what: &str| anyhow::anyhow!("{what} of {} overflow 64 bits", self.name);
        for stage in &self.stages {
            hw = stage.output_hw(hw)?;
            params = params
                .checked_add(stage.params()?)
                .ok_or_else(|| overflow("the parameters"))?;
            macs = macs
                .checked_add(stage.macs_per_sample(hw)?)
                .ok_or_else(|| overflow("the MACs"))?;
        }
        let channels = self.stages.last().map_or(0, |s| s.c_out);
        Ok(Cost {
            params,
            macs_per_sample: macs,
            flops_per_sample: macs.checked_mul(2).ok_or_else(|| overflow("the FLOPs"))?,
            output_chw: [channels, hw[0], hw[1]],
        })
    }
}

/// What to compare: channels, kernel, input size and the knobs of the variants.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct VariantSpec {
    pub c_in: usize,
    pub c_out: usize,
    pub kernel: usize,
    pub size: usize,
    /// Groups of the grouped variant.
    pub groups: usize,
    /// Depth multiplier of the depthwise-separable variant.
    pub multiplier: usize,
    /// Channels between the k×1 and the 1×k stage of the spatially separable variant.
    pub mid: usize,
}

/// A variant from its name, description and stages.
fn variant(name: &str, detail: String, stages: Vec<Stage>) -> Variant {
    Variant {
        name: name.into(),
        detail,
        stages,
    }
}

fn check_spec(spec: &VariantSpec) -> anyhow::Result<()> {
    let s = spec;
    let positive = [
        s.c_in,
        s.c_out,
        s.kernel,
        s.size,
        s.groups,
        s.multiplier,
        s.mid,
    ];
    ensure!(
        positive.iter().all(|&v| v > 0),
        "channels, kernel, size, groups, multiplier and mid must all be ≥ 1"
    );
    Ok(())
}

/// Standard, grouped, depthwise-separable, spatially separable and 1×1.
pub fn variants(spec: &VariantSpec) -> anyhow::Result<Vec<Variant>> {
    check_spec(spec)?;
    let (c_in, c_out, k, m, mid) = (
        spec.c_in,
        spec.c_out,
        spec.kernel,
        spec.multiplier,
        spec.mid,
    );
    let (g, hw, kk) = (spec.groups, [spec.size; 2], format!("{k}×{k}"));
    let cm = c_in
        .checked_mul(m)
        .with_context(|| format!("the depthwise output channels {c_in}·{m} overflow 64 bits"))?;
    let same =
        |label: String, channels, kernel, groups| Stage::same(label, channels, kernel, groups, hw);
    let standard = same(format!("{kk} conv"), [c_in, c_out], [k, k], 1)?;
    let grouped = same(format!("{kk} conv, {g} groups"), [c_in, c_out], [k, k], g)?;
    let depthwise = same(format!("depthwise {kk}, ×{m}"), [c_in, cm], [k, k], c_in)?;
    let pointwise = same("pointwise 1×1".into(), [cm, c_out], [1, 1], 1)?;
    let column = same(format!("{k}×1 conv"), [c_in, mid], [k, 1], 1)?;
    let row = same(format!("1×{k} conv"), [mid, c_out], [1, k], 1)?;
    let one = same("1×1 conv".into(), [c_in, c_out], [1, 1], 1)?;
    let separable = format!("depthwise {kk} {c_in}→{cm} (multiplier {m}) then 1×1 →{c_out}");
    Ok(vec![
        variant("standard", format!("{kk}, {c_in}→{c_out}"), vec![standard]),
        variant(
            "grouped",
            format!("{kk}, {c_in}→{c_out}, groups={g}"),
            vec![grouped],
        ),
        variant("depthwise-separable", separable, vec![depthwise, pointwise]),
        variant(
            "spatially separable",
            format!("{k}×1 {c_in}→{mid} then 1×{k} {mid}→{c_out}"),
            vec![column, row],
        ),
        variant(
            "1×1 (pointwise)",
            format!("1×1, {c_in}→{c_out} (no spatial context)"),
            vec![one],
        ),
    ])
}

/// Runs a variant's stages on `x` with one weight per stage.
pub fn forward(stages: &[Stage], x: &Tensor, weights: &[Tensor]) -> anyhow::Result<Tensor> {
    let mut y = x.clone();
    for (stage, w) in stages.iter().zip(weights) {
        y = conv2d(&y, w, &stage.geometry())?;
    }
    Ok(y)
}

/// Seeded weights for every stage of a variant.
pub fn weights(stages: &[Stage], seed: u64) -> anyhow::Result<Vec<Tensor>> {
    let mut out = Vec::with_capacity(stages.len());
    for (i, stage) in stages.iter().enumerate() {
        out.push(crate::rng::conv_weight(
            stage.weight_shape(),
            seed + i as u64,
        )?);
    }
    Ok(out)
}

/// Forward, then backward of `Σ y` to the input and every weight.
pub fn forward_backward(stages: &[Stage], x: &Var, weights: &[Var]) -> anyhow::Result<()> {
    let ws: Vec<Tensor> = weights.iter().map(|w| w.as_tensor().clone()).collect();
    let y = forward(stages, x.as_tensor(), &ws)?;
    let grads = y.sum_all()?.backward()?;
    ensure!(
        grads.get(x.as_tensor()).is_some(),
        "backward produced no input gradient"
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec() -> VariantSpec {
        VariantSpec {
            c_in: 64,
            c_out: 128,
            kernel: 3,
            size: 56,
            groups: 4,
            multiplier: 1,
            mid: 64,
        }
    }

    #[test]
    fn textbook_costs_for_64_to_128_3x3_56() {
        let v = variants(&spec()).unwrap();
        let costs: Vec<Cost> = v.iter().map(|v| v.cost([56, 56]).unwrap()).collect();
        let params: Vec<u64> = costs.iter().map(|c| c.params).collect();
        // 128·64·9; /4; 64·9 + 64·128; 64·64·3 + 128·64·3; 64·128.
        assert_eq!(params, vec![73_728, 18_432, 8_768, 36_864, 8_192]);
        assert_eq!(costs[0].macs_per_sample, 73_728 * 56 * 56);
        assert_eq!(costs[2].macs_per_sample, 8_768 * 56 * 56);
        assert!(costs.iter().all(|c| c.output_chw == [128, 56, 56]));
        assert!(costs
            .iter()
            .all(|c| c.flops_per_sample == 2 * c.macs_per_sample));
    }

    #[test]
    fn even_kernel_gets_extra_pixel_bottom_right() {
        let s = Stage::same("t".into(), [2, 2], [4, 4], 1, [8, 8]).unwrap();
        assert_eq!(s.padding, [1, 2, 1, 2]);
        assert_eq!(s.output_hw([8, 8]).unwrap(), [8, 8]);
    }

    #[test]
    fn indivisible_groups_is_an_error() {
        let err = variants(&VariantSpec {
            groups: 3,
            ..spec()
        })
        .unwrap_err();
        assert!(format!("{err:#}").contains("divisible"), "{err:#}");
    }
}
