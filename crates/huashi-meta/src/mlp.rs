//! [`Mlp`]: a functional multilayer perceptron over explicit parameters.
//!
//! Layer `i` maps `sizes[i]` features to `sizes[i+1]`: `h ↦ h Wᵢᵀ + bᵢ`,
//! with `Wᵢ` of shape `(sizes[i+1], sizes[i])` (PyTorch's `nn.Linear`
//! layout) named `layers.i.weight` and `bᵢ` named `layers.i.bias`. Hidden
//! layers are followed by ReLU; the last layer is linear. Initialisation is
//! PyTorch's default for `nn.Linear`: weights and biases uniform in
//! `[−1/√fan_in, 1/√fan_in]`, each tensor from its own seeded stream.

use crate::error::{Error, Result};
use crate::functional::Functional;
use crate::fused;
use candle_core::{DType, Device, Tensor};
use huashi_net::ParamSet;
use huashi_rng::Rng;

/// A functional MLP: it holds only the layer sizes; the parameters live in a
/// [`ParamSet`] passed to [`Mlp::forward`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mlp {
    sizes: Vec<usize>,
}

impl Mlp {
    /// An f32 MLP on the CPU with layer sizes `sizes` (input first, output
    /// last) and its initial parameters drawn from `seed`.
    ///
    /// # Errors
    /// As [`Mlp::new_with`].
    pub fn new(sizes: &[usize], seed: u64) -> Result<(Mlp, ParamSet)> {
        Self::new_with(sizes, seed, DType::F32, &Device::Cpu)
    }

    /// As [`Mlp::new`] with a chosen dtype (f32 or f64) and device.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] for fewer than two sizes, a zero size, or a dtype
    /// other than f32/f64.
    pub fn new_with(
        sizes: &[usize],
        seed: u64,
        dtype: DType,
        device: &Device,
    ) -> Result<(Mlp, ParamSet)> {
        if sizes.len() < 2 || sizes.contains(&0) {
            return Err(Error::InvalidConfig {
                what: "MLP sizes (need at least two, all positive)",
                value: format!("{sizes:?}"),
            });
        }
        if !matches!(dtype, DType::F32 | DType::F64) {
            return Err(Error::InvalidConfig {
                what: "MLP dtype (f32 or f64)",
                value: format!("{dtype:?}"),
            });
        }
        let mut params = ParamSet::new();
        for (i, pair) in sizes.windows(2).enumerate() {
            let (fan_in, fan_out) = (pair[0], pair[1]);
            let bound = 1.0 / (fan_in as f64).sqrt();
            let draw = |stream: u64, len: usize| -> Vec<f64> {
                let mut rng = Rng::indexed(seed, "init", stream);
                (0..len).map(|_| rng.uniform_in(-bound, bound)).collect()
            };
            let weight = draw(2 * i as u64, fan_in * fan_out);
            let bias = draw(2 * i as u64 + 1, fan_out);
            let weight = Tensor::from_vec(weight, (fan_out, fan_in), device)?.to_dtype(dtype)?;
            let bias = Tensor::from_vec(bias, fan_out, device)?.to_dtype(dtype)?;
            params.insert(format!("layers.{i}.weight"), weight);
            params.insert(format!("layers.{i}.bias"), bias);
        }
        Ok((
            Mlp {
                sizes: sizes.to_vec(),
            },
            params,
        ))
    }

    /// The layer sizes, input first.
    pub fn sizes(&self) -> &[usize] {
        &self.sizes
    }

    /// The parameter names in order.
    pub fn param_names(&self) -> Vec<String> {
        (0..self.sizes.len() - 1)
            .flat_map(|i| [format!("layers.{i}.weight"), format!("layers.{i}.bias")])
            .collect()
    }

    /// The task-batched output `(T, B, sizes.last())` for an input
    /// `(T, B, sizes[0])`, with parameters carrying the task dimension
    /// (weights `(T, out, in)`, biases `(T, out)`): one batched matmul per
    /// layer for the whole meta-batch.
    ///
    /// The hidden state runs transposed, `hᵀ (T, features, B)`, so a layer is
    /// `Wᵢ hᵀ` and its bias (with the ReLU of hidden layers) is one fused
    /// per-channel op ([`fused::affine_relu`], channels `T·out`) instead of
    /// candle's broadcast add and ReLU, whose derivatives take several passes
    /// each.
    ///
    /// # Shapes
    /// `x (T, B, sizes[0])` → `(T, B, sizes.last())`.
    ///
    /// # Errors
    /// [`Error::Net`] when a `layers.i.*` parameter is missing,
    /// [`Error::ShapeMismatch`] for a bias of the wrong size, and candle's for other
    /// shape mismatches.
    pub fn forward(&self, params: &ParamSet, x: &Tensor) -> Result<Tensor> {
        let layers = self.sizes.len() - 1;
        let mut h = x.transpose(1, 2)?;
        for i in 0..layers {
            let w = params.require(&format!("layers.{i}.weight"))?;
            let b = params.require(&format!("layers.{i}.bias"))?;
            h = bias_layer(&w.matmul(&h)?, b, i + 1 < layers)?;
        }
        Ok(h.transpose(1, 2)?)
    }
}

/// `z + b` (then ReLU when `relu`) for `z (T, out, B)`, `b (T, out)`.
fn bias_layer(z: &Tensor, b: &Tensor, relu: bool) -> Result<Tensor> {
    let (tasks, out, batch) = z.dims3()?;
    let flat = z.reshape((1, tasks * out, batch))?;
    let shift = b.flatten_all()?;
    if shift.dim(0)? != tasks * out {
        return Err(Error::ShapeMismatch {
            what: "MLP bias",
            expected: format!("({tasks}, {out})"),
            got: b.dims().to_vec(),
        });
    }
    let ones = shift.ones_like()?;
    let y = if relu {
        fused::affine_relu(&flat, &ones, &shift)?
    } else {
        fused::affine(&flat, &ones, &shift)?
    };
    Ok(y.reshape((tasks, out, batch))?)
}

impl Functional for Mlp {
    fn forward(&self, params: &ParamSet, x: &Tensor) -> Result<Tensor> {
        Mlp::forward(self, params, x)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_shapes_and_forward() {
        let (mlp, params) = Mlp::new(&[1, 40, 40, 1], 0).unwrap();
        let names: Vec<&str> = params.names().collect();
        assert_eq!(names, mlp.param_names());
        assert_eq!(names[0], "layers.0.weight");
        assert_eq!(params.get("layers.1.weight").unwrap().dims(), &[40, 40]);
        assert_eq!(params.numel(), 40 + 40 + 1600 + 40 + 40 + 1);
        let x = Tensor::zeros((5, 1), DType::F32, &Device::Cpu).unwrap();
        assert_eq!(mlp.forward_one(&params, &x).unwrap().dims(), &[5, 1]);
        let bound = params.get("layers.1.weight").unwrap().abs().unwrap();
        let max = bound.max_all().unwrap().to_scalar::<f32>().unwrap();
        assert!(max <= 1.0 / 40f32.sqrt());
    }

    #[test]
    fn f64_and_reproducible() {
        let (_, a) = Mlp::new_with(&[2, 3], 9, DType::F64, &Device::Cpu).unwrap();
        let (_, b) = Mlp::new_with(&[2, 3], 9, DType::F64, &Device::Cpu).unwrap();
        let (a, b) = (
            a.get("layers.0.weight").unwrap(),
            b.get("layers.0.weight").unwrap(),
        );
        assert_eq!(a.dtype(), DType::F64);
        assert_eq!(a.to_vec2::<f64>().unwrap(), b.to_vec2::<f64>().unwrap());
    }

    #[test]
    fn bad_sizes_are_errors() {
        assert!(matches!(
            Mlp::new(&[3], 0),
            Err(Error::InvalidConfig { .. })
        ));
        assert!(matches!(
            Mlp::new(&[3, 0, 1], 0),
            Err(Error::InvalidConfig { .. })
        ));
        let bad = Mlp::new_with(&[1, 1], 0, DType::U8, &Device::Cpu);
        assert!(matches!(bad, Err(Error::InvalidConfig { .. })));
    }
}
