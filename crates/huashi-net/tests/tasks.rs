//! The task-batched pass (`Model::forward_tasks`) against the ordinary
//! forward pass, task by task: with running statistics, task `t` of the
//! batched output equals `Model::forward` with task `t`'s parameters, for a
//! network using every op kind (grouped, depthwise, separable, spatially
//! separable and transposed convolutions, both poolings, batch norm on maps
//! and vectors, element-wise merges, concatenation of maps and of vectors,
//! channel shuffles and slices of maps and of vectors, a per-channel
//! affine map, softmax, linear layers). With batch statistics, each task is normalised
//! by its own batch alone.

use candle_core::{DType, Device, Tensor};
use huashi_net::{Model, Network, Norm, ParamSet};

const NETWORK: &str = r#"
input_shape = [4, 8, 8]
[[nodes]]
name = "grouped"
op = "conv"
out_channels = 4
kernel = 3
padding = 1
groups = 2
[[nodes]]
name = "bn"
op = "batch_norm"
[[nodes]]
name = "relu"
op = "activation"
function = "relu"
[[nodes]]
name = "dw"
op = "depthwise"
kernel = 3
multiplier = 2
padding = "same_torch"
[[nodes]]
name = "sep"
op = "separable"
out_channels = 4
kernel = 3
padding = 1
inputs = ["relu"]
[[nodes]]
name = "spatial"
op = "spatially_separable"
out_channels = 4
kernel = 3
padding = 1
inputs = ["relu"]
[[nodes]]
name = "sum"
op = "add"
inputs = ["sep", "spatial"]
[[nodes]]
name = "maps"
op = "concat"
inputs = ["dw", "sum"]
[[nodes]]
name = "shuffled"
op = "channel_shuffle"
groups = 3
[[nodes]]
name = "part"
op = "slice"
start = 2
end = 10
[[nodes]]
name = "layer_scale"
op = "channel_affine"
add = true
[[nodes]]
name = "up"
op = "conv_transpose"
out_channels = 3
kernel = 2
stride = 2
[[nodes]]
name = "down"
op = "max_pool"
kernel = 2
[[nodes]]
name = "avg"
op = "avg_pool"
kernel = 2
[[nodes]]
name = "flat"
op = "flatten"
[[nodes]]
name = "fc"
op = "linear"
out_features = 6
[[nodes]]
name = "fc.bn"
op = "batch_norm"
[[nodes]]
name = "fc.relu"
op = "activation"
function = "relu"
[[nodes]]
name = "gap"
op = "global_avg_pool"
inputs = ["maps"]
[[nodes]]
name = "gap.flat"
op = "flatten"
[[nodes]]
name = "vectors"
op = "concat"
inputs = ["fc.relu", "gap.flat"]
[[nodes]]
name = "vectors.part"
op = "slice"
start = 1
end = 17
[[nodes]]
name = "vectors.shuffled"
op = "channel_shuffle"
groups = 2
[[nodes]]
name = "head"
op = "linear"
out_features = 3
[[nodes]]
name = "probabilities"
op = "activation"
function = "softmax"
"#;

const TASKS: usize = 3;

/// The model, per-task parameters (each task its own seed, random running
/// statistics) and their task-batched stack, in f64.
fn setup() -> (Model, Vec<ParamSet>, ParamSet) {
    let network = Network::from_toml(NETWORK).unwrap();
    let model = Model::compile(&network, [4, 8, 8]).unwrap();
    let per_task: Vec<ParamSet> = (0..TASKS as u64)
        .map(|t| {
            let p = model.init(t, &Device::Cpu).unwrap();
            p.map(|name, x| {
                let x = x.to_dtype(DType::F64)?;
                if name.ends_with("running_var") {
                    x.affine(0.5, 0.7)
                } else if name.ends_with("running_mean") || name.starts_with("layer_scale.") {
                    x.affine(1.0, 0.1 * t as f64)
                } else {
                    Ok(x)
                }
            })
            .unwrap()
        })
        .collect();
    let stacked = per_task[0]
        .map(|name, _| {
            let all: Vec<&Tensor> = per_task.iter().map(|p| p.get(name).unwrap()).collect();
            Tensor::stack(&all, 0)
        })
        .unwrap();
    (model, per_task, stacked)
}

fn max_diff(a: &Tensor, b: &Tensor) -> f64 {
    (a - b)
        .unwrap()
        .abs()
        .unwrap()
        .flatten_all()
        .unwrap()
        .max(0)
        .unwrap()
        .to_scalar::<f64>()
        .unwrap()
}

#[test]
fn running_statistics_equal_the_ordinary_forward_pass_per_task() {
    let (model, per_task, stacked) = setup();
    let x = Tensor::randn(0f64, 1.0, (TASKS, 5, 4, 8, 8), &Device::Cpu).unwrap();
    let batched = model.forward_tasks(&stacked, &x, Norm::Running).unwrap();
    assert_eq!(batched.dims(), &[TASKS, 5, 3]);
    for (t, params) in per_task.iter().enumerate() {
        let one = model.forward(params, &x.get(t).unwrap()).unwrap();
        let d = max_diff(&batched.get(t).unwrap(), &one);
        assert!(d < 1e-12, "task {t}: {d}");
    }
    // An end point that is a map comes back as (T, B, C, H, W).
    let maps = model
        .forward_tasks_to(&stacked, &x, "maps", Norm::Running)
        .unwrap();
    assert_eq!(maps.dims(), &[TASKS, 5, 12, 8, 8]);
    let one = model
        .forward_to(&per_task[1], &x.get(1).unwrap(), "maps")
        .unwrap();
    assert!(max_diff(&maps.get(1).unwrap(), &one) < 1e-12);
    // The end point `bn` is computed without the ReLU fused into it.
    let bn = model
        .forward_tasks_to(&stacked, &x, "bn", Norm::Running)
        .unwrap();
    let one = model
        .forward_to(&per_task[2], &x.get(2).unwrap(), "bn")
        .unwrap();
    assert!(max_diff(&bn.get(2).unwrap(), &one) < 1e-12);
}

#[test]
fn batch_statistics_are_each_tasks_own() {
    let (model, per_task, stacked) = setup();
    let x = Tensor::randn(0f64, 1.0, (TASKS, 4, 4, 8, 8), &Device::Cpu).unwrap();
    let batched = model.forward_tasks(&stacked, &x, Norm::Batch).unwrap();
    for (t, params) in per_task.iter().enumerate() {
        let one_params = params.map(|_, p| p.unsqueeze(0)).unwrap();
        let xt = x.get(t).unwrap().unsqueeze(0).unwrap();
        let alone = model.forward_tasks(&one_params, &xt, Norm::Batch).unwrap();
        let d = max_diff(&batched.get(t).unwrap(), &alone.get(0).unwrap());
        assert!(d < 1e-12, "task {t}: {d}");
    }
}

#[test]
fn wrong_task_dimensions_are_errors() {
    let (model, per_task, stacked) = setup();
    let x = Tensor::zeros((TASKS, 2, 4, 8, 8), DType::F64, &Device::Cpu).unwrap();
    let err = model
        .forward_tasks(&per_task[0], &x, Norm::Batch)
        .unwrap_err();
    assert!(err.to_string().contains("grouped.weight"), "{err}");
    let flat = Tensor::zeros((2, 4, 8, 8), DType::F64, &Device::Cpu).unwrap();
    assert!(model.forward_tasks(&stacked, &flat, Norm::Batch).is_err());
}
