//! Sequence classification with a reservoir: each sequence drives the
//! reservoir from the zero state, its states are pooled into one vector, and
//! a one-hot ridge readout names the class (Jaeger 2001; Lukoševičius 2012,
//! "A practical guide to applying echo state networks", section 4.7; the
//! pooled-state readouts as in Bianchi, Scardapane, Løkse & Jenssen 2021,
//! "Reservoir computing approaches for representation and classification of
//! multivariate time series", *IEEE TNNLS* 32(5)).
//!
//! With the states `x(t)` of a sequence of length `T` after a washout of
//! `w` steps and the class one-hot `e_c`:
//!
//! ```text
//! last:    φ = [1; x(T)]
//! mean:    φ = [1; (1/(T−w)) Σ_{t>w} x(t)]
//! concat:  φ = [1; x(t₁); x(t₂); x(t₃)],  t_j = w + ⌈f_j (T−w)⌉, f = (1/3, 2/3, 1)
//! vote:    φ(t) = [1; x(t)] for every t > w, each with the target e_c
//! W_out = (ΦᵀΦ + λ D)⁻¹ ΦᵀE,   ĉ = argmax_c W_outᵀ φ
//! ```
//!
//! (`D` leaves the bias unpenalised). With `vote` every step casts a vote
//! `argmax_c W_outᵀ φ(t)`; the class with most votes wins, ties going to the
//! larger summed score. Inputs are standardised per channel with the
//! training set's mean and standard deviation. Sequences may differ in
//! length and have any number of channels.
//!
//! [`japanese_vowels`] gives the embedded UCI Japanese Vowels data (Kudo,
//! Toyama & Shimbo 1999; CC BY 4.0, see `data/README.md`); [`evaluate`]
//! fits, tests and scores ([`Evaluation`]: accuracy, confusion matrix,
//! per-class precision and recall), [`over_seeds`] repeats it over reservoir
//! seeds (mean ± 95 % CI).

mod data;
mod eval;
mod model;
mod ts;

pub use data::Dataset;
pub use eval::{evaluate, over_seeds, ClassScore, Evaluation, SeedSummary};
pub use model::{Classifier, ClassifyConfig, Pooling, CONCAT_FRACTIONS};

/// The embedded Japanese Vowels training file (sktime `.ts`, 270 utterances).
pub const JAPANESE_VOWELS_TRAIN: &str =
    include_str!("../../data/japanese_vowels/JapaneseVowels_TRAIN.ts");
/// The embedded Japanese Vowels test file (sktime `.ts`, 370 utterances).
pub const JAPANESE_VOWELS_TEST: &str =
    include_str!("../../data/japanese_vowels/JapaneseVowels_TEST.ts");

/// The embedded Japanese Vowels data: (training, test) sets, 12 channels,
/// labels `1`–`9`.
///
/// # Errors
/// Only if the embedded files were corrupt.
pub fn japanese_vowels() -> Result<(Dataset, Dataset), DataError> {
    Ok((
        Dataset::parse_ts(JAPANESE_VOWELS_TRAIN, "JapaneseVowels_TRAIN.ts (embedded)")?,
        Dataset::parse_ts(JAPANESE_VOWELS_TEST, "JapaneseVowels_TEST.ts (embedded)")?,
    ))
}

/// What is wrong with a file of labelled sequences; each names the file
/// (and the 1-based line where it applies).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum DataError {
    /// No sequence at all.
    #[error("{file}: no sequences")]
    Empty {
        /// The file.
        file: String,
    },
    /// A header or structural problem.
    #[error("{file}, line {line}: {reason}")]
    Malformed {
        /// The file.
        file: String,
        /// The line.
        line: usize,
        /// What is wrong.
        reason: String,
    },
    /// A sequence with another number of channels than the header or the
    /// first sequence.
    #[error("{file}, line {line}: {found} channels, expected {expected}")]
    Channels {
        /// The file.
        file: String,
        /// The line.
        line: usize,
        /// Channels expected.
        expected: usize,
        /// Channels found.
        found: usize,
    },
    /// Channels of one sequence with different lengths.
    #[error("{file}, line {line}: channel {channel} has {found} values, channel 1 has {expected}")]
    Ragged {
        /// The file.
        file: String,
        /// The line.
        line: usize,
        /// The 1-based channel.
        channel: usize,
        /// Length of channel 1.
        expected: usize,
        /// Length of this channel.
        found: usize,
    },
    /// A value that is not a finite number.
    #[error("{file}, line {line}: {value:?} is not a finite number")]
    NotNumber {
        /// The file.
        file: String,
        /// The line.
        line: usize,
        /// The text.
        value: String,
    },
    /// A label that is not one of the known classes.
    #[error("{file}, line {line}: label {label:?} is not one of the classes {classes:?}")]
    UnknownLabel {
        /// The file.
        file: String,
        /// The line.
        line: usize,
        /// The label.
        label: String,
        /// The known classes.
        classes: Vec<String>,
    },
    /// Training data with a single class.
    #[error(
        "{file}: every sequence has the label {label:?}; classification needs two classes or more"
    )]
    OneClass {
        /// The file.
        file: String,
        /// The only label.
        label: String,
    },
    /// A sequence no longer than the washout.
    #[error(
        "{file}, line {line}: the sequence has {len} steps, not more than the washout of {washout}"
    )]
    TooShort {
        /// The file.
        file: String,
        /// The line.
        line: usize,
        /// Its length.
        len: usize,
        /// The washout.
        washout: usize,
    },
}
