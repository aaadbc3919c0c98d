//! The functional model: every zoo model runs at a small input size with the
//! output shape of the analysis; parameters round-trip through safetensors
//! and mismatches are typed errors naming the tensor.

use candle_core::{DType, Device, Tensor};
use huashi_net::{zoo, Error, Model, Network, ParamSet, Shape};

/// The smallest of a few sizes the analysis accepts for `net`.
fn small_input(net: &Network) -> [usize; 3] {
    let c = net.input_shape.expect("zoo models have an input shape")[0];
    [32, 64, 75, 80, 96, 128, 160, 192, 224, 299]
        .into_iter()
        .map(|s| [c, s, s])
        .find(|&i| net.analyse(i).is_ok())
        .expect("some small size is valid")
}

fn dims(shape: Shape) -> Vec<usize> {
    match shape {
        Shape::Map {
            channels,
            height,
            width,
        } => vec![1, channels, height, width],
        Shape::Vector { features } => vec![1, features],
    }
}

#[test]
fn every_zoo_model_runs_with_the_analysed_output_shape() {
    for name in zoo::names() {
        let net = zoo::by_name(name).unwrap();
        let input = small_input(&net);
        let (model, params) = Model::new(&net, input, 1).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(params.numel() as u64, {
            let t = model.analysis().totals;
            t.params + t.moving_stats
        });
        let x = Tensor::rand(0f32, 1f32, (1, input[0], input[1], input[2]), &Device::Cpu).unwrap();
        let y = model
            .forward(&params, &x)
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(
            y.dims(),
            dims(model.analysis().output().output),
            "{name} at {input:?}"
        );
        let finite = y.flatten_all().unwrap().to_vec1::<f32>().unwrap();
        assert!(finite.iter().all(|v| v.is_finite()), "{name}");
    }
}

fn tiny() -> Network {
    Network::from_json(
        r#"{ "nodes": [
        { "name": "c", "op": "conv", "out_channels": 2, "kernel": 3 },
        { "name": "bn", "op": "batch_norm" },
        { "name": "s", "op": "separable", "out_channels": 3, "kernel": 3, "padding": "same_tf" },
        { "name": "f", "op": "flatten" },
        { "name": "fc", "op": "linear", "out_features": 4 }
    ] }"#,
    )
    .unwrap()
}

#[test]
fn names_follow_pytorch_and_init_is_seeded() {
    let (model, p) = Model::new(&tiny(), [1, 6, 6], 3).unwrap();
    let names: Vec<&str> = p.names().collect();
    assert_eq!(
        names,
        [
            "c.weight",
            "c.bias",
            "bn.weight",
            "bn.bias",
            "bn.running_mean",
            "bn.running_var",
            "s.depthwise.weight",
            "s.pointwise.weight",
            "s.pointwise.bias",
            "fc.weight",
            "fc.bias"
        ]
    );
    let w = p
        .get("c.weight")
        .unwrap()
        .flatten_all()
        .unwrap()
        .to_vec1::<f32>()
        .unwrap();
    assert!(w.iter().all(|v| v.abs() <= 1.0 / 3.0), "bound 1/sqrt(9)");
    let again = model.init(3, &Device::Cpu).unwrap();
    let w2 = again
        .get("c.weight")
        .unwrap()
        .flatten_all()
        .unwrap()
        .to_vec1::<f32>()
        .unwrap();
    assert_eq!(w, w2);
    let var = p.get("bn.running_var").unwrap().to_vec1::<f32>().unwrap();
    assert_eq!(var, [1.0, 1.0]);
}

#[test]
fn safetensors_round_trip() {
    let (model, p) = Model::new(&tiny(), [1, 6, 6], 3).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("p.safetensors");
    p.save(&path).unwrap();
    let q = model.load(&path, &Device::Cpu).unwrap();
    assert_eq!(q.names().collect::<Vec<_>>(), p.names().collect::<Vec<_>>());
    let x = Tensor::ones((2, 1, 6, 6), DType::F32, &Device::Cpu).unwrap();
    let (a, b) = (
        model.forward(&p, &x).unwrap(),
        model.forward(&q, &x).unwrap(),
    );
    let diff = (a - b)
        .unwrap()
        .abs()
        .unwrap()
        .sum_all()
        .unwrap()
        .to_scalar::<f32>()
        .unwrap();
    assert_eq!(diff, 0.0);
}

#[test]
fn mismatched_parameters_are_typed_errors_naming_the_tensor() {
    let (model, p) = Model::new(&tiny(), [1, 6, 6], 3).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("p.safetensors");
    let mut bad = p.clone();
    bad.insert(
        "fc.weight",
        Tensor::zeros((4, 5), DType::F32, &Device::Cpu).unwrap(),
    );
    bad.save(&path).unwrap();
    match model.load(&path, &Device::Cpu) {
        Err(Error::ParamShape {
            name,
            expected,
            got,
        }) => {
            assert_eq!(
                (name.as_str(), expected, got),
                ("fc.weight", vec![4, 48], vec![4, 5])
            )
        }
        other => panic!("{other:?}"),
    }
    let mut extra = p.clone();
    extra.insert(
        "ghost.weight",
        Tensor::zeros(1, DType::F32, &Device::Cpu).unwrap(),
    );
    assert!(
        matches!(model.check(&extra), Err(Error::UnexpectedParam { name }) if name == "ghost.weight")
    );
    let mut missing = ParamSet::new();
    missing.insert("c.weight", p.get("c.weight").unwrap().clone());
    assert!(
        matches!(model.check(&missing), Err(Error::MissingParam { name, .. }) if name == "c.bias")
    );
    let wrong = Tensor::ones((1, 1, 5, 6), DType::F32, &Device::Cpu).unwrap();
    assert!(matches!(
        model.forward(&p, &wrong),
        Err(Error::InputShape { .. })
    ));
}

/// Inference-mode batch norm: `γ·(x − μ)/√(σ² + 1e-5) + β`, then ReLU6,
/// global pooling and a linear layer, checked by hand.
#[test]
fn batch_norm_activation_and_linear_by_hand() {
    let net = Network::from_json(
        r#"{ "nodes": [
        { "name": "bn", "op": "batch_norm" },
        { "name": "act", "op": "activation", "function": "relu6" },
        { "name": "gap", "op": "global_avg_pool" },
        { "name": "f", "op": "flatten" },
        { "name": "fc", "op": "linear", "out_features": 1 }
    ] }"#,
    )
    .unwrap();
    let (model, mut p) = Model::new(&net, [2, 1, 2], 0).unwrap();
    let dev = Device::Cpu;
    p.insert("bn.weight", Tensor::new(&[2f32, 1.0], &dev).unwrap());
    p.insert("bn.bias", Tensor::new(&[1f32, 0.0], &dev).unwrap());
    p.insert("bn.running_mean", Tensor::new(&[1f32, -1.0], &dev).unwrap());
    p.insert("bn.running_var", Tensor::new(&[4f32, 1.0], &dev).unwrap());
    p.insert("fc.weight", Tensor::new(&[[1f32, 10.0]], &dev).unwrap());
    p.insert("fc.bias", Tensor::new(&[0.5f32], &dev).unwrap());
    let x = Tensor::new(&[[[[3f32, 9.0]], [[0f32, -3.0]]]], &dev).unwrap();
    let y = model.forward(&p, &x).unwrap().to_vec2::<f32>().unwrap()[0][0];
    let bn = |x: f64, g: f64, b: f64, m: f64, v: f64| g * (x - m) / (v + 1e-5).sqrt() + b;
    let relu6 = |v: f64| v.clamp(0.0, 6.0);
    let c0 = (relu6(bn(3.0, 2.0, 1.0, 1.0, 4.0)) + relu6(bn(9.0, 2.0, 1.0, 1.0, 4.0))) / 2.0;
    let c1 = (relu6(bn(0.0, 1.0, 0.0, -1.0, 1.0)) + relu6(bn(-3.0, 1.0, 0.0, -1.0, 1.0))) / 2.0;
    let expected = c0 + 10.0 * c1 + 0.5;
    assert!((y as f64 - expected).abs() < 1e-5, "{y} vs {expected}");
}
