//! `huashi esn …`: echo state networks for time-series prediction.
//!
//! One file per subcommand: [`fit`], [`forecast`], [`search`] (its report
//! in `search_report`),
//! [`classify`], [`nvar`] and
//! [`bench`](mod@bench) (its cases in [`bench_cases`]). Each parses its options into `huashi_esn` types
//! and calls the library (`huashi_esn::forecast` for the protocol and the
//! scores, `huashi_esn::search` for the search). The options they share are
//! in [`options`], the report lines they share in [`print`](mod@print).

pub mod bench;
mod bench_cases;
pub mod classify;
pub mod fit;
pub mod forecast;
pub mod nvar;
mod options;
mod print;
pub mod search;
mod search_report;
