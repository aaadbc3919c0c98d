//! Standard ESN benchmarks with their reference settings, shared by the
//! acceptance tests and the `huashi esn bench` command.
//!
//! * [`MackeyGlassTask`]: Mackey-Glass `τ = 17` ([`crate::generators`]),
//!   10,000 samples scaled to `[−1, 1]` by a min-max scaler fitted on the
//!   training part. One-step-ahead prediction `u(t) → u(t+1)`, trained on the
//!   first `train` inputs (after a washout) by ridge; the one-step NRMSE is
//!   measured on every remaining step, continuing from the training state.
//!   Closed loop: from the end-of-training state the network runs free for
//!   `generate` steps, each output becoming the next input, against the true
//!   continuation. Reservoir: 500 units, leak 0.3, spectral radius 1.25,
//!   ridge `1e-6` (ReservoirPy's tutorial settings), tuned by hand: recurrent
//!   connectivity 0.05, every unit receives the input (input connectivity 1,
//!   Bernoulli ±0.5), bias Bernoulli ±0.2, washout 100.
//! * [`NarmaTask`]: NARMA-10 (Atiya & Parlos 2000), input `u(t)`, target
//!   `y(t+1)`; 10,000 training steps (washout 200), 2,000 test steps.
//!   Reservoir: 500 tanh units, no leak, spectral radius 0.95, connectivity
//!   0.1, uniform input weights on `±0.1` to every unit (a nearly linear
//!   regime keeps the 10-step memory), uniform bias on `±0.2`; readout with
//!   direct input connections, ridge `1e-8`.
//!
//! * [`MemoryCapacityTask`]: memory capacity (Jaeger 2001) of a 100-unit
//!   reservoir, see [`crate::metrics::memory_capacity`].
//! * [`LaserTask`]: the Santa Fe laser series (Weigend & Gershenfeld 1993),
//!   one step ahead.
//!
//! NRMSE is RMSE over the standard deviation of the target window.

use serde::{Deserialize, Serialize};

use crate::config::{Distribution, InputScaling, ReservoirConfig};
use crate::data::MinMaxScaler;
use crate::error::{Error, Result};
use crate::esn::EsnConfig;
use crate::generators::{narma10, MackeyGlass};
use crate::metrics::{memory_capacity, nrmse, MemoryCapacity, MemoryCapacityOptions};
use crate::train::Sequence;
use crate::util::{column, column_values};
use crate::Esn;

/// The Mackey-Glass benchmark.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MackeyGlassTask {
    /// The generator.
    pub generator: MackeyGlass,
    /// Samples generated.
    pub steps: usize,
    /// Training inputs (the first `train` samples).
    pub train: usize,
    /// Steps generated in closed loop after training.
    pub generate: usize,
    /// The ESN (reservoir, ridge, washout, seed).
    pub esn: EsnConfig,
}

impl Default for MackeyGlassTask {
    fn default() -> Self {
        let reservoir = ReservoirConfig {
            units: 500,
            leak_rate: 0.3,
            spectral_radius: 1.25,
            connectivity: 0.05,
            input_scaling: InputScaling::All(0.5),
            input_connectivity: 1.0,
            bias_scaling: 0.2,
            ..ReservoirConfig::default()
        };
        let mut esn = EsnConfig::new(reservoir);
        esn.ridge = 1e-6;
        esn.washout = 100;
        Self {
            generator: MackeyGlass::default(),
            steps: 10_000,
            train: 7_000,
            generate: 100,
            esn,
        }
    }
}

/// Results of [`MackeyGlassTask::run`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MackeyGlassReport {
    /// One-step NRMSE over the test part.
    pub one_step_nrmse: f64,
    /// Closed-loop NRMSE over `generate` steps.
    pub closed_loop_nrmse: f64,
    /// One-step predictions (original units), aligned with `one_step_truth`.
    pub one_step: Vec<f64>,
    /// True values for `one_step`.
    pub one_step_truth: Vec<f64>,
    /// Closed-loop outputs (original units).
    pub closed_loop: Vec<f64>,
    /// True continuation for `closed_loop`.
    pub closed_loop_truth: Vec<f64>,
}

impl MackeyGlassTask {
    /// The default task with another ESN seed.
    pub fn with_seed(seed: u64) -> Self {
        let mut t = Self::default();
        t.esn.seed = seed;
        t
    }

    /// Generates the data, trains, predicts and scores.
    ///
    /// # Errors
    /// Only if the task's parameters are invalid (the defaults are not).
    pub fn run(&self) -> Result<MackeyGlassReport> {
        if self.train + self.generate.max(1) >= self.steps {
            return Err(Error::HorizonTooLong {
                horizon: self.train + self.generate.max(1),
                len: self.steps,
            });
        }
        let raw = self.generator.generate(self.steps)?;
        let scaler = MinMaxScaler::fit(&raw[..=self.train], -1.0, 1.0)?;
        let s = scaler.transform(&raw);
        let (x, y) = (column(&s[..self.train]), column(&s[1..=self.train]));
        let fit = Esn::fit(&self.esn, &[Sequence::new(x.as_ref(), y.as_ref())])?;
        let mut state = fit.end_states[0].clone();
        let test_in = column(&s[self.train..self.steps - 1]);
        let pred = fit.esn.run(&mut state, test_in.as_ref(), None)?;
        let one_step = scaler.inverse(&column_values(pred.as_ref(), 0));
        let one_step_truth = raw[self.train + 1..].to_vec();
        let mut state = fit.end_states[0].clone();
        let gen = fit.esn.generate(&mut state, self.generate)?;
        let closed_loop = scaler.inverse(&column_values(gen.as_ref(), 0));
        let closed_loop_truth = raw[self.train + 1..self.train + 1 + self.generate].to_vec();
        Ok(MackeyGlassReport {
            one_step_nrmse: nrmse(&one_step, &one_step_truth)?,
            closed_loop_nrmse: nrmse(&closed_loop, &closed_loop_truth)?,
            one_step,
            one_step_truth,
            closed_loop,
            closed_loop_truth,
        })
    }
}

/// The NARMA-10 benchmark.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NarmaTask {
    /// Total steps generated.
    pub steps: usize,
    /// Training steps (the rest is the test).
    pub train: usize,
    /// Seed of the NARMA input.
    pub data_seed: u64,
    /// The ESN.
    pub esn: EsnConfig,
}

impl Default for NarmaTask {
    fn default() -> Self {
        let reservoir = ReservoirConfig {
            units: 500,
            leak_rate: 1.0,
            spectral_radius: 0.95,
            input_scaling: InputScaling::All(0.1),
            input_connectivity: 1.0,
            input_weights: Distribution::Uniform,
            bias_scaling: 0.2,
            ..ReservoirConfig::default()
        };
        let mut esn = EsnConfig::new(reservoir);
        esn.ridge = 1e-8;
        esn.washout = 200;
        esn.input_to_readout = true;
        Self {
            steps: 12_000,
            train: 10_000,
            data_seed: 0,
            esn,
        }
    }
}

/// Results of [`NarmaTask::run`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NarmaReport {
    /// NRMSE on the test part.
    pub nrmse: f64,
    /// Test predictions.
    pub prediction: Vec<f64>,
    /// Test targets.
    pub truth: Vec<f64>,
}

impl NarmaTask {
    /// Generates the data, trains and scores.
    ///
    /// # Errors
    /// Only if the task's parameters are invalid (the defaults are not).
    pub fn run(&self) -> Result<NarmaReport> {
        if self.train + 1 >= self.steps {
            return Err(Error::HorizonTooLong {
                horizon: self.train + 1,
                len: self.steps,
            });
        }
        let data = narma10(self.steps, self.data_seed)?;
        let (u, y) = (&data.input, &data.output);
        let n = self.steps - 1;
        let (x_tr, y_tr) = (column(&u[..self.train]), column(&y[1..=self.train]));
        let fit = Esn::fit(&self.esn, &[Sequence::new(x_tr.as_ref(), y_tr.as_ref())])?;
        let mut state = fit.end_states[0].clone();
        let pred = fit
            .esn
            .run(&mut state, column(&u[self.train..n]).as_ref(), None)?;
        let prediction = column_values(pred.as_ref(), 0);
        let truth = y[self.train + 1..=n].to_vec();
        Ok(NarmaReport {
            nrmse: nrmse(&prediction, &truth)?,
            prediction,
            truth,
        })
    }
}

/// The memory-capacity benchmark (Jaeger 2001) of a 100-unit reservoir.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MemoryCapacityTask {
    /// The reservoir (one input).
    pub reservoir: ReservoirConfig,
    /// Seed of the reservoir.
    pub seed: u64,
    /// Delays, lengths, ridge and input seed.
    pub options: MemoryCapacityOptions,
}

impl Default for MemoryCapacityTask {
    /// 100 tanh units, spectral radius 0.95, no leak, input weights ±0.1 to
    /// every unit, no bias (a nearly linear regime, which favours memory);
    /// delays up to 200, 5,000 training and 2,000 test steps, ridge `1e-10`.
    fn default() -> Self {
        let reservoir = ReservoirConfig {
            units: 100,
            spectral_radius: 0.95,
            input_scaling: InputScaling::All(0.1),
            input_connectivity: 1.0,
            bias_scaling: 0.0,
            ..ReservoirConfig::default()
        };
        Self {
            reservoir,
            seed: 0,
            options: MemoryCapacityOptions::default(),
        }
    }
}

impl MemoryCapacityTask {
    /// Measures the memory capacity.
    ///
    /// # Errors
    /// Only if the task's parameters are invalid (the defaults are not).
    pub fn run(&self) -> Result<MemoryCapacity> {
        memory_capacity(&self.reservoir, self.seed, &self.options)
    }
}

/// The Santa Fe laser one-step benchmark (data set A, Weigend & Gershenfeld
/// 1993; [`crate::data::santafe_laser`]): the 10,093 intensities scaled to
/// `[−1, 1]` by a min-max scaler fitted on the training part, `u(t) →
/// u(t+1)` trained on the first `train` inputs (after a washout) by ridge,
/// the one-step NRMSE (standard deviation) measured in intensity units on
/// every remaining step, continuing from the training state. Reservoir: 500
/// tanh units, leak 0.9, spectral radius 0.9, connectivity 0.1, every unit
/// receives the input (Bernoulli ±0.5), bias ±0.2; readout with direct
/// input connections, ridge `1e-7`, washout 100 (a first choice by hand,
/// not tuned; one-step NRMSE 0.041 with seed 0).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LaserTask {
    /// Training inputs (the first `train` samples).
    pub train: usize,
    /// The ESN.
    pub esn: EsnConfig,
}

impl Default for LaserTask {
    fn default() -> Self {
        let reservoir = ReservoirConfig {
            units: 500,
            leak_rate: 0.9,
            spectral_radius: 0.9,
            connectivity: 0.1,
            input_scaling: InputScaling::All(0.5),
            input_connectivity: 1.0,
            bias_scaling: 0.2,
            ..ReservoirConfig::default()
        };
        let mut esn = EsnConfig::new(reservoir);
        esn.ridge = 1e-7;
        esn.washout = 100;
        esn.input_to_readout = true;
        Self { train: 8_000, esn }
    }
}

/// Results of [`LaserTask::run`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LaserReport {
    /// One-step NRMSE over the test part.
    pub nrmse: f64,
    /// One-step predictions (intensity units).
    pub prediction: Vec<f64>,
    /// True values for `prediction`.
    pub truth: Vec<f64>,
}

impl LaserTask {
    /// Loads the data, trains, predicts and scores.
    ///
    /// # Errors
    /// A `train` that leaves fewer than 2 test steps, or an invalid ESN.
    pub fn run(&self) -> Result<LaserReport> {
        let raw = crate::data::santafe_laser()?;
        if self.train + 2 >= raw.len() {
            return Err(Error::HorizonTooLong {
                horizon: self.train + 2,
                len: raw.len(),
            });
        }
        let scaler = MinMaxScaler::fit(&raw[..=self.train], -1.0, 1.0)?;
        let s = scaler.transform(&raw);
        let (x, y) = (column(&s[..self.train]), column(&s[1..=self.train]));
        let fit = Esn::fit(&self.esn, &[Sequence::new(x.as_ref(), y.as_ref())])?;
        let mut state = fit.end_states[0].clone();
        let test_in = column(&s[self.train..raw.len() - 1]);
        let pred = fit.esn.run(&mut state, test_in.as_ref(), None)?;
        let prediction = scaler.inverse(&column_values(pred.as_ref(), 0));
        let truth = raw[self.train + 1..].to_vec();
        Ok(LaserReport {
            nrmse: nrmse(&prediction, &truth)?,
            prediction,
            truth,
        })
    }
}
