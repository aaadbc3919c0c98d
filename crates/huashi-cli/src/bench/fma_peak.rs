//! The machine's f32 FMA peak: what `huashi bench conv` judges dense
//! convolutions against.
//!
//! Every rayon thread runs the same register-only loop at once: `ACCUMULATORS`
//! independent vectors, each updated `acc = acc · a + b` with one fused
//! multiply-add per iteration, so the loop touches no memory and is limited
//! only by the FMA units' throughput (12 chains cover the 4-cycle latency of
//! two FMA ports). A fused multiply-add counts as 2 FLOPs. The sum of the
//! accumulators is returned, so the compiler cannot drop the loop (it may not
//! reassociate float arithmetic either), and the
//! start values pass through `std::hint::black_box`. AVX-512F is used when the CPU has it,
//! else AVX2 + FMA, else a scalar loop.

use crate::report::timing::{self, Timing};
use serde::Serialize;
use std::time::Duration;

/// Independent accumulator vectors per thread.
const ACCUMULATORS: usize = 12;
/// Loop iterations per thread and timed run (about 25 ms at 16 lanes on a
/// 2021 core).
const ITERATIONS: u64 = 20_000_000;

/// The instruction set the loop used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Isa {
    Avx512,
    Avx2Fma,
    Scalar,
}

impl Isa {
    pub fn detect() -> Isa {
        #[cfg(target_arch = "x86_64")]
        {
            if is_x86_feature_detected!("avx512f") {
                return Isa::Avx512;
            }
            if is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma") {
                return Isa::Avx2Fma;
            }
        }
        Isa::Scalar
    }

    /// f32 lanes per accumulator.
    pub fn lanes(self) -> usize {
        match self {
            Isa::Avx512 => 16,
            Isa::Avx2Fma => 8,
            Isa::Scalar => 1,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Isa::Avx512 => "AVX-512F",
            Isa::Avx2Fma => "AVX2+FMA",
            Isa::Scalar => "scalar",
        }
    }
}

/// The measured peak.
#[derive(Debug, Clone, Serialize)]
pub struct FmaPeak {
    pub isa: Isa,
    pub threads: usize,
    pub accumulators: usize,
    /// All threads at once, at the median run.
    pub gflops: f64,
    /// One thread alone, at the median run.
    pub single_thread_gflops: f64,
    pub timing: Timing,
}

impl FmaPeak {
    /// Milliseconds `flops` would take at this peak.
    pub fn ms_for(&self, flops: f64) -> f64 {
        flops / (self.gflops * 1e9) * 1e3
    }
}

/// Measures the peak on all rayon threads at once and on one thread.
pub fn measure(runs: usize) -> anyhow::Result<FmaPeak> {
    let isa = Isa::detect();
    let threads = rayon::current_num_threads();
    let flops_per_thread = 2.0 * (ITERATIONS as usize * ACCUMULATORS * isa.lanes()) as f64;
    let all = timing::measure(runs, Duration::from_secs(2), || {
        let sums = rayon::broadcast(|_| fma_loop(isa, std::hint::black_box(ITERATIONS)));
        anyhow::ensure!(sums.iter().all(|s| s.is_finite()), "FMA loop overflowed");
        Ok(())
    })?;
    let one = timing::measure(runs, Duration::from_secs(2), || {
        let sum = fma_loop(isa, std::hint::black_box(ITERATIONS));
        anyhow::ensure!(sum.is_finite(), "FMA loop overflowed");
        Ok(())
    })?;
    Ok(FmaPeak {
        isa,
        threads,
        accumulators: ACCUMULATORS,
        gflops: all.gflops(flops_per_thread * threads as f64),
        single_thread_gflops: one.gflops(flops_per_thread),
        timing: all,
    })
}

/// `iterations` FMAs on each of the accumulators; returns their sum.
fn fma_loop(isa: Isa, iterations: u64) -> f32 {
    match isa {
        #[cfg(target_arch = "x86_64")]
        // SAFETY: `Isa::detect` chose these variants only after
        // `is_x86_feature_detected!` confirmed the features each one enables.
        Isa::Avx512 => unsafe { x86::avx512(iterations) },
        #[cfg(target_arch = "x86_64")]
        // SAFETY: as above, AVX2 and FMA were detected.
        Isa::Avx2Fma => unsafe { x86::avx2(iterations) },
        _ => scalar(iterations),
    }
}

/// Start values and factors keep the accumulators near 1 (no overflow, no
/// denormals) for any iteration count: acc → b / (1 − a) = 1. They pass
/// through `black_box`, or the compiler would see that 1 is a fixed point of
/// the update and drop the loop.
const A: f32 = 0.999_999;
const B: f32 = 1e-6;

fn scalar(iterations: u64) -> f32 {
    let (a, b) = std::hint::black_box((A, B));
    let mut acc = std::hint::black_box([1f32; ACCUMULATORS]);
    for _ in 0..iterations {
        for v in &mut acc {
            *v = v.mul_add(a, b);
        }
    }
    acc.iter().sum()
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    use super::{A, ACCUMULATORS, B};
    use std::arch::x86_64::*;
    use std::hint::black_box;

    #[target_feature(enable = "avx512f")]
    pub(super) fn avx512(iterations: u64) -> f32 {
        let (a, b, one) = black_box((A, B, 1.0));
        let (a, b) = (_mm512_set1_ps(a), _mm512_set1_ps(b));
        let mut acc = black_box([_mm512_set1_ps(one); ACCUMULATORS]);
        for _ in 0..iterations {
            for v in &mut acc {
                *v = _mm512_fmadd_ps(*v, a, b);
            }
        }
        let total = acc
            .iter()
            .fold(_mm512_setzero_ps(), |s, v| _mm512_add_ps(s, *v));
        _mm512_reduce_add_ps(total)
    }

    #[target_feature(enable = "avx2,fma")]
    pub(super) fn avx2(iterations: u64) -> f32 {
        let (a, b, one) = black_box((A, B, 1.0));
        let (a, b) = (_mm256_set1_ps(a), _mm256_set1_ps(b));
        let mut acc = black_box([_mm256_set1_ps(one); ACCUMULATORS]);
        for _ in 0..iterations {
            for v in &mut acc {
                *v = _mm256_fmadd_ps(*v, a, b);
            }
        }
        let total = acc
            .iter()
            .fold(_mm256_setzero_ps(), |s, v| _mm256_add_ps(s, *v));
        let half = _mm_add_ps(
            _mm256_castps256_ps128(total),
            _mm256_extractf128_ps::<1>(total),
        );
        let pairs = _mm_hadd_ps(half, half);
        _mm_cvtss_f32(_mm_hadd_ps(pairs, pairs))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_loop_returns_the_same_finite_sum() {
        let isa = Isa::detect();
        let expected = scalar(1000);
        assert!(expected.is_finite() && expected > 0.0);
        let got = fma_loop(isa, 1000) / isa.lanes() as f32;
        assert!(
            (got - expected).abs() < 1e-3 * expected,
            "{got} vs {expected}"
        );
    }
}
