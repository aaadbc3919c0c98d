//! Helpers shared by the integration tests.
#![allow(dead_code)]

use huashi_net::{AxisField, Network};

/// Parses a TOML description or panics with the error.
pub fn toml(text: &str) -> Network {
    Network::from_toml(text).unwrap_or_else(|e| panic!("{e}"))
}

/// `(size, stride, padding)` of the height axis of `node`'s field.
pub fn rf(net: &Network, input: [usize; 3], node: &str) -> (usize, usize, usize) {
    let f = net
        .analyse(input)
        .unwrap_or_else(|e| panic!("{e}"))
        .receptive_field(node)
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(f[0], f[1], "square layers give equal axes");
    let AxisField {
        size,
        stride,
        padding,
    } = f[0];
    (size, stride, padding)
}
