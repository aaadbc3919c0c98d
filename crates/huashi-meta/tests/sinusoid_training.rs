//! A short MAML run on sinusoids (plain SGD on the meta-gradient) lowers the
//! post-adaptation error on held-out tasks: an end-to-end smoke test, not the
//! paper's protocol (that is a benchmark run, not a test).

use candle_core::{DType, Device};
use huashi_meta::{gradients, to_vars, Maml, MetaModel, ModelSpec, ParamSet, Sinusoid, Task};

fn held_out_mse(maml: &Maml, mlp: &MetaModel, params: &ParamSet, tasks: &[Task]) -> f64 {
    let mut total = 0.0;
    for task in tasks {
        let adapted = maml.adapt_detached(mlp, params, &task.support).unwrap();
        let loss = maml.task_loss(mlp, &adapted, &task.query).unwrap();
        total += loss
            .to_dtype(DType::F64)
            .unwrap()
            .to_scalar::<f64>()
            .unwrap();
    }
    total / tasks.len() as f64
}

#[test]
fn meta_training_lowers_the_adapted_error() {
    std::env::set_var("CANDLE_GRAD_DO_NOT_DETACH", "1");
    let device = Device::Cpu;
    let (mlp, params) = ModelSpec::mlp(&[1, 40, 40, 1])
        .build_with(1, DType::F32)
        .unwrap();
    let maml = Maml {
        inner_lr: 0.01,
        inner_steps: 1,
        ..Maml::default()
    };
    let train = Sinusoid::new(1);
    let test = Sinusoid::new(2)
        .meta_batch(0, 50, 10, 20, DType::F32, &device)
        .unwrap();
    let before = held_out_mse(&maml, &mlp, &params, &test);
    let (vars, set) = to_vars(&params).unwrap();
    for iteration in 0..300u64 {
        let tasks = train
            .meta_batch(iteration * 10, 10, 10, 10, DType::F32, &device)
            .unwrap();
        let loss = maml.meta_loss(&mlp, &set, &tasks).unwrap();
        let grads = gradients(&set, &loss.backward().unwrap()).unwrap();
        for (var, (_, g)) in vars.iter().zip(grads.iter()) {
            let step = (var.as_tensor() - g.affine(0.01, 0.0).unwrap()).unwrap();
            var.set(&step).unwrap();
        }
    }
    let after = held_out_mse(&maml, &mlp, &set, &test);
    eprintln!("held-out MSE after one step: {before:.3} -> {after:.3}");
    assert!(after < 0.8 * before, "{before} -> {after}");
}
