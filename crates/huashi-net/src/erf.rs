//! The effective receptive field (Luo, Li, Urtasun & Zemel, "Understanding
//! the Effective Receptive Field in Deep Convolutional Neural Networks",
//! NeurIPS 2016): a unit gradient at the centre output unit of an end point
//! (summed over its channels) is back-propagated to the input, and
//! `|∂y/∂x|`, summed over input channels, is averaged over random inputs
//! (uniform in `[−1, 1)`) and random initialisations (one per sample, seeded).
//!
//! The size of the map is reported as the radius around the centre of the
//! unit's theoretical field that holds 95 % of the gradient mass, and as the
//! σ of an isotropic Gaussian with the same second moment about that centre
//! (`σ² = Σ m·d² / (2 Σ m)`), beside the theoretical field.

use crate::analysis::Analysis;
use crate::desc::Network;
use crate::error::{Error, Result};
use crate::field::AxisField;
use crate::model::Model;
use crate::params::ParamSet;
use crate::shape::Shape;
use candle_core::{Device, Tensor, Var};
use huashi_rng::Rng;

/// How the effective receptive field is estimated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ErfConfig {
    /// Number of (input, initialisation) samples (Luo et al.: ≥ 20).
    pub samples: usize,
    /// Seed of the inputs and initialisations.
    pub seed: u64,
}

impl Default for ErfConfig {
    fn default() -> Self {
        ErfConfig {
            samples: 20,
            seed: 0,
        }
    }
}

/// An effective receptive field with its theoretical counterpart.
#[derive(Debug, Clone, PartialEq)]
pub struct Erf {
    /// The end point.
    pub end_point: String,
    /// Mean `|∂y/∂x|` summed over input channels, `H` rows of `W` values.
    pub map: Vec<Vec<f64>>,
    /// The output unit used (row, column): the centre of the end point's map.
    pub unit: [usize; 2],
    /// Centre of the unit's theoretical field in input coordinates (row, column).
    pub centre: [f64; 2],
    /// Radius around `centre` holding 95 % of the gradient mass, in pixels.
    pub radius95: f64,
    /// σ of the isotropic Gaussian with the map's second moment about `centre`.
    pub sigma: f64,
    /// The end point's theoretical field per axis `[height, width]`.
    pub theoretical: [AxisField; 2],
    /// The unit's theoretical field `[start, end]` per axis, clipped to the image.
    pub span: [(i64, i64); 2],
}

/// The output unit at the centre of `shape` (`[0, 0]` for vectors).
fn centre_unit(shape: Shape) -> [usize; 2] {
    match shape {
        Shape::Map { height, width, .. } => [(height - 1) / 2, (width - 1) / 2],
        Shape::Vector { .. } => [0, 0],
    }
}

/// `|∂y/∂x|` for the unit `unit` (row, column) of `end_point` (summed over
/// its channels and over the batch; the whole output for a vector), summed
/// over input channels: an `(H, W)` map.
/// [`effective_receptive_field_with`] asks for the centre unit.
///
/// # Errors
/// The errors of [`Model::forward_to`] (e.g. [`Error::UnknownNode`],
/// [`Error::InputShape`], a missing parameter); tensor errors, e.g. a `unit`
/// outside `end_point`'s map.
pub fn input_gradient(
    model: &Model,
    params: &ParamSet,
    x: &Tensor,
    end_point: &str,
    unit: [usize; 2],
) -> Result<Tensor> {
    let xv = Var::from_tensor(x)?;
    let y = model.forward_to(params, xv.as_tensor(), end_point)?;
    let picked = match y.rank() {
        4 => y.narrow(2, unit[0], 1)?.narrow(3, unit[1], 1)?,
        _ => y,
    };
    let grads = picked.sum_all()?.backward()?;
    let [_, h, w] = model.input_shape();
    match grads.get(xv.as_tensor()) {
        Some(g) => Ok(g.abs()?.sum(1)?.sum(0)?),
        None => Ok(Tensor::zeros((h, w), x.dtype(), x.device())?),
    }
}

/// The effective receptive field of `end_point` of `network` for inputs
/// `[C, H, W]` (f32, CPU), averaged over `config.samples` samples.
///
/// # Errors
/// As [`effective_receptive_field_with`].
pub fn effective_receptive_field(
    network: &Network,
    input: [usize; 3],
    end_point: &str,
    config: &ErfConfig,
) -> Result<Erf> {
    effective_receptive_field_with(network, input, end_point, config, None)
}

/// Bytes one sample needs, estimated before anything is allocated: every
/// node's f32 output three times (value, gradient, a temporary), the
/// parameters twice (a fresh initialisation and its conversion), the input
/// twice and the `(H, W)` map in f32 and f64. Saturating: an estimate that
/// does not fit 64 bits is above any limit.
pub fn memory_estimate(analysis: &Analysis, [c, h, w]: [usize; 3]) -> u64 {
    let activations = analysis.nodes.iter().fold(0u64, |sum, n| {
        let numel = n.output.numel().map_or(u64::MAX, |v| v as u64);
        sum.saturating_add(numel)
    });
    let input = (c as u64).saturating_mul(h as u64).saturating_mul(w as u64);
    let map = (h as u64).saturating_mul(w as u64);
    activations
        .saturating_mul(3 * 4)
        .saturating_add(analysis.totals.params.saturating_mul(2 * 4))
        .saturating_add(input.saturating_mul(2 * 4))
        .saturating_add(map.saturating_mul(4 + 8 + 8))
}

/// [`effective_receptive_field`] of a trained network: with `weights`, every
/// sample uses those parameters (checked against the model) and only the
/// random inputs vary; without, each sample draws a fresh initialisation.
///
/// # Errors
/// [`Error::InvalidField`] for 0 samples; [`Error::File`] with
/// [`huashi_io::Error::TooMuchMemory`] when [`memory_estimate`] is above
/// the limit ([`huashi_io::check_memory`]); the analysis' errors (sizes
/// that overflow name their node); tensor errors.
pub fn effective_receptive_field_with(
    network: &Network,
    input: [usize; 3],
    end_point: &str,
    config: &ErfConfig,
    weights: Option<&ParamSet>,
) -> Result<Erf> {
    if config.samples == 0 {
        return Err(Error::InvalidField {
            node: end_point.to_string(),
            field: "samples",
            detail: "the effective receptive field needs at least 1 sample".into(),
        });
    }
    let model = Model::compile(network, input)?;
    let what = format!("the effective receptive field of \"{end_point}\" at input {input:?}");
    huashi_io::check_memory(&what, memory_estimate(model.analysis(), input))?;
    if let Some(w) = weights {
        model.check(w)?;
    }
    let theoretical = model.analysis().receptive_field(end_point)?;
    let unit = centre_unit(model.analysis().node(end_point)?.output);
    let [c, h, w] = input;
    let mut sum = Tensor::zeros((h, w), candle_core::DType::F32, &Device::Cpu)?;
    for s in 0..config.samples {
        let mut rng = Rng::indexed(config.seed, "erf sample", s as u64);
        let seed = rng.next_u64();
        let values: Vec<f32> = (0..c * h * w)
            .map(|_| rng.uniform_in(-1.0, 1.0) as f32)
            .collect();
        let x = Tensor::from_vec(values, (1, c, h, w), &Device::Cpu)?;
        let gradient = match weights {
            Some(w) => input_gradient(&model, w, &x, end_point, unit)?,
            None => input_gradient(
                &model,
                &model.init(seed, &Device::Cpu)?,
                &x,
                end_point,
                unit,
            )?,
        };
        sum = (sum + gradient)?;
    }
    let map: Vec<Vec<f64>> = (sum / config.samples as f64)?
        .to_dtype(candle_core::DType::F64)?
        .to_vec2()?;
    let span = [0, 1].map(|a| {
        let (lo, hi) = theoretical[a].span(unit[a]);
        let last = i64::try_from(input[a + 1]).map_or(i64::MAX, |n| n - 1);
        (lo.max(0), hi.min(last))
    });
    let centre = [0, 1].map(|a| {
        let (lo, hi) = theoretical[a].span(unit[a]);
        (lo as f64 + hi as f64) / 2.0
    });
    let (radius95, sigma) = spread(&map, centre);
    Ok(Erf {
        end_point: end_point.to_string(),
        map,
        unit,
        centre,
        radius95,
        sigma,
        theoretical,
        span,
    })
}

/// The radius about `centre` holding 95 % of the mass of `map`, and the σ
/// of the isotropic Gaussian with the same second moment.
pub fn spread(map: &[Vec<f64>], centre: [f64; 2]) -> (f64, f64) {
    let mut cells: Vec<(f64, f64)> = Vec::new();
    for (i, row) in map.iter().enumerate() {
        for (j, &m) in row.iter().enumerate() {
            let d2 = (i as f64 - centre[0]).powi(2) + (j as f64 - centre[1]).powi(2);
            cells.push((d2, m));
        }
    }
    let total: f64 = cells.iter().map(|c| c.1).sum();
    if total <= 0.0 {
        return (0.0, 0.0);
    }
    let sigma = (cells.iter().map(|(d2, m)| d2 * m).sum::<f64>() / (2.0 * total)).sqrt();
    cells.sort_by(|a, b| a.0.total_cmp(&b.0));
    let mut acc = 0.0;
    for (d2, m) in &cells {
        acc += m;
        if acc >= 0.95 * total {
            return (d2.sqrt(), sigma);
        }
    }
    (cells.last().map_or(0.0, |c| c.0.sqrt()), sigma)
}
