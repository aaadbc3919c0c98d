//! Seeded test data: the same seed gives the same tensors on every machine.

use candle_core::{DType, Device, Tensor};

/// SplitMix64: tiny, fast, and good enough for benchmark and demo data.
pub struct SplitMix64(u64);

impl SplitMix64 {
    pub fn new(seed: u64) -> Self {
        SplitMix64(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `[-1, 1)`.
    pub fn next_symmetric(&mut self) -> f64 {
        let unit = (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
        2.0 * unit - 1.0
    }
}

/// A tensor of the given shape with entries uniform in `[-scale, scale)`.
pub fn uniform(
    shape: &[usize],
    scale: f64,
    seed: u64,
    dtype: DType,
) -> candle_core::Result<Tensor> {
    let mut rng = SplitMix64::new(seed);
    let len = shape.iter().product::<usize>();
    let data: Vec<f64> = (0..len).map(|_| scale * rng.next_symmetric()).collect();
    Tensor::from_vec(data, shape, &Device::Cpu)?.to_dtype(dtype)
}

/// He-style uniform weights for a convolution `(C_out, C_in/groups, kh, kw)`.
pub fn conv_weight(shape: [usize; 4], seed: u64) -> candle_core::Result<Tensor> {
    let fan_in = (shape[1] * shape[2] * shape[3]).max(1) as f64;
    uniform(&shape, (6.0 / fan_in).sqrt(), seed, DType::F32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_numbers_and_range() {
        let a = uniform(&[3, 4], 2.0, 7, DType::F64).unwrap();
        let b = uniform(&[3, 4], 2.0, 7, DType::F64).unwrap();
        let c = uniform(&[3, 4], 2.0, 8, DType::F64).unwrap();
        let (a, b, c) = (
            a.flatten_all().unwrap().to_vec1::<f64>().unwrap(),
            b.flatten_all().unwrap().to_vec1::<f64>().unwrap(),
            c.flatten_all().unwrap().to_vec1::<f64>().unwrap(),
        );
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert!(a.iter().all(|v| (-2.0..2.0).contains(v)));
    }
}
