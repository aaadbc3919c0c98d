//! Prints the ESN acceptance numbers (Mackey-Glass, NARMA-10, memory capacity) with timings:
//! `cargo run --release -p huashi-esn --example esn_acceptance`.
use std::time::Instant;

use huashi_esn::tasks::{MackeyGlassTask, MemoryCapacityTask, NarmaTask};

fn main() -> huashi_esn::Result<()> {
    for seed in 0..5 {
        let t = Instant::now();
        let r = MackeyGlassTask::with_seed(seed).run()?;
        println!(
            "mackey-glass seed {seed}: one-step NRMSE {:.3e}, closed-loop 100 NRMSE {:.3e} ({:.3} s)",
            r.one_step_nrmse,
            r.closed_loop_nrmse,
            t.elapsed().as_secs_f64()
        );
    }
    let t = Instant::now();
    let r = NarmaTask::default().run()?;
    println!(
        "narma-10: NRMSE {:.4} ({:.3} s)",
        r.nrmse,
        t.elapsed().as_secs_f64()
    );
    let t = Instant::now();
    let mc = MemoryCapacityTask::default().run()?;
    println!(
        "memory capacity (100 units): {:.2} ({:.3} s)",
        mc.total,
        t.elapsed().as_secs_f64()
    );
    Ok(())
}
