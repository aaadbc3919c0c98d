//! Compiling description nodes into [`Op`]s.

use crate::error::Error;
use crate::spec::{PaddingSpec, Pair};
use huashi_conv::PoolConfig;

/// Maps a huashi-conv error of `node`'s op into ours.
pub(super) fn op_error(node: &str) -> impl Fn(huashi_conv::Error) -> Error + '_ {
    move |cause| Error::Op {
        node: node.to_string(),
        cause,
    }
}

/// Pooling with PyTorch's default stride (the window).
pub(super) fn pool(kernel: Pair, stride: Option<Pair>, padding: PaddingSpec) -> PoolConfig {
    PoolConfig::new(kernel.0)
        .with_stride(stride.unwrap_or(kernel).0)
        .with_padding(padding.0)
}
