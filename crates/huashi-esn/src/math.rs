//! A fast hyperbolic tangent for the reservoir update.
//!
//! `tanh(x) = −expm1(−2|x|) / (2 + expm1(−2|x|))`, sign restored, where
//! `expm1(y) = 2ᵏ (1 + p(r)) − 1` with `y = k ln 2 + r`, `|r| ≤ ln2 / 2`
//! (Cody–Waite reduction) and `p(r) = r q(r)`, `q` the degree-10 minimax
//! polynomial of `expm1(r)/r` (relative error 2.1·10⁻¹⁷). For `k = 0` the result is `p(r)`
//! itself, so small arguments lose no digits to cancellation. Accuracy: a
//! few ulp of the correctly rounded value (tested against `f64::tanh`).
//! The polynomial and the reconstruction use fused multiply-adds
//! (`f64::mul_add`, correctly rounded on every target), so the vectorised
//! reservoir update (FMA instructions) and this scalar function round
//! alike. Without FMA hardware `mul_add` is a library call: slower, same
//! results. Its speed against the C library's `tanh` is in `PERF.md`
//! (section "Echo state networks").

const LN2_HI: f64 = 6.931_471_803_691_238e-1;
const LN2_LO: f64 = 1.908_214_929_270_587_7e-10;
/// `1.5 · 2⁵²`: adding and subtracting it rounds to the nearest integer.
const ROUND: f64 = 6_755_399_441_055_744.0;

/// `expm1(r) / r` by Horner's rule (fused multiply-adds): the minimax
/// polynomial of degree 10 for `|r| ≤ ln 2 / 2` (Remez exchange in 50-digit
/// mpmath, `scripts/expm1_minimax.py`; relative error 2.1·10⁻¹⁷ with these
/// `f64` coefficients). It is as accurate as the degree-12 Taylor polynomial
/// it replaced (worst `tanh` error 2.15 ulp either way) with two fused
/// multiply-adds fewer: the 500-unit leaky update took 0.64 µs, not 0.69.
#[inline(always)]
fn expm1_ratio(r: f64) -> f64 {
    const C: [f64; 11] = [
        1.0,
        0.500_000_000_000_000_6,
        0.166_666_666_666_665_63,
        0.041_666_666_666_573_905,
        0.008_333_333_333_397_834,
        0.001_388_888_893_225_888_2,
        0.000_198_412_697_074_672_23,
        2.480_150_460_214_848e-5,
        2.755_741_478_996_597_4e-6,
        2.762_626_278_810_536e-7,
        2.505_209_632_569_198e-8,
    ];
    C.iter().rev().fold(0.0, |acc, c| acc.mul_add(r, *c))
}

/// `2^52`: adding it to a small non-negative integer-valued `f64` leaves that
/// integer in the low bits of the representation.
const TWO52: f64 = 4_503_599_627_370_496.0;

/// Hyperbolic tangent, accurate to a few ulp; NaN propagates. Branch-free
/// apart from the NaN test, so loops over it vectorise.
#[inline]
pub fn tanh(x: f64) -> f64 {
    // tanh(20) rounds to 1; clamping keeps 2ᵏ a normal number.
    let y = -2.0 * x.abs().min(20.0);
    let k = (y * std::f64::consts::LOG2_E + ROUND) - ROUND;
    let r = (y - k * LN2_HI) - k * LN2_LO;
    // 2ᵏ built from bits: k + 1023 is the biased exponent.
    let scale = f64::from_bits((k + 1023.0 + TWO52).to_bits() << 52);
    let em1 = scale.mul_add(r * expm1_ratio(r), scale - 1.0);
    let t = (-em1 / (2.0 + em1)).copysign(x);
    if x.is_nan() {
        x
    } else {
        t
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_libm_to_a_few_ulp() {
        let mut worst = 0.0f64;
        for i in -300_000..=300_000 {
            let x = i as f64 * 1e-4 + 1e-7;
            let (a, b) = (tanh(x), x.tanh());
            let ulp = (b.abs() * f64::EPSILON).max(f64::MIN_POSITIVE);
            worst = worst.max((a - b).abs() / ulp);
        }
        assert!(worst <= 4.0, "worst error {worst} ulp");
        for x in [
            0.0,
            -0.0,
            1e-300,
            -1e-300,
            5e-324,
            19.0,
            20.0,
            1e10,
            -1e300,
            f64::INFINITY,
        ] {
            assert!(
                (tanh(x) - x.tanh()).abs() <= x.tanh().abs() * 4.0 * f64::EPSILON,
                "x = {x}"
            );
            assert_eq!(tanh(x).is_sign_negative(), x.is_sign_negative());
        }
        assert!(tanh(f64::NAN).is_nan());
        assert_eq!(tanh(f64::NEG_INFINITY), -1.0);
    }
}
