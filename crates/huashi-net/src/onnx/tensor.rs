//! ONNX tensors as importer constants: `TensorProto` → dims and f32 or i64
//! values, read from the typed fields or from little-endian `raw_data`.
//! Every element count is checked against [`MAX_ELEMENTS`] and against the
//! data actually present before anything is allocated, so a header that
//! claims huge or negative dims is an error, not an allocation. A tensor
//! whose data lies in an external file decodes to [`Data::External`]: its
//! dims are known, its values are read only when needed (`onnx/external.rs`).

use super::proto::{data_location, data_type, TensorProto};
use crate::error::{Error, Result};

/// The most elements one constant may hold (2^28, 1 GiB of f32).
pub const MAX_ELEMENTS: usize = 1 << 28;

/// A constant's values.
#[derive(Debug, Clone, PartialEq)]
pub enum Data {
    /// Floating-point values (FLOAT and DOUBLE tensors).
    F32(Vec<f32>),
    /// Integer values (INT32 and INT64 tensors).
    I64(Vec<i64>),
    /// Values in an external file, not read (yet).
    External(External),
}

/// Where an external tensor's bytes are: `length` bytes at `offset` of
/// `location`, a path relative to the model's folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct External {
    /// The tensor's name (for errors).
    pub tensor: String,
    /// The data file, as the model names it.
    pub location: String,
    /// The first byte.
    pub offset: u64,
    /// The number of bytes (elements × element width).
    pub length: u64,
    /// The element type (`TensorProto.DataType`).
    pub data_type: i32,
}

/// A constant tensor: an initializer, a `Constant` node or a folded value.
#[derive(Debug, Clone, PartialEq)]
pub struct Const {
    /// Its dimensions (empty for a scalar).
    pub dims: Vec<usize>,
    /// Its values, `dims.iter().product()` of them.
    pub data: Data,
}

impl Const {
    /// An i64 vector.
    pub fn ints(values: Vec<i64>) -> Const {
        Const {
            dims: vec![values.len()],
            data: Data::I64(values),
        }
    }

    /// The values as i64 (floats must be whole numbers); `None` for
    /// external values not read.
    pub fn as_ints(&self) -> Option<Vec<i64>> {
        match &self.data {
            Data::I64(v) => Some(v.clone()),
            Data::External(_) => None,
            Data::F32(v) => v
                .iter()
                .map(|&x| (x.fract() == 0.0 && x.abs() < 9e15).then_some(x as i64))
                .collect(),
        }
    }

    /// The values as f32 (none for external values not read: check
    /// [`Const::is_external`] first).
    pub fn as_floats(&self) -> Vec<f32> {
        match &self.data {
            Data::F32(v) => v.clone(),
            Data::I64(v) => v.iter().map(|&x| x as f32).collect(),
            Data::External(_) => Vec::new(),
        }
    }

    /// Whether the values are in an external file, not read.
    pub fn is_external(&self) -> bool {
        matches!(self.data, Data::External(_))
    }

    /// The number of elements (from the dims, read or not).
    pub fn len(&self) -> usize {
        self.dims.iter().product()
    }

    /// Whether it holds no element.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Checked dims: each in `0..=MAX_ELEMENTS`, product at most [`MAX_ELEMENTS`].
///
/// # Errors
/// [`Error::Onnx`] naming `what` for a negative or too large dim or product.
pub fn checked_dims(what: &str, dims: &[i64]) -> Result<(Vec<usize>, usize)> {
    let bad = |detail: String| Error::Onnx {
        what: what.to_string(),
        detail,
    };
    if dims.len() > 8 {
        return Err(bad(format!("{} dimensions, more than 8", dims.len())));
    }
    let mut count = 1usize;
    let mut out = Vec::with_capacity(dims.len());
    for &d in dims {
        let d = usize::try_from(d).map_err(|_| bad(format!("negative dimension {d}")))?;
        count = count
            .checked_mul(d)
            .filter(|&c| c <= MAX_ELEMENTS)
            .ok_or_else(|| bad(format!("dims {dims:?} exceed {MAX_ELEMENTS} elements")))?;
        out.push(d);
    }
    Ok((out, count))
}

/// Decodes `t` (named `what` in errors).
///
/// # Errors
/// [`Error::Onnx`] for bad dims, an element type other than FLOAT, DOUBLE,
/// INT32 and INT64, a data length that does not match, or external data
/// entries that are missing, malformed or disagree with the dims.
pub fn decode(what: &str, t: &TensorProto) -> Result<Const> {
    let bad = |detail: String| Error::Onnx {
        what: what.to_string(),
        detail,
    };
    let (dims, count) = checked_dims(what, &t.dims)?;
    let width = width(t.data_type)
        .ok_or_else(|| bad(format!("element type {} is not supported", t.data_type)))?;
    if t.data_location == data_location::EXTERNAL {
        let external = external(what, t, count * width)?;
        return Ok(Const {
            dims,
            data: Data::External(external),
        });
    }
    let raw = &t.raw_data;
    let typed = match t.data_type {
        data_type::FLOAT => t.float_data.len(),
        data_type::INT32 => t.int32_data.len(),
        data_type::INT64 => t.int64_data.len(),
        _ => t.double_data.len(),
    };
    let present = if raw.is_empty() {
        typed
    } else {
        raw.len() / width
    };
    if present != count || (!raw.is_empty() && !raw.len().is_multiple_of(width)) {
        return Err(bad(format!(
            "dims {dims:?} need {count} values, the data holds {present}"
        )));
    }
    let data = if raw.is_empty() {
        match t.data_type {
            data_type::FLOAT => Data::F32(t.float_data.clone()),
            data_type::INT32 => Data::I64(t.int32_data.iter().map(|&x| i64::from(x)).collect()),
            data_type::INT64 => Data::I64(t.int64_data.clone()),
            _ => Data::F32(t.double_data.iter().map(|&x| x as f32).collect()),
        }
    } else {
        from_raw(t.data_type, raw)
    };
    Ok(Const { dims, data })
}

/// The bytes per element of `ty`, for the types the importer reads.
pub(crate) fn width(ty: i32) -> Option<usize> {
    match ty {
        data_type::FLOAT | data_type::INT32 => Some(4),
        data_type::INT64 | data_type::DOUBLE => Some(8),
        _ => None,
    }
}

/// The `external_data` entries of `t`, whose data is `bytes` long.
fn external(what: &str, t: &TensorProto, bytes: usize) -> Result<External> {
    let bad = |detail: String| Error::Onnx {
        what: what.to_string(),
        detail,
    };
    let entry = |key: &str| {
        t.external_data
            .iter()
            .find(|e| e.key == key)
            .map(|e| e.value.as_str())
    };
    let number = |key: &str| -> Result<Option<u64>> {
        entry(key)
            .map(|v| {
                v.trim()
                    .parse::<u64>()
                    .map_err(|_| bad(format!("external data {key} \"{v}\" is not a byte count")))
            })
            .transpose()
    };
    let location = entry("location")
        .filter(|l| !l.is_empty())
        .ok_or_else(|| bad("external data without a `location`".into()))?;
    let length = number("length")?.unwrap_or(bytes as u64);
    if length != bytes as u64 {
        return Err(bad(format!(
            "external data length {length} bytes; the dims {:?} need {bytes}",
            t.dims
        )));
    }
    Ok(External {
        tensor: t.name.clone(),
        location: location.to_string(),
        offset: number("offset")?.unwrap_or(0),
        length,
        data_type: t.data_type,
    })
}

/// Little-endian `raw` of element type `ty` (already length-checked).
pub(crate) fn from_raw(ty: i32, raw: &[u8]) -> Data {
    match ty {
        data_type::FLOAT => Data::F32(
            raw.chunks_exact(4)
                .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                .collect(),
        ),
        data_type::INT32 => Data::I64(
            raw.chunks_exact(4)
                .map(|b| i64::from(i32::from_le_bytes([b[0], b[1], b[2], b[3]])))
                .collect(),
        ),
        data_type::INT64 => Data::I64(
            raw.chunks_exact(8)
                .map(|b| i64::from_le_bytes(b.try_into().expect("8 bytes")))
                .collect(),
        ),
        _ => Data::F32(
            raw.chunks_exact(8)
                .map(|b| f64::from_le_bytes(b.try_into().expect("8 bytes")) as f32)
                .collect(),
        ),
    }
}
