//! Save/load round trips and malformed files.

use std::collections::BTreeMap;

use huashi_esn::persist::{FORMAT_NAME, FORMAT_VERSION};
use huashi_esn::{column, Error, Esn, EsnConfig, FeedbackConfig, ReservoirConfig, Sequence};

fn trained() -> (Esn, Vec<f64>) {
    let s: Vec<f64> = (0..400)
        .map(|t| (t as f64 * 0.1).sin() * (t as f64 * 0.013).cos())
        .collect();
    let mut c = EsnConfig::deep(vec![ReservoirConfig::new(30), ReservoirConfig::new(20)]);
    c.washout = 20;
    c.input_to_readout = true;
    c.feedback = Some(FeedbackConfig::default());
    c.seed = 42;
    let (x, y) = (column(&s[..399]), column(&s[1..]));
    (
        Esn::fit(&c, &[Sequence::new(x.as_ref(), y.as_ref())])
            .unwrap()
            .esn,
        s,
    )
}

#[test]
fn round_trip_is_bit_exact_and_atomic() {
    let (esn, s) = trained();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("model.safetensors");
    let meta = BTreeMap::from([("column".to_string(), "Close".to_string())]);
    esn.save_with_metadata(&path, &meta).unwrap();
    esn.save_with_metadata(&path, &meta).unwrap(); // overwrite in place
    let names: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names.len(), 1, "temporary files left behind: {names:?}");
    let (loaded, back) = Esn::load_with_metadata(&path).unwrap();
    assert_eq!(back, meta);
    assert_eq!(loaded, esn);
    let x = column(&s);
    assert_eq!(
        loaded.predict(x.as_ref()).unwrap(),
        esn.predict(x.as_ref()).unwrap()
    );
    assert_eq!(Esn::load(&path).unwrap(), esn);
}

fn format_error(bytes: &[u8]) -> String {
    match Esn::from_bytes(bytes) {
        Err(Error::Format { reason }) => reason,
        Err(e) => panic!("expected a format error, got {e}"),
        Ok(_) => panic!("malformed file accepted"),
    }
}

#[test]
fn malformed_and_foreign_files_are_errors() {
    let (esn, _) = trained();
    let good = esn.to_bytes(&BTreeMap::new()).unwrap();
    format_error(b"");
    format_error(b"hello, this is not a model");
    format_error(&good[..good.len() / 2]);
    format_error(&good[..7]);
    let mut flipped = good.clone();
    flipped[3] ^= 0x40; // corrupt the header length
    format_error(&flipped);
    // A valid safetensors file of another kind.
    let data = vec![0u8; 8];
    let view =
        safetensors::tensor::TensorView::new(safetensors::Dtype::F64, vec![1], &data).unwrap();
    let foreign = safetensors::serialize([("x", view.clone())], None).unwrap();
    assert!(format_error(&foreign).contains("format"));
    let other = std::collections::HashMap::from([("format".to_string(), "pytorch".to_string())]);
    assert!(
        format_error(&safetensors::serialize([("x", view.clone())], Some(other)).unwrap())
            .contains("foreign")
    );
    let future = std::collections::HashMap::from([
        ("format".to_string(), FORMAT_NAME.to_string()),
        (
            "format_version".to_string(),
            (FORMAT_VERSION + 1).to_string(),
        ),
    ]);
    assert!(
        format_error(&safetensors::serialize([("x", view)], Some(future)).unwrap())
            .contains("version")
    );
}

/// `good` with tensor `skip` left out and optionally one tensor's bytes replaced.
fn rebuild(good: &[u8], skip: &str, replace: Option<(&str, Vec<u8>)>) -> Vec<u8> {
    let st = safetensors::SafeTensors::deserialize(good).unwrap();
    let (_, meta) = safetensors::SafeTensors::read_metadata(good).unwrap();
    let mut owned = Vec::new();
    for (name, view) in st.tensors() {
        if name == skip {
            continue;
        }
        let bytes = match &replace {
            Some((target, new)) if name == *target => new.clone(),
            _ => view.data().to_vec(),
        };
        owned.push((name, view.dtype(), view.shape().to_vec(), bytes));
    }
    let views: Vec<_> = owned
        .iter()
        .map(|(n, d, s, b)| {
            (
                n.clone(),
                safetensors::tensor::TensorView::new(*d, s.clone(), b).unwrap(),
            )
        })
        .collect();
    safetensors::serialize(views, meta.metadata().clone()).unwrap()
}

#[test]
fn tampered_tensors_are_errors() {
    let (esn, _) = trained();
    let good = esn.to_bytes(&BTreeMap::new()).unwrap();
    let st = safetensors::SafeTensors::deserialize(&good).unwrap();
    let rebuild = |skip: &str, replace: Option<(&str, Vec<u8>)>| rebuild(&good, skip, replace);
    assert!(format_error(&rebuild("readout.weights", None)).contains("readout.weights"));
    assert!(format_error(&rebuild("layer1.bias", None)).contains("layer1.bias"));
    // Column index out of range in layer 0's W.
    let idx = st.tensor("layer0.w.indices").unwrap();
    let mut bad = idx.data().to_vec();
    bad[..4].copy_from_slice(&u32::MAX.to_le_bytes());
    assert!(format_error(&rebuild("", Some(("layer0.w.indices", bad)))).contains("CSR"));
    // A NaN weight.
    let w = st.tensor("readout.weights").unwrap();
    let mut nan = w.data().to_vec();
    nan[..8].copy_from_slice(&f64::NAN.to_le_bytes());
    assert!(matches!(
        Esn::from_bytes(&rebuild("", Some(("readout.weights", nan)))),
        Err(Error::NonFinite { .. })
    ));
}

#[test]
fn missing_file_is_an_io_error() {
    let dir = tempfile::tempdir().unwrap();
    assert!(matches!(
        Esn::load(dir.path().join("absent.safetensors")),
        Err(Error::File(huashi_io::Error::Read { .. }))
    ));
    let (esn, _) = trained();
    assert!(matches!(
        esn.save(dir.path().join("no/such/dir/m.safetensors")),
        Err(Error::File(huashi_io::Error::Write { .. }))
    ));
}

/// `good` with one header field replaced.
fn with_header(good: &[u8], key: &str, value: &str) -> Vec<u8> {
    let st = safetensors::SafeTensors::deserialize(good).unwrap();
    let (_, meta) = safetensors::SafeTensors::read_metadata(good).unwrap();
    let mut header = meta.metadata().clone().unwrap();
    header.insert(key.to_string(), value.to_string());
    safetensors::serialize(st.tensors(), Some(header)).unwrap()
}

#[test]
fn tampered_header_is_an_error() {
    let (esn, _) = trained();
    let good = esn.to_bytes(&BTreeMap::new()).unwrap();
    assert!(Esn::from_bytes(&with_header(&good, "user", "{}")).is_ok());
    let layout = r#"{"bias":true,"inputs":18446744073709551615,"states":50}"#;
    assert!(format_error(&with_header(&good, "layout", layout)).contains("layout"));
    assert!(format_error(&with_header(&good, "config", "{\"layers\": 3}")).contains("config"));
    let mut config = esn.config().clone();
    config.layers[0].leak_rate = 7.0;
    let json = serde_json::to_string(&config).unwrap();
    assert!(format_error(&with_header(&good, "config", &json)).contains("leak_rate"));
    config.layers[0].leak_rate = 1.0;
    config.layers[0].units = 31;
    let json = serde_json::to_string(&config).unwrap();
    assert!(matches!(
        Esn::from_bytes(&with_header(&good, "config", &json)),
        Err(Error::DimensionMismatch { .. })
    ));
    assert!(format_error(&with_header(&good, "user", "[1, 2]")).contains("user"));
}
