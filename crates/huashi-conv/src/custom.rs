//! The shared shell of huashi's candle custom ops on the CPU: operands must
//! be contiguous and all f32 or all f64; a kernel generic over [`Real`] does
//! the work.

use crate::kernels::Real;
use candle_core::{CpuStorage, Layout};

/// The kernel of a one-operand custom op.
pub trait UnaryKernel {
    /// The op's result for the contiguous operand `x`.
    fn run<T: Real>(&self, x: &[T]) -> Vec<T>;
}

/// Runs `kernel` on the operand `s` with layout `l`.
///
/// # Errors
/// Candle's error naming the op `name` when the operand is not contiguous or
/// not f32/f64.
pub fn run_unary<K: UnaryKernel>(
    kernel: &K,
    name: &str,
    s: &CpuStorage,
    l: &Layout,
) -> candle_core::Result<CpuStorage> {
    Ok(match s {
        CpuStorage::F32(a) => CpuStorage::F32(kernel.run(contiguous_slice(a, l, name)?)),
        CpuStorage::F64(a) => CpuStorage::F64(kernel.run(contiguous_slice(a, l, name)?)),
        _ => candle_core::bail!("{name}: operand must be f32 or f64"),
    })
}

/// The elements of `data` that `layout` covers, which must be contiguous.
///
/// # Errors
/// Candle's error naming the op `name` when they are not.
pub fn contiguous_slice<'a, T>(
    data: &'a [T],
    layout: &Layout,
    name: &str,
) -> candle_core::Result<&'a [T]> {
    match layout.contiguous_offsets() {
        Some((start, end)) => Ok(&data[start..end]),
        None => candle_core::bail!("{name}: operand is not contiguous"),
    }
}
