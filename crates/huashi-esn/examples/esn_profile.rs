//! Phase timings of the Mackey-Glass case (median and fastest of several runs):
//! `cargo run --release -p huashi-esn --example esn_profile [runs]`.
use std::time::Instant;

use huashi_esn::data::MinMaxScaler;
use huashi_esn::tasks::MackeyGlassTask;
use huashi_esn::{column, Esn, EsnTrainer, Sequence};

/// `(median, minimum)`.
fn median_min(mut v: Vec<f64>) -> (f64, f64) {
    v.sort_by(f64::total_cmp);
    (v[v.len() / 2], v[0])
}

fn main() -> huashi_esn::Result<()> {
    let runs: usize = std::env::args().nth(1).map_or(9, |s| s.parse().unwrap());
    let task = MackeyGlassTask::default();
    let names = [
        "data",
        "build",
        "train run",
        "solve",
        "predict",
        "total",
        "fit_and_run",
    ];
    let mut times = vec![Vec::new(); names.len()];
    for _ in 0..runs {
        let t0 = Instant::now();
        let raw = task.generator.generate(task.steps)?;
        let scaler = MinMaxScaler::fit(&raw[..=task.train], -1.0, 1.0)?;
        let s = scaler.transform(&raw);
        let (x, y) = (column(&s[..task.train]), column(&s[1..=task.train]));
        let t1 = Instant::now();
        let mut trainer = EsnTrainer::new(&task.esn, 1, 1)?;
        let t2 = Instant::now();
        let mut end = trainer.add_sequence(Sequence::new(x.as_ref(), y.as_ref()))?;
        let t3 = Instant::now();
        let esn = trainer.finish()?;
        let t4 = Instant::now();
        let test_in = column(&s[task.train..task.steps - 1]);
        let pred = esn.run(&mut end, test_in.as_ref(), None)?;
        let t5 = Instant::now();
        std::hint::black_box(&pred);
        let marks = [t0, t1, t2, t3, t4, t5];
        for (i, w) in marks.windows(2).enumerate() {
            times[i].push((w[1] - w[0]).as_secs_f64() * 1e3);
        }
        times[5].push((t5 - t1).as_secs_f64() * 1e3);
        // The same fit and prediction in one call (overlapped).
        let t6 = Instant::now();
        let train = Sequence::new(x.as_ref(), y.as_ref());
        let (_, pred) = Esn::fit_and_run(&task.esn, train, test_in.as_ref())?;
        times[6].push(t6.elapsed().as_secs_f64() * 1e3);
        std::hint::black_box(pred);
    }
    for (name, t) in names.iter().zip(times) {
        let (median, min) = median_min(t);
        println!("{name:>11}: {median:8.2} ms (fastest {min:.2})");
    }
    Ok(())
}
