//! Cutting a prepared series into the search's training, validation and
//! test splits.

use super::trial::SearchData;
use super::Params;
use crate::error::{Error, Result};
use crate::esn::EsnConfig;
use crate::forecast::{evaluate, Prepared, Score};

/// A prepared series cut into training, validation and test splits (the
/// standardisers fitted on the training split only).
#[derive(Debug, Clone)]
pub struct Splits {
    /// The series; `prepared.train` is the training split's length.
    pub prepared: Prepared,
    /// Pairs in the validation split, which follows the training split.
    pub validation: usize,
}

impl Splits {
    /// Cuts `prepared` (whose training split is already set) with a
    /// validation split of `fraction` of the pairs; the rest is the test
    /// split.
    ///
    /// # Errors
    /// A validation split under 2 pairs, or a test split under 2 pairs.
    pub fn new(prepared: Prepared, fraction: f64) -> Result<Self> {
        let validation = ((prepared.len() as f64) * fraction).round() as usize;
        if validation < 2 || prepared.train + validation + 2 > prepared.len() {
            return Err(Error::TooFewPairs {
                pairs: prepared.len(),
                what: "a training, a validation and a test split",
            });
        }
        Ok(Self {
            prepared,
            validation,
        })
    }

    /// The standardised data of the training and validation splits.
    pub fn data(&self) -> SearchData<'_> {
        SearchData {
            inputs: self.prepared.z_in.as_ref(),
            targets: &self.prepared.z_out,
            train: self.prepared.train,
            validation: self.validation,
        }
    }

    /// Pairs in the training, validation and test splits.
    pub fn lengths(&self) -> [usize; 3] {
        let (t, v) = (self.prepared.train, self.validation);
        [t, v, self.prepared.len() - t - v]
    }

    /// `params` on `base` refitted on training + validation, scored on the
    /// test split beside the baselines.
    ///
    /// # Errors
    /// Those of [`evaluate`].
    pub fn test(&self, base: &EsnConfig, params: &Params) -> Result<Vec<Score>> {
        let mut refit = self.prepared.clone();
        refit.train = self.prepared.train + self.validation;
        Ok(evaluate(&params.apply(base), &refit)?.scores)
    }
}
