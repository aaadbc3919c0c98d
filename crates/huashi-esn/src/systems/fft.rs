//! A small complex type and an in-place radix-2 FFT (Cooley & Tukey 1965),
//! enough for the Kuramoto–Sivashinsky solver's grids (a power of two).

use std::ops::{Add, Mul, Sub};

/// A complex number.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub(crate) struct C {
    pub re: f64,
    pub im: f64,
}

impl C {
    pub const fn new(re: f64, im: f64) -> Self {
        Self { re, im }
    }

    /// `e^{iθ}`.
    pub fn cis(theta: f64) -> Self {
        Self::new(theta.cos(), theta.sin())
    }

    pub fn exp(self) -> Self {
        let m = self.re.exp();
        Self::new(m * self.im.cos(), m * self.im.sin())
    }

    pub fn scale(self, s: f64) -> Self {
        Self::new(self.re * s, self.im * s)
    }

    pub fn div(self, o: Self) -> Self {
        let d = o.re * o.re + o.im * o.im;
        Self::new(
            (self.re * o.re + self.im * o.im) / d,
            (self.im * o.re - self.re * o.im) / d,
        )
    }
}

impl Add for C {
    type Output = C;
    fn add(self, o: C) -> C {
        C::new(self.re + o.re, self.im + o.im)
    }
}

impl Sub for C {
    type Output = C;
    fn sub(self, o: C) -> C {
        C::new(self.re - o.re, self.im - o.im)
    }
}

impl Mul for C {
    type Output = C;
    fn mul(self, o: C) -> C {
        C::new(
            self.re * o.re - self.im * o.im,
            self.re * o.im + self.im * o.re,
        )
    }
}

/// In-place DFT `X_k = Σ_j x_j e^{∓2πijk/n}` (`inverse`: the `+` sign and a
/// division by `n`). `x.len()` must be a power of two.
pub(crate) fn fft(x: &mut [C], inverse: bool) {
    let n = x.len();
    debug_assert!(n.is_power_of_two());
    let mut j = 0;
    for i in 1..n {
        let mut bit = n >> 1;
        while j & bit != 0 {
            j ^= bit;
            bit >>= 1;
        }
        j |= bit;
        if i < j {
            x.swap(i, j);
        }
    }
    let sign = if inverse { 1.0 } else { -1.0 };
    let mut len = 2;
    while len <= n {
        let w = C::cis(sign * 2.0 * std::f64::consts::PI / len as f64);
        for start in (0..n).step_by(len) {
            let mut wk = C::new(1.0, 0.0);
            for k in 0..len / 2 {
                let (a, b) = (x[start + k], x[start + k + len / 2] * wk);
                x[start + k] = a + b;
                x[start + k + len / 2] = a - b;
                wk = wk * w;
            }
        }
        len <<= 1;
    }
    if inverse {
        x.iter_mut().for_each(|v| *v = v.scale(1.0 / n as f64));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fft_matches_the_naive_dft_and_inverts() {
        let n = 16;
        let x: Vec<C> = (0..n)
            .map(|i| C::new((i as f64).sin(), (i as f64 * 0.3).cos()))
            .collect();
        let mut y = x.clone();
        fft(&mut y, false);
        for (k, yk) in y.iter().enumerate() {
            let naive = x.iter().enumerate().fold(C::default(), |acc, (j, xj)| {
                let theta = -2.0 * std::f64::consts::PI * (j * k) as f64 / n as f64;
                acc + *xj * C::cis(theta)
            });
            assert!((naive - *yk).re.abs() < 1e-12 && (naive - *yk).im.abs() < 1e-12);
        }
        fft(&mut y, true);
        assert!(x.iter().zip(&y).all(|(a, b)| (*a - *b).re.abs() < 1e-14));
    }
}
