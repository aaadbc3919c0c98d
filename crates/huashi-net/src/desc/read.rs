//! Reading descriptions: TOML and JSON text or files into a [`Network`],
//! with errors that name the line and column, and the checks the format
//! itself cannot express ([`check_fields`]).

use super::{Layer, Network};
use crate::error::{Error, Result};
use std::path::Path;

impl Network {
    /// Parses a TOML description; errors name the line and column.
    ///
    /// ```
    /// let net = huashi_net::Network::from_toml(r#"
    ///     input_shape = [3, 32, 32]
    ///     [[nodes]]
    ///     name = "sep"
    ///     op = "spatially_separable"
    ///     out_channels = 16
    ///     kernel = 3
    ///     padding = 1
    /// "#)?;
    /// let sep = net.analyse_default()?.node("sep")?.clone();
    /// // k×1 3→3 (mid defaults to C_in), then 1×k 3→16 with a bias.
    /// assert_eq!(sep.params, 3 * 3 * 3 + 16 * 3 * 3 + 16);
    /// # Ok::<(), huashi_net::Error>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::Parse`] for syntax, unknown or mistyped fields;
    /// [`Error::InvalidField`] for over-long names and dropout rates
    /// outside `[0, 1]` (see [`check_fields`]).
    pub fn from_toml(text: &str) -> Result<Self> {
        let network: Network = toml::from_str(text).map_err(|e| {
            let (line, column) = e
                .span()
                .map_or((0, 0), |span| line_column(text, span.start));
            Error::Parse {
                format: "TOML",
                line,
                column,
                message: e.message().to_string(),
            }
        })?;
        check_fields(&network)?;
        Ok(network)
    }

    /// Parses a JSON description; errors name the line and column.
    ///
    /// # Errors
    /// As [`Network::from_toml`].
    pub fn from_json(text: &str) -> Result<Self> {
        let network: Network = serde_json::from_str(text).map_err(|e| Error::Parse {
            format: "JSON",
            line: e.line(),
            column: e.column(),
            message: e.to_string(),
        })?;
        check_fields(&network)?;
        Ok(network)
    }

    /// Reads a description file, TOML or JSON by extension (`.json` is JSON,
    /// anything else TOML), at most [`huashi_io::read_capped`]'s limit.
    ///
    /// # Errors
    /// [`Error::File`] naming the path when it cannot be read, is not UTF-8
    /// or is above the size limit; [`Error::InFile`] naming it around the
    /// parse errors of [`Network::from_toml`].
    pub fn from_path(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        let text = huashi_io::read_to_string_capped(path, "a network description")?;
        let parsed = match path.extension().and_then(|e| e.to_str()) {
            Some("json") => Self::from_json(&text),
            _ => Self::from_toml(&text),
        };
        parsed.map_err(|e| Error::InFile {
            path: path.display().to_string(),
            error: Box::new(e),
        })
    }

    /// The description as pretty JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("a description always serialises")
    }
}

/// 1-based line and (byte) column of byte `offset` in `text`; an offset
/// inside a character or past the end is clamped, never a panic.
fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let before = &text.as_bytes()[..offset.min(text.len())];
    let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
    let line_start = before
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |i| i + 1);
    (line, before.len() - line_start + 1)
}

/// The longest node (or input) name accepted, in characters.
pub const MAX_NAME_CHARS: usize = 1024;

/// Checks what the format cannot: name lengths (at most
/// [`MAX_NAME_CHARS`]) and dropout rates (finite, in `[0, 1]`).
///
/// # Errors
/// [`Error::InvalidField`] naming the node (a long name by its position and
/// first characters).
pub fn check_fields(network: &Network) -> Result<()> {
    let names = std::iter::once(&network.input).chain(network.nodes.iter().map(|n| &n.name));
    for (slot, name) in names.enumerate() {
        let chars = name.chars().count();
        if chars > MAX_NAME_CHARS {
            let start: String = name.chars().take(32).collect();
            return Err(Error::InvalidField {
                node: format!("#{slot} ({start}…)"),
                field: "name",
                detail: format!("{chars} characters, more than the limit of {MAX_NAME_CHARS}"),
            });
        }
    }
    for node in &network.nodes {
        if let Layer::Dropout { rate } = node.layer {
            if !(0.0..=1.0).contains(&rate) {
                return Err(Error::InvalidField {
                    node: node.name.clone(),
                    field: "rate",
                    detail: format!("a dropout rate is a probability in [0, 1], got {rate}"),
                });
            }
        }
    }
    Ok(())
}
