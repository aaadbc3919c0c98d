//! What `huashi esn search` reports: the table of the best trials, the
//! test-split scores of the best, `trials.csv` (every evaluation) and
//! `search.png` (validation NRMSE against each hyper-parameter, one colour
//! per halving rung).

use super::print;
use crate::report::scatter::{log_scatter_grid, Panel};
use crate::report::table;
use huashi_esn::forecast::{self, Score, Target, SCORE_NOTE};
use huashi_esn::search::{LogHeader, Outcome, Params, Trial};
use serde::Serialize;
use std::path::{Path, PathBuf};

/// The trial log's name in the output folder.
pub const LOG_FILE: &str = "trials.jsonl";

/// Everything the command prints (`--json` prints it whole).
#[derive(Serialize)]
pub struct SearchReport<'a> {
    pub series: &'a forecast::Series,
    pub target: Target,
    pub horizon: usize,
    pub split: [usize; 3],
    /// The search: base configuration, ranges, options, data fingerprint.
    pub header: &'a LogHeader,
    pub outcome: &'a Outcome,
    pub best: Option<&'a Trial>,
    /// The best parameters refitted on train + validation, scored on test.
    pub test: Vec<Score>,
    pub seconds: f64,
    pub files: Vec<PathBuf>,
}

/// Writes `trials.csv` and `search.png` (when a trial succeeded) into
/// `out`; returns their paths.
///
/// # Errors
/// A failed write (the previous files stay whole).
pub fn write_files(out: &Path, outcome: &Outcome) -> anyhow::Result<Vec<PathBuf>> {
    let csv = out.join("trials.csv");
    huashi_io::write_bytes(&csv, trials_csv(&outcome.evaluations).as_bytes())?;
    let mut files = vec![out.join(LOG_FILE), csv];
    let scored: Vec<&Trial> = outcome
        .evaluations
        .iter()
        .filter(|t| t.nrmse.is_some())
        .collect();
    if scored.iter().any(|t| t.score() > 0.0) {
        let png = out.join("search.png");
        let groups: Vec<String> = (outcome.rungs.iter().enumerate())
            .map(|(r, steps)| format!("rung {r}: {steps} training steps"))
            .collect();
        let names = scored[0].params.named().map(|(name, _)| name);
        let panels: Vec<Panel> = (names.iter().enumerate())
            .map(|(k, name)| Panel {
                name: name.to_string(),
                points: (scored.iter().filter(|t| t.score() > 0.0))
                    .map(|t| (t.params.named()[k].1, t.score(), t.rung))
                    .collect(),
            })
            .collect();
        let title = "validation NRMSE (mean over reservoir seeds) per trial";
        log_scatter_grid(&png, title, "validation NRMSE", &groups, &panels)?;
        files.push(png);
    }
    Ok(files)
}

/// One row per evaluation; the per-seed scores joined by `;`.
fn trials_csv(trials: &[Trial]) -> String {
    let mut text = String::from(
        "trial,rung,train_steps,units,spectral_radius,leak,input_scaling,ridge,\
         nrmse_mean,nrmse_ci95,nrmse_per_seed,error,ms\n",
    );
    for t in trials {
        let p = &t.params;
        let (mean, ci) = t.nrmse.map_or((String::new(), String::new()), |m| {
            (m.mean.to_string(), m.ci95.to_string())
        });
        let seeds: Vec<String> = t.per_seed.iter().map(f64::to_string).collect();
        let error = t.error.as_deref().unwrap_or("").replace('"', "\"\"");
        text += &format!(
            "{},{},{},{},{},{},{},{},{mean},{ci},{},\"{error}\",{:.3}\n",
            t.index,
            t.rung,
            t.train_steps,
            p.units,
            p.spectral_radius,
            p.leak,
            p.input_scaling,
            p.ridge,
            seeds.join(";"),
            t.ms
        );
    }
    text
}

/// The command-line options of `p`.
fn options(p: &Params) -> String {
    format!(
        "--units {} --spectral-radius {:.4} --leak {:.4} --input-scaling {:.4} --ridge {:.2e}",
        p.units, p.spectral_radius, p.leak, p.input_scaling, p.ridge
    )
}

const TRIAL_HEADERS: [&str; 9] = [
    "rank",
    "trial",
    "train steps",
    "units",
    "spectral radius",
    "leak",
    "input scaling",
    "ridge",
    "val NRMSE (± 95% CI)",
];

fn trial_rows(trials: &[Trial]) -> Vec<Vec<String>> {
    trials
        .iter()
        .enumerate()
        .map(|(rank, t)| {
            let p = &t.params;
            vec![
                (rank + 1).to_string(),
                t.index.to_string(),
                t.train_steps.to_string(),
                p.units.to_string(),
                format!("{:.3}", p.spectral_radius),
                format!("{:.3}", p.leak),
                format!("{:.3}", p.input_scaling),
                format!("{:.1e}", p.ridge),
                t.nrmse.map_or_else(
                    || "failed".into(),
                    |m| format!("{:.4} ± {:.4}", m.mean, m.ci95),
                ),
            ]
        })
        .collect()
}

/// Prints the report: the data, the search, the `top` best trials and the
/// best one's test scores.
pub fn print(r: &SearchReport<'_>, top: usize) {
    println!("{}", print::data_line(r.series));
    let [t, v, s] = r.split;
    println!(
        "target: {}; {t} training, {v} validation, {s} test pairs",
        r.target.describe(r.horizon)
    );
    print_search_line(r);
    let ranked = &r.outcome.ranked;
    print!(
        "{}",
        table::text(
            &TRIAL_HEADERS,
            &trial_rows(&ranked[..top.min(ranked.len())])
        )
    );
    println!(
        "\nval NRMSE: of the predicted change over the horizon (of x for `next`, of ln x for \
         `return`) on the validation split, normalised by its {}, mean over the reservoir seeds.",
        r.header.options.nrmse
    );
    if let Some(best) = r.best {
        println!("\nbest: {}", options(&best.params));
        println!("\nBest parameters refitted on train + validation, scored on the test split:");
        print!("{}", print::score_table(&r.test));
        println!("\nNote: {SCORE_NOTE}.");
    }
    for t in r
        .outcome
        .evaluations
        .iter()
        .filter(|t| t.error.is_some())
        .take(3)
    {
        let why = t.error.as_deref().unwrap_or("");
        println!("trial {} (rung {}) failed: {why}", t.index, t.rung);
    }
    let files: Vec<String> = r.files.iter().map(|f| f.display().to_string()).collect();
    println!("\nwrote {}", files.join(", "));
}

fn print_search_line(r: &SearchReport<'_>) {
    let o = r.outcome;
    let failed = o.evaluations.iter().filter(|t| t.nrmse.is_none()).count();
    let seeds = r.header.options.seeds.len();
    println!(
        "{} evaluations ({} from the log) in {:.1} s, {} threads, {failed} failed; \
         {seeds} reservoir seeds each; rungs of {:?} training steps\n",
        o.evaluations.len(),
        o.resumed,
        r.seconds,
        rayon::current_num_threads(),
        o.rungs
    );
}
