//! Meta-gradients by backpropagation and by central finite differences of
//! the whole inner + outer computation (f64), shared by the gradient tests.

use candle_core::Tensor;
use huashi_meta::{gradients, to_vars, Functional, Maml, ParamSet, Task};

pub fn enable_second_order() {
    std::env::set_var("CANDLE_GRAD_DO_NOT_DETACH", "1");
}

/// The meta-gradient by backpropagation, flattened in parameter order.
pub fn meta_gradient<M: Functional>(
    maml: &Maml,
    mlp: &M,
    params: &ParamSet,
    tasks: &[Task],
) -> Vec<f64> {
    let (_vars, set) = to_vars(params).unwrap();
    let loss = maml.meta_loss(mlp, &set, tasks).unwrap();
    flat(&gradients(&set, &loss.backward().unwrap()).unwrap())
}

/// Central finite differences of the meta-loss, step `h`.
pub fn finite_differences<M: Functional>(
    maml: &Maml,
    mlp: &M,
    params: &ParamSet,
    tasks: &[Task],
) -> Vec<f64> {
    let h = 1e-5;
    let mut out = Vec::new();
    for (name, t) in params.iter() {
        let base = t.flatten_all().unwrap().to_vec1::<f64>().unwrap();
        for i in 0..base.len() {
            let value = |delta: f64| {
                let mut v = base.clone();
                v[i] += delta;
                let mut p = params.clone();
                p.insert(name, Tensor::from_vec(v, t.shape(), t.device()).unwrap());
                let loss = maml.meta_loss(mlp, &p, tasks).unwrap();
                loss.to_scalar::<f64>().unwrap()
            };
            out.push((value(h) - value(-h)) / (2.0 * h));
        }
    }
    out
}

pub fn relative_error(a: &[f64], b: &[f64]) -> f64 {
    let diff: f64 = a.iter().zip(b).map(|(x, y)| (x - y).powi(2)).sum();
    let norm: f64 = b.iter().map(|y| y * y).sum();
    (diff / norm).sqrt()
}

pub fn flat(set: &ParamSet) -> Vec<f64> {
    set.iter()
        .flat_map(|(_, t)| t.flatten_all().unwrap().to_vec1::<f64>().unwrap())
        .collect()
}
