//! Prototypical Networks (Snell, Swersky & Zemel, *Prototypical Networks
//! for Few-shot Learning*, NeurIPS 2017): no inner loop. A class's prototype
//! is the mean embedding of its support points, `p_c = 1/|S_c| Σ f(x)`, and a
//! query is classified by a softmax over negative squared Euclidean
//! distances, `logit_c = −‖f(q) − p_c‖²`.
//!
//! The embedding is any [`Functional`] model's output (an end point of a
//! network, e.g. the papers' CNN without a head). Support and query pass through the network together, so
//! batch normalisation sees one batch per task. Prototypes are computed for
//! the whole meta-batch at once with a one-hot matmul
//! (`(T, N, S) × (T, S, D)`), which does not depend on the support order.

use crate::error::{Error, Result};
use crate::functional::{tile_tasks, Functional};
use crate::loss::{one_hot, Loss};
use crate::maml::MetaLoss;
use crate::task::TaskBatch;
use candle_core::{Tensor, D};
use huashi_net::ParamSet;

/// Prototypical Networks for `ways`-way tasks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProtoNet {
    /// The number of classes per task.
    pub ways: usize,
}

impl ProtoNet {
    /// The query logits `(T, Q, ways)` of a task batch, with `params` shared
    /// by all tasks (no adaptation).
    ///
    /// # Shapes
    /// `batch.support.x (T, S, …)`, `batch.support.y (T, S)` (`u32`),
    /// `batch.query.x (T, Q, …)` → `(T, Q, ways)`.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] for an embedding that is not `(T, B, features)`, a
    /// label outside `0..ways`, or a class without support points; the model's errors.
    pub fn logits<M: Functional>(
        &self,
        model: &M,
        params: &ParamSet,
        batch: &TaskBatch,
    ) -> Result<Tensor> {
        let tasks = batch.tasks();
        let support_points = batch.support.x.dim(1)?;
        let x = Tensor::cat(&[&batch.support.x, &batch.query.x], 1)?;
        let embedded = model.forward(&tile_tasks(params, tasks)?, &x)?;
        if embedded.rank() != 3 {
            return Err(Error::InvalidConfig {
                what: "Prototypical Network embedding (must be (T, B, features))",
                value: format!("{:?}", embedded.dims()),
            });
        }
        let support = embedded.narrow(1, 0, support_points)?;
        let query = embedded.narrow(1, support_points, embedded.dim(1)? - support_points)?;
        let mask = one_hot(&batch.support.y, self.ways, embedded.dtype())?.transpose(1, 2)?;
        let counts = mask.sum_keepdim(D::Minus1)?;
        if counts
            .flatten_all()?
            .min(0)?
            .to_dtype(candle_core::DType::F64)?
            .to_scalar::<f64>()?
            == 0.0
        {
            return Err(Error::InvalidConfig {
                what: "Prototypical Network support (a class has no support point)",
                value: format!("ways {}", self.ways),
            });
        }
        let prototypes = mask
            .contiguous()?
            .matmul(&support)?
            .broadcast_div(&counts)?;
        let cross = query.matmul(&prototypes.transpose(1, 2)?.contiguous()?)?;
        let query_norm = query.sqr()?.sum_keepdim(D::Minus1)?;
        let proto_norm = prototypes.sqr()?.sum(D::Minus1)?.unsqueeze(1)?;
        let distance = query_norm
            .broadcast_add(&proto_norm)?
            .broadcast_sub(&cross.affine(2.0, 0.0)?)?;
        Ok(distance.neg()?)
    }

    /// The mean cross-entropy of the query points over the task batch, with
    /// per-task losses and logits.
    ///
    /// # Shapes
    /// As [`Self::logits`], with `batch.query.y (T, Q)` → `loss ()`, `per_task (T)`,
    /// `prediction (T, Q, ways)`.
    ///
    /// # Errors
    /// As [`Self::logits`]; [`Error::InvalidConfig`] for a query label outside `0..ways`.
    pub fn loss<M: Functional>(
        &self,
        model: &M,
        params: &ParamSet,
        batch: &TaskBatch,
    ) -> Result<MetaLoss> {
        let prediction = self.logits(model, params, batch)?;
        let per_task = Loss::CrossEntropy.per_task(&prediction, &batch.query.y)?;
        Ok(MetaLoss {
            loss: per_task.mean_all()?,
            per_task,
            prediction,
        })
    }
}
