//! The search's trial log: a stopped search resumes without rerunning what
//! the log holds, and a log of another search or a damaged one is refused
//! with the file and line named.

use huashi_esn::forecast::ForecastConfig;
use huashi_esn::search::{
    search, LogHeader, SearchData, SearchOptions, SearchSpace, Strategy, Trial, TrialLog,
};
use huashi_esn::{column, Error, Mat};
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};

/// `sin³(0.13 i)` over 900 steps (inputs and next-step targets; 700
/// training and 100 validation steps), and a folder for the log.
struct Fixture {
    x: Mat<f64>,
    y: Vec<f64>,
    dir: tempfile::TempDir,
}

impl Fixture {
    fn new() -> Self {
        let s: Vec<f64> = (0..900).map(|i| (i as f64 * 0.13).sin().powi(3)).collect();
        Self {
            x: column(&s[..899]),
            y: s[1..].to_vec(),
            dir: tempfile::tempdir().unwrap(),
        }
    }

    fn data(&self) -> SearchData<'_> {
        SearchData {
            inputs: self.x.as_ref(),
            targets: &self.y,
            train: 700,
            validation: 100,
        }
    }

    fn log(&self) -> PathBuf {
        self.dir.path().join("trials.jsonl")
    }
}

fn header(data: &SearchData<'_>, strategy: Strategy, trials: usize) -> LogHeader {
    LogHeader {
        version: huashi_esn::search::log::LOG_VERSION,
        base: ForecastConfig::default().esn(),
        space: SearchSpace {
            units: [10, 40],
            ..SearchSpace::default()
        },
        options: SearchOptions {
            trials,
            search_seed: 5,
            seeds: vec![0, 1],
            strategy,
            nrmse: Default::default(),
        },
        data: data.fingerprint(),
    }
}

/// Runs the search of `h`, appending to `log`; returns the ranked trials
/// and how many evaluations ran.
fn run(
    h: &LogHeader,
    data: &SearchData<'_>,
    log: &TrialLog,
    known: &[Trial],
) -> (Vec<Trial>, usize) {
    let ran = AtomicUsize::new(0);
    let done = |t: &Trial| {
        ran.fetch_add(1, Ordering::Relaxed);
        log.append(t)
    };
    let out = search(&h.base, &h.space, data, &h.options, known, &done).unwrap();
    (out.ranked, ran.into_inner())
}

#[test]
fn a_cut_log_resumes_and_ends_where_an_uncut_run_ends() {
    let f = Fixture::new();
    let data = f.data();
    let h = header(&data, Strategy::Halving { eta: 2 }, 8);
    let path = f.log();
    let log = TrialLog::create(&path, &h).unwrap();
    let (whole, ran) = run(&h, &data, &log, &[]);
    drop(log);
    // 700 steps, washout 100 (at least 200 steps), 8 trials: rungs of
    // 350 and 700 steps with 8 and 4 trials.
    assert_eq!(ran, 12);
    // Keep the header and five evaluations, then half a line: a run killed
    // while writing.
    let text = std::fs::read_to_string(&path).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let cut = format!("{}\n{}", lines[..6].join("\n"), &lines[6][..20]);
    std::fs::write(&path, cut).unwrap();
    let (log, known) = TrialLog::resume(&path, &h).unwrap();
    assert_eq!(known.len(), 5);
    let (resumed, ran) = run(&h, &data, &log, &known);
    assert_eq!(ran, 7);
    let timeless =
        |v: Vec<Trial>| -> Vec<Trial> { v.into_iter().map(|t| Trial { ms: 0.0, ..t }).collect() };
    assert_eq!(timeless(resumed), timeless(whole));
    drop(log);
    assert_eq!(std::fs::read_to_string(&path).unwrap().lines().count(), 13);
}

#[test]
fn a_random_search_may_grow_but_not_change() {
    let f = Fixture::new();
    let data = f.data();
    let h = header(&data, Strategy::Random, 3);
    let path = f.log();
    let log = TrialLog::create(&path, &h).unwrap();
    run(&h, &data, &log, &[]);
    drop(log);
    assert!(matches!(
        TrialLog::create(&path, &h),
        Err(Error::File(huashi_io::Error::Exists { .. }))
    ));
    let more = header(&data, Strategy::Random, 5);
    let (log, known) = TrialLog::resume(&path, &more).unwrap();
    assert_eq!(run(&more, &data, &log, &known).1, 2);
    drop(log);
    let mut other = header(&data, Strategy::Random, 5);
    other.options.seeds = vec![0];
    let err = TrialLog::resume(&path, &other).unwrap_err().to_string();
    assert!(
        err.contains("trials.jsonl line 1") && err.contains("seeds"),
        "{err}"
    );
    let shorter = SearchData { train: 650, ..data };
    let err = TrialLog::resume(&path, &header(&shorter, Strategy::Random, 5)).unwrap_err();
    assert!(err.to_string().contains("data or split"), "{err}");
}

#[test]
fn a_damaged_line_is_named() {
    let f = Fixture::new();
    let data = f.data();
    let h = header(&data, Strategy::Random, 2);
    let path = f.log();
    let log = TrialLog::create(&path, &h).unwrap();
    run(&h, &data, &log, &[]);
    drop(log);
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(&path, text.replacen("\"rung\"", "\"rnug\"", 1)).unwrap();
    let err = TrialLog::resume(&path, &h).unwrap_err().to_string();
    assert!(
        err.contains("trials.jsonl line 2") && err.contains("rung"),
        "{err}"
    );
    std::fs::write(&path, "").unwrap();
    let err = TrialLog::resume(&path, &h).unwrap_err().to_string();
    assert!(err.contains("line 1") && err.contains("empty"), "{err}");
}
