//! Timeouts and the size cap of a download, so that a server that never
//! answers cannot hang a fetch and one that streams forever cannot fill the
//! disk.
//!
//! The official zips are about 9.5 MB and 6.5 MB. The defaults leave room
//! for a slow link: [`DEFAULT_CONNECT_SECS`] to connect,
//! [`DEFAULT_RESPONSE_SECS`] for the response head, [`DEFAULT_BODY_SECS`]
//! for the whole body (and [`DEFAULT_RESPONSE_SECS`] for any one read of
//! it), and at most [`DEFAULT_MAX_BYTES`] per file. The
//! environment variable [`TIMEOUT_VARIABLE`] (seconds, fractions allowed)
//! sets all three timeouts at once.

use std::time::Duration;

/// Seconds to wait for the connection.
pub const DEFAULT_CONNECT_SECS: u64 = 30;
/// Seconds to wait for the response head once the request is sent.
pub const DEFAULT_RESPONSE_SECS: u64 = 60;
/// Seconds to receive one whole file.
pub const DEFAULT_BODY_SECS: u64 = 900;
/// The largest file accepted (100 MiB; the official zips are < 10 MB).
pub const DEFAULT_MAX_BYTES: u64 = 100 << 20;
/// The environment variable that sets every timeout, in seconds.
pub const TIMEOUT_VARIABLE: &str = "HUASHI_FETCH_TIMEOUT_SECS";

/// Timeouts and size cap of one fetch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FetchLimits {
    /// To connect (name resolution included).
    pub connect: Duration,
    /// For the response head after the request was sent, and for each read
    /// of the body (a server that stalls mid-file).
    pub response: Duration,
    /// For the whole body of one file.
    pub body: Duration,
    /// The most bytes one file may have.
    pub max_bytes: u64,
}

impl Default for FetchLimits {
    fn default() -> Self {
        Self {
            connect: Duration::from_secs(DEFAULT_CONNECT_SECS),
            response: Duration::from_secs(DEFAULT_RESPONSE_SECS),
            body: Duration::from_secs(DEFAULT_BODY_SECS),
            max_bytes: DEFAULT_MAX_BYTES,
        }
    }
}

impl FetchLimits {
    /// The defaults, every timeout replaced by [`TIMEOUT_VARIABLE`] when it
    /// holds a positive number of seconds.
    pub fn from_env() -> Self {
        let seconds = std::env::var(TIMEOUT_VARIABLE)
            .ok()
            .and_then(|v| v.trim().parse::<f64>().ok())
            .filter(|s| s.is_finite() && *s > 0.0 && *s < 1e9);
        match seconds {
            Some(s) => Self::with_timeout(Duration::from_secs_f64(s)),
            None => Self::default(),
        }
    }

    /// The defaults with every timeout set to `timeout`.
    pub fn with_timeout(timeout: Duration) -> Self {
        Self {
            connect: timeout,
            response: timeout,
            body: timeout,
            ..Self::default()
        }
    }

    /// A ureq agent with these timeouts (HTTP error statuses are returned
    /// as errors, as by `ureq::get`).
    pub fn agent(&self) -> ureq::Agent {
        ureq::Agent::config_builder()
            .timeout_connect(Some(self.connect))
            .timeout_recv_response(Some(self.response))
            .timeout_per_read(Some(self.response))
            .timeout_recv_body(Some(self.body))
            .build()
            .into()
    }
}
