//! Wall-clock timings (one warm-up, then the median of N runs) and progress
//! bars on stderr.

use indicatif::{ProgressBar, ProgressStyle};
use serde::Serialize;
use std::time::{Duration, Instant};

/// Summary of repeated runs of one measurement, in milliseconds.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Timing {
    /// Median over the timed runs.
    pub median_ms: f64,
    /// Fastest timed run.
    pub min_ms: f64,
    /// Slowest timed run.
    pub max_ms: f64,
    /// Number of timed runs (the warm-up is not counted).
    pub runs: usize,
}

impl Timing {
    /// GFLOP/s achieved by `flops` floating-point operations per run, at the median.
    pub fn gflops(&self, flops: f64) -> f64 {
        flops / (self.median_ms * 1e-3) / 1e9
    }
}

/// Runs `f` once to warm up, then `runs` times, and summarises the timed runs.
///
/// A warm-up longer than `skip_warmup_after` counts as the first timed run
/// instead, so very slow baselines do not cost an extra run.
pub fn measure<F>(runs: usize, skip_warmup_after: Duration, mut f: F) -> anyhow::Result<Timing>
where
    F: FnMut() -> anyhow::Result<()>,
{
    anyhow::ensure!(
        runs >= 1,
        "the number of timed runs must be at least 1, got 0"
    );
    let mut samples = Vec::with_capacity(runs);
    let start = Instant::now();
    f()?;
    let warmup = start.elapsed();
    if warmup > skip_warmup_after {
        samples.push(warmup);
    }
    while samples.len() < runs {
        let start = Instant::now();
        f()?;
        samples.push(start.elapsed());
    }
    Ok(summarise(&samples))
}

/// Median, min and max of some durations, in milliseconds.
pub fn summarise(samples: &[Duration]) -> Timing {
    let mut ms: Vec<f64> = samples.iter().map(|d| d.as_secs_f64() * 1e3).collect();
    ms.sort_by(f64::total_cmp);
    let n = ms.len();
    let median = if n == 0 {
        f64::NAN
    } else if n % 2 == 1 {
        ms[n / 2]
    } else {
        0.5 * (ms[n / 2 - 1] + ms[n / 2])
    };
    Timing {
        median_ms: median,
        min_ms: ms.first().copied().unwrap_or(f64::NAN),
        max_ms: ms.last().copied().unwrap_or(f64::NAN),
        runs: n,
    }
}

/// A progress bar on stderr (hidden automatically when stderr is not a terminal).
pub fn progress(len: u64, prefix: &str) -> ProgressBar {
    let bar = ProgressBar::new(len);
    let style = ProgressStyle::with_template(
        "{prefix:>10} [{elapsed_precise}] {bar:30.cyan/blue} {pos}/{len} {wide_msg}",
    )
    .unwrap_or_else(|_| ProgressStyle::default_bar())
    .progress_chars("=> ");
    bar.set_style(style);
    bar.set_prefix(prefix.to_string());
    bar
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_of_odd_and_even_counts() {
        let d = |ms: u64| Duration::from_millis(ms);
        let t = summarise(&[d(5), d(1), d(3)]);
        assert_eq!(
            (t.median_ms, t.min_ms, t.max_ms, t.runs),
            (3.0, 1.0, 5.0, 3)
        );
        assert_eq!(summarise(&[d(4), d(1), d(2), d(3)]).median_ms, 2.5);
    }

    #[test]
    fn measure_counts_runs_and_propagates_errors() {
        let mut calls = 0;
        let t = measure(5, Duration::from_secs(60), || {
            calls += 1;
            Ok(())
        })
        .unwrap();
        assert_eq!((t.runs, calls), (5, 6));
        assert!(measure(3, Duration::from_secs(60), || anyhow::bail!("boom")).is_err());
    }

    #[test]
    fn gflops_from_median() {
        let t = Timing {
            median_ms: 10.0,
            min_ms: 10.0,
            max_ms: 10.0,
            runs: 1,
        };
        assert!((t.gflops(2e9) - 200.0).abs() < 1e-9);
    }
}
