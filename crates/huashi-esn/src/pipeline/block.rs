//! One block of the pipeline: up to `BLOCK` feature columns `φ(t)` and
//! target columns `y(t)`, added to the sums as `Φ_bᵀ Φ_b` and `Φ_bᵀ Y_b`.

use faer::{MatRef, Par};

use crate::readout::Ridge;

/// Steps accumulated per block into `ΦᵀΦ`.
pub(super) const BLOCK: usize = 192;

/// One block of up to [`BLOCK`] feature columns (`F` each) and target
/// columns (`m` each), stored column after column with the feature columns
/// padded to a multiple of 8 values. A column is zeroed only the first time
/// the block's storage reaches it; once the block is reused, its columns
/// are handed out as they are, to be written over.
pub(super) struct Block {
    phi: Vec<f64>,
    y: Vec<f64>,
    shape: (usize, usize),
    /// Columns written so far.
    pub(super) filled: usize,
    /// Columns at which the block is full (at most [`BLOCK`]).
    limit: usize,
}

impl Block {
    pub(super) fn new(f: usize, m: usize) -> Self {
        Self {
            phi: Vec::with_capacity(f.next_multiple_of(8) * BLOCK),
            y: Vec::with_capacity(m * BLOCK),
            shape: (f, m),
            filled: 0,
            limit: BLOCK,
        }
    }

    /// The next column, to be written over whole: its feature part (`F`
    /// values) and its target part (`m`), so that the reservoir step stores
    /// straight into the block.
    pub(super) fn push(&mut self) -> (&mut [f64], &mut [f64]) {
        let (f, m) = self.shape;
        let stride = f.next_multiple_of(8);
        let (at, target) = (self.filled * stride, self.filled * m);
        if self.phi.len() < at + stride {
            self.phi.resize(at + stride, 0.0);
            self.y.resize(target + m, 0.0);
        }
        self.filled += 1;
        (&mut self.phi[at..at + f], &mut self.y[target..target + m])
    }

    /// Whether the block holds as many columns as it takes.
    pub(super) fn is_full(&self) -> bool {
        self.filled >= self.limit
    }

    /// Empties the block, to take `limit` columns (at most [`BLOCK`]).
    pub(super) fn clear(&mut self, limit: usize) {
        self.filled = 0;
        self.limit = limit.min(BLOCK);
    }

    pub(super) fn add_to(&self, ridge: &mut Ridge) {
        ridge.add_columns_with(self.phi(), self.y(), Par::Seq);
    }

    pub(super) fn phi(&self) -> MatRef<'_, f64> {
        let (f, stride) = (self.shape.0, self.shape.0.next_multiple_of(8));
        let phi = &self.phi[..self.filled * stride];
        MatRef::from_column_major_slice_with_stride(phi, f, self.filled, stride)
    }

    pub(super) fn y(&self) -> MatRef<'_, f64> {
        let y = &self.y[..self.filled * self.shape.1];
        MatRef::from_column_major_slice(y, self.shape.1, self.filled)
    }
}
