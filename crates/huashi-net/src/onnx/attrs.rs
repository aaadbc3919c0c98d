//! Attribute look-ups on an ONNX node, with the schema's defaults.

use super::proto::{AttributeProto, NodeProto};

fn find<'a>(n: &'a NodeProto, name: &str) -> Option<&'a AttributeProto> {
    n.attribute.iter().find(|a| a.name == name)
}

/// Integer attribute `name`, or `default`.
pub(crate) fn int(n: &NodeProto, name: &str, default: i64) -> i64 {
    find(n, name).map_or(default, |a| a.i)
}

/// Float attribute `name`, or `default`.
pub(crate) fn float(n: &NodeProto, name: &str, default: f32) -> f32 {
    find(n, name).map_or(default, |a| a.f)
}

/// Integer-list attribute `name` (`None` when absent).
pub(crate) fn ints(n: &NodeProto, name: &str) -> Option<Vec<i64>> {
    find(n, name).map(|a| a.ints.clone())
}

/// String attribute `name`, or `default`.
pub(crate) fn string(n: &NodeProto, name: &str, default: &str) -> String {
    find(n, name).map_or(default.to_string(), |a| {
        String::from_utf8_lossy(&a.s).into_owned()
    })
}

/// Tensor attribute `name`.
pub(crate) fn tensor<'a>(n: &'a NodeProto, name: &str) -> Option<&'a super::proto::TensorProto> {
    find(n, name).and_then(|a| a.t.as_ref())
}
