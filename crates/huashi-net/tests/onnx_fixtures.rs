//! A real PyTorch export: `onnx_fixtures/tiny_mobilenet_v2.onnx`, written by
//! `onnx_fixtures/export.py` (PyTorch 2.x, `torch.onnx.export`, opset 13,
//! random weights with seed 0), with PyTorch's own numbers in
//! `tiny_mobilenet_v2.json`: `sum(p.numel() for p in model.parameters())`,
//! the batch-norm running buffers, the output shape, and the logits for one
//! random input.

use candle_core::{Device, Tensor};
use huashi_net::{onnx, Model, Shape};

const MODEL: &[u8] = include_bytes!("onnx_fixtures/tiny_mobilenet_v2.onnx");
const FACTS: &str = include_str!("onnx_fixtures/tiny_mobilenet_v2.json");

fn facts() -> serde_json::Value {
    serde_json::from_str(FACTS).unwrap()
}

#[test]
fn params_and_output_shape_match_pytorch() {
    let m = onnx::from_bytes(MODEL).unwrap();
    let f = facts();
    let a = m.network.analyse_default().unwrap();
    // PyTorch: sum(p.numel()) = 4250 parameters, 496 running-stat values.
    assert_eq!(a.totals.params, f["params"].as_u64().unwrap());
    assert_eq!(a.totals.moving_stats, f["bn_buffers"].as_u64().unwrap());
    assert_eq!(a.output().output, Shape::Vector { features: 10 });
    assert_eq!(f["output_shape"], serde_json::json!([1, 10]));
}

#[test]
fn logits_match_pytorch() {
    let m = onnx::from_bytes(MODEL).unwrap();
    let f = facts();
    let to_vec = |v: &serde_json::Value| -> Vec<f32> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_f64().unwrap() as f32)
            .collect()
    };
    let x = Tensor::from_vec(to_vec(&f["input"]), (1, 3, 32, 32), &Device::Cpu).unwrap();
    let model = Model::compile(&m.network, [3, 32, 32]).unwrap();
    let y: Vec<f32> = model
        .forward(&m.params, &x)
        .unwrap()
        .flatten_all()
        .unwrap()
        .to_vec1()
        .unwrap();
    for (ours, torch) in y.iter().zip(to_vec(&f["output"])) {
        assert!(
            (ours - torch).abs() < 1e-4 * torch.abs().max(1.0),
            "{ours} vs {torch}"
        );
    }
}

#[test]
fn receptive_fields_follow_the_strides() {
    let m = onnx::from_bytes(MODEL).unwrap();
    let a = m.network.analyse_default().unwrap();
    // Stem 3×3/2 p1: (3, 2, 1); block 1 dw 3×3/1: (7, 2, 3); block 2 dw 3×3/2:
    // (11, 4, 5); block 3 dw 3×3/1: (19, 4, 9); the gate keeps it; 1×1 conv;
    // max pool 3/2 (ceil, no padding): r = 19 + 2·4 = 27, S = 8, P = 9.
    let pool = a.nodes.iter().find(|n| n.op == "max_pool").unwrap();
    let f = a.receptive_field(&pool.name).unwrap()[0];
    assert_eq!((f.size, f.stride, f.padding), (27, 8, 9));
}
