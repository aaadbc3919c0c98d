//! MAML through a network *described* in huashi-net's TOML (not one of the
//! papers' networks): a residual `add`, a `concat`, max pooling, batch norm
//! with each task's batch statistics (fused with its ReLU), a depthwise-
//! separable convolution and a linear head. The meta-gradient by
//! backpropagation equals central finite differences of the whole inner +
//! outer computation (f64, relative error ≤ 1e-6) for 1 and 2 inner steps;
//! first order is the gradient at the adapted parameters (theory), a
//! different vector; ANIL adapts only the named node and its meta-gradient
//! is exact too.

use candle_core::{DType, Device, Tensor};
use huashi_meta::{Batch, Loss, Maml, MetaModel, ModelSpec, ParamSet, Task};
use huashi_net::Network;

mod gradcheck;
use gradcheck::{enable_second_order, finite_differences, flat, meta_gradient, relative_error};

const NETWORK: &str = r#"
name = "branches"
input_shape = [2, 6, 6]

[[nodes]]
name = "stem"
op = "conv"
out_channels = 3
kernel = 3
padding = 1

[[nodes]]
name = "stem.bn"
op = "batch_norm"

[[nodes]]
name = "stem.relu"
op = "activation"
function = "relu"

[[nodes]]
name = "branch"
op = "separable"
out_channels = 3
kernel = 3
padding = 1

[[nodes]]
name = "branch.tanh"
op = "activation"
function = "tanh"

[[nodes]]
name = "residual"
op = "add"
inputs = ["stem.relu", "branch.tanh"]

[[nodes]]
name = "side"
op = "pointwise"
out_channels = 2
inputs = ["stem.relu"]

[[nodes]]
name = "joined"
op = "concat"
inputs = ["residual", "side"]

[[nodes]]
name = "pool"
op = "max_pool"
kernel = 2

[[nodes]]
name = "flatten"
op = "flatten"

[[nodes]]
name = "head"
op = "linear"
out_features = 2
"#;

/// The described network, f64, and two 2-way tasks (2 support and 3 query
/// images per class) of fixed pseudo-random 6×6 two-channel images.
fn setup(adapt_only: &[&str]) -> (MetaModel, ParamSet, Vec<Task>) {
    let network = Network::from_toml(NETWORK).unwrap();
    let mut spec = ModelSpec::description("branches", network, [2, 6, 6]);
    spec.adapt_only = adapt_only.iter().map(|s| s.to_string()).collect();
    let (model, params) = spec.build_with(7, DType::F64).unwrap();
    let mut state = 3_u64;
    let mut batch = |per_class: usize| -> Batch {
        let n = 2 * per_class;
        let pixels: Vec<f64> = (0..n * 72)
            .map(|_| {
                state = state
                    .wrapping_mul(6_364_136_223_846_793_005)
                    .wrapping_add(1);
                (state >> 11) as f64 / (1u64 << 53) as f64 - 0.5
            })
            .collect();
        let labels: Vec<u32> = (0..2).flat_map(|c| vec![c; per_class]).collect();
        Batch {
            x: Tensor::from_vec(pixels, (n, 2, 6, 6), &Device::Cpu).unwrap(),
            y: Tensor::new(labels, &Device::Cpu).unwrap(),
        }
    };
    let tasks = (0..2)
        .map(|_| Task {
            support: batch(2),
            query: batch(3),
        })
        .collect();
    (model, params, tasks)
}

/// α = 0.05: finite differences hold only away from ReLU and max-pool
/// kinks, and an inner step moves the parameters by α·∇L, where ∇L jumps
/// at a kink, so the meta-loss itself jumps there. With α = 0.3 one point
/// of this fixed data lies within the stencil of such a jump at the second
/// step (every component then differs by the same ±18 = jump/2h); at 0.05
/// none does.
fn maml(steps: usize) -> Maml {
    Maml {
        inner_lr: 0.05,
        inner_steps: steps,
        loss: Loss::CrossEntropy,
        ..Maml::default()
    }
}

fn check(steps: usize) {
    enable_second_order();
    let (model, params, tasks) = setup(&[]);
    let maml = maml(steps);
    let analytic = meta_gradient(&maml, &model, &params, &tasks);
    let numeric = finite_differences(&maml, &model, &params, &tasks);
    let error = relative_error(&analytic, &numeric);
    eprintln!("described network, {steps} steps: second-order error {error:e}");

    assert!(error <= 1e-6, "{steps} steps: relative error {error:e}");
    let first_order = Maml {
        first_order: true,
        ..maml
    };
    let first = meta_gradient(&first_order, &model, &params, &tasks);
    let gap = relative_error(&first, &numeric);
    assert!(gap > 1e-4, "{steps} steps: first order too close ({gap:e})");
}

#[test]
fn second_order_matches_finite_differences_one_step() {
    check(1);
}

#[test]
fn second_order_matches_finite_differences_two_steps() {
    check(2);
}

#[test]
fn first_order_is_the_gradient_at_the_adapted_parameters() {
    enable_second_order();
    let (model, params, tasks) = setup(&[]);
    let maml = Maml {
        first_order: true,
        ..maml(2)
    };
    let first = meta_gradient(&maml, &model, &params, &tasks[..1]);
    let adapted = maml.adapt(&model, &params, &tasks[0].support).unwrap();
    let (_vars, adapted) = huashi_meta::to_vars(&adapted).unwrap();
    let query = maml.task_loss(&model, &adapted, &tasks[0].query).unwrap();
    let direct = huashi_meta::gradients(&adapted, &query.backward().unwrap()).unwrap();
    assert!(relative_error(&first, &flat(&direct)) < 1e-12);
}

#[test]
fn anil_adapts_the_named_node_only_and_its_meta_gradient_is_exact() {
    enable_second_order();
    let (model, params, tasks) = setup(&["side", "head"]);
    let head = model.head_names();
    assert_eq!(
        head,
        ["side.weight", "side.bias", "head.weight", "head.bias"]
    );
    let anil = Maml {
        adapt_only: Some(head),
        ..maml(2)
    };
    let analytic = meta_gradient(&anil, &model, &params, &tasks);
    let numeric = finite_differences(&anil, &model, &params, &tasks);
    let error = relative_error(&analytic, &numeric);
    assert!(error <= 1e-6, "ANIL: relative error {error:e}");
    let adapted = anil.adapt(&model, &params, &tasks[0].support).unwrap();
    for (name, t) in params.iter() {
        let same = flat(&one(name, t)) == flat(&one(name, adapted.get(name).unwrap()));
        let adapts = name.starts_with("side.") || name.starts_with("head.");
        assert_eq!(same, !adapts, "{name}");
    }
}

#[test]
fn unknown_or_parameterless_anil_and_output_nodes_are_errors() {
    let network = Network::from_toml(NETWORK).unwrap();
    let mut spec = ModelSpec::description("branches", network, [2, 6, 6]);
    spec.adapt_only = vec!["pool".into()];
    let err = spec.build(0).unwrap_err().to_string();
    assert!(err.contains("pool"), "{err}");
    spec.adapt_only = vec!["nope".into()];
    assert!(spec.build(0).unwrap_err().to_string().contains("nope"));
    spec.adapt_only.clear();
    spec.output = Some("nowhere".into());
    assert!(spec.build(0).unwrap_err().to_string().contains("nowhere"));
}

fn one(name: &str, t: &Tensor) -> ParamSet {
    let mut set = ParamSet::new();
    set.insert(name, t.clone());
    set
}
