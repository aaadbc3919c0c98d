//! The zoo's `maml_omniglot` (huashi-net) is the network `meta train` trains
//! (huashi-meta's papers' CNN): the same description, the same parameter
//! names and shapes, and the same function once the zoo model's batch-norm
//! running statistics (ordinary inference) are the batch statistics the
//! task-batched meta-learning pass uses.

use candle_core::{DType, Device, Tensor, D};
use huashi_meta::{Functional, ModelSpec};
use huashi_net::{zoo, Model, ParamSet};

#[test]
fn meta_convnet_parameters_load_into_the_zoo_model_and_agree() {
    let device = Device::Cpu;
    let spec = ModelSpec::conv_net([1, 28, 28], 64, 4, Some(5));
    assert_eq!(spec.network(), zoo::by_name("maml_omniglot").unwrap());
    let (net, meta_params) = spec.build(3).unwrap();
    let (model, zoo_params) =
        Model::new(&zoo::by_name("maml_omniglot").unwrap(), [1, 28, 28], 0).unwrap();
    // Every ConvNet tensor has its name and shape in the zoo model; the zoo
    // model adds exactly the running statistics.
    let mut loaded = ParamSet::new();
    for (name, tensor) in zoo_params.iter() {
        match meta_params.get(name) {
            Some(meta) => {
                assert_eq!(meta.dims(), tensor.dims(), "{name}");
                loaded.insert(name, meta.clone());
            }
            None => assert!(
                name.ends_with(".running_mean") || name.ends_with(".running_var"),
                "{name}"
            ),
        }
    }
    assert_eq!(loaded.len(), meta_params.len());
    // Block by block, the running statistics become the batch's.
    let x = Tensor::rand(0f32, 1.0, (6, 1, 28, 28), &device).unwrap();
    for block in 0..4 {
        loaded.insert(
            format!("blocks.{block}.bn.running_mean"),
            Tensor::zeros(64, DType::F32, &device).unwrap(),
        );
        loaded.insert(
            format!("blocks.{block}.bn.running_var"),
            Tensor::ones(64, DType::F32, &device).unwrap(),
        );
    }
    model.check(&loaded).unwrap();
    for block in 0..4 {
        let y = model
            .forward_to(&loaded, &x, &format!("blocks.{block}.conv"))
            .unwrap();
        let per_channel = y.transpose(0, 1).unwrap().flatten_from(1).unwrap();
        let mean = per_channel.mean(D::Minus1).unwrap();
        let centred = per_channel
            .broadcast_sub(&mean.unsqueeze(1).unwrap())
            .unwrap();
        let var = centred.sqr().unwrap().mean(D::Minus1).unwrap();
        loaded.insert(format!("blocks.{block}.bn.running_mean"), mean);
        loaded.insert(format!("blocks.{block}.bn.running_var"), var);
    }
    let zoo_out = model.forward(&loaded, &x).unwrap();
    let meta_out = net.forward_one(&meta_params, &x).unwrap();
    assert_eq!(zoo_out.dims(), &[6, 5]);
    let diff = (zoo_out - meta_out)
        .unwrap()
        .abs()
        .unwrap()
        .max_all()
        .unwrap();
    let diff = diff.to_scalar::<f32>().unwrap();
    assert!(diff < 1e-4, "max |zoo − meta| = {diff}");
}
