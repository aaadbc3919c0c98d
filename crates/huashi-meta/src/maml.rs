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
//! Candle keeps gradients only for variables, so each inner step evaluates
//! the model at `θₖ + zₖ` with `zₖ` a fresh zero variable: `∇_zₖ L = ∇_θₖ L`
//! and the graph back to `θ` is intact.

use crate::error::{Error, Result};
use crate::sinusoid::{Batch, Task};
use candle_core::{Tensor, Var};
use huashi_net::ParamSet;

/// A model whose forward pass takes its parameters explicitly.
pub trait Functional {
    /// The output for input `x` computed with `params`.
    fn forward(&self, params: &ParamSet, x: &Tensor) -> Result<Tensor>;
}

/// The task loss.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Loss {
    /// Mean squared error over all elements (regression, as for sinusoids).
    #[default]
    Mse,
}

impl Loss {
    /// The scalar loss of `prediction` against `target`.
    pub fn compute(&self, prediction: &Tensor, target: &Tensor) -> Result<Tensor> {
        match self {
            Loss::Mse => Ok((prediction - target)?.sqr()?.mean_all()?),
        }
    }
}

/// MAML's configuration: inner learning rate `α`, number of inner steps, and
/// whether the meta-gradient is first order (overridable per call with the
/// `_with` methods).
#[derive(Debug, Clone, PartialEq)]
pub struct Maml {
    /// Inner learning rate `α` (0.01 for sinusoids in the paper).
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
        }
    }
}

impl Maml {
    /// Checks the configuration.
    pub fn check(&self) -> Result<()> {
        if !self.inner_lr.is_finite() {
            return Err(Error::InvalidConfig {
                what: "inner learning rate",
                value: self.inner_lr.to_string(),
            });
        }
        if self
            .adapt_only
            .as_ref()
            .is_some_and(|names| names.is_empty())
        {
            return Err(Error::InvalidConfig {
                what: "adapted parameter subset (empty)",
                value: "[]".into(),
            });
        }
        Ok(())
    }

    /// Checks that every name in [`Maml::adapt_only`] is in `params`.
    fn check_subset(&self, params: &ParamSet) -> Result<()> {
        for name in self.adapt_only.iter().flatten() {
            if params.get(name).is_none() {
                return Err(Error::InvalidConfig {
                    what: "adapted parameter (not in the parameter set)",
                    value: name.clone(),
                });
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

    fn prepare(&self, first_order: bool) -> Result<()> {
        self.check()?;
        if !first_order && self.inner_steps > 0 && !huashi_conv::second_order_enabled() {
            return Err(Error::SecondOrderDisabled);
        }
        Ok(())
    }

    /// The task loss of `model` with `params` on `batch`.
    pub fn task_loss<M: Functional>(
        &self,
        model: &M,
        params: &ParamSet,
        batch: &Batch,
    ) -> Result<Tensor> {
        self.loss
            .compute(&model.forward(params, &batch.x)?, &batch.y)
    }

    /// `inner_steps` steps of gradient descent on `support` from `params`,
    /// keeping the graph back to `params` (unless first order).
    pub fn adapt<M: Functional>(
        &self,
        model: &M,
        params: &ParamSet,
        support: &Batch,
    ) -> Result<ParamSet> {
        self.adapt_with(model, params, support, self.first_order)
    }

    /// [`Maml::adapt`] with `first_order` overriding the configuration.
    pub fn adapt_with<M: Functional>(
        &self,
        model: &M,
        params: &ParamSet,
        support: &Batch,
        first_order: bool,
    ) -> Result<ParamSet> {
        self.prepare(first_order)?;
        self.check_subset(params)?;
        self.inner_loop(model, params.clone(), support, first_order, false)
    }

    /// Evaluation-time adaptation: the same steps, but no graph is built or
    /// kept (the result is detached), so memory does not grow with the
    /// number of test tasks.
    pub fn adapt_detached<M: Functional>(
        &self,
        model: &M,
        params: &ParamSet,
        support: &Batch,
    ) -> Result<ParamSet> {
        self.check()?;
        self.check_subset(params)?;
        let start = params.map(|_, t| Ok(t.detach()))?;
        self.inner_loop(model, start, support, true, true)
    }

    fn inner_loop<M: Functional>(
        &self,
        model: &M,
        mut current: ParamSet,
        support: &Batch,
        first_order: bool,
        detach_all: bool,
    ) -> Result<ParamSet> {
        for _ in 0..self.inner_steps {
            let mut shifted = ParamSet::new();
            let mut zeros = Vec::with_capacity(current.len());
            for (name, t) in current.iter() {
                if self.adapts(name) {
                    let z = Var::zeros(t.shape(), t.dtype(), t.device())?;
                    shifted.insert(name, t.broadcast_add(z.as_tensor())?);
                    zeros.push(Some(z));
                } else {
                    shifted.insert(name, t.clone());
                    zeros.push(None);
                }
            }
            let grads = self.task_loss(model, &shifted, support)?.backward()?;
            let mut next = ParamSet::new();
            for ((name, t), z) in current.iter().zip(&zeros) {
                // A parameter not adapted, or that the loss does not depend
                // on, is kept unchanged.
                let updated = match z.as_ref().and_then(|z| grads.get(z.as_tensor())) {
                    Some(g) if first_order => (t - g.detach().affine(self.inner_lr, 0.0)?)?,
                    Some(g) => (t - g.affine(self.inner_lr, 0.0)?)?,
                    None => t.clone(),
                };
                next.insert(
                    name,
                    if detach_all {
                        updated.detach()
                    } else {
                        updated
                    },
                );
            }
            current = next;
        }
        Ok(current)
    }

    /// The meta-loss `1/n Σᵢ L_query,i(adapt(θ, support_i))` over `tasks`;
    /// `.backward()` on it gives the meta-gradient at the tensors of
    /// `params` (make them [`Var`]s, e.g. with [`crate::to_vars`]).
    pub fn meta_loss<M: Functional>(
        &self,
        model: &M,
        params: &ParamSet,
        tasks: &[Task],
    ) -> Result<Tensor> {
        self.meta_loss_with(model, params, tasks, self.first_order)
    }

    /// [`Maml::meta_loss`] with `first_order` overriding the configuration.
    pub fn meta_loss_with<M: Functional>(
        &self,
        model: &M,
        params: &ParamSet,
        tasks: &[Task],
        first_order: bool,
    ) -> Result<Tensor> {
        if tasks.is_empty() {
            return Err(Error::EmptyMetaBatch);
        }
        let mut total: Option<Tensor> = None;
        for task in tasks {
            let adapted = self.adapt_with(model, params, &task.support, first_order)?;
            let loss = self.task_loss(model, &adapted, &task.query)?;
            total = Some(match total {
                None => loss,
                Some(sum) => (sum + loss)?,
            });
        }
        let total = total.ok_or(Error::EmptyMetaBatch)?;
        Ok(total.affine(1.0 / tasks.len() as f64, 0.0)?)
    }
}
