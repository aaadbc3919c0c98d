//! Constant folding: ops whose inputs are all known at import time are
//! evaluated here (integer shape arithmetic as exporters write it for
//! `flatten`, `view` and `chunk`: `Shape`, `Gather`, `Unsqueeze`, `Concat`
//! and integer `Add`/`Sub`/`Mul`/`Div`), so their outputs become constants. `Shape` of an
//! activation is `(1, C, H, W)` or `(1, F)` (batch 1).

use super::proto::NodeProto;
use super::tensor::{checked_dims, Const, Data};
use super::{attrs, tensor, Importer, Value};
use crate::error::Result;
use crate::shape::Shape;

/// Folds `n` when it is a shape op on constants (or `Shape`); `Ok(false)`
/// when it is not foldable.
pub(crate) fn try_fold(imp: &mut Importer, n: &NodeProto) -> Result<bool> {
    if n.op_type == "Constant" {
        let t = attrs::tensor(n, "value")
            .ok_or_else(|| imp.unsupported(n, "a Constant without a `value` tensor"))?;
        let c = tensor::decode(&format!("Constant \"{}\"", n.name), t)?;
        let c = imp.files.resolve(&c)?;
        imp.set(n, 0, Value::Const(c))?;
        return Ok(true);
    }
    if n.op_type == "Shape" {
        let dims = shape_of(imp, n)?;
        imp.set(n, 0, Value::Const(Const::ints(dims)))?;
        return Ok(true);
    }
    if !FOLDABLE.contains(&n.op_type.as_str()) {
        return Ok(false);
    }
    let mut consts = Vec::new();
    for i in 0..n.input.len() {
        match imp.input(n, i)? {
            Some(Value::Const(c)) => consts.push(c.clone()),
            Some(Value::Act { .. } | Value::Padded { .. } | Value::Grouped { .. }) => {
                return Ok(false)
            }
            None => {}
        }
    }
    if consts.is_empty() {
        return Ok(false);
    }
    let out = fold(imp, n, consts)?;
    imp.set(n, 0, Value::Const(out))?;
    Ok(true)
}

/// The value of `Shape` on input 0 of `n`: `(1, C, H, W)` of a map,
/// `(1, F)` of a vector, the 5-D view of a grouped map, a constant's dims.
fn shape_of(imp: &Importer, n: &NodeProto) -> Result<Vec<i64>> {
    Ok(match imp.input(n, 0)? {
        Some(Value::Act {
            shape:
                Shape::Map {
                    channels,
                    height,
                    width,
                },
            ..
        }) => vec![1, *channels as i64, *height as i64, *width as i64],
        Some(Value::Act {
            shape: Shape::Vector { features },
            ..
        }) => vec![1, *features as i64],
        Some(Value::Const(c)) => c.dims.iter().map(|&d| d as i64).collect(),
        Some(Value::Padded { .. }) => return Err(imp.unsupported(n, "Shape of a zero Pad")),
        Some(Value::Grouped {
            shape,
            groups,
            transposed,
            ..
        }) => {
            let (g, k) = (*groups as i64, (shape.channels() / groups) as i64);
            let (a, b) = if *transposed { (k, g) } else { (g, k) };
            let [h, w] = map_hw(shape);
            vec![1, a, b, h, w]
        }
        None => return Err(imp.error(n, "Shape needs an input")),
    })
}

/// `[H, W]` of a map (`[1, 1]` for a vector).
fn map_hw(shape: &Shape) -> [i64; 2] {
    match shape {
        Shape::Map { height, width, .. } => [*height as i64, *width as i64],
        Shape::Vector { .. } => [1, 1],
    }
}

/// The ops folded when all their inputs are constants.
const FOLDABLE: [&str; 13] = [
    "Identity",
    "Cast",
    "Dropout",
    "Unsqueeze",
    "Squeeze",
    "Reshape",
    "Flatten",
    "Gather",
    "Concat",
    "Add",
    "Sub",
    "Mul",
    "Div",
];

/// The value of foldable `n` on `consts` (external values are read, except
/// through `Identity`, which aliases a weight without needing its values).
fn fold(imp: &Importer, n: &NodeProto, mut consts: Vec<Const>) -> Result<Const> {
    if matches!(n.op_type.as_str(), "Identity" | "Dropout") {
        return Ok(consts.swap_remove(0));
    }
    let consts = consts
        .iter()
        .map(|c| imp.files.resolve(c))
        .collect::<Result<Vec<_>>>()?;
    Ok(match n.op_type.as_str() {
        "Cast" => consts[0].clone(),
        "Unsqueeze" | "Squeeze" | "Reshape" | "Flatten" => ints_op(imp, n, &consts)?,
        "Gather" => gather(imp, n, &consts)?,
        "Concat" => {
            let mut all = Vec::new();
            for c in &consts {
                all.extend(
                    c.as_ints()
                        .ok_or_else(|| imp.unsupported(n, "Concat of float constants"))?,
                );
            }
            Const::ints(all)
        }
        _ => arithmetic(imp, n, &consts)?,
    })
}

/// `Add`, `Sub`, `Mul`, `Div` of two constants of equal size or one a
/// single value (integers as ONNX computes them, `Div` truncating).
fn arithmetic(imp: &Importer, n: &NodeProto, consts: &[Const]) -> Result<Const> {
    let [a, b] = consts else {
        return Err(imp.error(n, "needs two inputs"));
    };
    let (dims, len) = if a.len() >= b.len() {
        (a.dims.clone(), a.len())
    } else {
        (b.dims.clone(), b.len())
    };
    if !(a.len() == len || a.len() == 1) || !(b.len() == len || b.len() == 1) {
        return Err(imp.unsupported(
            n,
            &format!("folding constants of dims {:?} and {:?}", a.dims, b.dims),
        ));
    }
    let op = n.op_type.as_str();
    let data = match (&a.data, &b.data) {
        (Data::I64(x), Data::I64(y)) => Data::I64(
            (0..len)
                .map(|i| {
                    let (p, q) = (at(x, i), at(y, i));
                    int_op(op, p, q).ok_or_else(|| {
                        imp.error(n, format!("{p} {op} {q} overflows or divides by 0"))
                    })
                })
                .collect::<Result<_>>()?,
        ),
        _ => {
            let (x, y) = (a.as_floats(), b.as_floats());
            Data::F32(
                (0..len)
                    .map(|i| float_op(op, at(&x, i), at(&y, i)))
                    .collect(),
            )
        }
    };
    Ok(Const { dims, data })
}

/// Element `i` of `v`, broadcast when `v` holds one value.
fn at<T: Copy>(v: &[T], i: usize) -> T {
    if v.len() == 1 {
        v[0]
    } else {
        v[i]
    }
}

/// Integer `p op q` (`Div` truncates, as ONNX's); `None` on overflow or
/// division by zero.
fn int_op(op: &str, p: i64, q: i64) -> Option<i64> {
    match op {
        "Add" => p.checked_add(q),
        "Sub" => p.checked_sub(q),
        "Mul" => p.checked_mul(q),
        _ => p.checked_div(q),
    }
}

/// Floating-point `p op q`.
fn float_op(op: &str, p: f32, q: f32) -> f32 {
    match op {
        "Add" => p + q,
        "Sub" => p - q,
        "Mul" => p * q,
        _ => p / q,
    }
}

/// Shape-only changes of a constant: the values stay, the dims follow the
/// op (the result of these folds only feeds other shape ops).
fn ints_op(imp: &Importer, n: &NodeProto, consts: &[Const]) -> Result<Const> {
    let c = &consts[0];
    let dims: Vec<i64> = match n.op_type.as_str() {
        "Reshape" => {
            let target = consts
                .get(1)
                .and_then(Const::as_ints)
                .ok_or_else(|| imp.error(n, "Reshape needs an integer shape"))?;
            if target.iter().any(|&d| d < 0) || target.contains(&0) {
                vec![c.len() as i64]
            } else {
                target
            }
        }
        "Unsqueeze" => {
            let mut d: Vec<i64> = c.dims.iter().map(|&x| x as i64).collect();
            let axes = attrs::ints(n, "axes")
                .or_else(|| consts.get(1).and_then(Const::as_ints))
                .unwrap_or_default();
            d.extend(std::iter::repeat_n(1, axes.len()));
            d
        }
        _ => vec![c.len() as i64],
    };
    let (dims, count) = checked_dims(&format!("node \"{}\"", n.name), &dims)?;
    if count != c.len() {
        return Err(imp.error(
            n,
            format!("cannot give {} values the dims {dims:?}", c.len()),
        ));
    }
    Ok(Const {
        dims,
        data: c.data.clone(),
    })
}

/// `Gather` on axis 0 of a vector with integer indices (negative from the end).
fn gather(imp: &Importer, n: &NodeProto, consts: &[Const]) -> Result<Const> {
    let [data, idx] = consts else {
        return Err(imp.error(n, "Gather needs data and indices"));
    };
    if attrs::int(n, "axis", 0) != 0 || data.dims.len() > 1 {
        return Err(imp.unsupported(n, "Gather of constants other than axis 0 of a vector"));
    }
    let indices = idx
        .as_ints()
        .ok_or_else(|| imp.error(n, "Gather indices must be integers"))?;
    let len = data.len() as i64;
    let mut pick = Vec::with_capacity(indices.len());
    for i in indices {
        let j = if i < 0 { i + len } else { i };
        if !(0..len).contains(&j) {
            return Err(imp.error(n, format!("index {i} is outside 0..{len}")));
        }
        pick.push(j as usize);
    }
    let data = match &data.data {
        Data::I64(v) => Data::I64(pick.iter().map(|&j| v[j]).collect()),
        Data::F32(v) => Data::F32(pick.iter().map(|&j| v[j]).collect()),
        Data::External(_) => return Err(imp.error(n, "Gather of external values not read")),
    };
    Ok(Const {
        dims: idx.dims.clone(),
        data,
    })
}
