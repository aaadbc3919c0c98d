//! Linear readouts `y(t) = W_outᵀ φ(t)` on the feature vector
//! `φ(t) = [1; u(t); x(t)]` (the bias entry and the direct input-to-readout
//! connections are optional, see [`FeatureLayout`]).
//!
//! Two ways to learn `W_out`:
//! * [`Ridge`]: offline ridge (Tikhonov) regression, accumulating `ΦᵀΦ` and
//!   `ΦᵀY` over any number of sequences and solving once by Cholesky;
//! * [`Rls`]: online recursive least squares, the learning rule of FORCE
//!   (Sussillo & Abbott 2009).
//!
//! [`select`] chooses the ridge parameter by GCV or exact leave-one-out error
//! from the accumulated sums.

mod ridge;
mod rls;
pub mod select;
mod syrk;

pub use ridge::Ridge;
pub(crate) use ridge::{LeftPart, Normal};
pub use rls::{Rls, RlsConfig};

use faer::{Mat, MatRef};
use serde::{Deserialize, Serialize};

use crate::error::Result;
use crate::util::{check_matrix, mismatch};

/// Which entries make up the readout's feature vector `φ = [1; u; x]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FeatureLayout {
    /// Whether `φ` starts with a constant 1 (the readout bias).
    pub bias: bool,
    /// Number of input features copied into `φ` (0 = no direct input).
    pub inputs: usize,
    /// Number of reservoir state entries in `φ`.
    pub states: usize,
}

impl FeatureLayout {
    /// Length of `φ`.
    pub fn len(&self) -> usize {
        usize::from(self.bias) + self.inputs + self.states
    }

    /// Whether `φ` is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Index of the bias entry, if any (it is not penalised by ridge).
    pub fn bias_index(&self) -> Option<usize> {
        self.bias.then_some(0)
    }

    /// Writes `φ = [1; u; x]` into `out`.
    ///
    /// # Panics
    /// If `u` is shorter than `inputs`, `x.len() != states` or
    /// `out.len() != len()`.
    #[inline]
    pub fn fill(&self, u: &[f64], x: &[f64], out: &mut [f64]) {
        let (head, states) = self.split_mut(out);
        self.fill_head(u, head);
        states.copy_from_slice(x);
    }

    /// `φ` split into its bias and input entries and its state entries.
    ///
    /// # Panics
    /// If `phi.len() != len()`.
    pub(crate) fn split_mut<'a>(&self, phi: &'a mut [f64]) -> (&'a mut [f64], &'a mut [f64]) {
        assert_eq!(phi.len(), self.len(), "feature vector length");
        phi.split_at_mut(self.len() - self.states)
    }

    /// Writes the bias and input entries of `φ` into `head` (the first part
    /// of [`FeatureLayout::split_mut`]).
    #[inline]
    pub(crate) fn fill_head(&self, u: &[f64], head: &mut [f64]) {
        let b = usize::from(self.bias);
        if self.bias {
            head[0] = 1.0;
        }
        head[b..b + self.inputs].copy_from_slice(&u[..self.inputs]);
    }
}

/// A trained linear readout: `y = W_outᵀ φ`, with `W_out` of shape `F × m`.
#[derive(Clone, Debug, PartialEq)]
pub struct LinearReadout {
    layout: FeatureLayout,
    weights: Mat<f64>,
}

impl LinearReadout {
    /// A readout from its layout and `F × m` weights.
    ///
    /// # Errors
    /// Weights whose rows do not match the layout, or a non-finite weight.
    pub fn new(layout: FeatureLayout, weights: Mat<f64>) -> Result<Self> {
        mismatch("readout weight rows", layout.len(), weights.nrows())?;
        check_matrix("readout weights", weights.as_ref())?;
        Ok(Self { layout, weights })
    }

    /// The feature layout.
    pub fn layout(&self) -> FeatureLayout {
        self.layout
    }

    /// The `F × m` weights (row 0 is the bias when the layout has one).
    pub fn weights(&self) -> MatRef<'_, f64> {
        self.weights.as_ref()
    }

    /// Number of outputs `m`.
    pub fn outputs(&self) -> usize {
        self.weights.ncols()
    }

    /// `out = W_outᵀ φ`.
    ///
    /// Each dot product keeps eight partial sums (entry `i` into sum
    /// `i mod 8`, the tail into sum 0, combined pairwise), a fixed order
    /// that vectorises.
    ///
    /// # Panics
    /// If `out` is longer than the number of outputs.
    #[inline]
    pub fn apply(&self, phi: &[f64], out: &mut [f64]) {
        for (k, o) in out.iter_mut().enumerate() {
            *o = dot8(self.weights.col_as_slice(k), phi);
        }
    }
}

/// `Σ a[i] b[i]` over the common length with eight partial sums.
fn dot8(a: &[f64], b: &[f64]) -> f64 {
    let n = a.len().min(b.len());
    let (a, b) = (&a[..n], &b[..n]);
    let mut acc = [0.0f64; 8];
    let (a8, b8) = (a.chunks_exact(8), b.chunks_exact(8));
    let (ra, rb) = (a8.remainder(), b8.remainder());
    for (x, y) in a8.zip(b8) {
        for l in 0..8 {
            acc[l] += x[l] * y[l];
        }
    }
    for (x, y) in ra.iter().zip(rb) {
        acc[0] += x * y;
    }
    ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]))
}

#[cfg(test)]
mod tests {
    use super::dot8;

    #[test]
    fn dot8_matches_a_running_sum() {
        for n in [0, 1, 7, 8, 9, 502, 1001] {
            let a: Vec<f64> = (0..n).map(|i| (i as f64 * 0.37).sin()).collect();
            let b: Vec<f64> = (0..n + 3).map(|i| (i as f64 * 0.11).cos()).collect();
            let want: f64 = a.iter().zip(&b).map(|(x, y)| x * y).sum();
            let scale: f64 = a.iter().zip(&b).map(|(x, y)| (x * y).abs()).sum();
            let got = dot8(&a, &b);
            assert!(
                (got - want).abs() <= 4.0 * f64::EPSILON * scale.max(1.0),
                "n = {n}"
            );
            assert_eq!(dot8(&b, &a), got, "either order, common length");
        }
        assert_eq!(dot8(&[1.0, 2.0, 3.0], &[4.0, 5.0, 6.0]), 32.0);
    }
}
