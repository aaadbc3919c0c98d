//! The model zoo: well-known networks written as [`Network`] descriptions by
//! builder code (never hand-typed receptive fields), each faithful to a named
//! reference definition, with its end-points named as in that reference so
//! that, e.g., the receptive field of `Mixed_7c` or `block3` can be asked for.
//!
//! ```
//! use huashi_net::zoo;
//! let vgg = zoo::by_name("vgg16").unwrap();
//! let a = vgg.analyse_default().unwrap();
//! assert_eq!(a.totals.params, 138_357_544);
//! assert_eq!(a.receptive_field("conv5_3").unwrap()[0].size, 196);
//! ```

mod alexnet;
mod builder;
mod few_shot;
mod inception;
mod mobilenet;
mod resnet;
mod vgg;
mod xception;

pub use alexnet::alexnet_v2;
pub use few_shot::{few_shot_cnn, few_shot_cnn_with, mlp, FewShotVariant};
pub use inception::inception_v3;
pub use mobilenet::{mobilenet_v1, mobilenet_v2};
pub use resnet::{resnet50_torchvision, resnet_v1_50_slim};
pub use vgg::vgg16;
pub use xception::xception;

use crate::desc::Network;
use crate::error::{Error, Result};

/// A zoo entry: its name and how to build it.
type Entry = (&'static str, fn() -> Network);

/// Every model of the zoo, in the order [`names`] lists them.
const MODELS: &[Entry] = &[
    ("maml_omniglot", || {
        few_shot_cnn(FewShotVariant::StridedConv, 64, [1, 28, 28], 5)
    }),
    ("maml_sinusoid", || mlp(&[1, 40, 40, 1])),
    ("maml_miniimagenet", || {
        few_shot_cnn(FewShotVariant::MaxPool, 64, [3, 84, 84], 5)
    }),
    ("vgg16", vgg16),
    ("mobilenet_v1", mobilenet_v1),
    ("resnet50", resnet50_torchvision),
    ("resnet_v1_50", resnet_v1_50_slim),
    ("alexnet_v2", alexnet_v2),
    ("mobilenet_v2", mobilenet_v2),
    ("xception", || xception(1000)),
    ("inception_v3", || inception_v3(false)),
    ("inception_v3_aux", || inception_v3(true)),
];

/// The zoo model called `spec`, else the TOML/JSON description file at path
/// `spec` (what `--model NAME|FILE` accepts).
///
/// # Errors
/// [`Error::NoSuchModel`] when `spec` is no zoo name and no regular file
/// (listing the zoo's names); the errors of [`Network::from_path`].
pub fn load(spec: &str) -> Result<Network> {
    load_weighted(spec, &crate::onnx::ImportOptions::default()).map(|(network, _)| network)
}

/// As [`load`], and a path ending in `.onnx` is an ONNX model imported by
/// [`crate::onnx::from_path_with`] with `options`, returned with its weights.
///
/// # Errors
/// As [`load`]; the errors of [`crate::onnx::from_path`] for `.onnx` files.
pub fn load_weighted(
    spec: &str,
    options: &crate::onnx::ImportOptions,
) -> Result<(Network, Option<crate::ParamSet>)> {
    if let Ok(network) = by_name(spec) {
        return Ok((network, None));
    }
    let path = std::path::Path::new(spec);
    if !path.is_file() {
        return Err(Error::NoSuchModel {
            spec: spec.to_string(),
            reason: if path.exists() {
                "not a regular file"
            } else {
                "no such file"
            },
            known: names().join(", "),
        });
    }
    let onnx = path
        .extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("onnx"));
    if onnx {
        let model = crate::onnx::from_path_with(path, options)?;
        return Ok((model.network, Some(model.params)));
    }
    Network::from_path(path).map(|network| (network, None))
}

/// The names [`by_name`] accepts.
pub fn names() -> Vec<&'static str> {
    MODELS.iter().map(|(name, _)| *name).collect()
}

/// The zoo model called `name` (see [`names`]), with its native input shape
/// as `input_shape`.
///
/// # Errors
/// [`Error::UnknownModel`] listing the known names.
pub fn by_name(name: &str) -> Result<Network> {
    MODELS
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, build)| build())
        .ok_or_else(|| Error::UnknownModel {
            name: name.to_string(),
            known: names().join(", "),
        })
}
