//! `huashi bench …`: benchmarks beside candle's built-in ops and the
//! machine's floors.

mod cases;
pub mod conv;
mod fma_peak;
mod gemm_floor;
pub mod meta;
mod report;
