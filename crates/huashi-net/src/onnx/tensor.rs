//! ONNX tensors as importer constants: `TensorProto` → dims and f32 or i64
//! values, read from the typed fields or from little-endian `raw_data`.
//! Every element count is checked against [`MAX_ELEMENTS`] and against the
//! data actually present before anything is allocated, so a header that
//! claims huge or negative dims is an error, not an allocation.

use super::proto::{data_type, TensorProto};
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

    /// The values as i64 (floats must be whole numbers).
    pub fn as_ints(&self) -> Option<Vec<i64>> {
        match &self.data {
            Data::I64(v) => Some(v.clone()),
            Data::F32(v) => v
                .iter()
                .map(|&x| (x.fract() == 0.0 && x.abs() < 9e15).then_some(x as i64))
                .collect(),
        }
    }

    /// The values as f32.
    pub fn as_floats(&self) -> Vec<f32> {
        match &self.data {
            Data::F32(v) => v.clone(),
            Data::I64(v) => v.iter().map(|&x| x as f32).collect(),
        }
    }

    /// The number of elements.
    pub fn len(&self) -> usize {
        match &self.data {
            Data::F32(v) => v.len(),
            Data::I64(v) => v.len(),
        }
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
/// [`Error::Onnx`] for bad dims, external data, an element type other than
/// FLOAT, DOUBLE, INT32 and INT64, or a data length that does not match.
pub fn decode(what: &str, t: &TensorProto) -> Result<Const> {
    let bad = |detail: String| Error::Onnx {
        what: what.to_string(),
        detail,
    };
    let (dims, count) = checked_dims(what, &t.dims)?;
    if t.data_location == 1 {
        return Err(bad("external data files are not supported".into()));
    }
    let raw = &t.raw_data;
    let width = match t.data_type {
        data_type::FLOAT | data_type::INT32 => 4,
        data_type::INT64 | data_type::DOUBLE => 8,
        other => return Err(bad(format!("element type {other} is not supported"))),
    };
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

/// Little-endian `raw` of element type `ty` (already length-checked).
fn from_raw(ty: i32, raw: &[u8]) -> Data {
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
