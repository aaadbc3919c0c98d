//! The memory `conv factorize` needs, estimated from the safetensors header
//! (read alone, a few bytes) before any tensor is loaded.

use anyhow::{bail, ensure, Context};
use std::io::Read;
use std::path::Path;

/// The largest safetensors header read (the format's own limit is 100 MB).
const MAX_HEADER_BYTES: u64 = 100_000_000;
/// What the output check may add on top (its maps are capped at ~512 MiB).
const OUTPUT_CHECK_BYTES: u64 = 1 << 30;

/// Shape and bytes per element of tensor `name` in the safetensors file
/// `path`, from its JSON header.
///
/// # Errors
/// When the file cannot be read, its header is not safetensors, or it has
/// no tensor `name` (the message lists the names).
pub fn tensor_shape(path: &Path, name: &str) -> anyhow::Result<(Vec<u64>, u64)> {
    let header = read_header(path)?;
    let Some(entry) = header.get(name) else {
        let mut names: Vec<&String> = header
            .as_object()
            .map(|o| o.keys().filter(|k| *k != "__metadata__").collect())
            .unwrap_or_default();
        names.sort();
        bail!(
            "no tensor `{name}` in {}; it holds {names:?}",
            path.display()
        );
    };
    let shape = entry["shape"]
        .as_array()
        .and_then(|dims| dims.iter().map(|d| d.as_u64()).collect::<Option<Vec<_>>>())
        .with_context(|| format!("`{name}` in {} has no valid shape", path.display()))?;
    let bytes = match entry["dtype"].as_str() {
        Some("F64" | "I64" | "U64") => 8,
        Some("F32" | "I32" | "U32") => 4,
        Some("F16" | "BF16" | "I16" | "U16") => 2,
        _ => 1,
    };
    Ok((shape, bytes))
}

/// The header of a safetensors file as JSON.
fn read_header(path: &Path) -> anyhow::Result<serde_json::Value> {
    let reading = || format!("reading {}", path.display());
    let mut file = std::fs::File::open(path).with_context(reading)?;
    let mut len = [0u8; 8];
    file.read_exact(&mut len)
        .with_context(|| format!("{} is not a safetensors file (too short)", path.display()))?;
    let len = u64::from_le_bytes(len);
    ensure!(
        len <= MAX_HEADER_BYTES,
        "{} is not a safetensors file (header of {len} bytes)",
        path.display()
    );
    let mut header = Vec::new();
    file.take(len)
        .read_to_end(&mut header)
        .with_context(reading)?;
    serde_json::from_slice(&header)
        .with_context(|| format!("{} is not a safetensors file (bad header)", path.display()))
}

/// Bytes `conv factorize` needs for a weight `(C_out, C_in, kh, kw)` of
/// `element` bytes per value in a file of `file_bytes`: the whole file
/// (candle reads it), per kernel two f64 copies and two SVDs (values,
/// factors and their allocations, computed twice), the bank's f64 factors and
/// their tensors, and the output check. Saturating.
pub fn estimate(shape: &[u64], element: u64, file_bytes: u64) -> u64 {
    let [c_out, c_in, kh, kw] = match *shape {
        [a, b, c, d] => [a, b, c, d],
        _ => return file_bytes,
    };
    let kernels = c_out.saturating_mul(c_in);
    let (k, r) = (kh.saturating_mul(kw), kh.min(kw));
    let factors = r.saturating_mul(kh.saturating_add(kw));
    let svd = 8u64
        .saturating_mul(r.saturating_add(factors))
        .saturating_add(48u64.saturating_mul(2 * r + 1));
    let per_kernel = (16u64.saturating_mul(k).saturating_add(svd))
        .saturating_mul(2)
        .saturating_add((8 + element).saturating_mul(factors))
        .saturating_add(element.saturating_mul(k));
    kernels
        .saturating_mul(per_kernel)
        .saturating_add(file_bytes)
        .saturating_add(OUTPUT_CHECK_BYTES)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn estimate_is_about_fifty_times_an_f32_3x3_weight() {
        let weight = 64 * 64 * 9 * 4;
        let bytes = estimate(&[64, 64, 3, 3], 4, weight) - OUTPUT_CHECK_BYTES;
        assert!((40 * weight..60 * weight).contains(&bytes), "{bytes}");
        assert_eq!(estimate(&[u64::MAX, 2, 3, 3], 4, 0), u64::MAX);
    }
}
