//! Property-based fuzzing of what `huashi-esn` reads from files: CSV text
//! and model files (`Esn::from_bytes`), arbitrary and mutated valid bytes.
//! Every input must give a value or an error, never a panic; a model that
//! loads must also predict. Cases per target: `HUASHI_FUZZ_CASES` (default
//! 2048); each target stops generating work after [`BUDGET`].

use huashi_esn::data::CsvTable;
use huashi_esn::{column, Esn, EsnConfig, FeedbackConfig, ReservoirConfig, Sequence};
use huashi_io::testing::{fuzz_cases, mutate};
use proptest::prelude::*;
use std::collections::BTreeMap;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// Wall time after which a target's remaining cases return at once.
const BUDGET: Duration = Duration::from_secs(45);

fn expired() -> bool {
    static START: OnceLock<Instant> = OnceLock::new();
    START.get_or_init(Instant::now).elapsed() > BUDGET
}

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: fuzz_cases(2048),
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// A small trained model with feedback and two layers, as bytes.
fn model_bytes() -> &'static [u8] {
    static BYTES: OnceLock<Vec<u8>> = OnceLock::new();
    BYTES.get_or_init(|| {
        let s: Vec<f64> = (0..200).map(|t| (t as f64 * 0.1).sin()).collect();
        let mut c = EsnConfig::deep(vec![ReservoirConfig::new(8), ReservoirConfig::new(5)]);
        c.washout = 10;
        c.feedback = Some(FeedbackConfig::default());
        let (x, y) = (column(&s[..199]), column(&s[1..]));
        let esn = Esn::fit(&c, &[Sequence::new(x.as_ref(), y.as_ref())])
            .unwrap()
            .esn;
        let meta = BTreeMap::from([("k".to_string(), "v".to_string())]);
        esn.to_bytes(&meta).unwrap()
    })
}

/// Loads `bytes`; a model that loads predicts a few steps.
fn load_and_use(bytes: &[u8]) {
    if let Ok((esn, _)) = Esn::from_bytes(bytes) {
        let inputs = faer::Mat::from_fn(5, esn.inputs(), |i, _| i as f64 * 0.1);
        let _ = esn.predict(inputs.as_ref());
    }
}

/// Parses `text` and reads every column as numbers.
fn parse_all(text: &str) {
    if let Ok(table) = CsvTable::parse(text) {
        for name in table.headers().to_vec() {
            let _ = table.column_f64(&name);
            let _ = table.column_text(&name);
        }
    }
}

/// The valid model with `key` (a number anywhere in the config or layout
/// JSON, chosen by `which`) replaced by `value`, re-encoded.
fn with_header_number(which: usize, value: serde_json::Value) -> Vec<u8> {
    use safetensors::tensor::{SafeTensors, TensorView};
    let bytes = model_bytes();
    let st = SafeTensors::deserialize(bytes).unwrap();
    let (_, meta) = SafeTensors::read_metadata(bytes).unwrap();
    let mut header = meta.metadata().clone().unwrap();
    let field = ["config", "layout"][which % 2];
    let mut json: serde_json::Value = serde_json::from_str(&header[field]).unwrap();
    let mut numbers = Vec::new();
    collect_numbers(&mut json, &mut numbers);
    let n = numbers.len();
    *numbers.swap_remove((which / 2) % n) = value;
    header.insert(field.to_string(), json.to_string());
    let views: Vec<(String, TensorView<'_>)> = st.tensors();
    safetensors::serialize(views, Some(header)).unwrap()
}

fn collect_numbers<'a>(v: &'a mut serde_json::Value, out: &mut Vec<&'a mut serde_json::Value>) {
    match v {
        serde_json::Value::Number(_) | serde_json::Value::Bool(_) => out.push(v),
        serde_json::Value::Array(a) => a.iter_mut().for_each(|x| collect_numbers(x, out)),
        serde_json::Value::Object(o) => o.values_mut().for_each(|x| collect_numbers(x, out)),
        _ => {}
    }
}

fn json_number() -> impl Strategy<Value = serde_json::Value> {
    prop_oneof![
        any::<u64>().prop_map(serde_json::Value::from),
        any::<i64>().prop_map(serde_json::Value::from),
        any::<f64>().prop_map(serde_json::Value::from),
        Just(serde_json::Value::from(0)),
        Just(serde_json::Value::from(u64::MAX)),
        any::<bool>().prop_map(serde_json::Value::from),
    ]
}

const VALID_CSV: &str =
    "Date,Close,Note\n2020-01-01,1.5,\"a, b\"\n2020-01-02,2.5,\"c \"\"d\"\"\"\n";

proptest! {
    #![proptest_config(config())]

    #[test]
    fn csv_parser_takes_any_text(text in "[a-z0-9,.\"\\-\n\r eE+]{0,200}") {
        if expired() {
            return Ok(());
        }
        parse_all(&text);
    }

    #[test]
    fn csv_parser_takes_mutated_files(
        writes in prop::collection::vec((any::<usize>(), any::<u8>()), 1..8),
        cut in prop::option::of(any::<usize>()),
    ) {
        if expired() {
            return Ok(());
        }
        let bytes = mutate(VALID_CSV.as_bytes(), &writes, cut);
        parse_all(&String::from_utf8_lossy(&bytes));
    }

    #[test]
    fn model_reader_takes_any_bytes(bytes in prop::collection::vec(any::<u8>(), 0..256)) {
        if expired() {
            return Ok(());
        }
        load_and_use(&bytes);
    }

    #[test]
    fn model_reader_takes_mutated_models(
        writes in prop::collection::vec((any::<usize>(), any::<u8>()), 1..8),
        cut in prop::option::of(any::<usize>()),
    ) {
        if expired() {
            return Ok(());
        }
        load_and_use(&mutate(model_bytes(), &writes, cut));
    }

    #[test]
    fn model_reader_takes_mutated_headers(
        writes in prop::collection::vec((0usize..1024, b' '..=b'~'), 1..6),
    ) {
        if expired() {
            return Ok(());
        }
        // Printable edits inside the JSON header reach the config checks.
        load_and_use(&mutate(model_bytes(), &writes, None));
    }

    #[test]
    fn model_reader_takes_any_config_values(which in any::<usize>(), value in json_number()) {
        if expired() {
            return Ok(());
        }
        load_and_use(&with_header_number(which, value));
    }
}

#[test]
fn the_valid_inputs_load() {
    assert!(Esn::from_bytes(model_bytes()).is_ok());
    assert_eq!(CsvTable::parse(VALID_CSV).unwrap().len(), 2);
}
