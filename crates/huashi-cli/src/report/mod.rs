//! What every command reports with: text and Markdown [`table`]s, PNG
//! [`plot`]s and [`scatter`] grids, median [`timing`]s with progress bars, and the reports shared
//! by a command and the tour ([`variants`], [`fields`], [`meta`]).

pub mod fields;
pub mod meta;
pub mod plot;
pub mod scatter;
pub mod table;
pub mod timing;
pub mod variants;
