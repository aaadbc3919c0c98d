//! Hostile sizes and files: overflowing and oversized reservoirs, endless
//! generation, and stored values that break the rules of what made them.
//! Each is an error naming the value, never a panic or an allocation.

use huashi_esn::data::Standardizer;
use huashi_esn::{column, Error, Esn, EsnConfig, EsnTrainer, Reservoir, ReservoirConfig, Sequence};

fn message(result: Result<impl std::fmt::Debug, Error>) -> String {
    result.unwrap_err().to_string()
}

#[test]
fn overflowing_sizes_are_errors() {
    let config = EsnConfig::new(ReservoirConfig::new(usize::MAX));
    let err = message(EsnTrainer::new(&config, 1, 1));
    assert!(err.contains("overflows 64 bits"), "{err}");
    let err = message(Reservoir::new(
        &ReservoirConfig::new(1 << 40),
        usize::MAX,
        0,
    ));
    assert!(err.contains("overflows 64 bits"), "{err}");
    let deep = EsnConfig::deep(vec![ReservoirConfig::new(usize::MAX); 3]);
    let err = message(EsnTrainer::new(&deep, 1, 1));
    assert!(err.contains("overflows"), "{err}");
}

#[test]
fn oversized_reservoirs_are_refused_before_allocating() {
    let config = EsnConfig::new(ReservoirConfig::new(1_000_000));
    let err = message(EsnTrainer::new(&config, 1, 1));
    assert!(
        err.contains("would need") && err.contains("1000000"),
        "{err}"
    );
    assert!(err.contains("HUASHI_MAX_MEMORY_BYTES"), "{err}");
    let err = message(Reservoir::new(&ReservoirConfig::new(10_000_000), 1, 0));
    assert!(err.contains("would need"), "{err}");
}

fn small_esn() -> Esn {
    let s: Vec<f64> = (0..100).map(|t| (t as f64 * 0.2).sin()).collect();
    let config = EsnConfig::new(ReservoirConfig::new(10));
    let (x, y) = (column(&s[..99]), column(&s[1..]));
    Esn::fit(&config, &[Sequence::new(x.as_ref(), y.as_ref())])
        .unwrap()
        .esn
}

#[test]
fn endless_generation_is_refused() {
    let esn = small_esn();
    let mut state = esn.initial_state();
    let err = message(esn.generate(&mut state, usize::MAX));
    assert!(err.contains("generated outputs"), "{err}");
    let history = column(&[0.1, 0.2, 0.3]);
    let err = message(esn.forecast(history.as_ref(), usize::MAX));
    assert!(err.contains("forecast"), "{err}");
}

#[test]
fn stored_standardisers_are_checked() {
    let good = Standardizer {
        mean: 1.0,
        std: 2.0,
    };
    good.check().unwrap();
    let err = message(
        Standardizer {
            mean: 1.0,
            std: -1.0,
        }
        .check()
        .map(|_| ()),
    );
    assert!(err.contains("standard deviation = -1"), "{err}");
    let err = message(
        Standardizer {
            mean: f64::NAN,
            std: 1.0,
        }
        .check()
        .map(|_| ()),
    );
    assert!(err.contains("mean"), "{err}");
    let err = message(Standardizer::fit(&[1e308, -1e308, 1e308]).map(|_| ()));
    assert!(err.contains("standard deviation"), "{err}");
}

#[test]
fn model_files_with_invalid_configs_are_refused() {
    let bytes = small_esn().to_bytes(&Default::default()).unwrap();
    let text = String::from_utf8_lossy(&bytes).into_owned();
    let needle = "leak_rate\\\":1.0";
    assert!(text.contains(needle), "the header holds {needle}");
    let at = bytes
        .windows(needle.len())
        .position(|w| w == needle.as_bytes())
        .unwrap();
    let mut bad = bytes.clone();
    bad[at..at + needle.len()].copy_from_slice(b"leak_rate\\\":5.0");
    let err = message(Esn::from_bytes(&bad).map(|_| ()));
    assert!(err.contains("leak_rate = 5"), "{err}");
}
