//! Meta-learning over functional models whose forward pass takes its
//! parameters explicitly (`forward(&ParamSet, &Tensor)`, with a leading task
//! dimension so a meta-batch runs as one computation; see [`Functional`]).
//!
//! - Models: any huashi-net network as a [`MetaModel`] built from a
//!   [`ModelSpec`]; the papers' networks are the zoo's MLP and 4-block
//!   few-shot CNN. Batch norm uses the current batch's statistics per task,
//!   as the MAML reference code; batch norm, biases and ReLUs run on
//!   [`fused`] per-channel ops, exact to any order of differentiation.
//! - Algorithms: [`Maml`] — MAML (Finn, Abbeel & Levine, ICML 2017) with true
//!   second-order meta-gradients through any number of inner steps, first
//!   order per call, ANIL ([`Maml::adapt_only`]), Meta-SGD
//!   ([`Maml::per_parameter_lr`], [`with_learning_rates`]); learn2learn's
//!   `clone()`/`adapt(loss)` as [`Maml::clone_learner`] and [`Learner`];
//!   [`Reptile`] (Nichol, Achiam & Schulman 2018); [`ProtoNet`] (Snell et al.
//!   2017).
//! - Tasks: [`Sinusoid`] regression; [`fewshot`]: Omniglot (embedded small
//!   subsets, folders, zips, download), N-way K-shot samplers, the one-shot
//!   runs of Lake et al. (2015).
//! - Training: [`Trainer`] with [`Adam`], validation, NaN/Inf detection,
//!   atomic [`checkpoint`]s with exact resume, and [`evaluate`] (mean ± 95 %
//!   CI over held-out tasks).
//!
//! Second-order gradients need candle to keep the graph of gradients, which
//! it does only when `CANDLE_GRAD_DO_NOT_DETACH` is set before the thread's
//! first backward pass; [`Maml`] checks this and returns
//! [`Error::SecondOrderDisabled`] instead of a silently first-order result.
//!
//! ```
//! use candle_core::{DType, Device};
//! use huashi_meta::{gradients, to_vars, Maml, ModelSpec, Sinusoid};
//!
//! std::env::set_var("CANDLE_GRAD_DO_NOT_DETACH", "1"); // before any backward
//! let (mlp, params) = ModelSpec::mlp(&[1, 40, 40, 1]).build(0)?;
//! let (_vars, params) = to_vars(&params)?; // trainable
//! let tasks = Sinusoid::new(0).meta_batch(0, 25, 10, 10, DType::F32, &Device::Cpu)?;
//! let maml = Maml::default(); // α = 0.01, one inner step, second order
//! let meta_loss = maml.meta_loss(&mlp, &params, &tasks)?;
//! let meta_gradient = gradients(&params, &meta_loss.backward()?)?;
//! assert_eq!(meta_gradient.len(), 6);
//! # Ok::<(), huashi_meta::Error>(())
//! ```
#![warn(missing_docs)]

mod adam;
mod algorithm;
pub mod budget;
pub mod checkpoint;
pub mod cost;
mod error;
pub mod eval;
#[cfg(feature = "fewshot")]
pub mod fewshot;
mod functional;
pub use huashi_conv::fused;
pub mod image_options;
pub mod images;
mod learner;
mod loss;
mod maml;
mod meta_sgd;
mod model;
mod params;
pub mod protocol;
mod protonet;
mod reptile;
mod sampler;
mod sinusoid;
mod task;
mod tasks;
mod tile;
mod train;

pub use adam::Adam;
pub use algorithm::{Algorithm, Hyper, LossKind};
pub use error::{Error, Result};
pub use eval::{evaluate, Estimate, EvalReport};
#[cfg(feature = "fewshot")]
pub use fewshot::{ClassPool, DataError, FewShotSampler, LakeRuns, Omniglot, PoolSampler};
pub use functional::{model_params, task_slice, tile_tasks, Functional, LR_PREFIX};
pub use huashi_net::ParamSet;
pub use image_options::ImageOptions;
pub use images::{ImageData, ImageSettings, Normalization, ResizeFilter};
pub use learner::Learner;
pub use loss::Loss;
pub use maml::{Maml, MetaLoss};
pub use meta_sgd::with_learning_rates;
pub use model::{MetaModel, ModelSpec, NetworkSpec};
pub use params::{gradients, reptile_update, to_vars};
pub use protonet::ProtoNet;
pub use reptile::Reptile;
pub use sampler::{task_batch, SinusoidSampler, TaskSampler};
pub use sinusoid::{Sinusoid, SinusoidTask};
pub use task::{Batch, Task, TaskBatch};
pub use tasks::{stream_seed, TaskSources, TaskSpec};
pub use train::{CheckpointPolicy, Record, RunSpec, StepReport, TrainState, Trainer};

/// Every Rust example of the repository's README, compiled and run as a
/// doctest (the README's crates are dev-dependencies of this one).
#[cfg(doctest)]
#[doc = include_str!("../../../README.md")]
pub struct ReadmeExamples;
