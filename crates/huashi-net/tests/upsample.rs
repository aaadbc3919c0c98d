//! The `upsample` layer (nearest, whole factors): shapes, no cost, an
//! undefined field after it, values, and gradients (the adjoint sums each
//! s×s block back).

mod common;
use candle_core::{Device, Tensor, Var};
use common::toml;
use huashi_net::{Error, Model, ParamSet};

const NET: &str = r#"
    [[nodes]]
    name = "up"
    op = "upsample"
    scale = 2
    [[nodes]]
    name = "conv"
    op = "conv"
    out_channels = 1
    kernel = 1
    bias = false
"#;

#[test]
fn upsample_shapes_values_and_gradients() {
    let net = toml(NET);
    let a = net.analyse([1, 2, 3]).unwrap();
    assert_eq!(
        a.node("up").unwrap().output,
        huashi_net::Shape::map(1, 4, 6)
    );
    assert_eq!(a.totals.macs, 4 * 6);
    assert!(matches!(
        a.receptive_field("conv"),
        Err(Error::UndefinedField { .. })
    ));
    let model = Model::compile(&net, [1, 2, 3]).unwrap();
    let dev = Device::Cpu;
    let mut params = ParamSet::default();
    params.insert("conv.weight", Tensor::new(&[[[[1f64]]]], &dev).unwrap());
    let x = Var::new(&[[[[1f64, 2., 3.], [4., 5., 6.]]]], &dev).unwrap();
    let y = model.forward(&params, x.as_tensor()).unwrap();
    let rows: Vec<Vec<f64>> = y.squeeze(0).unwrap().squeeze(0).unwrap().to_vec2().unwrap();
    assert_eq!(rows[1], [1., 1., 2., 2., 3., 3.]);
    assert_eq!(rows[2], [4., 4., 5., 5., 6., 6.]);
    // d(Σ y)/dx: every input pixel is copied into a 2×2 block.
    let g = y.sum_all().unwrap().backward().unwrap();
    let dx: Vec<f64> = g.get(&x).unwrap().flatten_all().unwrap().to_vec1().unwrap();
    assert_eq!(dx, [4.0; 6]);
    let zero = toml(&NET.replace("scale = 2", "scale = 0"));
    assert!(zero
        .analyse([1, 2, 3])
        .unwrap_err()
        .to_string()
        .contains("scale"));
}

#[test]
fn bilinear_upsample_values_cost_and_field() {
    let net = toml(
        r#"
        [[nodes]]
        name = "up"
        op = "upsample"
        scale = 2
        bilinear = true
    "#,
    );
    let a = net.analyse([1, 1, 2]).unwrap();
    assert_eq!(a.output().output, huashi_net::Shape::map(1, 2, 4));
    assert!(matches!(
        a.receptive_field("up"),
        Err(Error::UndefinedField { .. })
    ));
    let s = huashi_net::Summary::build(&net, &a, huashi_net::SummaryOptions::default()).unwrap();
    // Costed as one pointwise op per output element: 2·4.
    assert_eq!(s.rows[1].other_flops.elementwise, 8);
    // Half-pixel source x = (i + ½)/2 − ½ = −¼, ¼, ¾, 1¼, clamped to [0, 1]:
    // from [0, 4] that is 0, 1, 3, 4 (PyTorch, align_corners=False).
    let model = Model::compile(&net, [1, 1, 2]).unwrap();
    let x = Tensor::new(&[[[[0f32, 4.]]]], &Device::Cpu).unwrap();
    let y = model.forward(&ParamSet::default(), &x).unwrap();
    let rows: Vec<Vec<f32>> = y.squeeze(0).unwrap().squeeze(0).unwrap().to_vec2().unwrap();
    assert_eq!(rows, [[0., 1., 3., 4.], [0., 1., 3., 4.]]);
}
