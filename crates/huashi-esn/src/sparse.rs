//! Compressed sparse row (CSR) matrices for reservoir weights.
//!
//! Row `i` holds the entries `values[indptr[i]..indptr[i+1]]` at the columns
//! `indices[indptr[i]..indptr[i+1]]` (sorted, distinct). A product `y = A x`
//! costs one multiply-add per stored entry.

use faer::Mat;

use crate::error::{Error, Result};

/// A sparse matrix in compressed sparse row form.
#[derive(Clone, Debug, PartialEq)]
pub struct CsrMatrix {
    nrows: usize,
    ncols: usize,
    indptr: Vec<usize>,
    indices: Vec<u32>,
    values: Vec<f64>,
}

impl CsrMatrix {
    /// Builds a matrix from its raw parts, checking every invariant.
    ///
    /// # Errors
    /// [`crate::Error::Format`] for arrays that do not form a valid CSR
    /// matrix, or a non-finite value.
    pub fn from_parts(
        nrows: usize,
        ncols: usize,
        indptr: Vec<usize>,
        indices: Vec<u32>,
        values: Vec<f64>,
    ) -> Result<Self> {
        let bad = |reason: &str| Error::Format {
            reason: format!("CSR {nrows}x{ncols}: {reason}"),
        };
        if nrows.checked_add(1) != Some(indptr.len()) || indptr.first() != Some(&0) {
            return Err(bad("indptr must have nrows + 1 entries starting at 0"));
        }
        if indptr.windows(2).any(|w| w[0] > w[1]) || indptr[nrows] != indices.len() {
            return Err(bad("indptr must be non-decreasing and end at nnz"));
        }
        if values.len() != indices.len() {
            return Err(bad("indices and values differ in length"));
        }
        for row in indptr.windows(2) {
            let cols = &indices[row[0]..row[1]];
            if cols.windows(2).any(|c| c[0] >= c[1]) || cols.iter().any(|&c| c as usize >= ncols) {
                return Err(bad("column indices must be sorted, distinct and in range"));
            }
        }
        crate::error::check_finite("sparse matrix values", &values)?;
        Ok(Self {
            nrows,
            ncols,
            indptr,
            indices,
            values,
        })
    }

    /// Builds a matrix from rows of `(column, value)` pairs sorted by column.
    pub(crate) fn from_rows(ncols: usize, rows: Vec<Vec<(usize, f64)>>) -> Self {
        let nrows = rows.len();
        let mut indptr = Vec::with_capacity(nrows + 1);
        let nnz = rows.iter().map(Vec::len).sum();
        let mut indices = Vec::with_capacity(nnz);
        let mut values = Vec::with_capacity(nnz);
        indptr.push(0);
        for row in rows {
            for (c, v) in row {
                assert!(c < ncols, "column index out of range");
                indices.push(c as u32);
                values.push(v);
            }
            indptr.push(indices.len());
        }
        Self {
            nrows,
            ncols,
            indptr,
            indices,
            values,
        }
    }

    /// Number of rows.
    pub fn nrows(&self) -> usize {
        self.nrows
    }

    /// Number of columns.
    pub fn ncols(&self) -> usize {
        self.ncols
    }

    /// Number of stored entries.
    pub fn nnz(&self) -> usize {
        self.values.len()
    }

    /// Row pointers (`nrows + 1` entries).
    pub fn indptr(&self) -> &[usize] {
        &self.indptr
    }

    /// Column index of every stored entry.
    pub fn indices(&self) -> &[u32] {
        &self.indices
    }

    /// Value of every stored entry.
    pub fn values(&self) -> &[f64] {
        &self.values
    }

    /// Multiplies every stored value by `factor`.
    pub fn scale(&mut self, factor: f64) {
        self.values.iter_mut().for_each(|v| *v *= factor);
    }

    /// `y[i] += Σ_j A[i, j] x[j]`.
    #[inline]
    ///
    /// # Panics
    /// If `x.len() != ncols` or `y.len() != nrows`.
    pub fn mul_add(&self, x: &[f64], y: &mut [f64]) {
        assert_eq!(x.len(), self.ncols, "x length");
        assert_eq!(y.len(), self.nrows, "y length");
        for (i, yi) in y.iter_mut().enumerate() {
            let (lo, hi) = (self.indptr[i], self.indptr[i + 1]);
            *yi += sparse_dot(&self.indices[lo..hi], &self.values[lo..hi], x);
        }
    }

    /// `y = A x` into a new vector.
    pub fn mul_vec(&self, x: &[f64]) -> Vec<f64> {
        let mut y = vec![0.0; self.nrows];
        self.mul_add(x, &mut y);
        y
    }

    /// The dense copy of this matrix.
    pub fn to_dense(&self) -> Mat<f64> {
        let mut m = Mat::zeros(self.nrows, self.ncols);
        for i in 0..self.nrows {
            for k in self.indptr[i]..self.indptr[i + 1] {
                m[(i, self.indices[k] as usize)] = self.values[k];
            }
        }
        m
    }
}

/// `Σ_k vals[k] · x[cols[k]]` with four independent accumulators, so the
/// multiply-adds overlap instead of waiting on one another.
#[inline]
fn sparse_dot(cols: &[u32], vals: &[f64], x: &[f64]) -> f64 {
    let at = |c: u32| {
        // SAFETY: a `CsrMatrix` only holds column indices below `ncols`
        // (checked by `from_parts` and `from_rows`), and `mul_add` asserts
        // `x.len() == ncols` before calling this.
        unsafe { *x.get_unchecked(c as usize) }
    };
    let mut acc = [0.0f64; 4];
    let (c4, v4) = (cols.chunks_exact(4), vals.chunks_exact(4));
    let (c_rest, v_rest) = (c4.remainder(), v4.remainder());
    for (c, v) in c4.zip(v4) {
        acc[0] += v[0] * at(c[0]);
        acc[1] += v[1] * at(c[1]);
        acc[2] += v[2] * at(c[2]);
        acc[3] += v[3] * at(c[3]);
    }
    for (&c, &v) in c_rest.iter().zip(v_rest) {
        acc[0] += v * at(c);
    }
    (acc[0] + acc[1]) + (acc[2] + acc[3])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn product_matches_dense() {
        let a = CsrMatrix::from_rows(3, vec![vec![(0, 1.0), (2, 2.0)], vec![], vec![(1, -3.0)]]);
        assert_eq!(a.mul_vec(&[1.0, 2.0, 3.0]), vec![7.0, 0.0, -6.0]);
        assert_eq!(a.to_dense()[(0, 2)], 2.0);
        assert_eq!(a.nnz(), 3);
    }

    #[test]
    fn from_parts_rejects_bad_indices() {
        let err = CsrMatrix::from_parts(1, 2, vec![0, 1], vec![5], vec![1.0]);
        assert!(matches!(err, Err(Error::Format { .. })));
        let err = CsrMatrix::from_parts(1, 2, vec![0, 2], vec![1, 0], vec![1.0, 1.0]);
        assert!(matches!(err, Err(Error::Format { .. })));
        assert!(CsrMatrix::from_parts(1, 2, vec![0, 1], vec![1], vec![1.0]).is_ok());
    }
}
