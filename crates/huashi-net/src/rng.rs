//! A small seeded generator (SplitMix64) with independent streams, so the
//! same seed gives the same parameters and inputs on every machine.

/// SplitMix64 (Steele, Lea & Flood 2014).
pub(crate) struct SplitMix(u64);

impl SplitMix {
    /// Stream `stream` of `seed`: streams of one seed are independent.
    pub(crate) fn stream(seed: u64, stream: u64) -> Self {
        let mut s = SplitMix(seed ^ 0x5851_F42D_4C95_7F2D);
        let mixed = s.next_u64() ^ stream.wrapping_mul(0x9E37_79B9_7F4A_7C15);
        SplitMix(SplitMix(mixed).next_u64())
    }

    /// The next 64 random bits.
    pub(crate) fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `[0, 1)` with 24 random bits (exact in f32).
    pub(crate) fn unit(&mut self) -> f32 {
        (self.next_u64() >> 40) as f32 / (1u64 << 24) as f32
    }

    /// `n` values uniform in `[lo, hi)`.
    pub(crate) fn uniform(&mut self, n: usize, lo: f32, hi: f32) -> Vec<f32> {
        (0..n).map(|_| lo + (hi - lo) * self.unit()).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::SplitMix;

    #[test]
    fn streams_differ_and_repeat() {
        let a: Vec<u64> = (0..4).map(|_| SplitMix::stream(7, 0).next_u64()).collect();
        assert!(a.windows(2).all(|w| w[0] == w[1]));
        assert_ne!(
            SplitMix::stream(7, 0).next_u64(),
            SplitMix::stream(7, 1).next_u64()
        );
        let v = SplitMix::stream(1, 2).uniform(1000, -1.0, 1.0);
        assert!(v.iter().all(|x| (-1.0..1.0).contains(x)));
    }
}
