//! The tour's section on separable factorisation: which kernels are
//! separable, and a trained-looking conv rewritten as rank-R banks.

use crate::report::plot::{self, Series};
use crate::report::table::{self, thousands};
use candle_core::{DType, Tensor};
use huashi_conv::factorize::DEFAULT_SEPARABILITY_TOL;
use huashi_conv::factorize::{aggregate_relative_error, factor_conv_weight};
use huashi_conv::{conv2d, ConvGeometry, KernelSvd, SeparableBank};
use std::path::Path;

/// Named example kernels, row-major.
fn kernels() -> Vec<(&'static str, [usize; 2], Vec<f64>)> {
    let gauss = [1.0, 4.0, 6.0, 4.0, 1.0];
    let gaussian: Vec<f64> = gauss
        .iter()
        .flat_map(|a| gauss.map(|b| a * b / 256.0))
        .collect();
    let mut rng = huashi_rng::Rng::new(3);
    let random: Vec<f64> = rng.uniform_vec(25, -1.0, 1.0);
    vec![
        (
            "Sobel x",
            [3, 3],
            vec![1.0, 0.0, -1.0, 2.0, 0.0, -2.0, 1.0, 0.0, -1.0],
        ),
        ("Gaussian 5×5 (binomial)", [5, 5], gaussian),
        (
            "Laplacian",
            [3, 3],
            vec![0.0, 1.0, 0.0, 1.0, -4.0, 1.0, 0.0, 1.0, 0.0],
        ),
        ("uniform random 5×5", [5, 5], random),
    ]
}

fn kernel_rows() -> anyhow::Result<Vec<Vec<String>>> {
    let mut rows = Vec::new();
    for (name, shape, data) in kernels() {
        let svd = KernelSvd::new(&data, shape)?;
        let sigmas: Vec<String> = svd
            .singular_values()
            .iter()
            .map(|s| format!("{s:.3}"))
            .collect();
        let errors: Vec<String> = (1..=3)
            .map(|r| format!("{:.3}", svd.relative_error(r).abs()))
            .collect();
        let separable = svd.is_separable(DEFAULT_SEPARABILITY_TOL);
        rows.push(vec![
            name.to_string(),
            sigmas.join(", "),
            if separable { "yes" } else { "no" }.to_string(),
            errors.join(" / "),
        ]);
    }
    Ok(rows)
}

/// A (16, 8, 5, 5) weight whose kernels are rank one plus 10% noise: the
/// shape trained filters often have.
fn near_separable_weight() -> anyhow::Result<Tensor> {
    let v = crate::rng::uniform(&[16, 8, 5, 1], 1.0, 21, DType::F64)?;
    let h = crate::rng::uniform(&[16, 8, 1, 5], 1.0, 22, DType::F64)?;
    let noise = crate::rng::uniform(&[16, 8, 5, 5], 0.1, 23, DType::F64)?;
    Ok((v.broadcast_mul(&h)? + noise)?.to_dtype(DType::F32)?)
}

fn bank_row(
    weight: &Tensor,
    x: &Tensor,
    g: &ConvGeometry,
    rank: usize,
) -> anyhow::Result<Vec<String>> {
    let bank = SeparableBank::from_conv_weight(weight, None, g, rank)?;
    let y = conv2d(x, weight, g)?;
    let diff = (bank.forward(x)? - &y)?
        .sqr()?
        .sum_all()?
        .to_scalar::<f32>()?;
    let norm = y.sqr()?.sum_all()?.to_scalar::<f32>()?;
    let cost = bank.macs([x.dim(2)?, x.dim(3)?])?;
    Ok(vec![
        rank.to_string(),
        format!("{:.4}", bank.weight_error()),
        format!("{:.4}", (diff / norm).sqrt()),
        format!(
            "{} vs {}",
            thousands(cost.params),
            thousands(cost.original_params)
        ),
        format!(
            "{} vs {}",
            thousands(cost.total_macs()),
            thousands(cost.original_macs)
        ),
    ])
}

fn error_chart(dir: &Path, weight: &Tensor) -> anyhow::Result<()> {
    let random = crate::rng::uniform(&[16, 8, 5, 5], 1.0, 24, DType::F32)?;
    let curve = |name: &str, w: &Tensor| -> anyhow::Result<Series> {
        let kernels = factor_conv_weight(w)?;
        let points = (0..=5)
            .map(|r| (r as f64, aggregate_relative_error(&kernels, r)))
            .collect();
        Ok(Series {
            name: name.into(),
            points,
        })
    };
    let series = [
        curve("rank one + 10% noise", weight)?,
        curve("uniform random", &random)?,
    ];
    plot::line_chart(
        &dir.join("factorize_error.png"),
        "Relative weight error of the rank-R separable bank, 16×8×5×5 conv",
        ("rank R", "‖W − W_R‖ / ‖W‖"),
        &series,
    )
}

/// Separability of example kernels and a conv rewritten as rank-R banks.
pub fn factorize_section(dir: &Path) -> anyhow::Result<String> {
    let mut md = String::from("## Separable factorisation\n\n");
    md += "A k×k kernel `K = Σ σ_r u_r w_rᵀ` (SVD) is *separable* when it has rank one ";
    md += &format!("(`σ₂ ≤ {DEFAULT_SEPARABILITY_TOL:e}·σ₁`); then a k×1 filter followed by a 1×k filter computes it ");
    md += "with `2k` instead of `k²` weights. Truncating at rank R is the best rank-R ";
    md += "approximation (Eckart–Young), relative error `√(Σ_{r>R} σ_r²) / √(Σ σ_r²)`.\n\n";
    let headers = [
        "kernel",
        "singular values",
        "separable",
        "error at rank 1 / 2 / 3",
    ];
    md += &table::markdown(&headers, &kernel_rows()?);
    let weight = near_separable_weight()?;
    let x = crate::rng::uniform(&[1, 8, 24, 24], 1.0, 25, DType::F32)?;
    let g = ConvGeometry::new().with_padding([2; 4]);
    let rows = (1..=3)
        .map(|r| bank_row(&weight, &x, &g, r))
        .collect::<anyhow::Result<Vec<_>>>()?;
    md += "\n`SeparableBank` rewrites a trained `Conv2d` (here 16×8×5×5, kernels rank one plus ";
    md += "10% noise, padding 2, 24×24 input) as k×1 convolutions, then 1×k, then a sum — every ";
    md +=
        "kernel factored on its own. `huashi conv factorize` does this to a safetensors file.\n\n";
    let headers = [
        "rank R",
        "weight error",
        "output error",
        "params (bank vs conv)",
        "MACs (bank vs conv)",
    ];
    md += &table::markdown(&headers, &rows);
    md += "\nThe per-kernel bank saves weights only while `R·(kh + kw) < kh·kw`; its value is the ";
    md += "exactly known error for each rank.\n\n";
    error_chart(dir, &weight)?;
    Ok(md + "![error by rank](factorize_error.png)\n\n")
}
