//! Report lines that `huashi esn fit`, `forecast` and `search` share.

use crate::report::table;
use huashi_esn::forecast::{ForecastConfig, Score, Series, SCORE_HEADERS};
use huashi_esn::metrics::Normalisation;

/// One line describing where the data came from.
pub fn data_line(s: &Series) -> String {
    let n = table::thousands(s.values.len() as u64);
    let inputs = if s.input_is_target() {
        String::new()
    } else {
        format!(", input columns {}", s.inputs.join(", "))
    };
    let line = format!("data: {}, column {}{inputs} ({n} rows)", s.source, s.column);
    if s.embedded {
        format!("{line} — no --data given, so the embedded series is used")
    } else {
        line
    }
}

/// One line with the hyper-parameters of the ESN.
pub fn config_line(r: &ForecastConfig) -> String {
    format!(
        "ESN: {} units, spectral radius {}, leak {}, input scaling {}, ridge {:e}, \
         connectivity {}, washout {}, seed {}",
        r.units,
        r.spectral_radius,
        r.leak,
        r.input_scaling,
        r.ridge,
        r.connectivity,
        r.washout,
        r.seed
    )
}

/// The scores as a text table.
pub fn score_table(scores: &[Score]) -> String {
    let rows: Vec<Vec<String>> = scores.iter().map(Score::cells).collect();
    table::text(&SCORE_HEADERS, &rows)
}

/// A line naming NRMSE's normalisation when it is not the default `std`
/// (`--nrmse`); empty otherwise.
pub fn normalisation_note(scores: &[Score]) -> String {
    match scores.first().map(|s| s.normalisation) {
        Some(norm) if norm != Normalisation::Std => {
            format!("NRMSE here is normalised by the targets' {norm} (--nrmse).\n")
        }
        _ => String::new(),
    }
}
