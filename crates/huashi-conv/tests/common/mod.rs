//! Shared helpers for the integration tests of `huashi-conv`.
//!
//! - the naive reference of the library (`huashi_conv::reference`),
//!   re-exported;
//! - [`TestRng`], a seeded generator for test data;
//! - conversions between tensors and `Vec<f64>`, and comparisons whose
//!   tolerance is derived from the machine epsilon and the problem size.
#![allow(dead_code)] // each test binary uses a different subset

use candle_core::{DType, Device, Tensor};

/// Errors of test helpers: candle's, huashi's, or a message.
pub type TestResult<T = ()> = Result<T, Box<dyn std::error::Error + Send + Sync>>;

pub use huashi_conv::reference::*;

// ---------------------------------------------------------------------------
// Random data
// ---------------------------------------------------------------------------

/// Seeded test data, drawn from huashi-rng.
#[derive(Debug, Clone)]
pub struct TestRng(huashi_rng::Rng);

impl TestRng {
    /// A generator from a seed.
    pub fn new(seed: u64) -> Self {
        TestRng(huashi_rng::Rng::new(seed))
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0.next_u64()
    }

    /// Uniform in `[-1, 1)`, rounded to f32 so that f32 and f64 runs see the
    /// same numbers and the naive f64 reference is exact in its inputs.
    pub fn uniform(&mut self) -> f64 {
        let unit = (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
        (2.0 * unit - 1.0) as f32 as f64
    }

    /// `len` uniform values.
    pub fn values(&mut self, len: usize) -> Vec<f64> {
        (0..len).map(|_| self.uniform()).collect()
    }

    /// Values for a tensor of `shape`.
    pub fn for_shape(&mut self, shape: [usize; 4]) -> Vec<f64> {
        self.values(volume(shape))
    }

    /// An f64 CPU tensor of any `shape` with uniform values.
    pub fn tensor(&mut self, shape: &[usize]) -> Tensor {
        let values = self.values(shape.iter().product());
        Tensor::from_vec(values, shape, &Device::Cpu).expect("the length fits the shape")
    }

    /// Uniform in `0..n` (`n > 0`).
    pub fn below(&mut self, n: usize) -> usize {
        self.0.below(n)
    }
}

// ---------------------------------------------------------------------------
// Tensors
// ---------------------------------------------------------------------------

/// A CPU tensor of `dtype` holding `values`.
pub fn tensor(values: &[f64], shape: [usize; 4], dtype: DType) -> TestResult<Tensor> {
    let t = Tensor::from_vec(values.to_vec(), &shape, &Device::Cpu)?;
    Ok(t.to_dtype(dtype)?)
}

/// All values of a tensor as f64, row-major (panics on a candle error).
pub fn flat(t: &Tensor) -> Vec<f64> {
    let t = t.flatten_all().and_then(|t| t.to_dtype(DType::F64));
    t.and_then(|t| t.to_vec1()).expect("a readable tensor")
}

/// The dimensions of a rank-4 tensor.
pub fn dims4(t: &Tensor) -> [usize; 4] {
    t.dims().try_into().expect("rank 4")
}

/// All values of a tensor, as f64, in row-major order.
pub fn values(t: &Tensor) -> TestResult<Vec<f64>> {
    Ok(t.to_dtype(DType::F64)?.flatten_all()?.to_vec1::<f64>()?)
}

/// The value of a scalar tensor, as f64.
pub fn scalar(t: &Tensor) -> TestResult<f64> {
    Ok(t.to_dtype(DType::F64)?.to_scalar::<f64>()?)
}

/// Shape of a rank-4 tensor.
pub fn shape4(t: &Tensor) -> TestResult<[usize; 4]> {
    let (a, b, c, d) = t.dims4()?;
    Ok([a, b, c, d])
}

/// Machine epsilon of a floating dtype.
pub fn epsilon(dtype: DType) -> f64 {
    match dtype {
        DType::F32 => f32::EPSILON as f64,
        DType::F64 => f64::EPSILON,
        other => panic!("no epsilon for {other:?}"),
    }
}

/// Multi-index of a flat row-major index.
pub fn unravel(index: usize, shape: [usize; 4]) -> [usize; 4] {
    let mut rest = index;
    let mut out = [0; 4];
    for axis in (0..4).rev() {
        out[axis] = rest % shape[axis];
        rest /= shape[axis];
    }
    out
}

/// Compares `got` with the naive `expected` element by element within
/// [`Reference::tolerance`]; the error names the worst element.
pub fn check_close(what: &str, got: &Tensor, expected: &Reference) -> TestResult {
    let eps = epsilon(got.dtype());
    let shape = shape4(got)?;
    if shape != expected.shape {
        return Err(format!("{what}: shape {shape:?}, expected {:?}", expected.shape).into());
    }
    let got = values(got)?;
    let mut failures = 0;
    let mut worst: Option<(f64, usize)> = None;
    for (index, (&g, &e)) in got.iter().zip(&expected.values).enumerate() {
        let error = (g - e).abs();
        let tolerance = expected.tolerance(index, eps);
        if error > tolerance || !g.is_finite() {
            failures += 1;
            let excess = if tolerance > 0.0 {
                error / tolerance
            } else {
                f64::INFINITY
            };
            if worst.is_none_or(|(w, _)| excess > w) {
                worst = Some((excess, index));
            }
        }
    }
    match worst {
        None => Ok(()),
        Some((_, index)) => Err(format!(
            "{what}: {failures} of {} elements off; worst at {:?}: got {}, expected {}, tolerance {:e} ({} terms)",
            got.len(),
            unravel(index, shape),
            got[index],
            expected.values[index],
            expected.tolerance(index, eps),
            expected.terms[index],
        )
        .into()),
    }
}

/// `Σ a ⊙ b` over flat vectors, in f64.
pub fn dot(a: &[f64], b: &[f64]) -> f64 {
    assert_eq!(a.len(), b.len());
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// Largest absolute value (0 for an empty slice).
pub fn max_abs(values: &[f64]) -> f64 {
    values.iter().fold(0.0, |m, v| m.max(v.abs()))
}
