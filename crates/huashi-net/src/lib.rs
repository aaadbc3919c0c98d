//! # huashi-net — network descriptions and their analysis
//!
//! A network is described once — named layers and the data flow between
//! them, in TOML or JSON (see [`desc`]) — and analysed for an input shape
//! `(C, H, W)` without allocating tensors:
//!
//! - output shape, trainable parameters, batch-norm moving statistics and
//!   multiply-accumulates per node and in total ([`shape`]);
//! - the receptive field of every node per axis — size `r`, effective stride
//!   `S`, effective padding `P` and the centre `(r − 1)/2 − P` of the first
//!   output unit — after Araujo, Norris & Sim, "Computing Receptive Fields of
//!   Convolutional Neural Networks", Distill 2019, with dilation, TensorFlow
//!   'SAME' resolved for the actual input, and the alignment check at merges
//!   ([`field`]);
//! - the [`zoo`] of well-known networks (VGG-16, ResNet-50, Inception v3,
//!   MobileNet v1/v2, Xception, AlexNet v2, the MAML few-shot CNN).
//!
//! ```
//! use huashi_net::Network;
//! let net = Network::from_json(r#"{ "nodes": [
//!     { "name": "c1", "op": "conv", "out_channels": 4, "kernel": 3 },
//!     { "name": "c2", "op": "conv", "out_channels": 4, "kernel": 3 }
//! ] }"#).unwrap();
//! let rf = net.analyse([1, 16, 16]).unwrap().receptive_field("c2").unwrap();
//! assert_eq!((rf[0].size, rf[0].stride, rf[0].padding), (5, 1, 0));
//! ```
#![warn(missing_docs)]

pub mod analysis;
pub mod desc;
pub mod error;
pub mod field;
pub mod graph;
pub mod shape;
pub mod spec;
mod steps;
pub mod zoo;

pub use analysis::{Analysis, NodeReport, Totals};
pub use desc::{Layer, Network, Node};
pub use error::{Error, Result};
pub use field::{AxisField, AxisName, Field};
pub use shape::{Shape, Step, Window};
pub use spec::{Activation, PaddingSpec, Pair};
