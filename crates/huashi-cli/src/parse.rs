//! Value parsers for counts given on the command line: a negative number
//! is refused as negative (not as clap's "invalid digit found in string"),
//! and a count that must be positive is refused at 0.

/// Parses a count that must be at least 1 (a clap value parser), so that
/// `--runs 0` is refused instead of reporting "the median of 0 runs".
///
/// # Errors
/// The text is not a number, or it is 0.
pub fn at_least_one(text: &str) -> Result<usize, String> {
    match count::<usize>(text)? {
        0 => Err("must be at least 1".to_string()),
        n => Ok(n),
    }
}

/// Parses a count (a clap value parser): a negative number is refused as
/// negative, not as "invalid digit found in string".
///
/// # Errors
/// The text is negative, not a whole number, or above `T::MAX`.
pub fn count<T: std::str::FromStr<Err = std::num::ParseIntError>>(text: &str) -> Result<T, String> {
    if text.trim_start().starts_with('-') {
        return Err("must not be negative".to_string());
    }
    text.parse::<T>()
        .map_err(|e| format!("{e} (expected a whole number)"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_refuse_negatives_and_at_least_one_refuses_zero() {
        assert_eq!(count::<usize>("3"), Ok(3));
        assert_eq!(count::<u64>("-1").unwrap_err(), "must not be negative");
        assert!(count::<u64>("1.5").unwrap_err().contains("whole number"));
        assert_eq!(at_least_one("0").unwrap_err(), "must be at least 1");
        assert_eq!(at_least_one("7"), Ok(7));
    }
}
