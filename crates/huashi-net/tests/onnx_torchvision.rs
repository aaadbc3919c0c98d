//! Real torchvision models: `onnx_fixtures/NAME.onnx`, written by
//! `onnx_fixtures/export_torchvision.py` (PyTorch 2.15, torchvision 0.29.2,
//! `weights=None`, opset 17, batch norm kept) with every tensor's bytes in
//! external data (`NAME.onnx.data`, not committed), and PyTorch's own
//! numbers in `NAME.json`. Only the graph and the tensors' shapes are read
//! here (`shapes_only`), which is all the analysis needs, so these tests
//! run on a checkout without the data files.

use huashi_net::onnx::{self, ImportOptions};
use huashi_net::{zoo, Analysis, Shape};
use std::path::PathBuf;

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/onnx_fixtures")
        .join(name)
}

/// The model's analysis (imported without `--allow-unknown`) and its JSON.
fn import(name: &str) -> (Analysis, serde_json::Value) {
    let options = ImportOptions {
        shapes_only: true,
        ..ImportOptions::default()
    };
    let m = onnx::from_path_with(fixture(&format!("{name}.onnx")), &options)
        .unwrap_or_else(|e| panic!("{name}: {e}"));
    assert!(
        !m.network
            .nodes
            .iter()
            .any(|n| matches!(n.layer, huashi_net::Layer::Opaque { .. })),
        "{name} imports without opaque layers"
    );
    let a = m.network.analyse_default().unwrap();
    let facts = std::fs::read_to_string(fixture(&format!("{name}.json"))).unwrap();
    (a, serde_json::from_str(&facts).unwrap())
}

/// Params, batch-norm statistics and output shape equal PyTorch's.
fn check_totals(name: &str) -> Analysis {
    let (a, facts) = import(name);
    assert_eq!(a.totals.params, facts["params"].as_u64().unwrap(), "{name}");
    assert_eq!(
        a.totals.moving_stats,
        facts["bn_buffers"].as_u64().unwrap(),
        "{name}"
    );
    assert_eq!(facts["output_shape"], serde_json::json!([1, 1000]));
    assert_eq!(a.output().output, Shape::Vector { features: 1000 });
    a
}

#[test]
fn resnet50_params_match_pytorch() {
    // PyTorch: 25,557,032 parameters, 53,120 running-statistic values.
    check_totals("resnet50");
}

#[test]
fn mobilenet_v3_small_params_match_pytorch() {
    // PyTorch: 2,542,856 parameters, 12,112 running-statistic values.
    check_totals("mobilenet_v3_small");
}

#[test]
fn efficientnet_b0_params_match_pytorch() {
    // PyTorch: 5,288,548 parameters, 42,016 running-statistic values.
    let a = check_totals("efficientnet_b0");
    // SiLU, exported as Mul(x, Sigmoid(x)), is one activation again: the
    // stem, the head, and per MBConv block the depthwise conv's and the
    // squeeze-excitation's, plus the expansion's in the 15 blocks that
    // expand (1 + 1 + 2·16 + 15 = 49); the 16 SE gates stay sigmoids.
    let count = |f: huashi_net::Activation| {
        let net = onnx::from_path_with(
            fixture("efficientnet_b0.onnx"),
            &ImportOptions {
                shapes_only: true,
                ..ImportOptions::default()
            },
        )
        .unwrap()
        .network;
        net.nodes.iter().filter(|n| matches!(n.layer, huashi_net::Layer::Activation { function, .. } if function == f)).count()
    };
    assert_eq!(count(huashi_net::Activation::Silu), 49);
    assert_eq!(count(huashi_net::Activation::Sigmoid), 16);
    assert_eq!(a.nodes.iter().filter(|n| n.op == "mul").count(), 16);
}

#[test]
fn shufflenet_v2_x0_5_params_match_pytorch() {
    // PyTorch: 1,366,792 parameters, 7,952 running-statistic values.
    let a = check_totals("shufflenet_v2_x0_5");
    // One channel shuffle per unit (4 + 8 + 4); each stride-1 unit splits
    // its input with `chunk(2)` into two slices (3 + 7 + 3 units).
    let count = |op: &str| a.nodes.iter().filter(|n| n.op == op).count();
    assert_eq!((count("channel_shuffle"), count("slice")), (16, 26));
    // The slices and shuffles keep the field defined to the last conv.
    let f = a.receptive_field("/conv5/conv5.0/Conv").unwrap();
    assert!(f[0].size > 224, "{f:?}");
}

/// torch's ONNX scope name `/layer2/layer2.0/conv2/Conv` as the module path
/// `layer2.0.conv2` (the op type dropped, nested prefixes merged).
fn module_path(onnx_name: &str) -> String {
    let mut segments: Vec<&str> = onnx_name.trim_start_matches('/').split('/').collect();
    segments.pop();
    let mut path = String::new();
    let mut last = "";
    for s in segments {
        if !last.is_empty() && s.starts_with(&format!("{last}.")) {
            path.truncate(path.len() - last.len());
            path.push_str(s);
        } else if path.is_empty() {
            path = s.to_string();
        } else {
            path = format!("{path}.{s}");
        }
        last = s;
    }
    path
}

#[test]
fn resnet50_equals_the_zoo_layer_by_layer() {
    let onnx = check_totals("resnet50");
    let zoo = zoo::by_name("resnet50").unwrap().analyse_default().unwrap();
    assert_eq!(onnx.totals.params, zoo.totals.params);
    assert_eq!(onnx.totals.moving_stats, zoo.totals.moving_stats);
    assert_eq!(onnx.totals.macs, zoo.totals.macs);
    let mut compared = 0;
    for node in &onnx.nodes {
        let path = module_path(&node.name);
        let Ok(z) = zoo.node(&path) else { continue };
        let conv = |op: &str| op == "conv" || op == "pointwise";
        if z.op != node.op && !(conv(z.op) && conv(node.op)) {
            continue; // e.g. the zoo's `relu` node vs torch's reused `relu` module
        }
        assert_eq!(
            (node.params, node.macs, node.output),
            (z.params, z.macs, z.output),
            "{}",
            node.name
        );
        assert_eq!(node.field, z.field, "{}", node.name);
        compared += 1;
    }
    // 53 convolutions, 53 batch norms, the max pool, the pool and fc.
    assert!(compared >= 109, "compared {compared} layers");
    // Stage outputs: the zoo's `layerN` against each stage's last ReLU.
    for (stage, last) in [(1, 2), (2, 3), (3, 5), (4, 2)] {
        let ours = format!("/layer{stage}/layer{stage}.{last}/relu_2/Relu");
        assert_eq!(
            onnx.receptive_field(&ours).unwrap(),
            zoo.receptive_field(&format!("layer{stage}")).unwrap(),
            "{ours}"
        );
    }
    // torchvision ResNet-50 stage fields 35, 91, 267, 427 (tests/zoo.rs).
    let f = onnx
        .receptive_field("/layer4/layer4.2/relu_2/Relu")
        .unwrap();
    assert_eq!(f[0].size, 427);
}

#[test]
fn module_paths_merge_nested_prefixes() {
    assert_eq!(module_path("/layer2/layer2.0/conv2/Conv"), "layer2.0.conv2");
    assert_eq!(module_path("/conv1/Conv"), "conv1");
    assert_eq!(
        module_path("/layer1/layer1.0/downsample/downsample.0/Conv"),
        "layer1.0.downsample.0"
    );
    assert_eq!(module_path("/fc/Gemm"), "fc");
}

#[test]
fn resnet50_depth_2_rows_match_torchinfo() {
    let (a, _) = import("resnet50");
    let options = ImportOptions {
        shapes_only: true,
        ..ImportOptions::default()
    };
    let net = onnx::from_path_with(fixture("resnet50.onnx"), &options)
        .unwrap()
        .network;
    let summary_options = huashi_net::SummaryOptions {
        depth: Some(2),
        ..huashi_net::SummaryOptions::default()
    };
    let s = huashi_net::Summary::build(&net, &a, summary_options).unwrap();
    // torchinfo 1.8.0 depth 2 on torchvision's resnet50 (tests/summary.rs):
    // layer1.0 75,008 params, layer2.0 379,392, layer4.0 6,039,552; its
    // mult-adds less batch norm's affine terms, which huashi's MACs omit.
    for (name, params, macs) in [
        ("layer1.0", 75_008, 231_212_288 - 1_280),
        ("layer2.0", 379_392, 372_509_184 - 2_560),
        ("layer4.0", 6_039_552, 372_516_864 - 10_240),
    ] {
        let row = s.rows.iter().find(|r| r.name == name).unwrap();
        assert_eq!((row.params, row.macs), (params, macs), "{name}");
        // conv1..3, bn1..3, three ReLUs, the Add (+ the downsample pair).
        assert!(row.nodes >= 10, "{name}: {} nodes", row.nodes);
    }
    // The stem's rows keep their own names; fc and the pool have theirs.
    let names: Vec<&str> = s.rows.iter().map(|r| r.name.as_str()).collect();
    for name in [
        "conv1", "bn1", "relu", "maxpool", "layer3.5", "avgpool", "fc",
    ] {
        assert!(names.contains(&name), "{name} in {names:?}");
    }
}

/// The first logits of `name` run with its own weights equal PyTorch's, for
/// the input `x[i] = ((i·7919) mod 1000)/500 − 1`. Needs the data files
/// (`export_torchvision.py`), which are not committed: run with
/// `cargo test --release -p huashi-net --test onnx_torchvision -- --ignored`.
fn logits_match_pytorch(name: &str) {
    let m = onnx::from_path(fixture(&format!("{name}.onnx"))).unwrap_or_else(|e| panic!("{e}"));
    let facts: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(fixture(&format!("{name}.json"))).unwrap())
            .unwrap();
    let x: Vec<f32> = (0..3 * 224 * 224u64)
        .map(|i| ((i * 7919) % 1000) as f32 / 500.0 - 1.0)
        .collect();
    let x = candle_core::Tensor::from_vec(x, (1, 3, 224, 224), &candle_core::Device::Cpu).unwrap();
    let model = huashi_net::Model::compile(&m.network, [3, 224, 224]).unwrap();
    let y: Vec<f32> = model
        .forward(&m.params, &x)
        .unwrap()
        .flatten_all()
        .unwrap()
        .to_vec1()
        .unwrap();
    let torch = facts["logits_head"].as_array().unwrap();
    // Relative to the largest logit (weights=None leaves some models'
    // logits tiny, ~1e-10, so no absolute floor).
    let scale = torch
        .iter()
        .map(|v| v.as_f64().unwrap().abs())
        .fold(0.0, f64::max);
    assert!(scale > 0.0, "{name}: all logits are zero");
    for (i, (ours, t)) in y.iter().zip(torch).enumerate() {
        let t = t.as_f64().unwrap();
        assert!(
            (f64::from(*ours) - t).abs() < 1e-3 * scale,
            "{name} logit {i}: {ours} vs PyTorch {t}"
        );
    }
}

#[test]
#[ignore = "needs the uncommitted NAME.onnx.data files of export_torchvision.py"]
fn torchvision_logits_match_pytorch() {
    for name in [
        "resnet50",
        "mobilenet_v3_small",
        "shufflenet_v2_x0_5",
        "efficientnet_b0",
    ] {
        logits_match_pytorch(name);
    }
}
