//! N-way K-shot task sampling (Vinyals et al. 2016; Finn et al. 2017).
//!
//! Task `i` of a [`FewShotSampler`] depends only on `(seed, i)` (the random
//! stream `huashi_rng::Rng::indexed(seed, "few-shot task", i)`): it draws `ways` distinct classes of
//! the pool, then `shots + queries` distinct drawings of each; the first
//! `shots` go to the support set, the rest to the query set. Labels are
//! `0..ways` in the order the classes were drawn, and both sets are ordered
//! class-major (all points of label 0, then label 1, …).

use super::error::DataError;
use super::pool::ClassPool;
use crate::task::{Batch, Task};
use candle_core::{Device, Tensor};
use huashi_rng::Rng;

/// Draws N-way K-shot tasks from a [`ClassPool`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FewShotSampler {
    /// Classes per task (N).
    pub ways: usize,
    /// Support drawings per class (K).
    pub shots: usize,
    /// Query drawings per class (may be 0).
    pub queries: usize,
    /// The seed; task `i` uses the stream `(seed, i)`.
    pub seed: u64,
}

/// The classes and drawings of one task, before they become tensors.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DrawnClass {
    /// The class index in the pool; its label is its position in the task.
    pub class: usize,
    /// Its support drawings (`shots`), then its query drawings (`queries`).
    pub drawings: Vec<usize>,
}

impl FewShotSampler {
    /// Checks the settings against `pool`: `ways` and `shots` must be
    /// positive, the pool must hold `ways` classes and every class
    /// `shots + queries` drawings.
    ///
    /// # Errors
    /// [`DataError::InvalidSetting`] for zero `ways` or `shots` (or an overflowing
    /// `shots + queries`), [`DataError::TooFewClasses`], [`DataError::TooFewDrawings`].
    pub fn check(&self, pool: &ClassPool) -> Result<(), DataError> {
        for (what, value) in [("ways", self.ways), ("shots", self.shots)] {
            if value == 0 {
                return Err(DataError::InvalidSetting {
                    what,
                    value,
                    reason: "must be at least 1".into(),
                });
            }
        }
        if self.ways > pool.len() {
            return Err(DataError::TooFewClasses {
                ways: self.ways,
                classes: pool.len(),
            });
        }
        let needed =
            self.shots
                .checked_add(self.queries)
                .ok_or_else(|| DataError::InvalidSetting {
                    what: "queries",
                    value: self.queries,
                    reason: format!("shots + queries overflows (shots {})", self.shots),
                })?;
        match (0..pool.len()).find(|&c| pool.drawings(c) < needed) {
            Some(c) => Err(DataError::TooFewDrawings {
                class: pool.name(c).to_string(),
                needed,
                available: pool.drawings(c),
            }),
            None => Ok(()),
        }
    }

    /// The classes and drawings of task `i` (label `l` is element `l`).
    ///
    /// # Errors
    /// As [`Self::check`].
    pub fn draw(&self, pool: &ClassPool, i: u64) -> Result<Vec<DrawnClass>, DataError> {
        self.check(pool)?;
        let mut rng = Rng::indexed(self.seed, "few-shot task", i);
        let classes = choose(&mut rng, pool.len(), self.ways);
        Ok(classes
            .into_iter()
            .map(|class| DrawnClass {
                class,
                drawings: choose(&mut rng, pool.drawings(class), self.shots + self.queries),
            })
            .collect())
    }

    /// Task `i`: support `x` of shape `(ways·shots, C, H, W)` (`f32`, the
    /// pool's image shape; Omniglot's is `(ways·shots, 1, 28, 28)`) and
    /// `y` of shape `(ways·shots,)` (`u32`), query likewise with `queries`,
    /// on `device`.
    ///
    /// # Errors
    /// As [`Self::check`] (as [`crate::Error::Data`]); candle's from the tensors.
    pub fn task(&self, pool: &ClassPool, i: u64, device: &Device) -> crate::Result<Task> {
        let drawn = self.draw(pool, i)?;
        let support = batch(pool, &drawn, 0..self.shots, device)?;
        let query = batch(pool, &drawn, self.shots..self.shots + self.queries, device)?;
        Ok(Task { support, query })
    }

    /// Tasks `first .. first + count`.
    ///
    /// # Errors
    /// As [`Self::task`].
    pub fn meta_batch(
        &self,
        pool: &ClassPool,
        first: u64,
        count: usize,
        device: &Device,
    ) -> crate::Result<Vec<Task>> {
        (first..first + count as u64)
            .map(|i| self.task(pool, i, device))
            .collect()
    }
}

/// The drawings `range` of each drawn class as one class-major batch.
fn batch(
    pool: &ClassPool,
    drawn: &[DrawnClass],
    range: std::ops::Range<usize>,
    device: &Device,
) -> crate::Result<Batch> {
    let points = drawn.len() * range.len();
    let [channels, height, width] = pool.shape();
    let mut x = Vec::with_capacity(points * pool.pixels());
    let mut y = Vec::with_capacity(points);
    for (label, class) in drawn.iter().enumerate() {
        for &d in &class.drawings[range.clone()] {
            x.extend_from_slice(pool.image(class.class, d));
            y.push(label as u32);
        }
    }
    Ok(Batch {
        x: Tensor::from_vec(x, (points, channels, height, width), device)?,
        y: Tensor::from_vec(y, points, device)?,
    })
}

/// `k` distinct values of `0..n` in random order (partial Fisher–Yates);
/// `k ≤ n`.
fn choose(rng: &mut Rng, n: usize, k: usize) -> Vec<usize> {
    let mut items: Vec<usize> = (0..n).collect();
    for i in 0..k {
        let j = i + rng.below(n - i);
        items.swap(i, j);
    }
    items.truncate(k);
    items
}
