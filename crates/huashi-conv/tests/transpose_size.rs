//! A transposed convolution to a given output size, against PyTorch's
//! `ConvTranspose2d(2, 3, 3, stride=2, padding=1)(x, output_size=…)` for an
//! input of 4×5 (torch 2.15 on a development machine: `[8, 9]` gives
//! `(1, 3, 8, 9)`; `[9, 9]` fails with "valid sizes range from [7, 9] to
//! [8, 10]").

use candle_core::{DType, Device, Tensor};
use huashi_conv::{
    conv_transpose2d, conv_transpose2d_sized, output_padding_for, Axis, ConvGeometry, Error,
};

fn geometry() -> ConvGeometry {
    ConvGeometry::new().with_stride([2, 2]).with_padding([1; 4])
}

#[test]
fn output_size_resolves_to_output_padding() {
    let x = Tensor::randn(0f64, 1.0, (1, 2, 4, 5), &Device::Cpu).unwrap();
    let w = Tensor::randn(0f64, 1.0, (2, 3, 3, 3), &Device::Cpu).unwrap();
    // o₀ = (i − 1)·2 − 2 + 3: 7 and 9; 8 needs output padding 1, 9 needs 0.
    assert_eq!(
        output_padding_for(&geometry(), [4, 5], [3, 3], [8, 9]).unwrap(),
        [1, 0]
    );
    let y = conv_transpose2d_sized(&x, &w, &geometry(), [8, 9]).unwrap();
    assert_eq!(y.dims(), &[1, 3, 8, 9]);
    let direct = conv_transpose2d(&x, &w, &geometry(), [1, 0]).unwrap();
    let diff = (y - direct).unwrap().abs().unwrap().max_all().unwrap();
    assert_eq!(diff.to_scalar::<f64>().unwrap(), 0.0);
    // Dilation 3 above stride 2: output padding up to 2 (max(s, d) − 1).
    let dilated = geometry().with_dilation([3, 3]);
    // o₀ = 3·2 − 2 + 3·2 + 1 = 11.
    assert_eq!(
        output_padding_for(&dilated, [4, 4], [3, 3], [13, 11]).unwrap(),
        [2, 0]
    );
}

#[test]
fn unreachable_sizes_are_typed_errors() {
    let err = output_padding_for(&geometry(), [4, 5], [3, 3], [9, 9]).unwrap_err();
    assert!(matches!(
        err,
        Error::OutputSizeUnreachable {
            axis: Axis::Height,
            requested: 9,
            min: 7,
            max: 8
        }
    ));
    assert!(err.to_string().contains("7..=8"), "{err}");
    let err = output_padding_for(&geometry(), [4, 5], [3, 3], [7, 8]).unwrap_err();
    assert!(matches!(
        err,
        Error::OutputSizeUnreachable {
            axis: Axis::Width,
            min: 9,
            ..
        }
    ));
    let x = Tensor::zeros((1, 2, 4, 5), DType::F32, &Device::Cpu).unwrap();
    // Weight channels (3) that do not match the input's (2).
    let w = Tensor::zeros((3, 3, 3, 3), DType::F32, &Device::Cpu).unwrap();
    let err = conv_transpose2d_sized(&x, &w, &geometry(), [8, 9]).unwrap_err();
    assert!(
        matches!(
            err,
            Error::ShapeMismatch { .. } | Error::ChannelsNotDivisible { .. }
        ),
        "{err}"
    );
    let flat = x.flatten_all().unwrap();
    let err = conv_transpose2d_sized(&flat, &w, &geometry(), [8, 9]).unwrap_err();
    assert!(matches!(err, Error::WrongRank { .. }));
}

/// Keras `Conv2DTranspose(padding='same')` is TensorFlow's gradient of the
/// 'SAME' convolution from `i·s` to `i`: check it against
/// `conv_input_grad` of that convolution, for kernels above, at and below
/// the stride, and with dilation.
#[test]
fn keras_same_is_the_adjoint_of_the_same_convolution() {
    use huashi_conv::{conv_input_grad, keras_same_transposed, Padding};
    for (input, k, s, d) in [
        ([4, 5], [3, 3], [2, 2], [1, 1]),
        ([3, 3], [2, 4], [2, 3], [1, 1]),
        ([5, 2], [1, 1], [3, 2], [1, 1]),
        ([4, 4], [3, 3], [2, 1], [2, 3]),
    ] {
        let (padding, extra) = keras_same_transposed(input, k, s, d).unwrap();
        let x = Tensor::randn(0f64, 1.0, (2, 3, input[0], input[1]), &Device::Cpu).unwrap();
        let w = Tensor::randn(0f64, 1.0, (3, 2, k[0], k[1]), &Device::Cpu).unwrap();
        let g = ConvGeometry::new()
            .with_stride(s)
            .with_dilation(d)
            .with_padding(padding);
        let ours = conv_transpose2d(&x, &w, &g, extra).unwrap();
        let out = [input[0] * s[0], input[1] * s[1]];
        assert_eq!(ours.dims(), &[2, 2, out[0], out[1]]);
        let same = Padding::SameTensorFlow.resolve(out, k, s, d).unwrap();
        let forward = ConvGeometry::new()
            .with_stride(s)
            .with_dilation(d)
            .with_padding(same);
        let adjoint = conv_input_grad(&x, &w, &forward, out).unwrap();
        let diff = (ours - adjoint).unwrap().abs().unwrap().max_all().unwrap();
        assert!(
            diff.to_scalar::<f64>().unwrap() < 1e-12,
            "{input:?} {k:?} {s:?}"
        );
    }
    let err = keras_same_transposed([usize::MAX, 1], [1, 1], [2, 1], [1, 1]).unwrap_err();
    assert!(matches!(err, Error::SizeOverflow { .. }));
}
