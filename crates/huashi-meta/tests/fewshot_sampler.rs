//! Properties of the N-way K-shot sampler over a small generated pool.

use candle_core::Device;
use huashi_meta::fewshot::image::PIXELS;
use huashi_meta::fewshot::{ClassPool, DataError, FewShotSampler};
use huashi_meta::Error;
use std::collections::HashSet;

/// 12 classes of 6 drawings; every pixel of drawing d of class c is
/// `c * 100 + d`, so a drawing is recognisable from its tensor values.
fn pool() -> ClassPool {
    let names = (0..12).map(|c| format!("A/character{c:02}")).collect();
    let images = (0..12)
        .map(|c| {
            (0..6)
                .flat_map(|d| vec![(c * 100 + d) as f32; PIXELS])
                .collect()
        })
        .collect();
    ClassPool::new(names, images).unwrap()
}

fn sampler(ways: usize, shots: usize, queries: usize) -> FewShotSampler {
    FewShotSampler {
        ways,
        shots,
        queries,
        seed: 42,
    }
}

/// (code of each point, its label) of a batch.
fn points(batch: &huashi_meta::Batch) -> Vec<(u32, u32)> {
    let x: Vec<f32> = batch.x.flatten_all().unwrap().to_vec1().unwrap();
    let y: Vec<u32> = batch.y.to_vec1().unwrap();
    x.chunks(PIXELS).map(|p| p[0] as u32).zip(y).collect()
}

#[test]
fn tasks_have_the_documented_shapes_and_class_major_labels() {
    let task = sampler(5, 2, 3).task(&pool(), 0, &Device::Cpu).unwrap();
    assert_eq!(task.support.x.dims(), &[10, 1, 28, 28]);
    assert_eq!(task.support.y.dims(), &[10]);
    assert_eq!(task.query.x.dims(), &[15, 1, 28, 28]);
    assert_eq!(task.support.x.dtype(), candle_core::DType::F32);
    assert_eq!(task.query.y.dtype(), candle_core::DType::U32);
    let labels: Vec<u32> = task.support.y.to_vec1().unwrap();
    assert_eq!(labels, vec![0, 0, 1, 1, 2, 2, 3, 3, 4, 4]);
}

#[test]
fn labels_in_range_drawings_distinct_and_support_query_disjoint() {
    let (pool, s) = (pool(), sampler(5, 2, 3));
    for i in 0..50 {
        let task = s.task(&pool, i, &Device::Cpu).unwrap();
        let (support, query) = (points(&task.support), points(&task.query));
        let all: Vec<(u32, u32)> = support.iter().chain(&query).cloned().collect();
        assert!(all.iter().all(|&(_, label)| label < 5));
        let codes: HashSet<u32> = all.iter().map(|&(code, _)| code).collect();
        assert_eq!(codes.len(), all.len(), "a drawing repeats in task {i}");
        // One class per label, the same in support and query.
        for label in 0..5 {
            let classes: HashSet<u32> = all
                .iter()
                .filter(|p| p.1 == label)
                .map(|p| p.0 / 100)
                .collect();
            assert_eq!(classes.len(), 1);
        }
        let support_codes: HashSet<u32> = support.iter().map(|p| p.0).collect();
        assert!(query.iter().all(|p| !support_codes.contains(&p.0)));
    }
}

#[test]
fn same_seed_and_index_give_identical_tasks_and_indices_differ() {
    let (pool, s) = (pool(), sampler(4, 1, 2));
    let a = s.task(&pool, 7, &Device::Cpu).unwrap();
    let b = s.task(&pool, 7, &Device::Cpu).unwrap();
    assert_eq!(points(&a.support), points(&b.support));
    assert_eq!(points(&a.query), points(&b.query));
    let draws: HashSet<_> = (0..20)
        .map(|i| s.draw(&pool, i).unwrap())
        .collect::<Vec<_>>()
        .into_iter()
        .map(|d| format!("{d:?}"))
        .collect();
    assert!(draws.len() >= 19, "tasks repeat: {}", draws.len());
    let other_seed = FewShotSampler { seed: 43, ..s };
    assert_ne!(
        other_seed.draw(&pool, 7).unwrap(),
        s.draw(&pool, 7).unwrap()
    );
}

#[test]
fn meta_batch_is_tasks_first_to_first_plus_count() {
    let (pool, s) = (pool(), sampler(3, 1, 1));
    let batch = s.meta_batch(&pool, 5, 3, &Device::Cpu).unwrap();
    assert_eq!(batch.len(), 3);
    let third = s.task(&pool, 7, &Device::Cpu).unwrap();
    assert_eq!(points(&batch[2].query), points(&third.query));
}

fn data_error(s: FewShotSampler, pool: &ClassPool) -> DataError {
    match s.task(pool, 0, &Device::Cpu).unwrap_err() {
        Error::Data(e) => e,
        other => panic!("expected a data error, got {other}"),
    }
}

#[test]
fn invalid_settings_are_typed_errors_naming_values() {
    let pool = pool();
    let err = data_error(sampler(0, 1, 1), &pool);
    assert!(
        matches!(
            err,
            DataError::InvalidSetting {
                what: "ways",
                value: 0,
                ..
            }
        ),
        "{err}"
    );
    let err = data_error(sampler(5, 0, 1), &pool);
    assert!(
        matches!(
            err,
            DataError::InvalidSetting {
                what: "shots",
                value: 0,
                ..
            }
        ),
        "{err}"
    );
    let err = data_error(sampler(13, 1, 1), &pool);
    assert!(
        matches!(
            err,
            DataError::TooFewClasses {
                ways: 13,
                classes: 12
            }
        ),
        "{err}"
    );
    let err = data_error(sampler(5, 4, 3), &pool);
    assert!(
        matches!(
            err,
            DataError::TooFewDrawings {
                needed: 7,
                available: 6,
                ..
            }
        ),
        "{err}"
    );
    assert!(err.to_string().contains("A/character00"), "{err}");
}
