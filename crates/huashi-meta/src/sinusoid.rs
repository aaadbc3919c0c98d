//! The sinusoid regression task family of Finn, Abbeel & Levine (ICML 2017,
//! §5.1): a task is `y = A·sin(x − φ)` with amplitude `A ~ U[0.1, 5]` and
//! phase `φ ~ U[0, π]`; inputs are drawn `x ~ U[−5, 5]`. Training uses
//! K = 10 support points per task, evaluation K = 5 or 10.
//!
//! Task `i` of a [`Sinusoid`] sampler depends only on `(seed, i)`, so runs are
//! reproducible whatever order tasks are drawn in.

use crate::error::{Error, Result};
use crate::task::{Batch, Task};
use candle_core::{DType, Device, Tensor};
use huashi_rng::Rng;

/// One sinusoid `y = amplitude · sin(x − phase)`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SinusoidTask {
    /// Amplitude `A`.
    pub amplitude: f64,
    /// Phase `φ`.
    pub phase: f64,
}

impl SinusoidTask {
    /// The target at `x`.
    pub fn value(&self, x: f64) -> f64 {
        self.amplitude * (x - self.phase).sin()
    }
}

/// A seeded sampler of sinusoid tasks with the paper's ranges.
#[derive(Debug, Clone)]
pub struct Sinusoid {
    /// The seed; task `i` uses stream `i` of it.
    pub seed: u64,
    /// Amplitude range, `[0.1, 5]` in the paper.
    pub amplitude: [f64; 2],
    /// Phase range, `[0, π]` in the paper.
    pub phase: [f64; 2],
    /// Input range, `[−5, 5]` in the paper.
    pub x: [f64; 2],
}

impl Sinusoid {
    /// The paper's task distribution with `seed`.
    pub fn new(seed: u64) -> Self {
        Sinusoid {
            seed,
            amplitude: [0.1, 5.0],
            phase: [0.0, std::f64::consts::PI],
            x: [-5.0, 5.0],
        }
    }

    /// Task `index` with `support` support points and `query` query points
    /// (all drawn independently from the input range), in `dtype` on
    /// `device`.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] when `support` or `query` is 0; candle's for a
    /// `dtype` it cannot convert to.
    pub fn task(
        &self,
        index: u64,
        support: usize,
        query: usize,
        dtype: DType,
        device: &Device,
    ) -> Result<(SinusoidTask, Task)> {
        if support == 0 || query == 0 {
            return Err(Error::InvalidConfig {
                what: "sinusoid support/query sizes (must be positive)",
                value: format!("{support}/{query}"),
            });
        }
        let mut rng = Rng::indexed(self.seed, "sinusoid task", index);
        let sinusoid = SinusoidTask {
            amplitude: rng.uniform_in(self.amplitude[0], self.amplitude[1]),
            phase: rng.uniform_in(self.phase[0], self.phase[1]),
        };
        let mut batch = |points: usize| -> Result<Batch> {
            let xs: Vec<f64> = (0..points)
                .map(|_| rng.uniform_in(self.x[0], self.x[1]))
                .collect();
            let ys: Vec<f64> = xs.iter().map(|&x| sinusoid.value(x)).collect();
            Ok(Batch {
                x: Tensor::from_vec(xs, (points, 1), device)?.to_dtype(dtype)?,
                y: Tensor::from_vec(ys, (points, 1), device)?.to_dtype(dtype)?,
            })
        };
        let support = batch(support)?;
        let query = batch(query)?;
        Ok((sinusoid, Task { support, query }))
    }

    /// The meta-batch of tasks `first .. first + count`.
    ///
    /// # Errors
    /// As [`Self::task`].
    pub fn meta_batch(
        &self,
        first: u64,
        count: usize,
        support: usize,
        query: usize,
        dtype: DType,
        device: &Device,
    ) -> Result<Vec<Task>> {
        (first..first + count as u64)
            .map(|i| Ok(self.task(i, support, query, dtype, device)?.1))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_shapes_and_reproducibility() {
        let s = Sinusoid::new(1);
        for i in 0..200 {
            let (t, data) = s.task(i, 10, 15, DType::F64, &Device::Cpu).unwrap();
            assert!((0.1..5.0).contains(&t.amplitude));
            assert!((0.0..std::f64::consts::PI).contains(&t.phase));
            assert_eq!(data.support.x.dims(), &[10, 1]);
            assert_eq!(data.query.y.dims(), &[15, 1]);
            let x = data
                .support
                .x
                .flatten_all()
                .unwrap()
                .to_vec1::<f64>()
                .unwrap();
            let y = data
                .support
                .y
                .flatten_all()
                .unwrap()
                .to_vec1::<f64>()
                .unwrap();
            for (x, y) in x.iter().zip(&y) {
                assert!((-5.0..5.0).contains(x));
                assert!((t.value(*x) - y).abs() < 1e-12);
            }
        }
        let a = s.task(7, 5, 5, DType::F32, &Device::Cpu).unwrap().0;
        let b = Sinusoid::new(1)
            .task(7, 3, 9, DType::F64, &Device::Cpu)
            .unwrap()
            .0;
        assert_eq!(a, b);
        assert_ne!(a, s.task(8, 5, 5, DType::F32, &Device::Cpu).unwrap().0);
    }

    #[test]
    fn empty_sets_are_errors() {
        let err = Sinusoid::new(0).task(0, 0, 5, DType::F32, &Device::Cpu);
        assert!(matches!(err, Err(Error::InvalidConfig { .. })));
    }
}
