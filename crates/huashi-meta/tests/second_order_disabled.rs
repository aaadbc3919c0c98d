//! Without `CANDLE_GRAD_DO_NOT_DETACH`, second-order MAML is a typed error,
//! never a silently first-order meta-gradient. This file is its own test
//! process and never sets the variable.

use candle_core::{DType, Device};
use huashi_meta::{Error, Maml, ModelSpec, Sinusoid};

#[test]
fn second_order_without_the_variable_is_an_error() {
    // Guard against a caller that exported it: candle reads it once per
    // thread at the first backward, so clear it before spawning a fresh one.
    std::env::remove_var("CANDLE_GRAD_DO_NOT_DETACH");
    std::thread::spawn(|| {
        let (mlp, params) = ModelSpec::mlp(&[1, 4, 1])
            .build_with(0, DType::F64)
            .unwrap();
        let tasks = Sinusoid::new(0)
            .meta_batch(0, 2, 5, 5, DType::F64, &Device::Cpu)
            .unwrap();
        let maml = Maml::default();
        let err = maml.meta_loss(&mlp, &params, &tasks).unwrap_err();
        assert!(matches!(err, Error::SecondOrderDisabled));
        assert!(err.to_string().contains("CANDLE_GRAD_DO_NOT_DETACH=1"));
        let err = maml.adapt(&mlp, &params, &tasks[0].support).unwrap_err();
        assert!(matches!(err, Error::SecondOrderDisabled));
        // First order works without it.
        let first = Maml {
            first_order: true,
            ..Maml::default()
        };
        assert!(first.meta_loss(&mlp, &params, &tasks).is_ok());
    })
    .join()
    .unwrap();
}
