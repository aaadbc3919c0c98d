use huashi_esn::spectral::{spectral_radius_iterative, ArnoldiOptions};
use huashi_esn::tasks::MackeyGlassTask;
use huashi_esn::Reservoir;
use std::time::Instant;
fn main() {
    let task = MackeyGlassTask::default();
    let cfg = &task.esn.layers[0];
    let mut unscaled = cfg.clone();
    unscaled.spectral_radius = 1.0;
    for seed in [0u64, 1, 2, 3] {
        let w = Reservoir::new(cfg, 1, seed).unwrap().w().clone();
        let powers = [8usize, 12, 16, 24];
        let mut best = vec![f64::MAX; powers.len()];
        for _ in 0..15 {
            for (i, &power) in powers.iter().enumerate() {
                let t = Instant::now();
                spectral_radius_iterative(
                    &w,
                    &ArnoldiOptions {
                        power,
                        seed: 99,
                        ..Default::default()
                    },
                )
                .unwrap();
                best[i] = best[i].min(t.elapsed().as_secs_f64() * 1e3);
            }
        }
        println!(
            "seed {seed}: {:?}",
            powers
                .iter()
                .zip(&best)
                .map(|(p, b)| format!("p{p} {b:.2}"))
                .collect::<Vec<_>>()
        );
    }
}
