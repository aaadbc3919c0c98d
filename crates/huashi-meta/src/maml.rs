//! MAML (Finn, Abbeel & Levine, *Model-Agnostic Meta-Learning for Fast
//! Adaptation of Deep Networks*, ICML 2017) over functional models.
//!
//! Inner loop (per task, `k = 0 .. steps`, `θ₀ = θ`):
//! `θₖ₊₁ = θₖ − α ∇_θₖ L_support(θₖ)`.
//! Meta-loss over a meta-batch of `n` tasks:
//! `ℒ(θ) = 1/n Σᵢ L_query,i(θ_steps,i(θ))`, whose gradient `∇_θ ℒ` — obtained
//! by calling `.backward()` on [`Maml::meta_loss`] — is the meta-gradient.
//!
//! - **Second order** (the default): the inner gradients keep their graph,
//!   so `∇_θ ℒ` contains the Jacobians `∏ₖ (I − α ∇²L_support(θₖ))`. This
//!   needs candle to keep the graph of gradients (`CANDLE_GRAD_DO_NOT_DETACH`
//!   set before the thread's first backward); it is checked, and
//!   [`Error::SecondOrderDisabled`] returned otherwise.
//! - **First order** (FOMAML, §5.2 of the paper): the inner gradients are
//!   detached, so `∇_θ ℒ = 1/n Σᵢ ∇L_query,i` evaluated at the adapted
//!   parameters.
//!
//! - **A subset** ([`Maml::adapt_only`]): only the named parameters take
//!   inner steps (ANIL: the head only); all are meta-learned.
//!
//! - **Meta-SGD** ([`Maml::per_parameter_lr`], Li et al. 2017): the inner
//!   step is `θₖ₊₁ = θₖ − α ⊙ ∇L` with `α` a learned tensor per parameter,
//!   stored in the same [`ParamSet`] as `lr.<name>` (see [`crate::meta_sgd`]).
//!
//! The whole meta-batch runs at once: `θ` is tiled along a task dimension
//! ([`crate::tile_tasks`]) and the inner steps descend the **sum** of the
//! task losses, whose gradient in each task's slice is that task's own
//! gradient (see [`crate::Learner`] for how the graph is kept).

use crate::error::{Error, Result};
use crate::functional::{model_params, task_slice, tile_tasks, Functional, LR_PREFIX};
use crate::learner::{GraphMode, Learner};
use crate::loss::Loss;
use crate::task::{Batch, Task, TaskBatch};
use candle_core::Tensor;
use huashi_net::ParamSet;

/// MAML's configuration: inner learning rate `α`, number of inner steps, and
/// whether the meta-gradient is first order ([`Maml::first_order`], the one
/// place that says it).
#[derive(Debug, Clone, PartialEq)]
pub struct Maml {
    /// Inner learning rate `α` (0.01 for sinusoids in the paper; the
    /// initial value of every rate under Meta-SGD).
    pub inner_lr: f64,
    /// Inner gradient steps per task (1 in the paper's sinusoid training).
    pub inner_steps: usize,
    /// First-order MAML: detach the inner gradients.
    pub first_order: bool,
    /// The task loss.
    pub loss: Loss,
    /// Adapt only the parameters with these names (`None`: all). ANIL
    /// (Raghu et al., ICLR 2020) is the head only, e.g.
    /// `Some(vec!["layers.2.weight".into(), "layers.2.bias".into()])`; the
    /// other parameters are shared across tasks and still meta-learned.
    pub adapt_only: Option<Vec<String>>,
    /// Meta-SGD: use the learned rates `lr.<name>` of the parameter set.
    pub per_parameter_lr: bool,
}

impl Default for Maml {
    /// The paper's sinusoid setting: `α = 0.01`, one step, second order, MSE.
    fn default() -> Self {
        Maml {
            inner_lr: 0.01,
            inner_steps: 1,
            first_order: false,
            loss: Loss::Mse,
            adapt_only: None,
            per_parameter_lr: false,
        }
    }
}

/// The meta-loss of a task batch with what was computed on the way.
#[derive(Debug, Clone)]
pub struct MetaLoss {
    /// The mean query loss over the tasks (call `.backward()` on it).
    pub loss: Tensor,
    /// The query loss of each task, `(T,)`.
    pub per_task: Tensor,
    /// The adapted model's query predictions, `(T, B, …)`.
    pub prediction: Tensor,
}

impl Maml {
    /// Checks the configuration (every method runs it).
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] for an inner rate that is not finite and
    /// positive, or an empty subset of adapted parameters.
    pub fn check(&self) -> Result<()> {
        if !(self.inner_lr.is_finite() && self.inner_lr > 0.0) {
            return Err(Error::InvalidConfig {
                what: "inner learning rate (must be positive)",
                value: self.inner_lr.to_string(),
            });
        }
        if self.adapt_only.as_ref().is_some_and(|n| n.is_empty()) {
            return Err(Error::InvalidConfig {
                what: "adapted parameter subset (empty)",
                value: "[]".into(),
            });
        }
        Ok(())
    }

    /// Checks the subset and (under Meta-SGD) the rates against `params`.
    fn check_params(&self, params: &ParamSet) -> Result<()> {
        for name in self.adapt_only.iter().flatten() {
            if params.get(name).is_none() {
                return Err(Error::InvalidConfig {
                    what: "adapted parameter (not in the parameter set)",
                    value: name.clone(),
                });
            }
        }
        if self.per_parameter_lr {
            for (name, _) in model_params(params).iter().filter(|(n, _)| self.adapts(n)) {
                if params.get(&format!("{LR_PREFIX}{name}")).is_none() {
                    return Err(Error::InvalidConfig {
                        what: "Meta-SGD learning rate (missing from the parameter set)",
                        value: format!("{LR_PREFIX}{name}"),
                    });
                }
            }
        }
        Ok(())
    }

    /// Whether the inner loop adapts the parameter `name`.
    pub fn adapts(&self, name: &str) -> bool {
        self.adapt_only
            .as_ref()
            .is_none_or(|names| names.iter().any(|n| n == name))
    }

    fn mode(&self) -> Result<GraphMode> {
        self.check()?;
        if self.first_order || self.inner_steps == 0 {
            return Ok(GraphMode::FirstOrder);
        }
        if !huashi_conv::second_order_enabled() {
            return Err(Error::SecondOrderDisabled);
        }
        Ok(GraphMode::SecondOrder)
    }

    fn learner(&self, params: &ParamSet, tasks: usize, mode: GraphMode) -> Result<Learner> {
        self.check_params(params)?;
        let mut start = tile_tasks(&model_params(params), tasks)?;
        let mut rates = params.clone();
        if mode == GraphMode::Detached {
            start = start.map(|_, t| Ok(t.detach()))?;
            rates = rates.map(|_, t| Ok(t.detach()))?;
        }
        let rates = self.per_parameter_lr.then_some(&rates);
        Learner::new(start, |n| self.adapts(n), rates, self.inner_lr, mode, tasks)
    }

    /// learn2learn's `maml.clone()`: a [`Learner`] for `tasks` tasks whose
    /// steps keep the graph back to `params` (second order unless
    /// [`Maml::first_order`]).
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] from [`Self::check`], or for an adapted parameter or a
    /// Meta-SGD rate missing from `params`; [`Error::SecondOrderDisabled`] when the
    /// meta-gradient is second order and candle detaches gradients.
    pub fn clone_learner(&self, params: &ParamSet, tasks: usize) -> Result<Learner> {
        let mode = self.mode()?;
        self.learner(params, tasks, mode)
    }

    /// The task-batched parameters after `inner_steps` steps on the
    /// task-batched `support` (`x` is `(T, B, …)`).
    pub(crate) fn adapt_tasks<M: Functional>(
        &self,
        model: &M,
        params: &ParamSet,
        support: &Batch,
        mode: GraphMode,
    ) -> Result<ParamSet> {
        let mut learner = self.learner(params, support.x.dim(0)?, mode)?;
        for _ in 0..self.inner_steps {
            let prediction = learner.forward(model, &support.x)?;
            learner.adapt(&self.loss.per_task(&prediction, &support.y)?)?;
        }
        Ok(learner.into_params())
    }

    /// One task: the parameters after `inner_steps` steps on `support`
    /// (without a task dimension), keeping the graph back to `params`.
    ///
    /// # Shapes
    /// `support.x (B, …)`, `support.y` its targets → the model's parameters (no
    /// `lr.*`), shaped as in `params`.
    ///
    /// # Errors
    /// As [`Self::clone_learner`]; the model's and the loss's errors.
    pub fn adapt<M: Functional>(
        &self,
        model: &M,
        params: &ParamSet,
        support: &Batch,
    ) -> Result<ParamSet> {
        let mode = self.mode()?;
        let support = single(support)?;
        task_slice(&self.adapt_tasks(model, params, &support, mode)?, 0)
    }

    /// Evaluation-time adaptation of one task: the same steps, but no graph
    /// is kept, so memory does not grow with the number of test tasks.
    ///
    /// # Shapes
    /// `support.x (B, …)`, `support.y` its targets → the model's parameters (no
    /// `lr.*`), shaped as in `params`.
    ///
    /// # Errors
    /// As [`Self::adapt`], except that second order is never needed.
    pub fn adapt_detached<M: Functional>(
        &self,
        model: &M,
        params: &ParamSet,
        support: &Batch,
    ) -> Result<ParamSet> {
        self.check()?;
        let adapted = self.adapt_tasks(model, params, &single(support)?, GraphMode::Detached)?;
        task_slice(&adapted, 0)
    }

    /// The loss of `model` with one task's `params` on `batch`.
    ///
    /// # Shapes
    /// `batch.x (B, …)`, `batch.y` its targets → a scalar.
    ///
    /// # Errors
    /// The model's errors on `batch.x`, and the loss's (e.g. a target of another shape).
    pub fn task_loss<M: Functional>(
        &self,
        model: &M,
        params: &ParamSet,
        batch: &Batch,
    ) -> Result<Tensor> {
        let prediction = model.forward_one(params, &batch.x)?;
        self.loss
            .mean(&prediction.unsqueeze(0)?, &batch.y.unsqueeze(0)?)
    }

    /// The meta-loss `1/n Σᵢ L_query,i(adapt(θ, support_i))` over `tasks`;
    /// `.backward()` on it gives the meta-gradient at the tensors of
    /// `params` (make them [`candle_core::Var`]s, e.g. with
    /// [`crate::to_vars`]).
    ///
    /// # Shapes
    /// Every task's `support` and `query` alike, `x (B, …)` → a scalar.
    ///
    /// # Errors
    /// As [`Self::meta_loss_batch`], and those of [`TaskBatch::stack`]
    /// ([`Error::EmptyMetaBatch`], tasks of unequal shapes).
    pub fn meta_loss<M: Functional>(
        &self,
        model: &M,
        params: &ParamSet,
        tasks: &[Task],
    ) -> Result<Tensor> {
        let batch = TaskBatch::stack(tasks)?;
        Ok(self.meta_loss_batch(model, params, &batch)?.loss)
    }

    /// The meta-loss of a stacked task batch, with the per-task losses and
    /// the query predictions.
    ///
    /// # Shapes
    /// `batch.support.x (T, B, …)`, `batch.query.x (T, Q, …)` → `loss ()`,
    /// `per_task (T)`, `prediction (T, Q, …)`.
    ///
    /// # Errors
    /// As [`Self::clone_learner`]; the model's and the loss's errors.
    pub fn meta_loss_batch<M: Functional>(
        &self,
        model: &M,
        params: &ParamSet,
        batch: &TaskBatch,
    ) -> Result<MetaLoss> {
        let mode = self.mode()?;
        let adapted = self.adapt_tasks(model, params, &batch.support, mode)?;
        self.query_loss(model, &adapted, &batch.query)
    }

    /// The query losses of task-batched `adapted` parameters.
    ///
    /// # Shapes
    /// `adapted` tensors `(T, …)`, `query.x (T, Q, …)` → `loss ()`, `per_task (T)`,
    /// `prediction (T, Q, …)`.
    ///
    /// # Errors
    /// The model's errors, and the loss's (e.g. targets of another shape).
    pub fn query_loss<M: Functional>(
        &self,
        model: &M,
        adapted: &ParamSet,
        query: &Batch,
    ) -> Result<MetaLoss> {
        let prediction = model.forward(adapted, &query.x)?;
        let per_task = self.loss.per_task(&prediction, &query.y)?;
        Ok(MetaLoss {
            loss: per_task.mean_all()?,
            per_task,
            prediction,
        })
    }
}

/// One task's batch with a task dimension of 1.
fn single(batch: &Batch) -> Result<Batch> {
    Ok(Batch {
        x: batch.x.unsqueeze(0)?,
        y: batch.y.unsqueeze(0)?,
    })
}
