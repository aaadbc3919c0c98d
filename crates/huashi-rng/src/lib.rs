//! # huashi-rng — seeded random streams
//!
//! The workspace's one generator: parameters, tasks, reservoirs and test data
//! all draw from it, so the same seed gives the same numbers on every machine.
//!
//! One user seed is split into independent, named streams: the stream for
//! `"layer0/w.values"` is seeded with `splitmix64(seed ⊕ splitmix64(fnv1a(name)))`,
//! so changing how one matrix is drawn never shifts the numbers of another.
//! Each stream is a xoshiro256++ generator (Blackman & Vigna 2018) whose state
//! is filled by SplitMix64 (Steele, Lea & Flood 2014). The generators are
//! implemented here so that numbers never change with a dependency upgrade.

//!
//! ```
//! use huashi_rng::Rng;
//!
//! // The same (seed, name) gives the same numbers; another name, others.
//! let a = Rng::stream(7, "layer0/w").uniform_vec(3, -1.0, 1.0);
//! assert_eq!(a, Rng::stream(7, "layer0/w").uniform_vec(3, -1.0, 1.0));
//! assert_ne!(a, Rng::stream(7, "layer0/b").uniform_vec(3, -1.0, 1.0));
//! // Task i of a sampler depends only on (seed, name, i).
//! let task_3 = Rng::indexed(7, "task", 3).below(10);
//! assert_eq!(task_3, Rng::indexed(7, "task", 3).below(10));
//! ```

#![warn(missing_docs)]

/// One step of SplitMix64: a bijective 64-bit mixer.
pub fn splitmix64(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// 64-bit FNV-1a hash of a name.
fn fnv1a(name: &str) -> u64 {
    name.bytes().fold(0xCBF2_9CE4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01B3)
    })
}

/// The seed of the stream called `name` under the user seed `seed`.
pub fn stream_seed(seed: u64, name: &str) -> u64 {
    splitmix64(seed ^ splitmix64(fnv1a(name)))
}

/// A xoshiro256++ pseudo-random generator.
#[derive(Clone, Debug)]
pub struct Rng {
    s: [u64; 4],
}

impl Rng {
    /// A generator whose state is expanded from `seed` by SplitMix64.
    pub fn new(seed: u64) -> Self {
        let mut x = seed;
        let mut s = [0u64; 4];
        for slot in &mut s {
            x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
            *slot = splitmix64(x);
        }
        Self { s }
    }

    /// The generator of the stream `name` under the user seed `seed`.
    pub fn stream(seed: u64, name: &str) -> Self {
        Self::new(stream_seed(seed, name))
    }

    /// Item `index` of the stream `name` (task `i` of a sampler, tensor `i`
    /// of an initialisation): it depends only on `(seed, name, index)`.
    pub fn indexed(seed: u64, name: &str, index: u64) -> Self {
        Self::new(splitmix64(stream_seed(seed, name) ^ splitmix64(index)))
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        let s = &mut self.s;
        let result = s[0].wrapping_add(s[3]).rotate_left(23).wrapping_add(s[0]);
        let t = s[1] << 17;
        s[2] ^= s[0];
        s[3] ^= s[1];
        s[1] ^= s[2];
        s[0] ^= s[3];
        s[2] ^= t;
        s[3] = s[3].rotate_left(45);
        result
    }

    /// Uniform in `[0, 1)` with 53 random bits.
    pub fn uniform(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// Uniform in `[lo, hi)`.
    pub fn uniform_in(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.uniform()
    }

    /// `n` values uniform in `[lo, hi)`.
    pub fn uniform_vec(&mut self, n: usize, lo: f64, hi: f64) -> Vec<f64> {
        (0..n).map(|_| self.uniform_in(lo, hi)).collect()
    }

    /// Standard normal by the Box–Muller transform (one draw per call).
    pub fn normal(&mut self) -> f64 {
        let u1 = 1.0 - self.uniform(); // (0, 1]
        let u2 = self.uniform();
        (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
    }

    /// `-1` or `+1` with equal probability.
    pub fn sign(&mut self) -> f64 {
        if self.next_u64() >> 63 == 0 {
            -1.0
        } else {
            1.0
        }
    }

    /// Uniform integer in `0..n` (`n > 0`), by Lemire's multiply-shift.
    pub fn below(&mut self, n: usize) -> usize {
        ((u128::from(self.next_u64()) * n as u128) >> 64) as usize
    }

    /// `k` distinct indices from `0..n`, sorted (Floyd's algorithm).
    ///
    /// `mark` is scratch space of length `n`, all `false` on entry and exit.
    pub fn choose_sorted(&mut self, n: usize, k: usize, mark: &mut [bool]) -> Vec<usize> {
        let k = k.min(n);
        let mut chosen = Vec::with_capacity(k);
        for j in (n - k)..n {
            let t = self.below(j + 1);
            let pick = if mark[t] { j } else { t };
            mark[pick] = true;
            chosen.push(pick);
        }
        chosen.sort_unstable();
        for &c in &chosen {
            mark[c] = false;
        }
        chosen
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn indexed_items_are_distinct_and_reproducible() {
        let a = Rng::indexed(7, "task", 3).next_u64();
        assert_eq!(a, Rng::indexed(7, "task", 3).next_u64());
        assert_ne!(a, Rng::indexed(7, "task", 4).next_u64());
        assert_ne!(a, Rng::indexed(7, "init", 3).next_u64());
        let v = Rng::new(1).uniform_vec(1000, -2.0, 3.0);
        assert!(v.iter().all(|x| (-2.0..3.0).contains(x)));
    }

    #[test]
    fn streams_are_distinct_and_reproducible() {
        let a = Rng::stream(7, "w").next_u64();
        assert_eq!(a, Rng::stream(7, "w").next_u64());
        assert_ne!(a, Rng::stream(7, "w_in").next_u64());
        assert_ne!(a, Rng::stream(8, "w").next_u64());
    }

    #[test]
    fn uniform_and_normal_moments() {
        let mut r = Rng::new(1);
        let n = 20_000;
        let u: f64 = (0..n).map(|_| r.uniform()).sum::<f64>() / n as f64;
        assert!((u - 0.5).abs() < 0.01);
        let z: Vec<f64> = (0..n).map(|_| r.normal()).collect();
        let m = z.iter().sum::<f64>() / n as f64;
        let v = z.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / n as f64;
        assert!(m.abs() < 0.03 && (v - 1.0).abs() < 0.05);
    }

    #[test]
    fn choose_sorted_is_distinct() {
        let mut r = Rng::new(3);
        let mut mark = vec![false; 50];
        let c = r.choose_sorted(50, 20, &mut mark);
        assert_eq!(c.len(), 20);
        assert!(c.windows(2).all(|w| w[0] < w[1]));
        assert!(mark.iter().all(|m| !m));
        assert_eq!(r.choose_sorted(5, 9, &mut mark[..5]).len(), 5);
    }
}
