//! `huashi erf`: the effective receptive field of an end point (Luo, Li,
//! Urtasun & Zemel, NeurIPS 2016) as a PNG heatmap of the mean `|∂y/∂x|`,
//! with its 95 %-mass radius and Gaussian σ beside the theoretical field.

use super::find;
use crate::report::fields::per_axis;
use crate::report::plot;
use anyhow::Context;
use clap::Args;
use huashi_net::{effective_receptive_field_with, Erf, ErfConfig, Model};
use serde::Serialize;
use std::path::PathBuf;

#[derive(Debug, Args)]
pub struct ErfArgs {
    #[command(flatten)]
    pub net: super::ModelArgs,
    /// The end point (node name, e.g. conv3_3, block4, Conv2d_5_pointwise).
    #[arg(long, value_name = "END_POINT")]
    pub layer: String,
    /// Where to write the PNG heatmap.
    #[arg(long, value_name = "FILE.png", default_value = "erf.png")]
    pub out: PathBuf,
    /// Random (input, initialisation) samples to average over.
    #[arg(long, default_value_t = 20)]
    pub samples: usize,
    /// Seed of the inputs and initialisations.
    #[arg(long, default_value_t = 0, value_parser = crate::parse::count::<u64>)]
    pub seed: u64,
    /// A trained checkpoint (safetensors with the model's parameter names,
    /// as `ParamSet::save` writes them): its weights are used for every
    /// sample and only the random inputs vary [default: fresh random
    /// initialisations, i.e. the untrained ERF; an ONNX `--model` uses the
    /// weights it carries].
    #[arg(long, value_name = "FILE.safetensors")]
    pub weights: Option<PathBuf>,
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

/// The numbers `huashi erf` reports.
#[derive(Debug, Serialize)]
struct Report<'a> {
    model: &'a str,
    layer: &'a str,
    input_shape: [usize; 3],
    samples: usize,
    unit: [usize; 2],
    centre: [f64; 2],
    erf_radius95: f64,
    erf_sigma: f64,
    rf_size: [usize; 2],
    rf_stride: [usize; 2],
    rf_span_clipped: [[i64; 2]; 2],
    png: String,
}

fn report<'a>(args: &'a ErfArgs, shape: [usize; 3], erf: &Erf) -> Report<'a> {
    Report {
        model: &args.net.model,
        layer: &args.layer,
        input_shape: shape,
        samples: args.samples,
        unit: erf.unit,
        centre: erf.centre,
        erf_radius95: erf.radius95,
        erf_sigma: erf.sigma,
        rf_size: erf.theoretical.map(|f| f.size),
        rf_stride: erf.theoretical.map(|f| f.stride),
        rf_span_clipped: erf.span.map(|(a, b)| [a, b]),
        png: args.out.display().to_string(),
    }
}

fn text(r: &Report, erf: &Erf) -> String {
    let size = per_axis(&erf.theoretical, |f| f.size.to_string());
    let half = per_axis(&erf.theoretical, |f| {
        format!("{:.1}", (f.size as f64 - 1.0) / 2.0)
    });
    let [(t, b), (l, rr)] = erf.span;
    format!(
        "{} / {}: input {:?}, {} samples, centre unit {:?}\n\
         effective RF:   radius {:.2} px (95 % of |∂y/∂x|), Gaussian σ {:.2} px\n\
         theoretical RF: size {size} px (radius {half}), stride {}, \
         rows {t}..={b}, cols {l}..={rr} (clipped to the image)\n\
         ratio:          ERF radius / theoretical radius = {:.2}\n\
         heatmap:        {}\n",
        r.model,
        r.layer,
        r.input_shape,
        r.samples,
        r.unit,
        r.erf_radius95,
        r.erf_sigma,
        per_axis(&erf.theoretical, |f| f.stride.to_string()),
        r.erf_radius95 / ((erf.theoretical[0].size as f64 - 1.0) / 2.0).max(0.5),
        r.png
    )
}

pub fn run(args: &ErfArgs) -> anyhow::Result<()> {
    anyhow::ensure!(args.samples >= 1, "--samples must be at least 1");
    // The ONNX file's own weights are read unless --weights replaces them.
    let options = args.net.import_options(args.weights.is_none());
    let (net, shape, a, onnx_weights) =
        super::analyse_weighted(&args.net.model, args.net.input.as_ref(), &options)?;
    find(&a, &args.layer, &args.net.model)?;
    let config = ErfConfig {
        samples: args.samples,
        seed: args.seed,
    };
    let weights = match &args.weights {
        Some(path) => Some(
            Model::compile(&net, shape)?
                .load(path, &candle_core::Device::Cpu)
                .with_context(|| format!("loading weights from {}", path.display()))?,
        ),
        None => onnx_weights,
    };
    let erf = effective_receptive_field_with(&net, shape, &args.layer, &config, weights.as_ref())
        .with_context(|| format!("effective receptive field of {}", args.layer))?;
    let title = format!(
        "ERF of {} / {} (mean |∂y/∂x| / peak)",
        args.net.model, args.layer
    );
    let peak = erf.map.iter().flatten().fold(0f64, |m, &v| m.max(v));
    let scaled: Vec<Vec<f64>> = erf
        .map
        .iter()
        .map(|row| {
            row.iter()
                .map(|v| v / peak.max(f64::MIN_POSITIVE))
                .collect()
        })
        .collect();
    plot::heatmap(&args.out, &title, &scaled)?;
    let r = report(args, shape, &erf);
    match args.json {
        true => println!("{}", serde_json::to_string_pretty(&r)?),
        false => print!("{}", text(&r, &erf)),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn omniglot_block2_writes_a_heatmap() {
        plot::register_fonts().unwrap();
        let dir = tempfile::tempdir().unwrap();
        let args = ErfArgs {
            net: crate::net::ModelArgs {
                model: "maml_omniglot".into(),
                input: None,
                allow_unknown: false,
            },
            layer: "blocks.1".into(),
            out: dir.path().join("erf.png"),
            samples: 3,
            seed: 1,
            weights: None,
            json: false,
        };
        run(&args).unwrap();
        assert!(std::fs::metadata(&args.out).unwrap().len() > 1000);
        let net = huashi_net::zoo::by_name("maml_omniglot").unwrap();
        let (_, params) = Model::new(&net, [1, 28, 28], 4).unwrap();
        let checkpoint = dir.path().join("trained.safetensors");
        params.save(&checkpoint).unwrap();
        let trained = ErfArgs {
            weights: Some(checkpoint),
            out: dir.path().join("trained.png"),
            ..args
        };
        run(&trained).unwrap();
        assert!(std::fs::metadata(&trained.out).unwrap().len() > 1000);
        let args = ErfArgs {
            weights: None,
            ..trained
        };
        let bad = ErfArgs {
            layer: "block9".into(),
            ..args
        };
        let err = run(&bad).unwrap_err().to_string();
        assert!(err.contains("blocks.3"), "{err}");
    }
}
