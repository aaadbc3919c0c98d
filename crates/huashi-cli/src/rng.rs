//! Seeded test and benchmark data from huashi-rng: the same seed gives the
//! same tensors on every machine.

use candle_core::{DType, Device, Tensor};
use huashi_rng::Rng;

/// A tensor of the given shape with entries uniform in `[-scale, scale)`.
pub fn uniform(
    shape: &[usize],
    scale: f64,
    seed: u64,
    dtype: DType,
) -> candle_core::Result<Tensor> {
    let len = shape.iter().product::<usize>();
    let data = Rng::stream(seed, "data").uniform_vec(len, -scale, scale);
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
