//! Builds small ONNX models in memory for the tests (the prost messages of
//! `huashi_net::onnx::proto`, encoded as a file would hold them).

#![allow(dead_code)]

use huashi_net::onnx::proto::*;
use prost::Message;

/// A float initializer `name` with `dims` and `values`.
pub fn init(name: &str, dims: &[i64], values: Vec<f32>) -> TensorProto {
    TensorProto {
        dims: dims.to_vec(),
        data_type: data_type::FLOAT,
        float_data: values,
        name: name.into(),
        ..Default::default()
    }
}

/// An int64 initializer.
pub fn init_ints(name: &str, values: Vec<i64>) -> TensorProto {
    TensorProto {
        dims: vec![values.len() as i64],
        data_type: data_type::INT64,
        int64_data: values,
        name: name.into(),
        ..Default::default()
    }
}

/// `n` values `0.01·i` (distinct, deterministic).
pub fn ramp(n: usize) -> Vec<f32> {
    (0..n).map(|i| 0.01 * i as f32).collect()
}

/// An attribute.
pub enum A<'a> {
    I(i64),
    F(f32),
    Is(&'a [i64]),
    S(&'a str),
}

/// A node `op` called `name` reading `inputs`, writing `outputs`.
pub fn node(
    op: &str,
    name: &str,
    inputs: &[&str],
    outputs: &[&str],
    attrs: &[(&str, A)],
) -> NodeProto {
    let attribute = attrs
        .iter()
        .map(|(k, v)| {
            let mut a = AttributeProto {
                name: (*k).into(),
                ..Default::default()
            };
            match v {
                A::I(i) => (a.i, a.r#type) = (*i, 2),
                A::F(f) => (a.f, a.r#type) = (*f, 1),
                A::Is(is) => (a.ints, a.r#type) = (is.to_vec(), 7),
                A::S(s) => (a.s, a.r#type) = (s.as_bytes().to_vec(), 3),
            }
            a
        })
        .collect();
    NodeProto {
        input: inputs.iter().map(|s| s.to_string()).collect(),
        output: outputs.iter().map(|s| s.to_string()).collect(),
        name: name.into(),
        op_type: op.into(),
        attribute,
        domain: String::new(),
    }
}

/// A value info `name` with `dims` (`None` = symbolic).
pub fn value(name: &str, dims: &[Option<i64>]) -> ValueInfoProto {
    let dim = dims
        .iter()
        .map(|d| Dimension {
            dim_value: *d,
            dim_param: d.is_none().then(|| "N".to_string()),
        })
        .collect();
    ValueInfoProto {
        name: name.into(),
        r#type: Some(TypeProto {
            tensor_type: Some(TensorTypeProto {
                elem_type: data_type::FLOAT,
                shape: Some(TensorShapeProto { dim }),
            }),
        }),
    }
}

/// A model reading `x` of shape `(N, c, h, w)` with `nodes` and `inits`.
pub fn model(chw: [i64; 3], nodes: Vec<NodeProto>, inits: Vec<TensorProto>) -> Vec<u8> {
    let [c, h, w] = chw;
    ModelProto {
        ir_version: 8,
        producer_name: "huashi tests".into(),
        producer_version: String::new(),
        graph: Some(GraphProto {
            node: nodes,
            name: "test".into(),
            initializer: inits,
            input: vec![value("x", &[None, Some(c), Some(h), Some(w)])],
            output: vec![value("y", &[])],
            value_info: Vec::new(),
        }),
        opset_import: vec![OperatorSetIdProto {
            domain: String::new(),
            version: 17,
        }],
    }
    .encode_to_vec()
}

/// Conv(3→4, 3×3, pad 1) → BN → Relu → MaxPool(2, 2) → Flatten → Gemm(64→10)
/// on (3, 8, 8).
pub fn small_cnn() -> Vec<u8> {
    let nodes = vec![
        node(
            "Conv",
            "conv1",
            &["x", "w1", "b1"],
            &["c1"],
            &[
                ("pads", A::Is(&[1, 1, 1, 1])),
                ("kernel_shape", A::Is(&[3, 3])),
            ],
        ),
        node(
            "BatchNormalization",
            "bn1",
            &["c1", "g", "beta", "mean", "var"],
            &["n1"],
            &[("epsilon", A::F(1e-5))],
        ),
        node("Relu", "relu1", &["n1"], &["r1"], &[]),
        node(
            "MaxPool",
            "pool1",
            &["r1"],
            &["p1"],
            &[
                ("kernel_shape", A::Is(&[2, 2])),
                ("strides", A::Is(&[2, 2])),
            ],
        ),
        node("Flatten", "flat", &["p1"], &["f"], &[("axis", A::I(1))]),
        node(
            "Gemm",
            "fc",
            &["f", "wf", "bf"],
            &["y"],
            &[("transB", A::I(1))],
        ),
    ];
    let inits = vec![
        init("w1", &[4, 3, 3, 3], ramp(108)),
        init("b1", &[4], ramp(4)),
        init("g", &[4], vec![1.0; 4]),
        init("beta", &[4], vec![0.0; 4]),
        init("mean", &[4], vec![0.0; 4]),
        init("var", &[4], vec![1.0; 4]),
        init("wf", &[10, 64], ramp(640)),
        init("bf", &[10], ramp(10)),
    ];
    model([3, 8, 8], nodes, inits)
}
