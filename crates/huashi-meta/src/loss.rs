//! Task losses over a task-batched prediction.
//!
//! Predictions carry a leading task dimension `T`: `(T, B, outputs)`.
//! [`Loss::per_task`] returns the `T` task losses, each a mean over its own
//! `B` points, so that the gradient of their **sum** with respect to a
//! task's own parameters is that task's gradient (the task dimension is
//! folded into one computation, never looped over).
//!
//! - Mean squared error: `L = 1/(B·outputs) Σ (ŷ − y)²`.
//! - Cross-entropy on logits: `L = −1/B Σ_b log softmax(ŷ_b)[y_b]`, built
//!   from elementwise ops and a one-hot mask (no gather), so it can be
//!   differentiated to any order. The maximum subtracted for stability is
//!   detached, which is exact: log-softmax is shift invariant.

use crate::error::{Error, Result};
use candle_core::{DType, Tensor, D};

/// The task loss.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Loss {
    /// Mean squared error (regression, as for sinusoids); targets have the
    /// prediction's shape.
    #[default]
    Mse,
    /// Softmax cross-entropy on logits `(T, B, N)`; targets are `u32` labels
    /// `(T, B)` in `0..N`.
    CrossEntropy,
}

impl Loss {
    /// The `T` task losses of a task-batched `prediction` against `target`.
    ///
    /// # Shapes
    /// `prediction (T, B, …)` and, for MSE, `target` of the same shape; for
    /// cross-entropy `prediction (T, B, N)` and `u32` labels `target (T, B)` → `(T)`.
    ///
    /// # Errors
    /// Candle's for mismatched shapes; [`Error::InvalidConfig`] for a label outside `0..N`.
    pub fn per_task(&self, prediction: &Tensor, target: &Tensor) -> Result<Tensor> {
        match self {
            Loss::Mse => {
                let tasks = prediction.dim(0)?;
                let diff = (prediction - target)?.sqr()?;
                Ok(diff.reshape((tasks, ()))?.mean(1)?)
            }
            Loss::CrossEntropy => {
                let log_p = log_softmax(prediction)?;
                let mask = one_hot(target, prediction.dim(D::Minus1)?, prediction.dtype())?;
                Ok((log_p * mask)?.sum(D::Minus1)?.mean(D::Minus1)?.neg()?)
            }
        }
    }

    /// The sum of the task losses (whose gradient is each task's gradient
    /// in its own slice of task-batched parameters).
    ///
    /// # Shapes
    /// As [`Self::per_task`] → a scalar.
    ///
    /// # Errors
    /// As [`Self::per_task`].
    pub fn summed(&self, prediction: &Tensor, target: &Tensor) -> Result<Tensor> {
        Ok(self.per_task(prediction, target)?.sum_all()?)
    }

    /// The mean of the task losses (the meta-loss over a meta-batch).
    ///
    /// # Shapes
    /// As [`Self::per_task`] → a scalar.
    ///
    /// # Errors
    /// As [`Self::per_task`].
    pub fn mean(&self, prediction: &Tensor, target: &Tensor) -> Result<Tensor> {
        Ok(self.per_task(prediction, target)?.mean_all()?)
    }
}

/// `log softmax` over the last dimension, with the maximum detached.
///
/// # Errors
/// Only candle's, e.g. for a rank-0 `logits`.
pub fn log_softmax(logits: &Tensor) -> Result<Tensor> {
    let max = logits.max_keepdim(D::Minus1)?.detach();
    let shifted = logits.broadcast_sub(&max)?;
    let log_sum = shifted.exp()?.sum_keepdim(D::Minus1)?.log()?;
    Ok(shifted.broadcast_sub(&log_sum)?)
}

/// A one-hot mask `(…, classes)` of `labels` (`u32`, any shape) in `dtype`.
/// A label outside `0..classes` is an error naming it.
///
/// # Errors
/// [`Error::InvalidConfig`] for a label outside `0..classes`; candle's when
/// `labels` is not `u32`.
pub fn one_hot(labels: &Tensor, classes: usize, dtype: DType) -> Result<Tensor> {
    let flat = labels.flatten_all()?.to_vec1::<u32>()?;
    let mut mask = vec![0f32; flat.len() * classes];
    for (row, &label) in flat.iter().enumerate() {
        if label as usize >= classes {
            return Err(Error::InvalidConfig {
                what: "class label (outside 0..ways)",
                value: format!("{label} (ways {classes})"),
            });
        }
        mask[row * classes + label as usize] = 1.0;
    }
    let mut shape = labels.dims().to_vec();
    shape.push(classes);
    Ok(Tensor::from_vec(mask, shape, labels.device())?.to_dtype(dtype)?)
}

/// The fraction of correct argmax predictions per task: `(T,)` from logits
/// `(T, B, N)` and labels `(T, B)`.
///
/// # Errors
/// Candle's when `labels` is not `u32` or its shape is not `logits`' without the
/// last dimension.
pub fn accuracy_per_task(logits: &Tensor, labels: &Tensor) -> Result<Vec<f64>> {
    let predicted = logits.argmax(D::Minus1)?.to_dtype(DType::U32)?;
    let correct = predicted
        .eq(labels)?
        .to_dtype(DType::F64)?
        .mean(D::Minus1)?;
    Ok(correct.to_vec1::<f64>()?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::Device;

    #[test]
    fn cross_entropy_matches_the_formula() {
        let logits = Tensor::new(&[[[1.0f64, 2.0, 0.5], [0.0, 0.0, 3.0]]], &Device::Cpu).unwrap();
        let labels = Tensor::new(&[[1u32, 0]], &Device::Cpu).unwrap();
        let loss = Loss::CrossEntropy.per_task(&logits, &labels).unwrap();
        let lse = |v: [f64; 3]| v.iter().map(|x| x.exp()).sum::<f64>().ln();
        let expected = ((lse([1.0, 2.0, 0.5]) - 2.0) + (lse([0.0, 0.0, 3.0]) - 0.0)) / 2.0;
        let got = loss.to_vec1::<f64>().unwrap()[0];
        assert!((got - expected).abs() < 1e-12, "{got} vs {expected}");
        let acc = accuracy_per_task(&logits, &labels).unwrap();
        assert_eq!(acc, vec![0.5]);
    }

    #[test]
    fn mse_is_per_task() {
        let p = Tensor::new(&[[[1.0f64], [1.0]], [[0.0], [2.0]]], &Device::Cpu).unwrap();
        let y = p.zeros_like().unwrap();
        let l = Loss::Mse
            .per_task(&p, &y)
            .unwrap()
            .to_vec1::<f64>()
            .unwrap();
        assert_eq!(l, vec![1.0, 2.0]);
    }

    #[test]
    fn labels_out_of_range_are_errors() {
        let labels = Tensor::new(&[[3u32]], &Device::Cpu).unwrap();
        assert!(matches!(
            one_hot(&labels, 3, DType::F32),
            Err(Error::InvalidConfig { .. })
        ));
    }
}
