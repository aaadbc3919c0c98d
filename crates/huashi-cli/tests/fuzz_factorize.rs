//! Fuzzing `huashi conv factorize --weights FILE` through the binary:
//! arbitrary bytes and mutations of a real safetensors weight file must end
//! in a result (exit 0) or a one-line error (exit 1), never a panic, a
//! signal or a hang. Cases: `HUASHI_FUZZ_CASES` (default 48; each case
//! starts the binary, so the target also stops adding cases after 45 s).

use candle_core::{Device, Tensor};
use huashi_io::testing::{fuzz_cases, mutate};
use proptest::prelude::*;
use std::collections::HashMap;
use std::process::Command;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

const BUDGET: Duration = Duration::from_secs(45);

fn expired() -> bool {
    static START: OnceLock<Instant> = OnceLock::new();
    START.get_or_init(Instant::now).elapsed() > BUDGET
}

/// A real conv weight (8, 4, 3, 3) and bias, as safetensors bytes.
fn weights() -> &'static Vec<u8> {
    static BYTES: OnceLock<Vec<u8>> = OnceLock::new();
    BYTES.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("w.safetensors");
        let w = Tensor::randn(0f32, 1.0, (8, 4, 3, 3), &Device::Cpu).unwrap();
        let b = Tensor::randn(0f32, 1.0, 8, &Device::Cpu).unwrap();
        let tensors = HashMap::from([("conv.weight", w), ("conv.bias", b)]);
        candle_core::safetensors::save(&tensors, &path).unwrap();
        std::fs::read(&path).unwrap()
    })
}

/// Runs factorize on `bytes`; fails the case on anything but exit 0 or a
/// one-line error with exit 1.
fn factorize(bytes: &[u8]) -> Result<(), TestCaseError> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("w.safetensors");
    std::fs::write(&path, bytes).unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_huashi"))
        .args([
            "conv",
            "factorize",
            "--tensor",
            "conv.weight",
            "--bias",
            "conv.bias",
        ])
        .args(["--rank", "1", "--size", "8", "--json", "--weights"])
        .arg(&path)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    match output.status.code() {
        Some(0) => Ok(()),
        Some(1) if stderr.trim().lines().count() == 1 => Ok(()),
        _ => Err(TestCaseError::fail(format!(
            "{:?}: {stderr}",
            output.status
        ))),
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: fuzz_cases(48), failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn mutated_weight_files_give_a_result_or_one_line(
        writes in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..8),
        cut in proptest::option::of(any::<usize>()),
    ) {
        if !expired() {
            factorize(&mutate(weights(), &writes, cut))?;
        }
    }

    #[test]
    fn arbitrary_bytes_give_one_line(bytes in proptest::collection::vec(any::<u8>(), 0..256)) {
        if !expired() {
            factorize(&bytes)?;
        }
    }
}

#[test]
fn the_real_file_factorizes() {
    factorize(weights()).unwrap();
}
