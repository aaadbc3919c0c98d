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
//!   MobileNet v1/v2, Xception, AlexNet v2, the MAML few-shot CNN);
//! - a runnable functional [`Model`] with explicit parameters ([`ParamSet`],
//!   safetensors I/O under PyTorch-style names) and the effective receptive
//!   field of Luo et al. 2016 ([`erf`]).
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
//!
//! A runnable model of the same description, and the effective receptive
//! field of one of its end points:
//!
//! ```
//! use candle_core::{Device, Tensor};
//! use huashi_net::{effective_receptive_field, zoo, ErfConfig, Model};
//! let net = zoo::by_name("maml_omniglot").unwrap();
//! let (model, params) = Model::new(&net, [1, 28, 28], 0).unwrap();
//! assert_eq!(params.get("blocks.0.conv.weight").unwrap().dims(), &[64, 1, 3, 3]);
//! let x = Tensor::zeros((2, 1, 28, 28), candle_core::DType::F32, &Device::Cpu).unwrap();
//! assert_eq!(model.forward(&params, &x).unwrap().dims(), &[2, 5]);
//! let config = ErfConfig { samples: 2, seed: 0 };
//! let erf = effective_receptive_field(&net, [1, 28, 28], "blocks.1", &config).unwrap();
//! assert!(erf.radius95 > 0.0 && erf.radius95 < 11.0);
//! ```
#![warn(missing_docs)]

pub mod analysis;
pub mod desc;
pub mod erf;
pub mod error;
pub mod field;
pub mod graph;
pub mod model;
pub mod onnx;
pub mod params;
mod run;
pub mod shape;
pub mod spec;
mod steps;
pub mod summary;
pub mod zoo;

pub use analysis::{Analysis, NodeReport, Totals};
pub use desc::{Layer, Network, Node};
pub use erf::{effective_receptive_field, effective_receptive_field_with, Erf, ErfConfig};
pub use error::{Error, Result};
pub use field::{AxisField, AxisName, Field};
pub use model::{InitScheme, Model};
pub use params::ParamSet;
pub use run::Norm;
pub use shape::{Shape, Step, Window};
pub use spec::{Activation, PaddingSpec, Pair};
pub use summary::{Column, ElementType, Summary, SummaryOptions, SummaryRow, SummaryTotals};
