//! [`Learner`]: learn2learn's `clone()` / `adapt(loss)` surface.
//!
//! A learner holds task-batched parameters `θₖ` (graph-connected to the
//! meta-parameters `θ`) and evaluates the model at `θₖ + zₖ`, where `zₖ` is a
//! fresh zero [`Var`]: candle keeps gradients only for variables, and
//! `∇_zₖ L = ∇_θₖ L`. [`Learner::adapt`] takes one step
//! `θₖ₊₁ = θₖ − α ⊙ ∇_θₖ L` — with the gradient's own graph kept (second
//! order), detached (first order), or with everything detached (evaluation:
//! no graph grows with the number of test tasks).
//!
//! ```
//! use candle_core::{DType, Device};
//! use huashi_meta::{Functional, Maml, ModelSpec, Sinusoid, TaskBatch};
//!
//! std::env::set_var("CANDLE_GRAD_DO_NOT_DETACH", "1"); // before any backward
//! let (mlp, params) = ModelSpec::mlp(&[1, 40, 40, 1]).build(0)?;
//! let tasks = Sinusoid::new(0).meta_batch(0, 4, 10, 10, DType::F32, &Device::Cpu)?;
//! let batch = TaskBatch::stack(&tasks)?;
//! let maml = Maml::default();
//! let mut learner = maml.clone_learner(&params, batch.tasks())?;
//! let support_losses = maml.loss.per_task(&learner.forward(&mlp, &batch.support.x)?, &batch.support.y)?;
//! learner.adapt(&support_losses)?; // (T,): one loss per task
//! let query_loss = maml.loss.mean(&learner.forward(&mlp, &batch.query.x)?, &batch.query.y)?;
//! # let _ = query_loss;
//! # Ok::<(), huashi_meta::Error>(())
//! ```
//!
//! A mean over tasks would silently divide α by `T`, so [`Learner::adapt`]
//! takes the losses per task and sums them itself:
//!
//! ```
//! # use candle_core::{DType, Device, Tensor};
//! # use huashi_meta::{Maml, ModelSpec};
//! # let (_, params) = ModelSpec::mlp(&[1, 4, 1]).build(0)?;
//! let maml = Maml { first_order: true, ..Maml::default() };
//! let mut learner = maml.clone_learner(&params, 4)?;
//! let mean = Tensor::new(1f32, &Device::Cpu)?;
//! assert!(learner.adapt(&mean).is_err()); // not one loss per task
//! # Ok::<(), huashi_meta::Error>(())
//! ```

use crate::error::{Error, Result};
use crate::functional::{Functional, LR_PREFIX};
use candle_core::{Tensor, Var};
use huashi_net::ParamSet;

/// How a [`Learner`] keeps the graph of its steps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum GraphMode {
    /// Second order: the inner gradients keep their graph.
    SecondOrder,
    /// First order: the inner gradients are detached, the path from `θ`
    /// through the updates is kept (FOMAML).
    FirstOrder,
    /// Evaluation: every step's result is detached (no graph grows).
    Detached,
}

/// Task-batched parameters being adapted (see the module docs).
#[derive(Debug)]
pub struct Learner {
    current: ParamSet,
    shifted: ParamSet,
    zeros: Vec<Option<Var>>,
    rates: Vec<Option<Tensor>>,
    inner_lr: f64,
    mode: GraphMode,
    tasks: usize,
}

impl Learner {
    /// A learner from task-batched `current` parameters; `adapts(name)` says
    /// which are adapted, `rates` holds Meta-SGD's per-parameter learning
    /// rates (`lr.<name>`, without the task dimension) when present.
    pub(crate) fn new(
        current: ParamSet,
        adapts: impl Fn(&str) -> bool,
        rates: Option<&ParamSet>,
        inner_lr: f64,
        mode: GraphMode,
        tasks: usize,
    ) -> Result<Learner> {
        let rates = current
            .names()
            .map(|name| rates.and_then(|r| r.get(&format!("{LR_PREFIX}{name}")).cloned()))
            .collect();
        let adapted: Vec<bool> = current.names().map(adapts).collect();
        let mut learner = Learner {
            current,
            shifted: ParamSet::new(),
            zeros: Vec::new(),
            rates,
            inner_lr,
            mode,
            tasks,
        };
        learner.shift(&adapted)?;
        Ok(learner)
    }

    /// `shifted = current + z` with fresh zero variables for adapted entries.
    fn shift(&mut self, adapted: &[bool]) -> Result<()> {
        let mut shifted = ParamSet::new();
        let mut zeros = Vec::with_capacity(self.current.len());
        for ((name, t), &adapt) in self.current.iter().zip(adapted) {
            if adapt {
                let z = Var::zeros(t.shape(), t.dtype(), t.device())?;
                shifted.insert(name, (t + z.as_tensor())?);
                zeros.push(Some(z));
            } else {
                shifted.insert(name, t.clone());
                zeros.push(None);
            }
        }
        self.shifted = shifted;
        self.zeros = zeros;
        Ok(())
    }

    /// The parameters a forward pass should use now.
    pub fn params(&self) -> &ParamSet {
        &self.shifted
    }

    /// The model's output on the task-batched input `x` with these
    /// parameters.
    ///
    /// # Shapes
    /// `x (T, B, …)` → the model's output `(T, B, …)`.
    ///
    /// # Errors
    /// The model's errors.
    pub fn forward<M: Functional>(&self, model: &M, x: &Tensor) -> Result<Tensor> {
        model.forward(&self.shifted, x)
    }

    /// One inner step on the support losses, one per task: their **sum** is
    /// differentiated, so each task's slice gets its own gradient. A
    /// parameter the losses do not depend on is kept.
    ///
    /// # Shapes
    /// `task_losses (T)` with `T` the learner's number of tasks.
    ///
    /// # Errors
    /// [`Error::ShapeMismatch`] for any other shape (a mean over tasks would
    /// silently divide α by `T`); candle's errors of the backward pass.
    pub fn adapt(&mut self, task_losses: &Tensor) -> Result<()> {
        if task_losses.dims() != [self.tasks] {
            return Err(Error::ShapeMismatch {
                what: "Learner::adapt losses (one per task, not a sum or mean)",
                expected: format!("({},)", self.tasks),
                got: task_losses.dims().to_vec(),
            });
        }
        let grads = task_losses.sum_all()?.backward()?;
        let mut next = ParamSet::new();
        let mut adapted = Vec::with_capacity(self.zeros.len());
        for (((name, t), z), rate) in self.current.iter().zip(&self.zeros).zip(&self.rates) {
            adapted.push(z.is_some());
            let gradient = z.as_ref().and_then(|z| grads.get(z.as_tensor()));
            let updated = match gradient {
                None => t.clone(),
                Some(g) => {
                    let g = match self.mode {
                        GraphMode::SecondOrder => g.clone(),
                        _ => g.detach(),
                    };
                    let step = match rate {
                        Some(rate) => g.broadcast_mul(rate)?,
                        None => g.affine(self.inner_lr, 0.0)?,
                    };
                    (t - step)?
                }
            };
            let updated = match self.mode {
                GraphMode::Detached => updated.detach(),
                _ => updated,
            };
            next.insert(name, updated);
        }
        self.current = next;
        self.shift(&adapted)
    }

    /// The adapted task-batched parameters (without the zero shifts).
    pub fn into_params(self) -> ParamSet {
        self.current
    }
}
