//! `padding_mode` on convolution nodes: parsed, analysed (shapes, costs and
//! fields as with zeros), run end to end, and rejected when PyTorch would.

mod common;
use candle_core::{Device, Tensor};
use common::{rf, toml};
use huashi_conv::PaddingMode;
use huashi_net::{Error, Layer, Model, ParamSet};

fn one_conv(mode: &str, padding: usize) -> String {
    format!(
        r#"
        [[nodes]]
        name = "conv"
        op = "conv"
        out_channels = 1
        kernel = 3
        padding = {padding}
        padding_mode = "{mode}"
        bias = false
        "#
    )
}

#[test]
fn parsed_and_analysed_like_zeros() {
    for mode in ["zeros", "reflect", "replicate", "circular"] {
        let net = toml(&one_conv(mode, 1));
        let Layer::Conv { padding_mode, .. } = net.nodes[0].layer else {
            panic!("a conv node")
        };
        assert_eq!(padding_mode.name(), mode);
        let a = net.analyse([1, 3, 3]).unwrap();
        let zeros = toml(&one_conv("zeros", 1)).analyse([1, 3, 3]).unwrap();
        assert_eq!(a.totals, zeros.totals);
        assert_eq!(a.output().output, zeros.output().output);
        // The field's size, stride and padding do not depend on the mode.
        assert_eq!(rf(&net, [1, 3, 3], "conv"), (3, 1, 1));
    }
    // The default mode is not written back out.
    assert!(!toml(&one_conv("zeros", 1))
        .to_json()
        .contains("padding_mode"));
    assert!(toml(&one_conv("reflect", 1))
        .to_json()
        .contains("\"reflect\""));
}

/// `x = arange(9)` as 3×3, an all-ones 3×3 kernel, padding 1. Reflect pads
/// row −1 with row 1 and column −1 with column 1, so the top-left window is
/// `[[4,3,4],[1,0,1],[4,3,4]]`, sum 24; replicate gives
/// `[[0,0,1],[0,0,1],[3,3,4]]`, sum 12; circular `[[8,6,7],[2,0,1],[5,3,4]]`,
/// sum 36; zeros `0+1+3+4 = 8`. The centre sees the whole input: 36.
#[test]
fn runs_end_to_end_with_hand_derived_values() {
    for (mode, corner) in [
        ("zeros", 8.0),
        ("reflect", 24.0),
        ("replicate", 12.0),
        ("circular", 36.0),
    ] {
        let net = toml(&one_conv(mode, 1));
        let model = Model::compile(&net, [1, 3, 3]).unwrap();
        let mut params = ParamSet::new();
        let ones = Tensor::ones((1, 1, 3, 3), candle_core::DType::F64, &Device::Cpu).unwrap();
        params.insert("conv.weight", ones);
        let x = Tensor::arange(0f64, 9.0, &Device::Cpu)
            .unwrap()
            .reshape((1, 1, 3, 3))
            .unwrap();
        let y = model.forward(&params, &x).unwrap();
        let y: Vec<f64> = y.flatten_all().unwrap().to_vec1().unwrap();
        assert_eq!((y[0], y[4]), (corner, 36.0), "{mode}");
    }
}

#[test]
fn impossible_or_unknown_modes_are_typed_errors() {
    // PyTorch: reflect padding must be smaller than the input.
    let err = toml(&one_conv("reflect", 3))
        .analyse([1, 3, 3])
        .unwrap_err();
    assert!(
        matches!(
            &err,
            Error::Layer {
                cause: huashi_conv::Error::PadTooLarge {
                    padding: 3,
                    input: 3,
                    ..
                },
                ..
            }
        ),
        "{err}"
    );
    assert!(toml(&one_conv("circular", 3)).analyse([1, 3, 3]).is_ok());
    let err = huashi_net::Network::from_toml(&one_conv("mirror", 1)).unwrap_err();
    assert!(matches!(err, Error::Parse { .. }), "{err}");
    assert_eq!(PaddingMode::default(), PaddingMode::Zeros);
}
