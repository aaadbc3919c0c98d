//! [`ConvNet`]: the 4-block few-shot CNN of Vinyals et al. (2016) as used by
//! MAML for Omniglot (Finn et al. 2017, §5.2) and by learn2learn's
//! `OmniglotCNN`: each block is a 3×3 convolution with stride 2 and padding
//! 1, batch normalisation, ReLU; the features are averaged over space and a
//! linear head maps them to the `N` ways (no head: the features are the
//! output — Prototypical Networks' embedding).
//!
//! **Batch normalisation uses the statistics of the current batch** at
//! meta-train and at meta-test time, per task, exactly as the MAML
//! reference code does (no running averages): `x̂ = (x − μ_B) / √(σ²_B + ε)`,
//! `ε = 1e-5`, then `γ x̂ + β`. The convolutions have no bias: with batch
//! statistics a bias is subtracted again by `μ_B` (its gradient is exactly
//! zero), so it would only cost time. The per-channel factor
//! `γ / √(σ²_B + ε)` is formed on the small statistics tensor, and the
//! statistics and the normalisation with ReLU are one fused op each
//! ([`crate::fused`]), so each block makes two passes over its feature map
//! after the convolution (and a few in each derivative).
//!
//! The meta-batch runs as **one grouped convolution per block**: the input
//! `(T, B, C, H, W)` is laid out as `(B, T·C, H, W)` and each task's weights
//! are one group, so every task convolves with its own adapted filters in a
//! single call of our kernels; batch statistics per channel of that layout
//! are statistics per task and channel.
//!
//! Initialisation as learn2learn's `maml_init_`: Xavier-uniform weights
//! (convolutions and head), zero head bias, `γ = 1`, `β = 0`.

use crate::error::{Error, Result};
use crate::functional::Functional;
use crate::fused;
use candle_core::{DType, Device, Tensor};
use huashi_conv::{conv2d, Conv2dConfig, ConvStage, Padding, Stage};
use huashi_net::ParamSet;
use huashi_rng::Rng;

const BN_EPS: f64 = 1e-5;

/// The network's shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConvNetConfig {
    /// Input channels (1 for Omniglot).
    pub in_channels: usize,
    /// Filters per block (64 in the papers).
    pub hidden: usize,
    /// Number of blocks (4 in the papers).
    pub blocks: usize,
    /// Outputs of the linear head (the ways); `None`: no head.
    pub outputs: Option<usize>,
}

impl ConvNetConfig {
    /// The papers' network for `ways`-way classification of 1-channel images.
    pub fn omniglot(ways: usize) -> Self {
        ConvNetConfig {
            in_channels: 1,
            hidden: 64,
            blocks: 4,
            outputs: Some(ways),
        }
    }
}

/// A functional few-shot CNN (see the module docs).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConvNet {
    config: ConvNetConfig,
    /// The convolution of each block (names, shapes, geometry).
    convs: Vec<ConvStage>,
}

impl ConvNet {
    /// The network and its initial parameters drawn from `seed`.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] when a size is zero; candle's for a `dtype` it cannot
    /// convert to.
    pub fn new(
        config: ConvNetConfig,
        seed: u64,
        dtype: DType,
        device: &Device,
    ) -> Result<(ConvNet, ParamSet)> {
        let c = config;
        if c.in_channels == 0 || c.hidden == 0 || c.blocks == 0 || c.outputs == Some(0) {
            return Err(Error::InvalidConfig {
                what: "ConvNet shape (channels, hidden, blocks, outputs must be positive)",
                value: format!("{c:?}"),
            });
        }
        let mut params = ParamSet::new();
        let mut stream = 0u64;
        let mut xavier = |dims: &[usize], fan_in: usize, fan_out: usize| -> Result<Tensor> {
            let bound = (6.0 / (fan_in + fan_out) as f64).sqrt();
            let mut rng = Rng::indexed(seed, "init", stream);
            stream += 1;
            let n = dims.iter().product();
            let values: Vec<f64> = (0..n).map(|_| rng.uniform_in(-bound, bound)).collect();
            Ok(Tensor::from_vec(values, dims, device)?.to_dtype(dtype)?)
        };
        let mut convs = Vec::with_capacity(c.blocks);
        for block in 0..c.blocks {
            let cin = if block == 0 { c.in_channels } else { c.hidden };
            let conv = block_conv(cin, c.hidden)?;
            let weight = Stage::Conv(conv).weight_spec(&format!("blocks.{block}.conv"));
            let w = xavier(&weight.shape, cin * 9, c.hidden * 9)?;
            params.insert(weight.name, w);
            convs.push(conv);
            let zeros = Tensor::zeros(c.hidden, dtype, device)?;
            params.insert(format!("blocks.{block}.bn.weight"), zeros.ones_like()?);
            params.insert(format!("blocks.{block}.bn.bias"), zeros);
        }
        if let Some(ways) = c.outputs {
            params.insert("head.weight", xavier(&[ways, c.hidden], c.hidden, ways)?);
            params.insert("head.bias", Tensor::zeros(ways, dtype, device)?);
        }
        Ok((ConvNet { config, convs }, params))
    }

    /// The network's shape.
    pub fn config(&self) -> ConvNetConfig {
        self.config
    }

    /// One block on `(B, T·C, H, W)` with task-batched parameters.
    fn block(&self, params: &ParamSet, block: usize, h: &Tensor, tasks: usize) -> Result<Tensor> {
        let p = |name: &str| -> Result<&Tensor> {
            Ok(params.require(&format!("blocks.{block}.{name}"))?)
        };
        let w = p("conv.weight")?;
        let (_, cout, cin, kh, kw) = w.dims5()?;
        let w = w.reshape((tasks * cout, cin, kh, kw))?;
        let (_, _, height, width) = h.dims4()?;
        let geometry = self.convs[block].geometry([height, width])?;
        let y = conv2d(h, &w, &geometry.with_groups(tasks))?;
        let (batch, channels, height, width) = y.dims4()?;
        let flat = y.reshape((batch, channels, height * width))?;
        let gamma = p("bn.weight")?.reshape(channels)?;
        let beta = p("bn.bias")?.reshape(channels)?;
        let out = batch_norm_relu(&flat, &gamma, &beta)?;
        Ok(out.reshape((batch, channels, height, width))?)
    }
}

/// The convolution of a block: 3×3, stride 2, padding 1, no bias (the
/// parameter names and geometry of huashi-conv's [`ConvStage`]).
fn block_conv(in_channels: usize, out_channels: usize) -> Result<ConvStage> {
    let config = Conv2dConfig {
        stride: [2, 2],
        padding: Padding::Explicit {
            top: 1,
            bottom: 1,
            left: 1,
            right: 1,
        },
        bias: false,
        ..Conv2dConfig::default()
    };
    Ok(ConvStage::new(in_channels, out_channels, [3, 3], config)?)
}

/// `relu(γ (x − μ_B) / √(σ²_B + ε) + β)` with the batch statistics per
/// channel, as `relu(x·scale + shift)` with `scale = γ / √(σ²_B + ε)` and
/// `shift = β − μ_B·scale` formed on `(C)` vectors: two fused passes over
/// the feature map ([`fused::channel_moments`], [`fused::affine_relu`]).
///
/// # Shapes
/// `x (B, C, L)`, `gamma (C)`, `beta (C)` → `(B, C, L)`.
fn batch_norm_relu(x: &Tensor, gamma: &Tensor, beta: &Tensor) -> Result<Tensor> {
    let (mean, var) = fused::channel_moments(x)?;
    let scale = gamma.div(&(var + BN_EPS)?.sqrt()?)?;
    let shift = beta.sub(&mean.mul(&scale)?)?;
    fused::affine_relu(x, &scale, &shift)
}

impl Functional for ConvNet {
    /// `x` is `(T, B, C, H, W)`; the output is `(T, B, ways)` (or the
    /// `(T, B, hidden)` features without a head).
    fn forward(&self, params: &ParamSet, x: &Tensor) -> Result<Tensor> {
        let (tasks, batch, channels, height, width) = x.dims5()?;
        let mut h = x
            .transpose(0, 1)?
            .reshape((batch, tasks * channels, height, width))?;
        for block in 0..self.config.blocks {
            h = self.block(params, block, &h, tasks)?;
        }
        let features = h
            .mean(3)?
            .mean(2)?
            .reshape((batch, tasks, self.config.hidden))?
            .transpose(0, 1)?;
        if self.config.outputs.is_none() {
            return Ok(features);
        }
        let w = params.require("head.weight")?;
        let b = params.require("head.bias")?;
        Ok(features
            .matmul(&w.transpose(1, 2)?)?
            .broadcast_add(&b.unsqueeze(1)?)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::functional::tile_tasks;

    #[test]
    fn shapes_and_per_task_independence() {
        let config = ConvNetConfig::omniglot(5);
        let (net, params) = ConvNet::new(config, 0, DType::F32, &Device::Cpu).unwrap();
        // Conv weights, BN γ and β, head.
        assert_eq!(
            params.numel(),
            64 * 9 + 3 * 64 * 64 * 9 + 4 * 128 + 5 * 64 + 5
        );
        let x = Tensor::rand(0f32, 1.0, (3, 2, 1, 28, 28), &Device::Cpu).unwrap();
        let tiled = tile_tasks(&params, 3).unwrap();
        let y = net.forward(&tiled, &x).unwrap();
        assert_eq!(y.dims(), &[3, 2, 5]);
        // Task 1 alone gives the same output as inside the batch.
        let one = net.forward_one(&params, &x.get(1).unwrap()).unwrap();
        let diff = (one - y.get(1).unwrap()).unwrap().abs().unwrap();
        assert!(diff.max_all().unwrap().to_scalar::<f32>().unwrap() < 1e-5);
    }

    #[test]
    fn bad_shapes_are_errors() {
        let mut config = ConvNetConfig::omniglot(5);
        config.hidden = 0;
        let err = ConvNet::new(config, 0, DType::F32, &Device::Cpu);
        assert!(matches!(err, Err(Error::InvalidConfig { .. })));
    }
}
