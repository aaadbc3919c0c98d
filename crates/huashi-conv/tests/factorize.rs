//! Tests of the SVD separable factorisation (`huashi_conv::factorize`).

use candle_core::{DType, Device, Tensor};
use huashi_conv::factorize::{
    aggregate_relative_error, factor_conv_weight, KernelSvd, SeparableBank,
    DEFAULT_SEPARABILITY_TOL,
};
use huashi_conv::{conv2d, ConvGeometry, Error};

/// Deterministic values in [-1, 1) (a 64-bit LCG; no `rand` dependency).
fn pseudo_random(n: usize, seed: u64) -> Vec<f64> {
    let mut state = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    (0..n)
        .map(|_| {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((state >> 11) as f64 / (1u64 << 53) as f64) * 2.0 - 1.0
        })
        .collect()
}

fn tensor(data: Vec<f64>, shape: &[usize]) -> Tensor {
    Tensor::from_vec(data, shape, &Device::Cpu).unwrap()
}

fn values(t: &Tensor) -> Vec<f64> {
    t.to_dtype(DType::F64)
        .unwrap()
        .flatten_all()
        .unwrap()
        .to_vec1::<f64>()
        .unwrap()
}

fn norm(v: &[f64]) -> f64 {
    v.iter().map(|x| x * x).sum::<f64>().sqrt()
}

fn diff_norm(a: &[f64], b: &[f64]) -> f64 {
    assert_eq!(a.len(), b.len());
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y) * (x - y))
        .sum::<f64>()
        .sqrt()
}

fn max_abs_diff(a: &[f64], b: &[f64]) -> f64 {
    assert_eq!(a.len(), b.len());
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f64::max)
}

fn outer(v: &[f64], h: &[f64]) -> Vec<f64> {
    v.iter()
        .flat_map(|&a| h.iter().map(move |&b| a * b))
        .collect()
}

/// Stride, dilation and asymmetric padding all different per axis.
fn geometry() -> ConvGeometry {
    ConvGeometry::new()
        .with_stride([2, 1])
        .with_dilation([1, 2])
        .with_padding([2, 0, 1, 3])
}

#[test]
fn outer_product_kernel_is_separable_and_rank_one_reconstructs_it() {
    let (v, h) = ([1.0, 2.0, -1.5], [0.5, -3.0, 2.0, 1.0]);
    let kernel = outer(&v, &h);
    let svd = KernelSvd::new(&kernel, [3, 4]).unwrap();
    assert_eq!(svd.full_rank(), 3);
    assert!(svd.is_separable(DEFAULT_SEPARABILITY_TOL));
    assert_eq!(svd.numerical_rank(DEFAULT_SEPARABILITY_TOL), 1);
    assert!((svd.singular_values()[0] - norm(&v) * norm(&h)).abs() < 1e-12);
    let rebuilt = svd.reconstruct(1).unwrap();
    assert!(max_abs_diff(&rebuilt, &kernel) < 1e-12 * norm(&kernel));
    assert!(svd.relative_error(1) < 1e-12);
    // v_1 is parallel to v, h_1 to h, with √σ_1 folded into each.
    let (v1, h1) = (svd.vertical(0), svd.horizontal(0));
    assert!((norm(v1) - norm(h1)).abs() < 1e-12);
    let scale = v1[1] / v[1];
    assert!(max_abs_diff(v1, &v.map(|x| x * scale)) < 1e-12);
}

#[test]
fn random_kernel_is_not_separable() {
    let kernel = pseudo_random(25, 1);
    let svd = KernelSvd::new(&kernel, [5, 5]).unwrap();
    assert!(!svd.is_separable(DEFAULT_SEPARABILITY_TOL));
    assert_eq!(svd.numerical_rank(DEFAULT_SEPARABILITY_TOL), 5);
    assert!(svd.relative_error(1) > 0.1);
}

#[test]
fn error_per_rank_is_non_increasing_and_zero_at_full_rank() {
    for (shape, seed) in [([5, 5], 2), ([3, 7], 3), ([7, 2], 4), ([1, 4], 5)] {
        let kernel = pseudo_random(shape[0] * shape[1], seed);
        let svd = KernelSvd::new(&kernel, shape).unwrap();
        let errors = svd.error_by_rank();
        assert_eq!(errors.len(), shape[0].min(shape[1]) + 1);
        assert_eq!(errors[0], 1.0);
        assert!(errors.windows(2).all(|w| w[1] <= w[0]), "{errors:?}");
        assert!(*errors.last().unwrap() == 0.0);
        assert!(svd.singular_values().windows(2).all(|w| w[1] <= w[0]));
        for (rank, &err) in errors.iter().enumerate() {
            let direct = diff_norm(&svd.reconstruct(rank).unwrap(), &kernel) / norm(&kernel);
            assert!(
                (direct - err).abs() < 1e-12,
                "rank {rank}: {direct} vs {err}"
            );
        }
    }
}

#[test]
fn golden_singular_values_of_a_diagonal_kernel() {
    // diag(3, 4): σ = (4, 3), rank-1 error 3/5.
    let svd = KernelSvd::new(&[3.0, 0.0, 0.0, 4.0], [2, 2]).unwrap();
    assert!(max_abs_diff(svd.singular_values(), &[4.0, 3.0]) < 1e-14);
    assert!((svd.relative_error(1) - 0.6).abs() < 1e-14);
    assert!(!svd.is_separable(0.7) && svd.is_separable(0.75));
}

#[test]
fn zero_kernel_is_separable_with_zero_error() {
    let svd = KernelSvd::new(&[0.0; 9], [3, 3]).unwrap();
    assert!(svd.is_separable(DEFAULT_SEPARABILITY_TOL));
    assert_eq!(svd.numerical_rank(DEFAULT_SEPARABILITY_TOL), 0);
    assert_eq!(svd.error_by_rank(), vec![0.0; 4]);
    assert_eq!(svd.reconstruct(3).unwrap(), vec![0.0; 9]);
}

fn check_full_rank_bank_matches_conv(kernel: [usize; 2], geometry: &ConvGeometry, bias: bool) {
    let (c_out, c_in, [kh, kw]) = (3, 2, kernel);
    let w = tensor(
        pseudo_random(c_out * c_in * kh * kw, 10),
        &[c_out, c_in, kh, kw],
    );
    let x = tensor(pseudo_random(2 * c_in * 11 * 9, 11), &[2, c_in, 11, 9]);
    let b = bias.then(|| tensor(pseudo_random(c_out, 12), &[c_out]));
    let bank = SeparableBank::from_conv_weight(&w, b.as_ref(), geometry, kh.min(kw)).unwrap();
    assert!(bank.weight_error() < 1e-14);
    let mut expected = conv2d(&x, &w, geometry).unwrap();
    if let Some(b) = &b {
        expected = expected
            .broadcast_add(&b.reshape((1, c_out, 1, 1)).unwrap())
            .unwrap();
    }
    let got = bank.forward(&x).unwrap();
    assert_eq!(got.dims(), expected.dims());
    let (got, expected) = (values(&got), values(&expected));
    assert!(max_abs_diff(&got, &expected) < 1e-12 * (1.0 + norm(&expected)));
}

#[test]
fn full_rank_bank_equals_the_original_conv() {
    check_full_rank_bank_matches_conv([3, 3], &geometry(), false);
    check_full_rank_bank_matches_conv([3, 3], &geometry(), true);
    check_full_rank_bank_matches_conv([2, 4], &geometry(), true);
    check_full_rank_bank_matches_conv([4, 3], &ConvGeometry::new().with_stride([3, 2]), false);
}

#[test]
fn low_rank_bank_equals_conv_with_the_reconstructed_weight() {
    let (c_out, c_in, k, rank) = (4, 3, 3, 1);
    let w = tensor(
        pseudo_random(c_out * c_in * k * k, 20),
        &[c_out, c_in, k, k],
    );
    let x = tensor(pseudo_random(2 * c_in * 10 * 12, 21), &[2, c_in, 10, 12]);
    let bank = SeparableBank::from_conv_weight(&w, None, &geometry(), rank).unwrap();
    let w_r = bank.low_rank_weight().unwrap();
    assert_eq!(w_r.dims(), w.dims());
    // W_R is the per-kernel SVD truncation.
    let kernels = factor_conv_weight(&w).unwrap();
    let expected_w_r: Vec<f64> = kernels
        .iter()
        .flat_map(|s| s.reconstruct(rank).unwrap())
        .collect();
    let (w_r, w_full) = (values(&w_r), values(&w));
    assert!(max_abs_diff(&w_r, &expected_w_r) < 1e-12);
    // The reported error is ‖W − W_R‖_F / ‖W‖_F.
    let weight_error = diff_norm(&w_r, &w_full) / norm(&w_full);
    assert!((bank.weight_error() - weight_error).abs() < 1e-12);
    assert!((aggregate_relative_error(&kernels, rank) - weight_error).abs() < 1e-12);
    // The bank computes exactly conv2d(x, W_R).
    let got = values(&bank.forward(&x).unwrap());
    let exact = values(&conv2d(&x, &tensor(w_r, &[c_out, c_in, k, k]), &geometry()).unwrap());
    assert!(max_abs_diff(&got, &exact) < 1e-12 * (1.0 + norm(&exact)));
    // ‖conv(x, W) − conv(x, W_R)‖_F ≤ √(kh·kw)·‖W − W_R‖_F·‖x‖_F (Cauchy–Schwarz per patch).
    let full = values(&conv2d(&x, &w, &geometry()).unwrap());
    let bound = (k as f64) * weight_error * norm(&w_full) * norm(&values(&x));
    assert!(
        diff_norm(&got, &full) <= bound,
        "{} > {bound}",
        diff_norm(&got, &full)
    );
    assert!(diff_norm(&got, &full) > 0.0);
}

#[test]
fn tensor_error_table_is_non_increasing() {
    let w = tensor(pseudo_random(2 * 3 * 5 * 4, 30), &[2, 3, 5, 4]);
    let bank = SeparableBank::from_conv_weight(&w, None, &ConvGeometry::new(), 2).unwrap();
    let table = bank.error_by_rank();
    assert_eq!(table.len(), 5);
    assert_eq!(table[0], 1.0);
    assert_eq!(table[4], 0.0);
    assert!(table.windows(2).all(|p| p[1] <= p[0]));
    assert_eq!(bank.weight_error(), table[2]);
    assert_eq!(
        (bank.in_channels(), bank.out_channels(), bank.rank()),
        (3, 2, 2)
    );
    assert_eq!(bank.kernel_size(), [5, 4]);
    let [g1, g2] = bank.stage_geometries();
    assert_eq!((g1.groups, g2.groups), (3, 12));
    assert_eq!((g1.padding, g2.padding), ([0; 4], [0; 4]));
    let strided = SeparableBank::from_conv_weight(&w, None, &geometry(), 1).unwrap();
    let [g1, g2] = strided.stage_geometries();
    assert_eq!(
        (g1.stride, g1.dilation, g1.padding),
        ([2, 1], [1, 1], [2, 0, 0, 0])
    );
    assert_eq!(
        (g2.stride, g2.dilation, g2.padding),
        ([1, 1], [1, 2], [0, 0, 1, 3])
    );
    assert_eq!(strided.geometry(), &geometry());
    assert_eq!(bank.vertical().dims(), &[3 * 2 * 2, 1, 5, 1]);
    assert_eq!(bank.horizontal().dims(), &[3 * 2 * 2, 1, 1, 4]);
}

#[test]
fn separable_weight_gives_an_exact_rank_one_bank() {
    let (v, h) = ([0.5, -1.0, 2.0], [1.0, 3.0, -2.0]);
    let data: Vec<f64> = (0..4)
        .flat_map(|i| outer(&v, &h).into_iter().map(move |a| a * (i as f64 + 1.0)))
        .collect();
    let w = tensor(data, &[2, 2, 3, 3]);
    let bank = SeparableBank::from_conv_weight(&w, None, &geometry(), 1).unwrap();
    assert!(bank.weight_error() < 1e-14);
    let x = tensor(pseudo_random(2 * 8 * 8, 40), &[1, 2, 8, 8]);
    let expected = values(&conv2d(&x, &w, &geometry()).unwrap());
    assert!(max_abs_diff(&values(&bank.forward(&x).unwrap()), &expected) < 1e-12);
}

#[test]
fn f32_weights_keep_their_dtype() {
    let w = tensor(pseudo_random(2 * 2 * 3 * 3, 50), &[2, 2, 3, 3])
        .to_dtype(DType::F32)
        .unwrap();
    let x = tensor(pseudo_random(2 * 7 * 7, 51), &[1, 2, 7, 7])
        .to_dtype(DType::F32)
        .unwrap();
    let bank = SeparableBank::from_conv_weight(&w, None, &geometry(), 3).unwrap();
    assert_eq!(bank.vertical().dtype(), DType::F32);
    let got = bank.forward(&x).unwrap();
    assert_eq!(got.dtype(), DType::F32);
    let expected = values(&conv2d(&x, &w, &geometry()).unwrap());
    assert!(max_abs_diff(&values(&got), &expected) < 1e-5);
}

#[test]
fn cost_counts_match_the_formulas() {
    let w = tensor(pseudo_random(3 * 2 * 9, 60), &[3, 2, 3, 3]);
    let b = tensor(vec![0.0; 3], &[3]);
    let geometry = ConvGeometry::new().with_padding([1, 1, 1, 1]);
    let bank = SeparableBank::from_conv_weight(&w, Some(&b), &geometry, 1).unwrap();
    assert_eq!(bank.params(), 2 * 3 * 6 + 3);
    let cost = bank.macs([8, 8]).unwrap();
    assert_eq!(cost.output_hw, [8, 8]);
    assert_eq!(cost.original_params, 54 + 3);
    assert_eq!(cost.params, 39);
    assert_eq!(cost.original_macs, 54 * 64);
    assert_eq!(cost.vertical_macs, 6 * 3 * 64);
    assert_eq!(cost.horizontal_macs, 6 * 3 * 64);
    assert_eq!(cost.reduction_adds, 3 * 64);
    assert_eq!(cost.total_macs(), 2 * 1152);
    // Strided: stage 1 runs over every input column (W = 9), stage 2 over W_o = 4.
    let strided = ConvGeometry::new().with_stride([2, 2]);
    let bank = SeparableBank::from_conv_weight(&w, None, &strided, 2).unwrap();
    let cost = bank.macs([9, 9]).unwrap();
    assert_eq!(cost.output_hw, [4, 4]);
    assert_eq!(cost.vertical_macs, 12 * 3 * 4 * 9);
    assert_eq!(cost.horizontal_macs, 12 * 3 * 16);
    assert_eq!(cost.reduction_adds, 3 * 3 * 16);
    assert_eq!(bank.params(), 12 * 6);
}

fn bank_err(w: &Tensor, bias: Option<&Tensor>, g: &ConvGeometry, rank: usize) -> Error {
    SeparableBank::from_conv_weight(w, bias, g, rank).unwrap_err()
}

#[test]
fn unsupported_inputs_are_errors() {
    let w = tensor(pseudo_random(2 * 2 * 9, 70), &[2, 2, 3, 3]);
    let g = ConvGeometry::new();
    let err = bank_err(&w, None, &g.with_groups(2), 1);
    assert!(
        matches!(err, Error::InvalidArgument { what: "groups", .. }),
        "{err}"
    );
    let err = bank_err(&w.reshape((4, 3, 3)).unwrap(), None, &g, 1);
    assert!(matches!(err, Error::WrongRank { expected: 4, .. }), "{err}");
    for rank in [0, 4] {
        let err = bank_err(&w, None, &g, rank);
        assert!(
            matches!(err, Error::InvalidArgument { what: "rank", .. }),
            "{err}"
        );
    }
    for bad in [f64::NAN, f64::INFINITY] {
        let mut data = values(&w);
        data[5] = bad;
        let err = bank_err(&tensor(data, &[2, 2, 3, 3]), None, &g, 1);
        assert!(
            matches!(
                err,
                Error::InvalidArgument {
                    what: "conv weight",
                    ..
                }
            ),
            "{err}"
        );
    }
    let err = bank_err(&w, Some(&tensor(vec![0.0; 3], &[3])), &g, 1);
    assert!(
        matches!(err, Error::ShapeMismatch { what: "bias", .. }),
        "{err}"
    );
    let err = bank_err(&w, None, &g.with_stride([0, 1]), 1);
    assert!(matches!(err, Error::ZeroStride { .. }), "{err}");
    let bank = SeparableBank::from_conv_weight(&w, None, &g, 1).unwrap();
    let err = bank
        .forward(&tensor(vec![0.0; 3 * 25], &[1, 3, 5, 5]))
        .unwrap_err();
    assert!(
        matches!(err, Error::ShapeMismatch { what: "input", .. }),
        "{err}"
    );
    let err = bank
        .forward(&tensor(vec![0.0; 2 * 25], &[2, 5, 5]))
        .unwrap_err();
    assert!(
        matches!(err, Error::WrongRank { what: "input", .. }),
        "{err}"
    );
}

#[test]
fn kernel_svd_rejects_bad_kernels() {
    let err = KernelSvd::new(&[1.0; 5], [2, 3]).unwrap_err();
    assert!(
        matches!(
            err,
            Error::ShapeMismatch {
                what: "kernel data",
                ..
            }
        ),
        "{err}"
    );
    assert!(matches!(
        KernelSvd::new(&[], [0, 3]).unwrap_err(),
        Error::ZeroKernel { .. }
    ));
    let err = KernelSvd::new(&[1.0, f64::NAN, 0.0, 1.0], [2, 2]).unwrap_err();
    assert!(
        matches!(err, Error::InvalidArgument { what: "kernel", .. }),
        "{err}"
    );
    let svd = KernelSvd::new(&[1.0; 6], [2, 3]).unwrap();
    let err = svd.reconstruct(3).unwrap_err();
    assert!(
        matches!(err, Error::InvalidArgument { what: "rank", .. }),
        "{err}"
    );
}

/// Issue 11: a kernel of tiny (subnormal in f32) magnitude is judged by its
/// relative singular values: a non-separable one is not called separable,
/// and its singular values scale with it.
#[test]
fn tiny_kernels_are_judged_by_relative_singular_values() {
    let kernel = [1.0, 2.0, 0.5, -1.0, 0.25, 3.0, 2.0, -0.5, 1.5];
    let normal = KernelSvd::new(&kernel, [3, 3]).unwrap();
    assert!(!normal.is_separable(DEFAULT_SEPARABILITY_TOL));
    for scale in [1e-40, 1e-300, 1e-305, 1e300] {
        let tiny: Vec<f64> = kernel.iter().map(|k| k * scale).collect();
        let svd = KernelSvd::new(&tiny, [3, 3]).unwrap();
        assert!(
            !svd.is_separable(DEFAULT_SEPARABILITY_TOL),
            "scale {scale}: {:?}",
            svd.singular_values()
        );
        let ratio = |s: &KernelSvd| s.singular_values()[1] / s.singular_values()[0];
        assert!((ratio(&svd) - ratio(&normal)).abs() < 1e-6, "scale {scale}");
        assert!((svd.relative_error(1) - normal.relative_error(1)).abs() < 1e-6);
    }
    let separable: Vec<f64> = [1.0, 2.0, 3.0]
        .iter()
        .flat_map(|v| [0.5, -1.0, 2.0].map(|h| v * h * 1e-40))
        .collect();
    assert!(KernelSvd::new(&separable, [3, 3])
        .unwrap()
        .is_separable(DEFAULT_SEPARABILITY_TOL));
}
