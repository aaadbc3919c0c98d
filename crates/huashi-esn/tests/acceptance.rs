//! ESN acceptance numbers (Mackey-Glass, NARMA-10, memory capacity).
//! Run with `--nocapture` to see the measured values.

use huashi_esn::metrics::{memory_capacity, MemoryCapacityOptions};
use huashi_esn::tasks::{MackeyGlassTask, MemoryCapacityTask, NarmaTask};
use huashi_esn::ReservoirConfig;
use rayon::prelude::*;

/// Mackey-Glass τ = 17, 10,000 steps, 500 units, leak 0.3, ρ = 1.25,
/// ridge 1e-6, trained on the first 7,000 steps after a washout of 100:
/// one-step NRMSE ≤ 1e-3 and closed-loop 100-step NRMSE ≤ 5e-3, 5 seeds.
#[test]
fn mackey_glass_one_step_and_closed_loop() {
    let task = MackeyGlassTask::default();
    assert_eq!(
        (task.steps, task.train, task.generate),
        (10_000, 7_000, 100)
    );
    let r = &task.esn.layers[0];
    assert_eq!(
        (r.units, r.leak_rate, r.spectral_radius, task.esn.ridge),
        (500, 0.3, 1.25, 1e-6)
    );
    assert_eq!(task.generator.tau, 17.0);
    let reports: Vec<_> = (0..5u64)
        .into_par_iter()
        .map(|seed| (seed, MackeyGlassTask::with_seed(seed).run().unwrap()))
        .collect();
    for (seed, r) in &reports {
        println!(
            "Mackey-Glass seed {seed}: one-step NRMSE {:.3e}, closed-loop 100-step NRMSE {:.3e}",
            r.one_step_nrmse, r.closed_loop_nrmse
        );
    }
    for (seed, r) in &reports {
        assert!(
            r.one_step_nrmse <= 1e-3,
            "seed {seed}: one-step {}",
            r.one_step_nrmse
        );
        assert!(
            r.closed_loop_nrmse <= 5e-3,
            "seed {seed}: closed loop {}",
            r.closed_loop_nrmse
        );
        assert_eq!(r.closed_loop.len(), 100);
        assert_eq!(r.one_step.len(), 2_999);
    }
}

/// NARMA-10 with 500 units: NRMSE ≤ 0.15.
#[test]
fn narma10_at_500_units() {
    let task = NarmaTask::default();
    assert_eq!(task.esn.layers[0].units, 500);
    let r = task.run().unwrap();
    println!("NARMA-10 (500 units): NRMSE {:.4}", r.nrmse);
    assert!(r.nrmse <= 0.15, "NARMA-10 NRMSE {}", r.nrmse);
}

/// Memory capacity of a 100-unit reservoir (Jaeger 2001), reported; it must
/// lie in a sane range (and is at most N in theory).
#[test]
fn memory_capacity_of_100_units() {
    let task = MemoryCapacityTask::default();
    assert_eq!(task.reservoir.units, 100);
    let mc = task.run().unwrap();
    println!(
        "memory capacity (100 units, rho 0.95, input scaling 0.1): {:.2}",
        mc.total
    );
    let first: Vec<String> = mc
        .per_delay
        .iter()
        .take(10)
        .map(|v| format!("{v:.3}"))
        .collect();
    println!("MC_k for k = 1..10: {}", first.join(" "));
    assert!(mc.total > 5.0 && mc.total < 100.0, "MC = {}", mc.total);
    assert!(mc.per_delay[0] > 0.9, "MC_1 = {}", mc.per_delay[0]);
    let defaults = ReservoirConfig::new(100);
    let saturated = memory_capacity(&defaults, 0, &MemoryCapacityOptions::default()).unwrap();
    println!("memory capacity (100 units, ReservoirPy-0.4 defaults: input scaling 1, rho 1, input connectivity 0.1): {:.2}", saturated.total);
    assert!(
        saturated.total < mc.total,
        "strong, sparse input should lower MC"
    );
}
