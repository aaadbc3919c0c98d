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
