//! `fuzz_onnx`: a proptest-driven fuzz target for the ONNX importer.
//! Mutated (overwritten, inserted, deleted bytes) and truncated copies of
//! valid models (built in `onnx_common`, the PyTorch fixture and the
//! torchvision ShuffleNet graph), and
//! arbitrary bytes, go through `onnx::from_bytes`; what imports is analysed
//! and compiled (no tensor allocated). Nothing may panic, abort or hang;
//! errors are fine.
//!
//! Cases per strategy: `HUASHI_FUZZ_CASES` (default 2000). Failures are
//! not persisted to files; a crash found becomes a test in `onnx.rs`.

mod onnx_common;
use huashi_net::{onnx, Model};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};

fn runner() -> TestRunner {
    TestRunner::new(Config {
        cases: huashi_io::testing::fuzz_cases(2000),
        failure_persistence: None,
        ..Config::default()
    })
}

fn seeds() -> Vec<Vec<u8>> {
    vec![
        onnx_common::small_cnn(),
        include_bytes!("onnx_fixtures/tiny_mobilenet_v2.onnx").to_vec(),
        // Graph only, its weights in external data (imported shapes-only):
        // channel shuffles, Split/Slice, shape arithmetic.
        include_bytes!("onnx_fixtures/shufflenet_v2_x0_5.onnx").to_vec(),
    ]
}

/// Imports `bytes` (with its weights, else shapes only: external data);
/// when that works, analyses and compiles the result. Returns whether the
/// import worked.
fn exercise(bytes: &[u8]) -> bool {
    let shapes_only = onnx::ImportOptions {
        shapes_only: true,
        ..onnx::ImportOptions::default()
    };
    let imported = onnx::from_bytes(bytes)
        .ok()
        .or_else(|| onnx::from_bytes_with(bytes, &shapes_only).ok());
    let Some(m) = imported else {
        return false;
    };
    let shape = m.network.input_shape.unwrap();
    if m.network.analyse(shape).is_ok() {
        let _ = Model::compile(&m.network, shape);
    }
    true
}

#[derive(Debug, Clone)]
enum Edit {
    Set(usize, u8),
    Insert(usize, u8),
    Delete(usize),
    Truncate(usize),
}

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        8 => (any::<usize>(), any::<u8>()).prop_map(|(i, b)| Edit::Set(i, b)),
        2 => (any::<usize>(), any::<u8>()).prop_map(|(i, b)| Edit::Insert(i, b)),
        2 => any::<usize>().prop_map(Edit::Delete),
        1 => any::<usize>().prop_map(Edit::Truncate),
    ]
}

#[test]
fn mutated_models_never_panic() {
    let seeds = seeds();
    let strategy = (0..seeds.len(), prop::collection::vec(edit(), 1..4));
    let imported = std::cell::Cell::new(0u32);
    runner()
        .run(&strategy, |(seed, edits)| {
            let mut bytes = seeds[seed].clone();
            for e in edits {
                let n = bytes.len().max(1);
                match e {
                    Edit::Set(i, b) if !bytes.is_empty() => bytes[i % n] = b,
                    Edit::Insert(i, b) => bytes.insert(i % (bytes.len() + 1), b),
                    Edit::Delete(i) if !bytes.is_empty() => {
                        bytes.remove(i % n);
                    }
                    Edit::Truncate(i) => bytes.truncate(i % n),
                    _ => {}
                }
            }
            imported.set(imported.get() + u32::from(exercise(&bytes)));
            Ok(())
        })
        .unwrap();
    // Edits inside weights keep a model valid: the importer's later stages
    // (mapping, analysis, compilation) are exercised too.
    assert!(imported.get() > 0);
}

#[test]
fn arbitrary_bytes_never_panic() {
    runner()
        .run(&prop::collection::vec(any::<u8>(), 0..512), |bytes| {
            exercise(&bytes);
            Ok(())
        })
        .unwrap();
}
