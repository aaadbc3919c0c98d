//! Seeded random streams: huashi-rng's generator (named streams under one
//! seed), re-exported where the reservoirs and readouts have always found it.

pub use huashi_rng::{splitmix64, stream_seed, Rng};
