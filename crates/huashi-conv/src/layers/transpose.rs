//! [`ConvTranspose2d`]: the transposed convolution (PyTorch
//! `nn.ConvTranspose2d`), i.e. the input gradient of the convolution with the
//! same geometry, used as a layer. Output size per axis:
//! `(i − 1)·s − p_lo − p_hi + d·(k − 1) + 1 + output_padding`.

use super::{make_params, to_candle};
use crate::error::Result;
use crate::family::{ConvTranspose2dConfig, Stage, TransposeStage};
use candle_core::{Module, Tensor};
use candle_nn::VarBuilder;

/// A transposed convolution layer; weight `(C_in, C_out/groups, kh, kw)` as
/// in PyTorch: the [`TransposeStage`] of [`crate::family`] with its tensors.
#[derive(Debug, Clone)]
pub struct ConvTranspose2d {
    stage: TransposeStage,
    weight: Tensor,
    bias: Option<Tensor>,
}

impl ConvTranspose2d {
    /// Creates the layer, parameters `weight` and `bias` under `vb`.
    ///
    /// # Errors
    /// The geometry errors of [`TransposeStage::new`]; candle's when `vb`
    /// holds a tensor of another shape.
    pub fn new(
        in_channels: usize,
        out_channels: usize,
        kernel: [usize; 2],
        config: ConvTranspose2dConfig,
        vb: VarBuilder,
    ) -> Result<Self> {
        let stage = TransposeStage::new(in_channels, out_channels, kernel, config)?;
        let (weight, bias) = make_params(&vb, &Stage::Transpose(stage))?;
        Ok(ConvTranspose2d {
            stage,
            weight,
            bias,
        })
    }
    /// The stage this layer runs.
    pub fn stage(&self) -> &TransposeStage {
        &self.stage
    }
    /// The weight `(C_in, C_out/groups, kh, kw)`.
    pub fn weight(&self) -> &Tensor {
        &self.weight
    }
    /// The bias, if any.
    pub fn bias(&self) -> Option<&Tensor> {
        self.bias.as_ref()
    }
    /// The configuration.
    pub fn config(&self) -> &ConvTranspose2dConfig {
        &self.stage.config
    }
    /// The forward pass with typed errors.
    ///
    /// # Shapes
    /// `x (N, C_in, H, W)` → `(N, C_out, Ho, Wo)`.
    ///
    /// # Errors
    /// A wrong input shape.
    pub fn try_forward(&self, x: &Tensor) -> Result<Tensor> {
        self.stage.forward(x, &self.weight, self.bias.as_ref())
    }
}

impl Module for ConvTranspose2d {
    fn forward(&self, x: &Tensor) -> candle_core::Result<Tensor> {
        self.try_forward(x).map_err(to_candle)
    }
}
