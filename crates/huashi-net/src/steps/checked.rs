//! Checked arithmetic on the sizes of one node: products and sums of
//! user-given sizes fail with [`Error::Overflow`] naming the node, never
//! wrap.

use super::At;
use crate::error::{Error, Result};

impl At<'_> {
    /// The error for `what` overflowing, with its operands.
    pub(crate) fn overflow(&self, what: &'static str, detail: String) -> Error {
        Error::Overflow {
            node: self.node.to_string(),
            op: self.op,
            what,
            detail,
        }
    }

    /// The product of `factors` ([`huashi_io::checked_product`]).
    ///
    /// # Errors
    /// [`Error::Overflow`] naming the node and `what`.
    pub(crate) fn product(&self, what: &'static str, factors: &[u64]) -> Result<u64> {
        huashi_io::checked_product(what, factors)
            .map_err(|_| self.overflow(what, format!("the product of {factors:?}")))
    }

    /// The sum of `terms`.
    ///
    /// # Errors
    /// [`Error::Overflow`] naming the node and `what`.
    pub(crate) fn sum(&self, what: &'static str, terms: &[u64]) -> Result<u64> {
        huashi_io::checked_sum(what, terms)
            .map_err(|_| self.overflow(what, format!("the sum of {terms:?}")))
    }

    /// [`At::product`] as a `usize` (a dimension).
    ///
    /// # Errors
    /// [`Error::Overflow`] naming the node and `what`.
    pub(crate) fn dim_product(&self, what: &'static str, factors: &[usize]) -> Result<usize> {
        let factors: Vec<u64> = factors.iter().map(|&f| f as u64).collect();
        let n = self.product(what, &factors)?;
        usize::try_from(n).map_err(|_| self.overflow(what, format!("the product of {factors:?}")))
    }

    /// [`At::sum`] as a `usize` (a dimension).
    ///
    /// # Errors
    /// [`Error::Overflow`] naming the node and `what`.
    pub(crate) fn dim_sum(&self, what: &'static str, terms: &[usize]) -> Result<usize> {
        let terms: Vec<u64> = terms.iter().map(|&t| t as u64).collect();
        let n = self.sum(what, &terms)?;
        usize::try_from(n).map_err(|_| self.overflow(what, format!("the sum of {terms:?}")))
    }
}
