//! Repeating a tensor along a new leading task dimension, and its adjoint.
//!
//! ```text
//! op                      result      backward of ḡ
//! tile_T(x)[t, i] = x[i]  (T, d…)     sum_T(ḡ)
//! sum_T(g)[i] = Σ_t g[t, i]  (d…)     tile_T(ḡ)
//! ```
//!
//! Each op's backward is the other, so gradients of every order are exact
//! (as the convolution ops of `huashi_conv::ops`). candle's own
//! `broadcast_as` gives the same values, but its backward sums over the
//! leading dimension with an index division per element: in sinusoid MAML
//! that sum was a fifth of all cycles. Here both are one contiguous pass.

use candle_core::{CpuStorage, CustomOp1, Layout, Shape, Tensor};
use huashi_conv::custom::{run_unary, UnaryKernel};
use huashi_conv::kernels::Real;
use rayon::prelude::*;

/// Elements below which the sum runs on one thread.
const PARALLEL_MIN: usize = 1 << 16;

/// `tile_T` (`sum: false`) or `sum_T` (`sum: true`) with `tasks = T`.
#[derive(Debug, Clone, Copy)]
struct TaskOp {
    tasks: usize,
    sum: bool,
}

/// `x` repeated `tasks` times along a new leading dimension.
///
/// # Shapes
/// `x (d…)` → `(tasks, d…)`.
///
/// # Errors
/// Candle's when `x` is not f32 or f64.
pub(crate) fn tile(x: &Tensor, tasks: usize) -> candle_core::Result<Tensor> {
    x.contiguous()?.apply_op1(TaskOp { tasks, sum: false })
}

impl UnaryKernel for TaskOp {
    fn run<T: Real>(&self, x: &[T]) -> Vec<T> {
        if self.sum {
            sum_tasks(x, self.tasks)
        } else {
            x.repeat(self.tasks)
        }
    }
}

impl TaskOp {
    fn shape(&self, dims: &[usize]) -> candle_core::Result<Shape> {
        if !self.sum {
            return Ok(Shape::from([&[self.tasks], dims].concat()));
        }
        match dims.split_first() {
            Some((&t, rest)) if t == self.tasks => Ok(Shape::from(rest.to_vec())),
            _ => candle_core::bail!("sum over {} tasks: operand {dims:?}", self.tasks),
        }
    }
}

/// `Σ_t g[t, i]` over the `tasks` equal blocks of `g`.
fn sum_tasks<T: Real>(g: &[T], tasks: usize) -> Vec<T> {
    let n = g.len() / tasks.max(1);
    let mut out = vec![T::ZERO; n];
    let add_block = |(offset, out): (usize, &mut [T])| {
        for t in 0..tasks {
            let block = &g[t * n + offset..][..out.len()];
            out.iter_mut().zip(block).for_each(|(o, &b)| *o += b);
        }
    };
    if g.len() < PARALLEL_MIN {
        add_block((0, &mut out));
    } else {
        let chunk = n.div_ceil(rayon::current_num_threads()).max(1024);
        out.par_chunks_mut(chunk)
            .enumerate()
            .for_each(|(i, o)| add_block((i * chunk, o)));
    }
    out
}

impl CustomOp1 for TaskOp {
    fn name(&self) -> &'static str {
        if self.sum {
            "huashi-sum-tasks"
        } else {
            "huashi-tile-tasks"
        }
    }

    fn cpu_fwd(&self, s: &CpuStorage, l: &Layout) -> candle_core::Result<(CpuStorage, Shape)> {
        let shape = self.shape(l.dims())?;
        Ok((run_unary(self, self.name(), s, l)?, shape))
    }

    fn bwd(&self, _x: &Tensor, _y: &Tensor, g: &Tensor) -> candle_core::Result<Option<Tensor>> {
        let adjoint = TaskOp {
            tasks: self.tasks,
            sum: !self.sum,
        };
        g.contiguous()?.apply_op1(adjoint).map(Some)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::{DType, Device, Var};

    fn close(a: &Tensor, b: &Tensor) -> bool {
        let d = (a - b).unwrap().abs().unwrap().max_all().unwrap();
        d.to_dtype(DType::F64).unwrap().to_scalar::<f64>().unwrap() < 1e-12
    }

    #[test]
    fn tile_and_its_gradients_equal_a_broadcast() {
        // Large enough for the parallel sum: 3·(200·200) elements.
        for shape in [vec![2usize, 3], vec![200, 200]] {
            let x = Var::randn(0f64, 1.0, shape.as_slice(), &Device::Cpu).unwrap();
            let w = Tensor::randn(0f64, 1.0, [&[3], shape.as_slice()].concat(), &Device::Cpu);
            let w = w.unwrap();
            let ours = tile(x.as_tensor(), 3).unwrap();
            let theirs = x.unsqueeze(0).unwrap().broadcast_as(ours.shape()).unwrap();
            assert!(close(&ours, &theirs));
            // d/dx Σ w ⊙ tile(x)² = 2 Σ_t w_t ⊙ x; its second derivative
            // along a direction v is 2 Σ_t w_t ⊙ v.
            let loss = |t: &Tensor| (t.sqr().unwrap() * &w).unwrap().sum_all().unwrap();
            let g_ours = loss(&ours).backward().unwrap().get(&x).unwrap().clone();
            let g_theirs = loss(&theirs).backward().unwrap().get(&x).unwrap().clone();
            assert!(close(&g_ours, &g_theirs));
            let expected = ((w.sum(0).unwrap() * x.as_tensor()).unwrap() * 2.0).unwrap();
            assert!(close(&g_ours, &expected));
        }
    }

    #[test]
    fn second_order_goes_through_the_adjoint() {
        std::env::set_var("CANDLE_GRAD_DO_NOT_DETACH", "1");
        let x = Var::new(&[1.0f64, -2.0], &Device::Cpu).unwrap();
        let v = Tensor::new(&[0.5f64, 3.0], &Device::Cpu).unwrap();
        // f(x) = Σ_t Σ_i tile(x)[t,i]³ = 3 Σ x³ (T = 3); ∇f = 9x²;
        // ∇(∇f · v) = 18 x ⊙ v.
        let f = tile(x.as_tensor(), 3)
            .unwrap()
            .powf(3.0)
            .unwrap()
            .sum_all()
            .unwrap();
        let g = f.backward().unwrap().get(&x).unwrap().clone();
        let gv = (g * &v).unwrap().sum_all().unwrap();
        let h = gv.backward().unwrap().get(&x).unwrap().clone();
        let expected = ((x.as_tensor() * &v).unwrap() * 18.0).unwrap();
        assert!(close(&h, &expected), "{h} vs {expected}");
    }

    #[test]
    fn a_sum_over_the_wrong_task_count_is_an_error() {
        let g = Tensor::zeros((4, 2), DType::F32, &Device::Cpu).unwrap();
        let op = TaskOp {
            tasks: 3,
            sum: true,
        };
        assert!(g.apply_op1(op).is_err());
    }
}
