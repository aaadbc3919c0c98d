//! The meta-learning algorithms the trainer runs, and the hyper-parameters
//! they share.

use crate::error::{Error, Result};
use crate::loss::Loss;
use crate::maml::Maml;
use crate::protonet::ProtoNet;
use crate::reptile::Reptile;
use huashi_net::ParamSet;
use serde::{Deserialize, Serialize};

/// A meta-learning algorithm.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Algorithm {
    /// MAML with second-order meta-gradients (Finn et al. 2017).
    Maml,
    /// First-order MAML.
    Fomaml,
    /// Reptile (Nichol et al. 2018).
    Reptile,
    /// ANIL: MAML adapting the head only (Raghu et al. 2020).
    Anil,
    /// Meta-SGD: MAML with learned per-parameter inner rates (Li et al. 2017).
    Metasgd,
    /// Prototypical Networks (Snell et al. 2017).
    Protonet,
    /// The baseline "pretrained on all tasks": the plain gradient of the
    /// query loss without adaptation (MAML with 0 inner steps), adapted by
    /// fine-tuning at test time.
    Pretrain,
}

impl Algorithm {
    /// All algorithms, in CLI order.
    pub const ALL: [Algorithm; 7] = [
        Algorithm::Maml,
        Algorithm::Fomaml,
        Algorithm::Reptile,
        Algorithm::Anil,
        Algorithm::Metasgd,
        Algorithm::Protonet,
        Algorithm::Pretrain,
    ];

    /// The CLI name.
    pub fn name(&self) -> &'static str {
        match self {
            Algorithm::Maml => "maml",
            Algorithm::Fomaml => "fomaml",
            Algorithm::Reptile => "reptile",
            Algorithm::Anil => "anil",
            Algorithm::Metasgd => "metasgd",
            Algorithm::Protonet => "protonet",
            Algorithm::Pretrain => "pretrain",
        }
    }

    /// Parses a CLI name.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] listing the known names.
    pub fn parse(name: &str) -> Result<Algorithm> {
        Self::ALL
            .into_iter()
            .find(|a| a.name() == name)
            .ok_or_else(|| Error::InvalidConfig {
                what: "algorithm (maml, fomaml, reptile, anil, metasgd, protonet, pretrain)",
                value: name.to_string(),
            })
    }
}

/// Inner-loop and outer-loop hyper-parameters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Hyper {
    /// The algorithm.
    pub algorithm: Algorithm,
    /// The task loss.
    pub loss: LossKind,
    /// Inner learning rate `α` (initial rate for Meta-SGD; SGD rate for
    /// Reptile's inner loop).
    pub inner_lr: f64,
    /// Inner steps during meta-training.
    pub inner_steps: usize,
    /// Inner steps when evaluating (the papers often adapt longer at test).
    pub eval_inner_steps: usize,
    /// Adam's learning rate (for Reptile: the initial outer step size `ε₀`,
    /// annealed linearly to 0).
    pub meta_lr: f64,
    /// Tasks per meta-batch.
    pub meta_batch: usize,
    /// Meta-iterations.
    pub iterations: u64,
}

/// A serialisable [`Loss`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LossKind {
    /// Mean squared error.
    Mse,
    /// Cross-entropy over `ways` classes.
    CrossEntropy {
        /// Classes per task.
        ways: usize,
    },
}

impl LossKind {
    /// The loss.
    pub fn loss(&self) -> Loss {
        match self {
            LossKind::Mse => Loss::Mse,
            LossKind::CrossEntropy { .. } => Loss::CrossEntropy,
        }
    }
}

impl Hyper {
    /// Checks ranges.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] for a zero meta-batch, a rate that is not finite and
    /// positive, Reptile without inner steps, or Prototypical Networks on regression.
    pub fn check(&self) -> Result<()> {
        let bad = |what: &'static str, value: String| Err(Error::InvalidConfig { what, value });
        if self.meta_batch == 0 {
            return bad("meta-batch (must be positive)", "0".into());
        }
        if !(self.inner_lr.is_finite() && self.inner_lr > 0.0) {
            return bad(
                "inner learning rate (must be positive)",
                self.inner_lr.to_string(),
            );
        }
        if !(self.meta_lr.is_finite() && self.meta_lr > 0.0) {
            return bad(
                "meta learning rate (must be positive)",
                self.meta_lr.to_string(),
            );
        }
        if self.algorithm == Algorithm::Reptile && self.inner_steps == 0 {
            return bad("Reptile inner steps (must be positive)", "0".into());
        }
        if self.algorithm == Algorithm::Protonet
            && !matches!(self.loss, LossKind::CrossEntropy { .. })
        {
            return bad(
                "Prototypical Networks task (classification only)",
                "sinusoid".into(),
            );
        }
        Ok(())
    }

    /// Inner steps during meta-training (0 for the pretrained baseline).
    pub fn train_steps(&self) -> usize {
        match self.algorithm {
            Algorithm::Pretrain => 0,
            _ => self.inner_steps,
        }
    }

    /// The inner steps an evaluation asked for `steps` really takes
    /// (Prototypical Networks take none).
    pub fn eval_steps(&self, steps: usize) -> usize {
        match self.algorithm {
            Algorithm::Protonet => 0,
            _ => steps,
        }
    }

    /// The MAML configuration of the MAML family (`head`: the names ANIL
    /// adapts) for `steps` inner steps.
    pub fn maml(&self, steps: usize, head: &[String]) -> Maml {
        Maml {
            inner_lr: self.inner_lr,
            inner_steps: steps,
            first_order: self.algorithm == Algorithm::Fomaml,
            loss: self.loss.loss(),
            adapt_only: (self.algorithm == Algorithm::Anil).then(|| head.to_vec()),
            per_parameter_lr: self.algorithm == Algorithm::Metasgd,
        }
    }

    /// Reptile's configuration.
    pub fn reptile(&self) -> Reptile {
        Reptile {
            inner_lr: self.inner_lr,
            inner_steps: self.inner_steps,
            outer_step: self.meta_lr,
            loss: self.loss.loss(),
        }
    }

    /// Whether tasks are classification (accuracy is reported).
    pub fn is_classification(&self) -> bool {
        matches!(self.loss, LossKind::CrossEntropy { .. })
    }

    /// Prototypical Networks' configuration (`None` for regression).
    pub fn protonet(&self) -> Option<ProtoNet> {
        match self.loss {
            LossKind::CrossEntropy { ways } => Some(ProtoNet { ways }),
            LossKind::Mse => None,
        }
    }

    /// The initial parameter set: the model's, plus Meta-SGD's rates.
    ///
    /// # Errors
    /// For Meta-SGD, the errors of [`crate::with_learning_rates`].
    pub fn initial_params(&self, model_params: ParamSet) -> Result<ParamSet> {
        match self.algorithm {
            Algorithm::Metasgd => {
                crate::meta_sgd::with_learning_rates(&model_params, self.inner_lr)
            }
            _ => Ok(model_params),
        }
    }
}
