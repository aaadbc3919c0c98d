//! ONNX external data: initializers whose bytes lie in a file next to the
//! model. Their shapes are enough for the analysis (`shapes_only`), their
//! values are read when weights are asked for, and a missing or short data
//! file, a location outside the model's folder, or a model given as bytes
//! are typed errors naming the tensor and the file.

#[path = "onnx_common/mod.rs"]
mod common;

use common::*;
use huashi_net::onnx::proto::{data_location, StringStringEntryProto, TensorProto};
use huashi_net::onnx::{self, ImportOptions};
use huashi_net::Error;
use prost::Message;
use std::path::Path;

/// `small_cnn`'s float initializers moved into `location`, one after the
/// other; returns the model and the data file's bytes.
fn externalised(location: &str) -> (Vec<u8>, Vec<u8>) {
    let mut m = huashi_net::onnx::proto::ModelProto::decode(&small_cnn()[..]).unwrap();
    let graph = m.graph.as_mut().unwrap();
    let mut data = Vec::new();
    for t in &mut graph.initializer {
        let bytes: Vec<u8> = t.float_data.iter().flat_map(|v| v.to_le_bytes()).collect();
        // Each tensor starts on a 16-byte boundary, as onnx.save aligns them.
        data.resize(data.len().next_multiple_of(16), 0);
        set_external(t, location, data.len(), bytes.len());
        data.extend(bytes);
        t.float_data.clear();
    }
    (m.encode_to_vec(), data)
}

fn set_external(t: &mut TensorProto, location: &str, offset: usize, length: usize) {
    let entry = |k: &str, v: String| StringStringEntryProto {
        key: k.into(),
        value: v,
    };
    t.data_location = data_location::EXTERNAL;
    t.external_data = vec![
        entry("location", location.into()),
        entry("offset", offset.to_string()),
        entry("length", length.to_string()),
    ];
}

fn write(dir: &Path, model: &[u8], data: Option<(&str, &[u8])>) -> std::path::PathBuf {
    let path = dir.join("m.onnx");
    std::fs::write(&path, model).unwrap();
    if let Some((name, bytes)) = data {
        std::fs::write(dir.join(name), bytes).unwrap();
    }
    path
}

const SHAPES: ImportOptions = ImportOptions {
    allow_unknown: false,
    shapes_only: true,
};

#[test]
fn external_weights_equal_inline_ones() {
    let dir = tempfile::tempdir().unwrap();
    let (model, data) = externalised("m.onnx.data");
    let path = write(dir.path(), &model, Some(("m.onnx.data", &data)));
    let ext = onnx::from_path(&path).unwrap();
    let inline = onnx::from_bytes(&small_cnn()).unwrap();
    assert_eq!(ext.network, inline.network);
    assert_eq!((ext.params.len(), inline.params.len()), (8, 8));
    for (name, b) in inline.params.iter() {
        let values =
            |t: &candle_core::Tensor| -> Vec<f32> { t.flatten_all().unwrap().to_vec1().unwrap() };
        assert_eq!(
            values(ext.params.require(name).unwrap()),
            values(b),
            "{name}"
        );
    }
}

#[test]
fn shapes_only_needs_no_data_file() {
    let dir = tempfile::tempdir().unwrap();
    let (model, _) = externalised("absent.data");
    let path = write(dir.path(), &model, None);
    let m = onnx::from_path_with(&path, &SHAPES).unwrap();
    // Conv 4·3·9 + 4 = 112, BN 2·4 = 8, Gemm 64·10 + 10 = 650: 770.
    assert_eq!(m.network.analyse_default().unwrap().totals.params, 770);
    assert!(m.params.is_empty());
    // Bytes without a path are fine too when no value is needed.
    assert!(onnx::from_bytes_with(&model, &SHAPES).is_ok());
}

fn data_error(e: Error) -> (String, String, String) {
    let Error::InFile { error: source, .. } = e else {
        panic!("expected the file's error, got {e}")
    };
    match *source {
        Error::OnnxExternalData {
            tensor,
            file,
            detail,
        } => (tensor, file, detail),
        other => panic!("expected OnnxExternalData, got {other}"),
    }
}

#[test]
fn a_missing_data_file_names_it_and_the_tensor() {
    let dir = tempfile::tempdir().unwrap();
    let (model, _) = externalised("absent.data");
    let path = write(dir.path(), &model, None);
    let (tensor, file, _) = data_error(onnx::from_path(&path).unwrap_err());
    assert_eq!((tensor.as_str(), file.as_str()), ("w1", "absent.data"));
}

#[test]
fn a_short_data_file_names_the_range() {
    let dir = tempfile::tempdir().unwrap();
    let (model, data) = externalised("m.onnx.data");
    let cut = &data[..data.len() - 4];
    let path = write(dir.path(), &model, Some(("m.onnx.data", cut)));
    let (tensor, file, detail) = data_error(onnx::from_path(&path).unwrap_err());
    assert_eq!((tensor.as_str(), file.as_str()), ("bf", "m.onnx.data"));
    assert!(
        detail.contains(&format!("holds {} bytes", cut.len())),
        "{detail}"
    );
}

#[test]
fn locations_outside_the_folder_are_refused() {
    for location in ["../m.onnx.data", "/etc/passwd", "a/../../x"] {
        let dir = tempfile::tempdir().unwrap();
        let (model, _) = externalised(location);
        let path = write(dir.path(), &model, None);
        let (_, file, detail) = data_error(onnx::from_path(&path).unwrap_err());
        assert_eq!(file, location);
        assert!(detail.contains("inside the model's folder"), "{detail}");
    }
    // A sub-folder is fine.
    let dir = tempfile::tempdir().unwrap();
    let (model, data) = externalised("weights/m.data");
    std::fs::create_dir(dir.path().join("weights")).unwrap();
    let path = write(dir.path(), &model, Some(("weights/m.data", &data)));
    assert!(onnx::from_path(&path).is_ok());
}

#[test]
fn bytes_without_a_path_cannot_read_external_weights() {
    let (model, _) = externalised("m.onnx.data");
    let e = onnx::from_bytes(&model).unwrap_err();
    assert!(
        matches!(&e, Error::OnnxExternalData { tensor, .. } if tensor == "w1"),
        "{e}"
    );
}

#[test]
fn lengths_that_disagree_with_the_dims_are_errors() {
    let mut m = huashi_net::onnx::proto::ModelProto::decode(&externalised("d").0[..]).unwrap();
    set_external(first(&mut m), "d", 0, 4 * 107); // w1 holds 108 values
    let e = onnx::from_bytes_with(&m.encode_to_vec(), &SHAPES).unwrap_err();
    assert!(
        e.to_string().contains("the dims [4, 3, 3, 3] need 432"),
        "{e}"
    );
    first(&mut m).external_data.retain(|e| e.key != "location");
    let e = onnx::from_bytes_with(&m.encode_to_vec(), &SHAPES).unwrap_err();
    assert!(e.to_string().contains("without a `location`"), "{e}");
}

fn first(m: &mut huashi_net::onnx::proto::ModelProto) -> &mut TensorProto {
    &mut m.graph.as_mut().unwrap().initializer[0]
}
