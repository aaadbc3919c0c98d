//! Sizes from users and files, checked before anything is allocated.
//!
//! - [`checked_product`]: the product of sizes, or an error naming what
//!   overflowed (never a wrapped number).
//! - [`check_memory`]: a command estimates the bytes it will need and
//!   stops before allocating when that is above the limit:
//!   [`MAX_MEMORY_BYTES_DEFAULT`] (16 GiB), or the number of bytes in the
//!   environment variable [`MAX_MEMORY_BYTES_VARIABLE`].

use crate::error::{Error, Result};

/// The environment variable that sets the memory limit, in bytes.
pub const MAX_MEMORY_BYTES_VARIABLE: &str = "HUASHI_MAX_MEMORY_BYTES";
/// The default memory limit: 16 GiB.
pub const MAX_MEMORY_BYTES_DEFAULT: u64 = 16 << 30;

/// The memory limit in force (see the module docs).
pub fn max_memory_bytes() -> u64 {
    limit_from_env(MAX_MEMORY_BYTES_VARIABLE, MAX_MEMORY_BYTES_DEFAULT)
}

/// The number of bytes in the environment variable `variable`, or
/// `default` when it is unset or not a number.
pub(crate) fn limit_from_env(variable: &str, default: u64) -> u64 {
    std::env::var(variable)
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(default)
}

/// The product of `factors`.
///
/// # Errors
/// [`Error::Overflow`] naming `what` when the product does not fit a `u64`.
pub fn checked_product(what: &str, factors: &[u64]) -> Result<u64> {
    factors
        .iter()
        .try_fold(1u64, |acc, &f| acc.checked_mul(f))
        .ok_or_else(|| overflow(what, "product", factors))
}

/// The sum of `terms`.
///
/// # Errors
/// [`Error::Overflow`] naming `what` when the sum does not fit a `u64`.
pub fn checked_sum(what: &str, terms: &[u64]) -> Result<u64> {
    terms
        .iter()
        .try_fold(0u64, |acc, &t| acc.checked_add(t))
        .ok_or_else(|| overflow(what, "sum", terms))
}

fn overflow(what: &str, operation: &'static str, operands: &[u64]) -> Error {
    Error::Overflow {
        what: what.to_string(),
        operation,
        operands: operands.to_vec(),
    }
}

/// Fails when `bytes` (what `what` will need) is above the memory limit.
///
/// # Errors
/// [`Error::TooMuchMemory`] saying how much would be needed, for what, and
/// how to raise the limit.
pub fn check_memory(what: &str, bytes: u64) -> Result<()> {
    let limit = max_memory_bytes();
    if bytes > limit {
        return Err(Error::TooMuchMemory {
            what: what.to_string(),
            bytes,
            limit,
            variable: MAX_MEMORY_BYTES_VARIABLE,
        });
    }
    Ok(())
}

/// `bytes` for people: 1.5 GiB, 720 MiB, 12 kB.
pub fn human_bytes(bytes: u64) -> String {
    let b = bytes as f64;
    match bytes {
        n if n >= 1 << 40 => format!("{:.1} TiB", b / (1u64 << 40) as f64),
        n if n >= 1 << 30 => format!("{:.1} GiB", b / (1u64 << 30) as f64),
        n if n >= 1 << 20 => format!("{:.1} MiB", b / (1u64 << 20) as f64),
        n if n >= 1 << 10 => format!("{:.1} KiB", b / 1024.0),
        n => format!("{n} bytes"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn products_overflow_into_an_error() {
        assert_eq!(checked_product("x", &[2, 3, 4]).unwrap(), 24);
        assert_eq!(checked_sum("x", &[2, 3, 4]).unwrap(), 9);
        let err = checked_sum("the states", &[u64::MAX, 1])
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("the states overflows 64 bits (the sum of"),
            "{err}"
        );
        let err = checked_product("the output of conv1", &[1 << 32, 1 << 32]).unwrap_err();
        assert!(err.to_string().contains("the output of conv1"), "{err}");
    }

    #[test]
    fn memory_above_the_limit_is_refused_with_the_amount() {
        check_memory("a small buffer", 1024).unwrap();
        let err = check_memory("the reservoir matrix", 720 << 30)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("720.0 GiB") && err.contains("reservoir matrix"),
            "{err}"
        );
        assert!(err.contains(MAX_MEMORY_BYTES_VARIABLE), "{err}");
        assert_eq!(human_bytes(1536), "1.5 KiB");
    }
}
