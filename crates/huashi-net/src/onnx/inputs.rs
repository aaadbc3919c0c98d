//! The graph's declared shapes: the one activation input `(N, C, H, W)`,
//! the `value_info` dims opaque ops take their shape from, and the final
//! check that the weights fit the network.

use super::proto;
use super::MAX_INPUT_DIM;
use crate::desc::{Layer, Network};
use crate::error::{Error, Result};
use crate::model::Model;
use crate::params::ParamSet;

/// The dims `value_info` declares (`-1` for symbolic ones).
pub(super) fn declared_dims(v: &proto::ValueInfoProto) -> Option<Vec<i64>> {
    let shape = v.r#type.as_ref()?.tensor_type.as_ref()?.shape.as_ref()?;
    Some(
        shape
            .dim
            .iter()
            .map(|d| d.dim_value.unwrap_or(-1))
            .collect(),
    )
}

/// `(C, H, W)` of the graph input `(N, C, H, W)`; `N` may be symbolic.
pub(super) fn input_shape(input: &proto::ValueInfoProto) -> Result<[usize; 3]> {
    let bad = |detail: String| Error::Onnx {
        what: format!("input \"{}\"", input.name),
        detail,
    };
    let dims = input
        .r#type
        .as_ref()
        .and_then(|t| t.tensor_type.as_ref())
        .and_then(|t| t.shape.as_ref())
        .map(|s| &s.dim[..])
        .ok_or_else(|| bad("has no tensor shape".into()))?;
    let [_, c, h, w] = dims else {
        return Err(bad(format!(
            "has {} dimensions; (N, C, H, W) is supported",
            dims.len()
        )));
    };
    let mut out = [0; 3];
    for (slot, d) in out.iter_mut().zip([c, h, w]) {
        *slot = d
            .dim_value
            .and_then(|v| usize::try_from(v).ok())
            .filter(|&v| (1..=MAX_INPUT_DIM).contains(&v))
            .ok_or_else(|| {
                bad(format!(
                    "dimension {d:?} is not a number in 1..={MAX_INPUT_DIM} (pass --input C,H,W for symbolic sizes)"
                ))
            })?;
    }
    Ok(out)
}

/// The weights fit the network (skipped when an opaque op stops the model
/// from compiling; the weights of the other layers are then checked by the
/// analysis' shapes alone).
pub(super) fn check_weights(network: &Network, input: [usize; 3], params: &ParamSet) -> Result<()> {
    if network
        .nodes
        .iter()
        .any(|n| matches!(n.layer, Layer::Opaque { .. }))
    {
        network.analyse(input)?;
        return Ok(());
    }
    Model::compile(network, input)?.check(params)
}
