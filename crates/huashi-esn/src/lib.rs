//! # huashi-esn: Echo State Networks for time-series prediction
//!
//! Reservoir computing (Jaeger 2001; Lukoševičius & Jaeger 2009) in f64 with
//! sparse reservoirs, faer linear algebra and rayon parallelism, aiming at
//! ReservoirPy 0.4's ESN semantics.
//!
//! An ESN drives a fixed random recurrent network — the *reservoir* — with
//! the input and trains only a linear *readout*:
//!
//! ```text
//! x(t) = (1 − a) x(t−1) + a f(W_in u(t) + W x(t−1) + b [+ W_fb y(t−1)])
//! y(t) = W_outᵀ [1; u(t); x(t)]
//! W_out = (ΦᵀΦ + λ D)⁻¹ ΦᵀY        (ridge regression)
//! ```
//!
//! * [`ReservoirConfig`] → [`Reservoir`]: sparse CSR `W` rescaled to an exact
//!   spectral radius ([`spectral`]), per-feature input scaling, bias, leak,
//!   activation, state noise; one seed split into named streams ([`rng`]).
//! * [`ReservoirStack`]: deep ESNs (stacked reservoirs, readout on all layers).
//! * [`EsnConfig`] → [`Esn::fit`] (ridge over many sequences, in parallel) or
//!   [`Esn::fit_online`] (RLS / FORCE); [`Esn::run`], [`Esn::predict`],
//!   [`Esn::generate`] (closed loop), [`Esn::forecast`] (multi-step).
//! * [`metrics`]: RMSE, NRMSE (normalised by the target's standard
//!   deviation), R², memory capacity.
//! * [`generators`]: Mackey-Glass, NARMA-10, Lorenz-63; [`systems`]: Hénon,
//!   logistic, Rössler, Lorenz-96, multiscroll, double scroll,
//!   Rabinovich–Fabrikant, Kuramoto–Sivashinsky (ETDRK4), MSO-n, NARMA-n,
//!   Lyapunov exponents (Benettin); [`diagnostics`]: effective spectral
//!   radius, valid prediction time, closed-loop Lyapunov exponent;
//!   [`readout::select`]: the ridge parameter by GCV or leave-one-out.
//! * [`data`]: CSV by column name, log / log-returns / standardisation, the
//!   embedded S&P 500 series.
//! * [`forecast`]: one column of a table forecast H steps ahead (value or
//!   log-return) beside the naive baselines, with NRMSE / R² scores;
//!   [`search`]: random hyper-parameter search on its validation split.
//! * [`tasks`]: the standard benchmarks (Mackey-Glass one-step and closed
//!   loop, NARMA-10) as used by the tests and the CLI.
//! * [`classify`]: sequence classification (pooled states, one-hot ridge
//!   readout, the embedded Japanese Vowels data); [`nvar`]: next-generation
//!   reservoir computing (Gauthier et al. 2021).
//! * Save/load in a versioned safetensors format ([`persist`]).
//!
//! ```
//! use huashi_esn::{column, generators::MackeyGlass, metrics, Esn, EsnConfig, ReservoirConfig, Sequence};
//!
//! let mg = MackeyGlass::default().generate(1200)?;
//! let (x, y) = (column(&mg[..1000]), column(&mg[1..1001]));
//! let mut config = EsnConfig::new(ReservoirConfig { units: 50, leak_rate: 0.3, spectral_radius: 1.25, ..Default::default() });
//! config.washout = 100;
//! let fit = Esn::fit(&config, &[Sequence::new(x.as_ref(), y.as_ref())])?;
//! let mut state = fit.end_states[0].clone();
//! let pred = fit.esn.run(&mut state, column(&mg[1000..1199]).as_ref(), None)?;
//! let err = metrics::nrmse(&huashi_esn::column_values(pred.as_ref(), 0), &mg[1001..1200])?;
//! assert!(err < 0.05);
//! # Ok::<(), huashi_esn::Error>(())
//! ```
#![warn(missing_docs)]

pub mod budget;
pub mod classify;
pub mod config;
pub mod data;
pub mod diagnostics;
mod error;
mod esn;
pub mod forecast;
pub mod generators;
mod init;
mod kernel;
pub mod math;
pub mod metrics;
pub mod nvar;
mod online;
pub mod persist;
mod pipeline;
pub mod readout;
mod reservoir;
pub mod rng;
mod run;
pub mod search;
pub mod sparse;
pub mod spectral;
mod stack;
pub mod systems;
pub mod tasks;
mod train;
mod util;

pub use config::{Activation, Distribution, FeedbackConfig, InputScaling, ReservoirConfig};
pub use error::{check_finite, check_series, Error, Result};
pub use esn::{Esn, EsnConfig, EsnState};
pub use faer::{Mat, MatRef};
pub use online::{OnlineFit, OnlineMode};
pub use pipeline::Accumulation;
pub use readout::{FeatureLayout, LinearReadout, Ridge, Rls, RlsConfig};
pub use reservoir::Reservoir;
pub use sparse::CsrMatrix;
pub use spectral::SpectralMethod;
pub use stack::ReservoirStack;
pub use train::{EsnTrainer, Fit, Sequence};
pub use util::{column, column_values};
