//! [`ConvLayer`]: a variant of the family as a chain of named stages.

use super::{param_name, ConvStage, ParamSpec, Stage, TransposeStage};
use super::{Conv2dConfig, ConvTranspose2dConfig};
use crate::cost::{Cost, LayerCost};
use crate::error::{Error, Result};
use candle_core::Tensor;

/// A convolution layer of any variant: its stages in order, each with the
/// name its parameters live under (`""` for a one-stage layer).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ConvLayer {
    stages: Vec<(&'static str, Stage)>,
}

impl ConvLayer {
    /// Standard or grouped convolution (`config.groups`), PyTorch `Conv2d`.
    ///
    /// # Errors
    /// The geometry errors of [`ConvStage::new`].
    pub fn conv(
        in_channels: usize,
        out_channels: usize,
        kernel: [usize; 2],
        config: Conv2dConfig,
    ) -> Result<Self> {
        let stage = ConvStage::new(in_channels, out_channels, kernel, config)?;
        Ok(Self::one(Stage::Conv(stage)))
    }

    /// Depthwise convolution with multiplier `m`: `C → C·m` channels, one
    /// group per input channel (`config.groups` is replaced by `C`).
    ///
    /// # Errors
    /// `m = 0`, `C·m` over `usize`, or the errors of [`ConvStage::new`].
    pub fn depthwise(
        channels: usize,
        multiplier: usize,
        kernel: [usize; 2],
        config: Conv2dConfig,
    ) -> Result<Self> {
        let stage = depthwise_stage(channels, multiplier, kernel, config)?;
        Ok(Self::one(Stage::Conv(stage)))
    }

    /// Pointwise (1×1) convolution `C_in → C_out`.
    ///
    /// # Errors
    /// Zero channels.
    pub fn pointwise(in_channels: usize, out_channels: usize, bias: bool) -> Result<Self> {
        let stage = pointwise_stage(in_channels, out_channels, bias)?;
        Ok(Self::one(Stage::Conv(stage)))
    }

    /// Depthwise-separable convolution (Keras `SeparableConv2D`): `depthwise`
    /// (multiplier `m`, `config`'s stride, dilation and padding, no bias) then
    /// `pointwise` 1×1 `C·m → C_out` carrying `config.bias`.
    ///
    /// # Errors
    /// As [`ConvLayer::depthwise`] and [`ConvLayer::pointwise`].
    pub fn separable(
        in_channels: usize,
        out_channels: usize,
        kernel: [usize; 2],
        multiplier: usize,
        config: Conv2dConfig,
    ) -> Result<Self> {
        let depth_config = Conv2dConfig {
            bias: false,
            ..config
        };
        let depthwise = depthwise_stage(in_channels, multiplier, kernel, depth_config)?;
        let pointwise = pointwise_stage(depthwise.out_channels, out_channels, config.bias)?;
        Ok(ConvLayer {
            stages: vec![
                ("depthwise", Stage::Conv(depthwise)),
                ("pointwise", Stage::Conv(pointwise)),
            ],
        })
    }

    /// Spatially separable convolution: `vertical` `[kh, 1]` `C_in → C_mid`
    /// (rows' stride, dilation and padding, no bias) then `horizontal`
    /// `[1, kw]` `C_mid → C_out` (columns', with `config.bias`). `mid`
    /// defaults to [`ConvLayer::default_mid`].
    ///
    /// # Errors
    /// The errors of [`ConvStage::new`] for either stage.
    pub fn spatially_separable(
        in_channels: usize,
        mid: Option<usize>,
        out_channels: usize,
        kernel: [usize; 2],
        config: Conv2dConfig,
    ) -> Result<Self> {
        let mid = mid.unwrap_or(Self::default_mid(in_channels, out_channels));
        let (rows, cols) = config.padding.split_axes();
        let vertical = Conv2dConfig {
            stride: [config.stride[0], 1],
            dilation: [config.dilation[0], 1],
            padding: rows,
            bias: false,
            ..config
        };
        let horizontal = Conv2dConfig {
            stride: [1, config.stride[1]],
            dilation: [1, config.dilation[1]],
            padding: cols,
            ..config
        };
        let [kh, kw] = kernel;
        Ok(ConvLayer {
            stages: vec![
                (
                    "vertical",
                    Stage::Conv(ConvStage::new(in_channels, mid, [kh, 1], vertical)?),
                ),
                (
                    "horizontal",
                    Stage::Conv(ConvStage::new(mid, out_channels, [1, kw], horizontal)?),
                ),
            ],
        })
    }

    /// The channels between the two stages of a spatially separable layer
    /// when none are given: `C_in`, as in Inception v3's `1×7` then `7×1`
    /// branches (Szegedy et al. 2016), so the first stage keeps the width.
    pub fn default_mid(in_channels: usize, _out_channels: usize) -> usize {
        in_channels
    }

    /// Transposed convolution (PyTorch `ConvTranspose2d`).
    ///
    /// # Errors
    /// The errors of [`TransposeStage::new`].
    pub fn transpose(
        in_channels: usize,
        out_channels: usize,
        kernel: [usize; 2],
        config: ConvTranspose2dConfig,
    ) -> Result<Self> {
        let stage = TransposeStage::new(in_channels, out_channels, kernel, config)?;
        Ok(Self::one(Stage::Transpose(stage)))
    }

    /// The layer for `tasks` tasks side by side (MAML's meta-batch): every
    /// stage's channels and groups multiplied by `tasks`, so an input
    /// `(N, T·C_in, H, W)` holding each task's channels as one block runs
    /// every task with its own weights in one grouped convolution. A
    /// parameter `(T, d₀, d₁, …)` of the tasks, reshaped to `(T·d₀, d₁, …)`,
    /// is this layer's parameter of the same name.
    ///
    /// # Errors
    /// `tasks = 0`, or channel counts over `usize`.
    pub fn with_tasks(&self, tasks: usize) -> Result<Self> {
        let times = |what: &'static str, n: usize| {
            n.checked_mul(tasks)
                .filter(|&v| v > 0)
                .ok_or_else(|| Error::InvalidArgument {
                    what,
                    detail: format!("{n} × {tasks} tasks is zero or overflows"),
                })
        };
        let stages = self.stages.iter().map(|&(name, stage)| {
            let stage = match stage {
                Stage::Conv(mut s) => {
                    s.in_channels = times("input channels", s.in_channels)?;
                    s.out_channels = times("output channels", s.out_channels)?;
                    s.config.groups = times("groups", s.config.groups)?;
                    Stage::Conv(s)
                }
                Stage::Transpose(mut s) => {
                    s.in_channels = times("input channels", s.in_channels)?;
                    s.out_channels = times("output channels", s.out_channels)?;
                    s.config.groups = times("groups", s.config.groups)?;
                    Stage::Transpose(s)
                }
            };
            Ok((name, stage))
        });
        Ok(ConvLayer {
            stages: stages.collect::<Result<_>>()?,
        })
    }

    fn one(stage: Stage) -> Self {
        ConvLayer {
            stages: vec![("", stage)],
        }
    }

    /// The stages with the names their parameters live under.
    pub fn stages(&self) -> &[(&'static str, Stage)] {
        &self.stages
    }

    /// Output channels of the last stage.
    pub fn out_channels(&self) -> usize {
        self.stages.last().map_or(0, |(_, s)| s.out_channels())
    }

    /// Every parameter tensor, in order.
    pub fn params(&self) -> Vec<ParamSpec> {
        let stages = self.stages.iter();
        stages.flat_map(|(name, s)| s.params(name)).collect()
    }

    /// Runs the stages with parameters looked up by name (`weight`,
    /// `pointwise.bias`, …, as [`Self::params`] names them).
    ///
    /// # Shapes
    /// `x (N, C_in, H, W)` → `(N, C_out, Ho, Wo)`.
    ///
    /// # Errors
    /// A missing parameter ([`Error::InvalidArgument`] naming it), a wrong
    /// input shape or a geometry that does not fit the input.
    pub fn forward<'a>(
        &self,
        x: &Tensor,
        param: impl Fn(&str) -> Option<&'a Tensor>,
    ) -> Result<Tensor> {
        let mut y = x.clone();
        for (prefix, stage) in &self.stages {
            let get = |which: &str| {
                let name = param_name(prefix, which);
                param(&name).ok_or_else(|| Error::InvalidArgument {
                    what: "convolution parameters",
                    detail: format!("no tensor named {name}"),
                })
            };
            let bias = stage.has_bias().then(|| get("bias")).transpose()?;
            y = stage.forward(&y, get("weight")?, bias)?;
        }
        Ok(y)
    }
}

impl Cost for ConvLayer {
    fn cost(&self, input: [usize; 4]) -> Result<LayerCost> {
        let mut stages = self.stages.iter();
        let Some((_, first)) = stages.next() else {
            return Err(Error::InvalidArgument {
                what: "convolution layer",
                detail: "has no stages".into(),
            });
        };
        stages.try_fold(first.cost(input)?, |acc, (_, stage)| {
            let next = stage.cost(acc.output_shape)?;
            acc.then(next)
        })
    }
}

/// `C → C·m` with one group per input channel.
fn depthwise_stage(
    channels: usize,
    multiplier: usize,
    kernel: [usize; 2],
    config: Conv2dConfig,
) -> Result<ConvStage> {
    if multiplier == 0 {
        return Err(Error::InvalidArgument {
            what: "depth_multiplier",
            detail: "must be at least 1, got 0".into(),
        });
    }
    let out = channels
        .checked_mul(multiplier)
        .ok_or_else(|| Error::CostOverflow {
            what: "the depthwise channel count",
            detail: format!("{channels} channels × multiplier {multiplier}"),
        })?;
    let config = Conv2dConfig {
        groups: channels.max(1),
        ..config
    };
    ConvStage::new(channels, out, kernel, config)
}

/// A 1×1 stride-1 convolution.
fn pointwise_stage(in_channels: usize, out_channels: usize, bias: bool) -> Result<ConvStage> {
    let config = Conv2dConfig {
        bias,
        ..Conv2dConfig::default()
    };
    ConvStage::new(in_channels, out_channels, [1, 1], config)
}
