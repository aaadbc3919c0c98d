//! Every error the issue names, with its typed variant and the offending
//! values; the padding rules (TensorFlow 'SAME' vs PyTorch 'same') on worked
//! examples; the Dumoulin & Visin relations on their paper's examples.

use candle_core::{DType, Device, Module, Tensor};
use candle_nn::{VarBuilder, VarMap};
use huashi_conv::{
    avg_pool2d, conv2d, conv_input_grad, conv_transpose2d, conv_weight_grad, ensure_second_order,
    global_avg_pool, max_pool2d, pool_output_size, Axis, Conv2d, Conv2dConfig, ConvGeometry,
    ConvTranspose2d, ConvTranspose2dConfig, Cost, DepthwiseConv2d, Error, Padding, PoolConfig,
    SeparableConv2d, SpatiallySeparableConv2d,
};

fn zeros(shape: &[usize]) -> Tensor {
    Tensor::zeros(shape, DType::F64, &Device::Cpu).unwrap()
}

fn zeros32(shape: &[usize]) -> Tensor {
    Tensor::zeros(shape, DType::F32, &Device::Cpu).unwrap()
}

/// A fresh `VarBuilder` on its own `VarMap`.
fn vb(dtype: DType) -> VarBuilder<'static> {
    VarBuilder::from_varmap(&VarMap::new(), dtype, &Device::Cpu)
}

fn conv_layer(
    in_channels: usize,
    out_channels: usize,
    kernel: [usize; 2],
    config: Conv2dConfig,
) -> huashi_conv::Result<Conv2d> {
    Conv2d::new(in_channels, out_channels, kernel, config, vb(DType::F64))
}

fn config() -> Conv2dConfig {
    Conv2dConfig::default()
}

// ---------------------------------------------------------------------------
// Kernel larger than the padded input
// ---------------------------------------------------------------------------

#[test]
fn kernel_larger_than_padded_input() {
    // Op level: width 6 + 1 padding = 7 < kernel 8.
    let err = conv2d(
        &zeros(&[1, 2, 5, 6]),
        &zeros(&[3, 2, 3, 8]),
        &ConvGeometry::new().with_padding([0, 0, 1, 0]),
    )
    .unwrap_err();
    match err {
        Error::KernelLargerThanInput {
            axis,
            kernel_extent,
            padded_input,
            input,
            padding,
        } => {
            assert_eq!(axis, Axis::Width);
            assert_eq!((kernel_extent, padded_input, input, padding), (8, 7, 6, 1));
        }
        other => panic!("unexpected {other:?}"),
    }
    // Layer level, through dilation: 3 taps at dilation 3 span 7 > 6.
    let layer = conv_layer(
        2,
        2,
        [3, 3],
        Conv2dConfig {
            dilation: [3, 1],
            ..config()
        },
    )
    .unwrap();
    let err = layer.try_forward(&zeros(&[1, 2, 6, 6])).unwrap_err();
    assert!(
        matches!(
            err,
            Error::KernelLargerThanInput {
                axis: Axis::Height,
                kernel_extent: 7,
                padded_input: 6,
                input: 6,
                padding: 0
            }
        ),
        "{err:?}"
    );
    // The message names the values.
    let msg = err.to_string();
    assert!(
        msg.contains('7') && msg.contains('6') && msg.contains("height"),
        "{msg}"
    );
    // Padding that makes it fit is accepted: 6 + 1 = 7.
    let g = ConvGeometry::new()
        .with_dilation([3, 1])
        .with_padding([1, 0, 0, 0]);
    assert_eq!(g.output_size([6, 6], [3, 3]).unwrap(), [1, 4]);
    // Pooling: a 4×4 window on a 3×3 map.
    let err = max_pool2d(&zeros(&[1, 1, 3, 3]), &PoolConfig::new([4, 4])).unwrap_err();
    assert!(
        matches!(
            err,
            Error::KernelLargerThanInput {
                axis: Axis::Height,
                kernel_extent: 4,
                padded_input: 3,
                ..
            }
        ),
        "{err:?}"
    );
    // Cost reports the same error without running the layer.
    let err = layer.cost([1, 2, 6, 6]).unwrap_err();
    assert!(
        matches!(err, Error::KernelLargerThanInput { .. }),
        "{err:?}"
    );
}

// ---------------------------------------------------------------------------
// Channels and groups
// ---------------------------------------------------------------------------

#[test]
fn input_channels_not_divisible_by_groups() {
    let err = conv_layer(
        3,
        4,
        [3, 3],
        Conv2dConfig {
            groups: 2,
            ..config()
        },
    )
    .unwrap_err();
    assert!(
        matches!(
            err,
            Error::ChannelsNotDivisible {
                what: "input",
                channels: 3,
                groups: 2
            }
        ),
        "{err:?}"
    );
    let err = ConvGeometry::new()
        .with_groups(4)
        .check_channels(6, 8)
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::ChannelsNotDivisible {
                what: "input",
                channels: 6,
                groups: 4
            }
        ),
        "{err:?}"
    );
}

#[test]
fn output_channels_not_divisible_by_groups() {
    let err = conv_layer(
        4,
        6,
        [3, 3],
        Conv2dConfig {
            groups: 4,
            ..config()
        },
    )
    .unwrap_err();
    assert!(
        matches!(
            err,
            Error::ChannelsNotDivisible {
                what: "output",
                channels: 6,
                groups: 4
            }
        ),
        "{err:?}"
    );
    // Transposed: out channels 3 with 2 groups.
    let err = ConvTranspose2d::new(
        6,
        3,
        [2, 2],
        ConvTranspose2dConfig {
            groups: 2,
            ..ConvTranspose2dConfig::default()
        },
        vb(DType::F64),
    )
    .unwrap_err();
    assert!(
        matches!(
            err,
            Error::ChannelsNotDivisible {
                what: "output",
                channels: 3,
                groups: 2
            }
        ),
        "{err:?}"
    );
    // Op level: 6 input channels, 3 groups, 4 output channels.
    let err = conv2d(
        &zeros(&[1, 6, 5, 5]),
        &zeros(&[4, 2, 3, 3]),
        &ConvGeometry::new().with_groups(3),
    )
    .unwrap_err();
    assert!(
        matches!(
            err,
            Error::ChannelsNotDivisible {
                what: "output",
                channels: 4,
                groups: 3
            }
        ),
        "{err:?}"
    );
}

#[test]
fn zero_groups_and_zero_channels() {
    let err = conv_layer(
        4,
        4,
        [3, 3],
        Conv2dConfig {
            groups: 0,
            ..config()
        },
    )
    .unwrap_err();
    assert!(matches!(err, Error::ZeroGroups), "{err:?}");
    let err = conv_layer(0, 4, [3, 3], config()).unwrap_err();
    assert!(
        matches!(err, Error::ZeroChannels { what: "input" }),
        "{err:?}"
    );
    let err = conv_layer(4, 0, [3, 3], config()).unwrap_err();
    assert!(
        matches!(err, Error::ZeroChannels { what: "output" }),
        "{err:?}"
    );
    let err = DepthwiseConv2d::new(4, 0, [3, 3], config(), vb(DType::F64)).unwrap_err();
    assert!(
        matches!(
            err,
            Error::InvalidArgument {
                what: "depth_multiplier",
                ..
            }
        ),
        "{err:?}"
    );
}

// ---------------------------------------------------------------------------
// Zero stride, dilation, kernel
// ---------------------------------------------------------------------------

#[test]
fn zero_stride() {
    let err = conv_layer(
        2,
        2,
        [3, 3],
        Conv2dConfig {
            stride: [1, 0],
            ..config()
        },
    )
    .unwrap_err();
    assert!(
        matches!(err, Error::ZeroStride { axis: Axis::Width }),
        "{err:?}"
    );
    let err = ConvGeometry::new()
        .with_stride([0, 1])
        .output_size([5, 5], [3, 3])
        .unwrap_err();
    assert!(
        matches!(err, Error::ZeroStride { axis: Axis::Height }),
        "{err:?}"
    );
    let err = conv2d(
        &zeros(&[1, 1, 5, 5]),
        &zeros(&[1, 1, 3, 3]),
        &ConvGeometry::new().with_stride([0, 0]),
    )
    .unwrap_err();
    assert!(
        matches!(err, Error::ZeroStride { axis: Axis::Height }),
        "{err:?}"
    );
    let err = ConvTranspose2d::new(
        2,
        2,
        [3, 3],
        ConvTranspose2dConfig {
            stride: [2, 0],
            ..ConvTranspose2dConfig::default()
        },
        vb(DType::F64),
    )
    .unwrap_err();
    assert!(
        matches!(err, Error::ZeroStride { axis: Axis::Width }),
        "{err:?}"
    );
    let err = max_pool2d(
        &zeros(&[1, 1, 5, 5]),
        &PoolConfig::new([2, 2]).with_stride([0, 2]),
    )
    .unwrap_err();
    assert!(
        matches!(err, Error::ZeroStride { axis: Axis::Height }),
        "{err:?}"
    );
    let err = SpatiallySeparableConv2d::new(
        2,
        2,
        2,
        3,
        Conv2dConfig {
            stride: [1, 0],
            ..config()
        },
        vb(DType::F64),
    )
    .unwrap_err();
    assert!(
        matches!(err, Error::ZeroStride { axis: Axis::Width }),
        "{err:?}"
    );
    assert!(err.to_string().contains("stride"), "{err}");
}

#[test]
fn zero_dilation() {
    let err = conv_layer(
        2,
        2,
        [3, 3],
        Conv2dConfig {
            dilation: [0, 1],
            ..config()
        },
    )
    .unwrap_err();
    assert!(
        matches!(err, Error::ZeroDilation { axis: Axis::Height }),
        "{err:?}"
    );
    let err = ConvGeometry::new()
        .with_dilation([1, 0])
        .output_size([5, 5], [3, 3])
        .unwrap_err();
    assert!(
        matches!(err, Error::ZeroDilation { axis: Axis::Width }),
        "{err:?}"
    );
    let err = max_pool2d(
        &zeros(&[1, 1, 5, 5]),
        &PoolConfig::new([2, 2]).with_dilation([1, 0]),
    )
    .unwrap_err();
    assert!(
        matches!(err, Error::ZeroDilation { axis: Axis::Width }),
        "{err:?}"
    );
    let err = SeparableConv2d::new(
        2,
        4,
        [3, 3],
        1,
        Conv2dConfig {
            dilation: [0, 0],
            ..config()
        },
        vb(DType::F64),
    )
    .unwrap_err();
    assert!(
        matches!(err, Error::ZeroDilation { axis: Axis::Height }),
        "{err:?}"
    );
}

#[test]
fn zero_kernel() {
    let err = conv_layer(2, 2, [3, 0], config()).unwrap_err();
    assert!(
        matches!(err, Error::ZeroKernel { axis: Axis::Width }),
        "{err:?}"
    );
    let err = SpatiallySeparableConv2d::new(2, 2, 2, 0, config(), vb(DType::F64)).unwrap_err();
    assert!(
        matches!(err, Error::ZeroKernel { axis: Axis::Height }),
        "{err:?}"
    );
    let err = ConvGeometry::new().output_size([5, 5], [0, 3]).unwrap_err();
    assert!(
        matches!(err, Error::ZeroKernel { axis: Axis::Height }),
        "{err:?}"
    );
    let err = max_pool2d(&zeros(&[1, 1, 5, 5]), &PoolConfig::new([0, 2])).unwrap_err();
    assert!(
        matches!(err, Error::ZeroKernel { axis: Axis::Height }),
        "{err:?}"
    );
    let err = avg_pool2d(&zeros(&[1, 1, 5, 5]), &PoolConfig::new([2, 0]), true).unwrap_err();
    assert!(
        matches!(err, Error::ZeroKernel { axis: Axis::Width }),
        "{err:?}"
    );
    // A zero-width weight tensor at op level.
    let err = conv2d(
        &zeros(&[1, 1, 5, 5]),
        &zeros(&[1, 1, 3, 0]),
        &ConvGeometry::new(),
    )
    .unwrap_err();
    assert!(
        matches!(err, Error::ZeroKernel { axis: Axis::Width }),
        "{err:?}"
    );
}

// ---------------------------------------------------------------------------
// Output padding
// ---------------------------------------------------------------------------

#[test]
fn output_padding_not_smaller_than_stride_or_dilation() {
    let transposed = |stride: [usize; 2], dilation: [usize; 2], output_padding: [usize; 2]| {
        ConvTranspose2d::new(
            2,
            2,
            [3, 3],
            ConvTranspose2dConfig {
                stride,
                dilation,
                output_padding,
                ..ConvTranspose2dConfig::default()
            },
            vb(DType::F64),
        )
    };
    let err = transposed([2, 2], [1, 1], [2, 0]).unwrap_err();
    assert!(
        matches!(
            err,
            Error::OutputPaddingTooLarge {
                axis: Axis::Height,
                output_padding: 2,
                stride: 2,
                dilation: 1
            }
        ),
        "{err:?}"
    );
    let err = transposed([1, 1], [1, 1], [0, 1]).unwrap_err();
    assert!(
        matches!(
            err,
            Error::OutputPaddingTooLarge {
                axis: Axis::Width,
                output_padding: 1,
                stride: 1,
                dilation: 1
            }
        ),
        "{err:?}"
    );
    let err = transposed([1, 3], [2, 1], [2, 0]).unwrap_err();
    assert!(
        matches!(
            err,
            Error::OutputPaddingTooLarge {
                axis: Axis::Height,
                output_padding: 2,
                stride: 1,
                dilation: 2
            }
        ),
        "{err:?}"
    );
    // PyTorch's rule is `< max(stride, dilation)`: these are valid.
    transposed([1, 3], [2, 1], [1, 2]).unwrap();
    transposed([2, 2], [1, 3], [1, 2]).unwrap();
    // The functions share the rule.
    let g = ConvGeometry::new().with_stride([2, 2]);
    let err = g
        .transposed_output_size([4, 4], [3, 3], [0, 2])
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::OutputPaddingTooLarge {
                axis: Axis::Width,
                output_padding: 2,
                ..
            }
        ),
        "{err:?}"
    );
    let err =
        conv_transpose2d(&zeros(&[1, 1, 4, 4]), &zeros(&[1, 1, 3, 3]), &g, [2, 0]).unwrap_err();
    assert!(
        matches!(
            err,
            Error::OutputPaddingTooLarge {
                axis: Axis::Height,
                output_padding: 2,
                stride: 2,
                dilation: 1
            }
        ),
        "{err:?}"
    );
}

#[test]
fn transposed_padding_that_removes_the_whole_output() {
    // Full output (1 − 1)·1 + 1 = 1 row; padding 1 + 0 leaves nothing.
    let err = conv_transpose2d(
        &zeros(&[1, 1, 1, 1]),
        &zeros(&[1, 1, 1, 1]),
        &ConvGeometry::new().with_padding([1, 0, 0, 0]),
        [0, 0],
    )
    .unwrap_err();
    assert!(matches!(err, Error::InvalidArgument { .. }), "{err:?}");
}

// ---------------------------------------------------------------------------
// PyTorch 'same' needs stride 1
// ---------------------------------------------------------------------------

#[test]
fn pytorch_same_with_stride_above_one() {
    let err = Padding::SamePyTorch
        .resolve([8, 8], [3, 3], [2, 1], [1, 1])
        .unwrap_err();
    assert!(
        matches!(err, Error::SameNeedsStrideOne { stride: [2, 1] }),
        "{err:?}"
    );
    // The layer rejects it when it is built, before any input is seen.
    let err = conv_layer(
        2,
        2,
        [3, 3],
        Conv2dConfig {
            stride: [1, 2],
            padding: Padding::SamePyTorch,
            ..config()
        },
    )
    .unwrap_err();
    assert!(
        matches!(err, Error::SameNeedsStrideOne { stride: [1, 2] }),
        "{err:?}"
    );
    assert!(err.to_string().contains("SameTensorFlow"), "{err}");
    // Pooling's default stride is the window, so 'same' needs an explicit stride 1.
    let pool = PoolConfig::new([3, 3]).with_padding(Padding::SamePyTorch);
    let err = max_pool2d(&zeros(&[1, 1, 6, 6]), &pool).unwrap_err();
    assert!(
        matches!(err, Error::SameNeedsStrideOne { stride: [3, 3] }),
        "{err:?}"
    );
    assert!(max_pool2d(&zeros(&[1, 1, 6, 6]), &pool.with_stride([1, 1])).is_ok());
    // The TensorFlow rule accepts any stride.
    assert!(Padding::SameTensorFlow
        .resolve([8, 8], [3, 3], [2, 3], [1, 1])
        .is_ok());
}

// ---------------------------------------------------------------------------
// Wrong input rank
// ---------------------------------------------------------------------------

#[test]
fn wrong_input_rank() {
    let w = zeros(&[2, 3, 3, 3]);
    let err = conv2d(&zeros(&[3, 5, 5]), &w, &ConvGeometry::new()).unwrap_err();
    assert!(
        matches!(&err, Error::WrongRank { what: "input", expected: 4, got } if got == &[3, 5, 5]),
        "{err:?}"
    );
    let err = conv2d(
        &zeros(&[1, 3, 5, 5]),
        &zeros(&[2, 27]),
        &ConvGeometry::new(),
    )
    .unwrap_err();
    assert!(
        matches!(&err, Error::WrongRank { what: "weight", expected: 4, got } if got == &[2, 27]),
        "{err:?}"
    );
    let layer = conv_layer(3, 2, [3, 3], config()).unwrap();
    let err = layer.try_forward(&zeros(&[3, 5, 5])).unwrap_err();
    assert!(
        matches!(&err, Error::WrongRank { what: "conv2d input", expected: 4, got } if got == &[3, 5, 5]),
        "{err:?}"
    );
    let err = layer.try_forward(&zeros(&[1, 1, 3, 5, 5])).unwrap_err();
    assert!(
        matches!(&err, Error::WrongRank { got, .. } if got == &[1, 1, 3, 5, 5]),
        "{err:?}"
    );
    // Module::forward carries the typed error's message.
    let msg = layer.forward(&zeros(&[3, 5, 5])).unwrap_err().to_string();
    assert!(msg.contains("rank 4") && msg.contains("[3, 5, 5]"), "{msg}");

    let up = ConvTranspose2d::new(
        3,
        2,
        [2, 2],
        ConvTranspose2dConfig::default(),
        vb(DType::F64),
    )
    .unwrap();
    let err = up.try_forward(&zeros(&[3, 4, 4])).unwrap_err();
    assert!(
        matches!(
            err,
            Error::WrongRank {
                what: "conv_transpose2d input",
                expected: 4,
                ..
            }
        ),
        "{err:?}"
    );
    for err in [
        max_pool2d(&zeros(&[2, 5, 5]), &PoolConfig::new([2, 2])).unwrap_err(),
        avg_pool2d(&zeros(&[2, 5, 5]), &PoolConfig::new([2, 2]), false).unwrap_err(),
        global_avg_pool(&zeros(&[2, 5])).unwrap_err(),
    ] {
        assert!(
            matches!(
                err,
                Error::WrongRank {
                    what: "pooling input",
                    expected: 4,
                    ..
                }
            ),
            "{err:?}"
        );
    }
    let err = conv_weight_grad(
        &zeros(&[1, 3, 5, 5]),
        &zeros(&[2, 3, 3]),
        &ConvGeometry::new(),
        [3, 3],
    )
    .unwrap_err();
    assert!(
        matches!(
            err,
            Error::WrongRank {
                what: "output gradient",
                ..
            }
        ),
        "{err:?}"
    );
}

// ---------------------------------------------------------------------------
// Weight shape not matching the layer
// ---------------------------------------------------------------------------

#[test]
fn from_tensors_rejects_weights_that_do_not_fit() {
    let err = Conv2d::from_tensors(zeros(&[4, 3, 3]), None, config()).unwrap_err();
    assert!(
        matches!(&err, Error::WrongRank { what: "weight", expected: 4, got } if got == &[4, 3, 3]),
        "{err:?}"
    );
    let err = Conv2d::from_tensors(zeros(&[4, 3, 3, 3]), Some(zeros(&[5])), config()).unwrap_err();
    assert!(
        matches!(&err, Error::ShapeMismatch { what: "bias", expected, got }
            if expected == &[4] && got == &[5]),
        "{err:?}"
    );
    // 6 output channels cannot be split into 4 groups.
    let err = Conv2d::from_tensors(
        zeros(&[6, 2, 3, 3]),
        None,
        Conv2dConfig {
            groups: 4,
            ..config()
        },
    )
    .unwrap_err();
    assert!(
        matches!(
            err,
            Error::ChannelsNotDivisible {
                what: "output",
                channels: 6,
                groups: 4
            }
        ),
        "{err:?}"
    );
    // A fitting weight defines the layer: 8 = 2·4 input channels.
    let conv = Conv2d::from_tensors(
        zeros(&[8, 2, 3, 3]),
        Some(zeros(&[8])),
        Conv2dConfig {
            groups: 4,
            ..config()
        },
    )
    .unwrap();
    assert_eq!((conv.in_channels(), conv.out_channels()), (8, 8));
    // ... and then rejects an input with 6 channels.
    let err = conv.try_forward(&zeros(&[2, 6, 5, 5])).unwrap_err();
    assert!(
        matches!(&err, Error::ShapeMismatch { what: "conv2d input", expected, got }
            if expected == &[2, 8, 5, 5] && got == &[2, 6, 5, 5]),
        "{err:?}"
    );
}

#[test]
fn layer_given_the_wrong_input_channel_count() {
    let layer = conv_layer(3, 4, [3, 3], config()).unwrap();
    let err = layer.try_forward(&zeros(&[2, 5, 8, 8])).unwrap_err();
    assert!(
        matches!(&err, Error::ShapeMismatch { what: "conv2d input", expected, got }
            if expected == &[2, 3, 8, 8] && got == &[2, 5, 8, 8]),
        "{err:?}"
    );
    let msg = err.to_string();
    assert!(
        msg.contains("[2, 3, 8, 8]") && msg.contains("[2, 5, 8, 8]"),
        "{msg}"
    );

    let sep = SeparableConv2d::new(4, 8, [3, 3], 2, config(), vb(DType::F64)).unwrap();
    let err = sep.try_forward(&zeros(&[1, 3, 8, 8])).unwrap_err();
    assert!(
        matches!(&err, Error::ShapeMismatch { expected, got, .. }
            if expected == &[1, 4, 8, 8] && got == &[1, 3, 8, 8]),
        "{err:?}"
    );
    let dw = DepthwiseConv2d::new(4, 2, [3, 3], config(), vb(DType::F64)).unwrap();
    let err = dw.try_forward(&zeros(&[1, 8, 8, 8])).unwrap_err();
    assert!(
        matches!(&err, Error::ShapeMismatch { expected, .. } if expected == &[1, 4, 8, 8]),
        "{err:?}"
    );
    let up = ConvTranspose2d::new(
        6,
        2,
        [2, 2],
        ConvTranspose2dConfig::default(),
        vb(DType::F64),
    )
    .unwrap();
    let err = up.try_forward(&zeros(&[1, 2, 4, 4])).unwrap_err();
    assert!(
        matches!(&err, Error::ShapeMismatch { what: "conv_transpose2d input", expected, got }
            if expected == &[1, 6, 4, 4] && got == &[1, 2, 4, 4]),
        "{err:?}"
    );
    // Op level: a weight made for 2 input channels given a 3-channel input.
    let err = conv2d(
        &zeros(&[1, 3, 5, 5]),
        &zeros(&[4, 2, 3, 3]),
        &ConvGeometry::new(),
    )
    .unwrap_err();
    assert!(
        matches!(&err, Error::ShapeMismatch { what: "weight", expected, got }
            if expected == &[4, 3, 3, 3] && got == &[4, 2, 3, 3]),
        "{err:?}"
    );
}

#[test]
fn gradient_ops_reject_mismatched_shapes() {
    // conv_input_grad: dy must have the convolution's output size (3×3 for 5×5, k 3).
    let err = conv_input_grad(
        &zeros(&[1, 2, 4, 3]),
        &zeros(&[2, 1, 3, 3]),
        &ConvGeometry::new(),
        [5, 5],
    )
    .unwrap_err();
    assert!(
        matches!(&err, Error::ShapeMismatch { expected, got, .. }
            if expected == &[3, 3] && got == &[4, 3]),
        "{err:?}"
    );
    // conv_weight_grad: dy's batch and size must match x's convolution.
    let err = conv_weight_grad(
        &zeros(&[2, 1, 5, 5]),
        &zeros(&[1, 2, 3, 3]),
        &ConvGeometry::new(),
        [3, 3],
    )
    .unwrap_err();
    assert!(
        matches!(&err, Error::ShapeMismatch { what: "output gradient", expected, got }
            if expected == &[2, 2, 3, 3] && got == &[1, 2, 3, 3]),
        "{err:?}"
    );
}

// ---------------------------------------------------------------------------
// Pool padding
// ---------------------------------------------------------------------------

#[test]
fn pool_padding_too_large() {
    let x = zeros(&[1, 1, 8, 8]);
    let err = max_pool2d(
        &x,
        &PoolConfig::new([3, 3]).with_padding(Padding::symmetric(2, 1)),
    )
    .unwrap_err();
    assert!(
        matches!(
            err,
            Error::PoolPaddingTooLarge {
                axis: Axis::Height,
                padding: 2,
                kernel: 3
            }
        ),
        "{err:?}"
    );
    let err = avg_pool2d(
        &x,
        &PoolConfig::new([2, 2]).with_padding(Padding::symmetric(0, 2)),
        true,
    )
    .unwrap_err();
    assert!(
        matches!(
            err,
            Error::PoolPaddingTooLarge {
                axis: Axis::Width,
                padding: 2,
                kernel: 2
            }
        ),
        "{err:?}"
    );
    // One side is enough to be rejected.
    let err = max_pool2d(
        &x,
        &PoolConfig::new([3, 3]).with_padding(Padding::Explicit {
            top: 0,
            bottom: 2,
            left: 0,
            right: 0,
        }),
    )
    .unwrap_err();
    assert!(
        matches!(
            err,
            Error::PoolPaddingTooLarge {
                axis: Axis::Height,
                padding: 2,
                ..
            }
        ),
        "{err:?}"
    );
    // Dilation widens the window (as in PyTorch): 3 taps at dilation 2 span 5,
    // so padding 2 is allowed and 3 is not.
    let dilated = PoolConfig::new([3, 3]).with_dilation([2, 2]);
    assert!(max_pool2d(&x, &dilated.with_padding(Padding::symmetric(2, 2))).is_ok());
    let err = max_pool2d(&x, &dilated.with_padding(Padding::symmetric(3, 0))).unwrap_err();
    assert!(
        matches!(
            err,
            Error::PoolPaddingTooLarge {
                axis: Axis::Height,
                padding: 3,
                kernel: 5
            }
        ),
        "{err:?}"
    );
    // The plain size function has the same rule.
    let err = pool_output_size([5, 5], [2, 2], [2, 2], [2, 0]).unwrap_err();
    assert!(
        matches!(
            err,
            Error::PoolPaddingTooLarge {
                axis: Axis::Height,
                padding: 2,
                kernel: 2
            }
        ),
        "{err:?}"
    );
    assert_eq!(
        pool_output_size([5, 5], [2, 2], [2, 2], [1, 1]).unwrap(),
        [3, 3]
    );
}

#[test]
fn average_pooling_has_no_dilation() {
    let err = avg_pool2d(
        &zeros(&[1, 1, 8, 8]),
        &PoolConfig::new([2, 2]).with_dilation([2, 1]),
        false,
    )
    .unwrap_err();
    assert!(matches!(err, Error::InvalidArgument { .. }), "{err:?}");
}

// ---------------------------------------------------------------------------
// Dtypes
// ---------------------------------------------------------------------------

#[test]
fn mixed_f32_f64_dtypes() {
    let err = conv2d(
        &zeros32(&[1, 2, 5, 5]),
        &zeros(&[2, 2, 3, 3]),
        &ConvGeometry::new(),
    )
    .unwrap_err();
    assert!(
        matches!(
            err,
            Error::DType {
                what: "conv2d",
                expected: DType::F32,
                got: DType::F64
            }
        ),
        "{err:?}"
    );
    let err = conv2d(
        &zeros(&[1, 2, 5, 5]),
        &zeros32(&[2, 2, 3, 3]),
        &ConvGeometry::new(),
    )
    .unwrap_err();
    assert!(
        matches!(
            err,
            Error::DType {
                what: "conv2d",
                expected: DType::F64,
                got: DType::F32
            }
        ),
        "{err:?}"
    );
    // A layer whose parameters are f64, given f32 input.
    let layer = conv_layer(2, 2, [3, 3], config()).unwrap();
    let err = layer.try_forward(&zeros32(&[1, 2, 5, 5])).unwrap_err();
    assert!(
        matches!(
            err,
            Error::DType {
                expected: DType::F32,
                got: DType::F64,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(layer.forward(&zeros32(&[1, 2, 5, 5])).is_err());
    // The gradient ops and the transposed convolution check too.
    let err = conv_transpose2d(
        &zeros32(&[1, 1, 3, 3]),
        &zeros(&[1, 1, 2, 2]),
        &ConvGeometry::new(),
        [0, 0],
    )
    .unwrap_err();
    assert!(
        matches!(
            err,
            Error::DType {
                what: "conv_transpose2d",
                ..
            }
        ),
        "{err:?}"
    );
    let err = conv_weight_grad(
        &zeros(&[1, 1, 5, 5]),
        &zeros32(&[1, 1, 3, 3]),
        &ConvGeometry::new(),
        [3, 3],
    )
    .unwrap_err();
    assert!(
        matches!(
            err,
            Error::DType {
                what: "conv_weight_grad",
                ..
            }
        ),
        "{err:?}"
    );
    let err = conv_input_grad(
        &zeros32(&[1, 1, 3, 3]),
        &zeros(&[1, 1, 3, 3]),
        &ConvGeometry::new(),
        [5, 5],
    )
    .unwrap_err();
    assert!(
        matches!(
            err,
            Error::DType {
                what: "conv_input_grad",
                ..
            }
        ),
        "{err:?}"
    );
}

#[test]
fn unsupported_dtypes() {
    let x = Tensor::zeros((1, 1, 5, 5), DType::F16, &Device::Cpu).unwrap();
    let w = Tensor::zeros((1, 1, 3, 3), DType::F16, &Device::Cpu).unwrap();
    let err = conv2d(&x, &w, &ConvGeometry::new()).unwrap_err();
    assert!(
        matches!(
            err,
            Error::DType {
                got: DType::F16,
                ..
            }
        ),
        "{err:?}"
    );
    let x = Tensor::zeros((1, 1, 5, 5), DType::U32, &Device::Cpu).unwrap();
    let w = Tensor::zeros((1, 1, 3, 3), DType::U32, &Device::Cpu).unwrap();
    let err = conv2d(&x, &w, &ConvGeometry::new()).unwrap_err();
    assert!(
        matches!(
            err,
            Error::DType {
                got: DType::U32,
                ..
            }
        ),
        "{err:?}"
    );
}

// ---------------------------------------------------------------------------
// Second order disabled
// ---------------------------------------------------------------------------

#[test]
fn second_order_disabled_is_reported() {
    // This binary never sets CANDLE_GRAD_DO_NOT_DETACH. In a fresh thread
    // the probe must report it as an error (or pass if the caller's
    // environment sets the variable).
    let set_outside = std::env::var_os("CANDLE_GRAD_DO_NOT_DETACH").is_some();
    let result = std::thread::spawn(ensure_second_order).join().unwrap();
    if set_outside {
        assert!(result.is_ok());
    } else {
        let err = result.unwrap_err();
        assert!(matches!(err, Error::SecondOrderDisabled), "{err:?}");
        assert!(err.to_string().contains("CANDLE_GRAD_DO_NOT_DETACH"));
    }
}

// ---------------------------------------------------------------------------
// Padding rules on worked examples
// ---------------------------------------------------------------------------

fn tf(
    input: [usize; 2],
    kernel: [usize; 2],
    stride: [usize; 2],
    dilation: [usize; 2],
) -> [usize; 4] {
    Padding::SameTensorFlow
        .resolve(input, kernel, stride, dilation)
        .unwrap()
}

fn torch(input: [usize; 2], kernel: [usize; 2], dilation: [usize; 2]) -> [usize; 4] {
    Padding::SamePyTorch
        .resolve(input, kernel, [1, 1], dilation)
        .unwrap()
}

#[test]
fn tensorflow_same_worked_examples() {
    // 224, k 3, s 2 (MobileNet/EfficientNet stems): o = 112, total 1 → [0, 1].
    assert_eq!(tf([224, 224], [3, 3], [2, 2], [1, 1]), [0, 1, 0, 1]);
    // 5, k 3, s 2: o = 3, total (3 − 1)·2 + 3 − 5 = 2 → [1, 1].
    assert_eq!(tf([5, 5], [3, 3], [2, 2], [1, 1]), [1, 1, 1, 1]);
    // 6, k 3, s 2: o = 3, total 1 → [0, 1]; 5, k 2, s 2: o = 3, total 1.
    assert_eq!(tf([6, 5], [3, 2], [2, 2], [1, 1]), [0, 1, 0, 1]);
    // 224, k 7, s 2 (ResNet stem in Keras): total 5 → [2, 3].
    assert_eq!(tf([224, 224], [7, 7], [2, 2], [1, 1]), [2, 3, 2, 3]);
    // 7, k 5, s 3: o = 3, total 6 + 5 − 7 = 4 → [2, 2].
    assert_eq!(tf([7, 7], [5, 5], [3, 3], [1, 1]), [2, 2, 2, 2]);
    // Negative totals clamp to 0: 8, k 1, s 3: o = 3, (3 − 1)·3 + 1 − 8 < 0.
    assert_eq!(tf([8, 8], [1, 1], [3, 3], [1, 1]), [0; 4]);
    // Dilation: 10, k 3, d 2, s 1 → total 4 → [2, 2]; k 2, d 3 → total 3 → [1, 2].
    assert_eq!(tf([10, 10], [3, 2], [1, 1], [2, 3]), [2, 2, 1, 2]);
    // Output size is ⌈i / s⌉ for a grid, via the geometry.
    for i in 1..=12 {
        for k in 1..=5 {
            for s in 1..=4 {
                let pad = tf([i, i], [k, k], [s, s], [1, 1]);
                let out = ConvGeometry::new()
                    .with_stride([s, s])
                    .with_padding(pad)
                    .output_size([i, i], [k, k])
                    .unwrap();
                assert_eq!(out, [i.div_ceil(s); 2], "i {i} k {k} s {s}");
                assert!(
                    pad[1] == pad[0] || pad[1] == pad[0] + 1,
                    "extra goes bottom"
                );
            }
        }
    }
}

#[test]
fn pytorch_same_worked_examples() {
    // Odd kernel: k 3 → 1/1.
    assert_eq!(torch([9, 9], [3, 3], [1, 1]), [1, 1, 1, 1]);
    // Even kernel k 4, stride 1: total 3, split 1 left/top, 2 right/bottom.
    assert_eq!(torch([9, 9], [4, 4], [1, 1]), [1, 2, 1, 2]);
    // Dilation 2, k 3: total 4 → 2/2.
    assert_eq!(torch([9, 9], [3, 3], [2, 2]), [2, 2, 2, 2]);
    // Non-square: k [4, 3] with dilation [1, 2] → [1, 2, 2, 2]; k 2 d 3 → total 3.
    assert_eq!(torch([9, 9], [4, 3], [1, 2]), [1, 2, 2, 2]);
    assert_eq!(torch([9, 9], [2, 1], [3, 1]), [1, 2, 0, 0]);
    // k 1 → no padding.
    assert_eq!(torch([9, 9], [1, 1], [1, 1]), [0; 4]);
    // At stride 1 the two rules agree for every kernel and dilation.
    for k in 1..=6 {
        for d in 1..=3 {
            assert_eq!(
                torch([11, 11], [k, k], [d, d]),
                tf([11, 11], [k, k], [1, 1], [d, d]),
                "k {k} d {d}"
            );
        }
    }
    // Other rules resolve as written.
    assert_eq!(
        Padding::Valid
            .resolve([5, 5], [3, 3], [2, 2], [1, 1])
            .unwrap(),
        [0; 4]
    );
    let explicit = Padding::Explicit {
        top: 1,
        bottom: 2,
        left: 3,
        right: 4,
    };
    assert_eq!(
        explicit.resolve([5, 5], [3, 3], [2, 2], [1, 1]).unwrap(),
        [1, 2, 3, 4]
    );
    assert_eq!(
        Padding::symmetric(2, 3),
        Padding::Explicit {
            top: 2,
            bottom: 2,
            left: 3,
            right: 3
        }
    );
}

// ---------------------------------------------------------------------------
// Dumoulin & Visin, "A guide to convolution arithmetic for deep learning" (2016)
// ---------------------------------------------------------------------------

fn conv_out(i: usize, k: usize, s: usize, p: usize, d: usize) -> usize {
    ConvGeometry::new()
        .with_stride([s, 1])
        .with_dilation([d, 1])
        .with_padding([p, p, 0, 0])
        .output_size([i, 1], [k, 1])
        .unwrap()[0]
}

fn transposed_out(o: usize, k: usize, s: usize, p: usize, d: usize, a: usize) -> usize {
    ConvGeometry::new()
        .with_stride([s, 1])
        .with_dilation([d, 1])
        .with_padding([p, p, 0, 0])
        .transposed_output_size([o, 1], [k, 1], [a, 0])
        .unwrap()[0]
}

#[test]
fn dumoulin_visin_convolution_examples() {
    // Relationship 1, Fig. 2.1: no padding, unit strides, i = 4, k = 3 → 2.
    assert_eq!(conv_out(4, 3, 1, 0, 1), 2);
    // Relationship 2, Fig. 2.2: i = 5, k = 4, p = 2 → 6.
    assert_eq!(conv_out(5, 4, 1, 2, 1), 6);
    // Relationship 3, Fig. 2.3 (half padding): i = 5, k = 3, p = 1 → 5.
    assert_eq!(conv_out(5, 3, 1, 1, 1), 5);
    // Relationship 4, Fig. 2.4 (full padding): i = 5, k = 3, p = 2 → 7.
    assert_eq!(conv_out(5, 3, 1, 2, 1), 7);
    // Relationship 5, Fig. 2.5: i = 5, k = 3, s = 2 → 2.
    assert_eq!(conv_out(5, 3, 2, 0, 1), 2);
    // Relationship 6, Fig. 2.6: i = 5, k = 3, s = 2, p = 1 → 3.
    assert_eq!(conv_out(5, 3, 2, 1, 1), 3);
    // Fig. 2.7: i = 6, k = 3, s = 2, p = 1 → 3 (same output as i = 5).
    assert_eq!(conv_out(6, 3, 2, 1, 1), 3);
    // Relationship 15, Fig. 5.1 (dilated): i = 7, k = 3, d = 2 → 3.
    assert_eq!(conv_out(7, 3, 1, 0, 2), 3);
    // Pooling (Relationship 7): i = 5, k = 3, s = 1 → 3.
    assert_eq!(
        pool_output_size([5, 5], [3, 3], [1, 1], [0, 0]).unwrap(),
        [3, 3]
    );
}

#[test]
fn dumoulin_visin_transposed_examples() {
    // Relationship 8, Fig. 4.1: transposing i = 4, k = 3 (o = 2) gives back 4.
    assert_eq!(transposed_out(2, 3, 1, 0, 1, 0), 4);
    // Relationship 9, Fig. 4.2: transposing i = 5, k = 4, p = 2 (o = 6) → 5.
    assert_eq!(transposed_out(6, 4, 1, 2, 1, 0), 5);
    // Relationship 10, Fig. 4.3 (half padding): 5 → 5 → 5.
    assert_eq!(transposed_out(5, 3, 1, 1, 1, 0), 5);
    // Relationship 11, Fig. 4.4 (full padding): o = 7 → 5.
    assert_eq!(transposed_out(7, 3, 1, 2, 1, 0), 5);
    // Relationship 12, Fig. 4.5: i = 5, k = 3, s = 2 (o = 2) → 5.
    assert_eq!(transposed_out(2, 3, 2, 0, 1, 0), 5);
    // Relationship 13, Fig. 4.6: i = 5, k = 3, s = 2, p = 1 (o = 3) → 5.
    assert_eq!(transposed_out(3, 3, 2, 1, 1, 0), 5);
    // Relationship 14, Fig. 4.7: i = 6, k = 3, s = 2, p = 1 (o = 3) needs
    // a = (i + 2p − k) mod s = 1 to get back 6.
    assert_eq!(transposed_out(3, 3, 2, 1, 1, 1), 6);
    // Dilated (Fig. 5.1 transposed): o = 3, k = 3, d = 2 → 7.
    assert_eq!(transposed_out(3, 3, 1, 0, 2, 0), 7);
}

#[test]
fn transposed_size_inverts_convolution_size_with_output_padding() {
    // For every i, k, s, p, d: o = conv(i) and transposed(o, a) = i with
    // a = (i + 2p − d(k − 1) − 1) mod s, which is always < s.
    let mut checked = 0;
    for i in 1..=12 {
        for k in 1..=5 {
            for s in 1..=4 {
                for p in 0..=2 {
                    for d in 1..=3 {
                        let ext = d * (k - 1) + 1;
                        if ext > i + 2 * p {
                            continue;
                        }
                        let o = conv_out(i, k, s, p, d);
                        assert_eq!(o, (i + 2 * p - ext) / s + 1);
                        let a = (i + 2 * p - ext) % s;
                        assert!(a < s.max(d));
                        assert_eq!(
                            transposed_out(o, k, s, p, d, a),
                            i,
                            "i {i} k {k} s {s} p {p} d {d}"
                        );
                        checked += 1;
                    }
                }
            }
        }
    }
    assert!(checked > 1000, "{checked}");
}

/// Issue 11: sizes that overflow are errors naming the axis, never wrapped.
#[test]
fn overflowing_geometry_is_an_error_not_a_wrapped_size() {
    use huashi_conv::{ConvGeometry, Padding};
    let g = ConvGeometry::new().with_padding([usize::MAX, 1, 0, 0]);
    let err = g.output_size([4, 4], [3, 3]).unwrap_err().to_string();
    assert!(err.contains("overflows") && err.contains("height"), "{err}");
    let g = ConvGeometry::new().with_dilation([1, usize::MAX / 2]);
    let err = g.output_size([4, 4], [1, 5]).unwrap_err().to_string();
    assert!(
        err.contains("dilated kernel extent") && err.contains("width"),
        "{err}"
    );
    let g = ConvGeometry::new().with_stride([usize::MAX, 1]);
    let err = g
        .transposed_output_size([3, 3], [1, 1], [0, 0])
        .unwrap_err()
        .to_string();
    assert!(err.contains("overflows"), "{err}");
    let err = Padding::SameTensorFlow
        .resolve([4, 4], [usize::MAX, 1], [1, 1], [1, 1])
        .unwrap_err()
        .to_string();
    assert!(err.contains("overflows"), "{err}");
}
