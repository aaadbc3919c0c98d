//! `huashi conv factorize`: a trained k×k convolution as a rank-R bank of
//! spatially separable filters (`huashi_conv::SeparableBank`).

use crate::report::table;
use anyhow::{bail, ensure, Context};
use candle_core::{DType, Device, Tensor};
use clap::Args;
use huashi_conv::factorize::{factor_conv_weight, DEFAULT_SEPARABILITY_TOL};
use huashi_conv::{conv2d, ConvGeometry, Padding, SeparableBank};
use serde::Serialize;
use std::collections::HashMap;
use std::path::PathBuf;

mod budget;

#[derive(Debug, Args)]
pub struct FactorizeArgs {
    /// A safetensors file holding the trained convolution weights.
    #[arg(long, value_name = "FILE.safetensors")]
    pub weights: PathBuf,
    /// Name of the weight tensor in the file, shape (C_out, C_in, kh, kw) with
    /// groups = 1, e.g. `features.0.weight`.
    #[arg(long, value_name = "NAME")]
    pub tensor: String,
    /// Rank R of the bank: every kh×kw kernel becomes R pairs of a kh×1 and a
    /// 1×kw filter, summed; 1 ≤ R ≤ min(kh, kw).
    #[arg(long, value_name = "R", default_value_t = 1)]
    pub rank: usize,
    /// Where to save the bank (safetensors: `<prefix>vertical.weight`
    /// (C_in·C_out·R, 1, kh, 1), `<prefix>horizontal.weight` (C_in·C_out·R, 1, 1, kw)
    /// and `<prefix>bias`, where `<prefix>` is NAME without its trailing `weight`)
    /// [default: do not save].
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Bias tensor of the layer [default: NAME with `weight` replaced by `bias`,
    /// when the file has it].
    #[arg(long, value_name = "NAME")]
    pub bias: Option<String>,
    /// Stride of the convolution (for the output check and the MAC counts).
    #[arg(long, value_name = "S", default_value_t = 1)]
    pub stride: usize,
    /// Dilation of the convolution.
    #[arg(long, value_name = "D", default_value_t = 1)]
    pub dilation: usize,
    /// Padding of the convolution: `valid`, `same` (PyTorch, stride 1),
    /// `tf-same` (TensorFlow 'SAME') or a number of pixels on every side.
    #[arg(long, value_name = "RULE", default_value = "same", value_parser = parse_padding)]
    pub padding: Padding,
    /// Height and width of the input the MACs are counted for (and of the
    /// random input of the output check, memory permitting).
    #[arg(long, value_name = "HW", default_value_t = 56)]
    pub size: usize,
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

/// `valid`, `same`, `tf-same` or a symmetric pixel count.
pub fn parse_padding(s: &str) -> Result<Padding, String> {
    match s.to_ascii_lowercase().as_str() {
        "valid" => Ok(Padding::Valid),
        "same" => Ok(Padding::SamePyTorch),
        "tf-same" | "tf_same" => Ok(Padding::SameTensorFlow),
        n => n
            .parse::<usize>()
            .map(|p| Padding::symmetric(p, p))
            .map_err(|_| format!("`{s}` is not valid, same, tf-same or a number")),
    }
}

#[derive(Debug, Serialize)]
struct FactorizeReport {
    tensor: String,
    shape: Vec<usize>,
    bias: Option<String>,
    rank: usize,
    /// ‖W − W_r‖_F / ‖W‖_F for r = 0..=min(kh, kw) (index = rank).
    weight_error_by_rank: Vec<f64>,
    separable_kernels: usize,
    kernels: usize,
    separability_tolerance: f64,
    /// ‖bank(x) − conv(x)‖ / ‖conv(x)‖ on a random input, if it fitted in memory.
    output_error: Option<f64>,
    output_check_size: Option<usize>,
    input_size: usize,
    original_params: u64,
    bank_params: u64,
    original_macs_per_sample: u64,
    bank_macs_per_sample: u64,
    bank_reduction_adds_per_sample: u64,
    saved_to: Option<PathBuf>,
}

/// Checks the memory `conv factorize` will need ([`budget::estimate`])
/// against the limit ([`huashi_io::check_memory`]) before loading anything.
fn check_memory(args: &FactorizeArgs) -> anyhow::Result<()> {
    let (shape, element) = budget::tensor_shape(&args.weights, &args.tensor)?;
    let file_bytes = std::fs::metadata(&args.weights)
        .with_context(|| format!("reading {}", args.weights.display()))?
        .len();
    let what = format!("factorising `{}` {shape:?}", args.tensor);
    huashi_io::check_memory(&what, budget::estimate(&shape, element, file_bytes))?;
    Ok(())
}

/// The weight, and the bias with its name if any.
fn load(args: &FactorizeArgs) -> anyhow::Result<(Tensor, Option<(String, Tensor)>)> {
    check_memory(args)?;
    let mut tensors = candle_core::safetensors::load(&args.weights, &Device::Cpu)
        .with_context(|| format!("reading {}", args.weights.display()))?;
    let Some(weight) = tensors.remove(&args.tensor) else {
        let mut names: Vec<&String> = tensors.keys().collect();
        names.sort();
        bail!(
            "no tensor `{}` in {}; it holds {names:?}",
            args.tensor,
            args.weights.display()
        );
    };
    let bias_name = match &args.bias {
        Some(name) => Some(name.clone()),
        None => args
            .tensor
            .strip_suffix("weight")
            .map(|p| format!("{p}bias"))
            .filter(|n| tensors.contains_key(n)),
    };
    let bias = match bias_name {
        Some(name) => {
            let b = tensors
                .remove(&name)
                .with_context(|| format!("no bias tensor `{name}`"))?;
            Some((name, b))
        }
        None => None,
    };
    Ok((weight, bias))
}

fn geometry(args: &FactorizeArgs, kernel: [usize; 2]) -> anyhow::Result<ConvGeometry> {
    let (stride, dilation) = ([args.stride; 2], [args.dilation; 2]);
    let padding = args
        .padding
        .resolve([args.size; 2], kernel, stride, dilation)?;
    Ok(ConvGeometry::new()
        .with_stride(stride)
        .with_dilation(dilation)
        .with_padding(padding))
}

/// `‖bank(x) − conv(x)‖ / ‖conv(x)‖` on a seeded input small enough that the
/// bank's `C_in·C_out·R` intermediate maps fit in ~512 MiB.
fn output_error(
    bank: &SeparableBank,
    weight: &Tensor,
    bias: Option<&Tensor>,
    size: usize,
) -> anyhow::Result<Option<(f64, usize)>> {
    let maps = (bank.in_channels() * bank.out_channels() * bank.rank()) as f64;
    let budget: f64 = 512.0 * 1024.0 * 1024.0;
    let fits = (budget / (8.0 * maps)).sqrt() as usize;
    let side = size.min(fits);
    let g = bank.geometry();
    if g.output_size([side; 2], bank.kernel_size()).is_err() {
        return Ok(None);
    }
    let shape = [1, bank.in_channels(), side, side];
    let x = crate::rng::uniform(&shape, 1.0, 5, DType::F64)?;
    let w = weight.to_dtype(DType::F64)?;
    let mut y = conv2d(&x, &w, g)?;
    if let Some(b) = bias {
        let b = b
            .to_dtype(DType::F64)?
            .reshape((1, bank.out_channels(), 1, 1))?;
        y = y.broadcast_add(&b)?;
    }
    let y_bank = bank
        .forward(&x.to_dtype(weight.dtype())?)?
        .to_dtype(DType::F64)?;
    let norm =
        |t: &Tensor| -> anyhow::Result<f64> { Ok(t.sqr()?.sum_all()?.to_scalar::<f64>()?.sqrt()) };
    let denom = norm(&y)?;
    let num = norm(&(y_bank - &y)?)?;
    Ok(Some((if denom > 0.0 { num / denom } else { num }, side)))
}

fn save(args: &FactorizeArgs, bank: &SeparableBank, path: &PathBuf) -> anyhow::Result<()> {
    let prefix = args.tensor.strip_suffix("weight").unwrap_or(&args.tensor);
    let prefix = if prefix.is_empty() || prefix.ends_with('.') {
        prefix.to_string()
    } else {
        format!("{prefix}.")
    };
    let mut out = HashMap::new();
    out.insert(format!("{prefix}vertical.weight"), bank.vertical().clone());
    out.insert(
        format!("{prefix}horizontal.weight"),
        bank.horizontal().clone(),
    );
    if let Some(b) = bank.bias() {
        out.insert(format!("{prefix}bias"), b.clone());
    }
    huashi_io::write_through_path(path, |temporary| {
        candle_core::safetensors::save(&out, temporary)
    })?;
    Ok(())
}

fn build_report(args: &FactorizeArgs) -> anyhow::Result<FactorizeReport> {
    ensure!(args.size > 0, "--size must be at least 1");
    if let Some(path) = &args.out {
        huashi_io::ensure_not_input(path, &[&args.weights])?;
    }
    let (weight, bias) = load(args)?;
    let dims = weight.dims().to_vec();
    ensure!(
        dims.len() == 4,
        "`{}` must be a conv weight (C_out, C_in, kh, kw), got shape {dims:?}",
        args.tensor
    );
    let g = geometry(args, [dims[2], dims[3]])?;
    let bank =
        SeparableBank::from_conv_weight(&weight, bias.as_ref().map(|b| &b.1), &g, args.rank)?;
    let kernels = factor_conv_weight(&weight)?;
    let separable = kernels
        .iter()
        .filter(|k| k.is_separable(DEFAULT_SEPARABILITY_TOL))
        .count();
    let cost = bank.macs([args.size; 2])?;
    let check = output_error(&bank, &weight, bias.as_ref().map(|b| &b.1), args.size)?;
    if let Some(path) = &args.out {
        save(args, &bank, path)?;
    }
    Ok(FactorizeReport {
        tensor: args.tensor.clone(),
        shape: dims,
        bias: bias.map(|b| b.0),
        rank: args.rank,
        weight_error_by_rank: bank.error_by_rank().to_vec(),
        separable_kernels: separable,
        kernels: kernels.len(),
        separability_tolerance: DEFAULT_SEPARABILITY_TOL,
        output_error: check.map(|c| c.0),
        output_check_size: check.map(|c| c.1),
        input_size: args.size,
        original_params: cost.original_params,
        bank_params: cost.params,
        original_macs_per_sample: cost.original_macs,
        bank_macs_per_sample: cost.total_macs(),
        bank_reduction_adds_per_sample: cost.reduction_adds,
        saved_to: args.out.clone(),
    })
}

fn print_text(r: &FactorizeReport) {
    println!(
        "`{}` {:?}{}",
        r.tensor,
        r.shape,
        r.bias
            .as_ref()
            .map_or(String::new(), |b| format!(", bias `{b}`"))
    );
    println!(
        "{} of {} kernels are exactly separable (rank 1, σ₂ ≤ {:e}·σ₁)\n",
        r.separable_kernels, r.kernels, r.separability_tolerance
    );
    let rows: Vec<Vec<String>> = r
        .weight_error_by_rank
        .iter()
        .enumerate()
        .skip(1)
        .map(|(rank, e)| {
            let mark = if rank == r.rank { "← chosen" } else { "" };
            vec![
                rank.to_string(),
                format!("{:.3e}", e.abs()),
                mark.to_string(),
            ]
        })
        .collect();
    print!(
        "{}",
        table::text(&["rank", "relative weight error ‖W−W_R‖/‖W‖", ""], &rows)
    );
    match (r.output_error, r.output_check_size) {
        (Some(e), Some(s)) => println!(
            "\noutput check on a random {s}×{s} input: ‖bank(x) − conv(x)‖/‖conv(x)‖ = {e:.3e}"
        ),
        _ => println!("\noutput check skipped (the bank's intermediate maps do not fit in memory)"),
    }
    let rows = vec![
        vec![
            "original conv".into(),
            table::thousands(r.original_params),
            table::thousands(r.original_macs_per_sample),
        ],
        vec![
            format!("rank-{} bank", r.rank),
            table::thousands(r.bank_params),
            table::thousands(r.bank_macs_per_sample),
        ],
    ];
    println!(
        "\ncost per sample on a {0}×{0} input (bank: plus {1} additions to sum the maps):",
        r.input_size,
        table::thousands(r.bank_reduction_adds_per_sample)
    );
    print!("{}", table::text(&["", "params", "MACs"], &rows));
    if let Some(path) = &r.saved_to {
        println!("\nsaved the bank to {}", path.display());
    }
}

pub fn run(args: &FactorizeArgs) -> anyhow::Result<()> {
    let report = build_report(args)?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print_text(&report);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn padding_rules_parse() {
        assert_eq!(parse_padding("valid"), Ok(Padding::Valid));
        assert_eq!(parse_padding("SAME"), Ok(Padding::SamePyTorch));
        assert_eq!(parse_padding("tf-same"), Ok(Padding::SameTensorFlow));
        assert_eq!(parse_padding("2"), Ok(Padding::symmetric(2, 2)));
        assert!(parse_padding("wide").is_err());
    }

    fn args(weights: PathBuf, out: Option<PathBuf>, rank: usize) -> FactorizeArgs {
        FactorizeArgs {
            weights,
            tensor: "features.0.weight".into(),
            rank,
            out,
            bias: None,
            stride: 1,
            dilation: 1,
            padding: Padding::SamePyTorch,
            size: 12,
            json: false,
        }
    }

    #[test]
    fn factorizes_a_file_and_saves_the_bank() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("w.safetensors");
        let v = crate::rng::uniform(&[4, 3, 3, 1], 1.0, 1, DType::F32).unwrap();
        let h = crate::rng::uniform(&[4, 3, 1, 3], 1.0, 2, DType::F32).unwrap();
        let weight = v.broadcast_mul(&h).unwrap(); // every kernel rank one
        let bias = crate::rng::uniform(&[4], 1.0, 3, DType::F32).unwrap();
        let tensors = HashMap::from([
            ("features.0.weight".to_string(), weight),
            ("features.0.bias".to_string(), bias),
        ]);
        candle_core::safetensors::save(&tensors, &file).unwrap();
        let out = dir.path().join("bank.safetensors");
        let report = build_report(&args(file.clone(), Some(out.clone()), 1)).unwrap();
        assert_eq!(report.bias.as_deref(), Some("features.0.bias"));
        assert_eq!((report.separable_kernels, report.kernels), (12, 12));
        assert!(report.weight_error_by_rank[1] < 1e-6);
        assert!(
            report.output_error.unwrap() < 1e-5,
            "{:?}",
            report.output_error
        );
        assert_eq!(report.bank_params, 4 * 3 * 6 + 4);
        let saved = candle_core::safetensors::load(&out, &Device::Cpu).unwrap();
        assert_eq!(saved["features.0.vertical.weight"].dims(), &[12, 1, 3, 1]);
        assert_eq!(saved["features.0.horizontal.weight"].dims(), &[12, 1, 1, 3]);
        assert!(saved.contains_key("features.0.bias"));
        let missing = FactorizeArgs {
            tensor: "nope".into(),
            ..args(file, None, 1)
        };
        assert!(format!("{:#}", build_report(&missing).unwrap_err()).contains("features.0.weight"));
    }
}
