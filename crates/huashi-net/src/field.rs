//! Receptive fields, following Araujo, Norris & Sim, "Computing Receptive
//! Fields of Convolutional Neural Networks", Distill 2019
//! (<https://distill.pub/2019/computing-receptive-fields/>).
//!
//! Along one axis, layer `l` has dilated kernel extent `k'_l = d_l·(k_l − 1) + 1`,
//! stride `s_l` and padding `p_l` before the first element (TensorFlow
//! 'SAME' puts `⌊total/2⌋` there, resolved for the actual input size). For a
//! chain of layers `1..L`, the receptive field of an output unit of layer
//! `L`, measured in the network input, has
//!
//! ```text
//! size      r_L = 1 + Σ_l (k'_l − 1) · Π_{i<l} s_i
//! stride    S_L = Π_l s_l
//! padding   P_L = Σ_l p_l · Π_{i<l} s_i
//! ```
//!
//! computed forwards as `r ← r + (k' − 1)·S`, `P ← P + p·S`, `S ← S·s`.
//! Output unit `j` sees input positions `[j·S − P, j·S − P + r − 1]`; its
//! centre is `j·S + (r − 1)/2 − P`.
//!
//! **Transposed convolutions.** With stride 1 a transposed convolution is
//! the convolution with the flipped kernel, the same dilation and padding
//! `d·(k − 1) − p` per side, so the field grows by `d·(k − 1)`. With stride
//! `s > 1` it is fractionally strided (effective stride `1/s`), which this
//! integer framework cannot express: the field is [`Field::Undefined`], as
//! is that of every node downstream.
//!
//! **Multi-path graphs.** Where paths merge (`add`, `concat`), the field is
//! defined only if the graph is *aligned*: every path has the same effective
//! stride `S` and the same centre offset `(r − 1)/2 − P`. The merged field is
//! then the largest one (equal centres make it the union). Otherwise the
//! field is reported as [`Field::Misaligned`], never as a number; every node
//! downstream inherits the misalignment. Checking at merges, forwards from
//! the input, is equivalent to the paper's check at branch points backwards
//! from an output, since composing with a common prefix maps equal
//! `(S, centre)` pairs to equal pairs and unequal ones to unequal ones.

use crate::shape::Window;
use huashi_conv::Axis;
use serde::Serialize;

/// The receptive field of one unit along one axis, in input coordinates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct AxisField {
    /// Size `r`: how many input positions one unit sees.
    pub size: usize,
    /// Effective stride `S`: input distance between neighbouring units.
    pub stride: usize,
    /// Effective padding `P`: the first unit's field starts at `−P`.
    pub padding: usize,
}

impl AxisField {
    /// The field of an input position: `r = 1`, `S = 1`, `P = 0`.
    pub const INPUT: AxisField = AxisField {
        size: 1,
        stride: 1,
        padding: 0,
    };

    /// First input position seen by output unit 0: `−P`.
    pub fn start(&self) -> i64 {
        -(self.padding as i64)
    }

    /// Last input position seen by output unit 0: `r − 1 − P`.
    pub fn end(&self) -> i64 {
        self.size as i64 - 1 - self.padding as i64
    }

    /// Centre of output unit 0's field: `(r − 1)/2 − P`.
    pub fn centre(&self) -> f64 {
        (self.size as f64 - 1.0) / 2.0 - self.padding as f64
    }

    /// Twice the centre, an exact integer: `r − 1 − 2P`.
    pub fn centre_x2(&self) -> i64 {
        self.size as i64 - 1 - 2 * self.padding as i64
    }

    /// The input positions `[start, end]` seen by output unit `j`
    /// (saturated at the `i64` range).
    pub fn span(&self, j: usize) -> (i64, i64) {
        let offset = j as i128 * self.stride as i128;
        let at = |x: i64| (x as i128 + offset).clamp(i64::MIN as i128, i64::MAX as i128) as i64;
        (at(self.start()), at(self.end()))
    }

    /// The largest size, stride or padding a field may have: `2^62`, so
    /// that [`AxisField::start`], [`AxisField::end`] and
    /// [`AxisField::centre_x2`] are exact `i64`s.
    pub const MAX: usize = 1 << 62;

    /// The field after a layer with dilated extent `k'`, stride `s`, padding
    /// `p`, or `None` when a value would exceed [`AxisField::MAX`].
    pub fn then(&self, extent: usize, stride: usize, padding: usize) -> Option<AxisField> {
        let size = extent
            .checked_sub(1)?
            .checked_mul(self.stride)?
            .checked_add(self.size)?;
        let field = AxisField {
            size,
            stride: self.stride.checked_mul(stride)?,
            padding: padding
                .checked_mul(self.stride)?
                .checked_add(self.padding)?,
        };
        let fits = [field.size, field.stride, field.padding]
            .iter()
            .all(|&v| v <= Self::MAX);
        fits.then_some(field)
    }
}

/// The receptive field of a node: defined per axis `[height, width]`, or
/// undefined because of a misaligned merge or a layer without an integer
/// field (a transposed convolution with stride > 1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Field {
    /// Aligned: the field along `[height, width]`.
    Defined([AxisField; 2]),
    /// The paths merging at `merge` (this node or an ancestor) are misaligned.
    Misaligned {
        /// The merge node where alignment fails.
        merge: String,
        /// The first axis found misaligned.
        axis: AxisName,
        /// Effective stride and centre of every merging path.
        detail: String,
    },
    /// A layer at `node` (this node or an ancestor) has no field in the
    /// sense above, e.g. a transposed convolution with stride > 1, whose
    /// effective stride `1/s` is not an integer.
    Undefined {
        /// The node that makes the field undefined.
        node: String,
        /// Why, e.g. "transposed stride 2".
        reason: String,
    },
}

/// A serialisable axis name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AxisName {
    /// Vertical.
    Height,
    /// Horizontal.
    Width,
}

impl From<AxisName> for Axis {
    fn from(a: AxisName) -> Axis {
        match a {
            AxisName::Height => Axis::Height,
            AxisName::Width => Axis::Width,
        }
    }
}

impl Field {
    /// The field of the network input.
    pub const INPUT: Field = Field::Defined([AxisField::INPUT; 2]);

    /// The field after a single-input layer with footprint `window`, or
    /// `None` when its size, stride or padding would exceed [`AxisField::MAX`].
    pub fn then(&self, window: &Window) -> Option<Field> {
        match self {
            Field::Defined(f) => {
                let axis =
                    |a: usize| f[a].then(window.extent[a], window.stride[a], window.padding[a]);
                Some(Field::Defined([axis(0)?, axis(1)?]))
            }
            undefined => Some(undefined.clone()),
        }
    }

    /// The field where `inputs` (name, field) merge at node `merge`
    /// ([`Field::Undefined`] when there are none).
    pub fn merge(merge: &str, inputs: &[(&str, &Field)]) -> Field {
        let mut defined = Vec::with_capacity(inputs.len());
        for (_, field) in inputs {
            match field {
                Field::Defined(f) => defined.push(*f),
                undefined => return (*undefined).clone(),
            }
        }
        let Some(&first_field) = defined.first() else {
            return Field::Undefined {
                node: merge.to_string(),
                reason: "a merge of no inputs".to_string(),
            };
        };
        let mut merged = first_field;
        for (a, axis) in [AxisName::Height, AxisName::Width].into_iter().enumerate() {
            let first = first_field[a];
            let aligned = defined
                .iter()
                .all(|f| f[a].stride == first.stride && f[a].centre_x2() == first.centre_x2());
            if !aligned {
                let detail = describe(inputs, a);
                return Field::Misaligned {
                    merge: merge.to_string(),
                    axis,
                    detail,
                };
            }
            // The largest field (the last of equals, as `max_by_key`).
            merged[a] = defined.iter().map(|f| f[a]).fold(first, |best, f| {
                if f.size >= best.size {
                    f
                } else {
                    best
                }
            });
        }
        Field::Defined(merged)
    }
}

/// "a: stride 2, centre 0.5; b: stride 2, centre 1" for the error message.
fn describe(inputs: &[(&str, &Field)], axis: usize) -> String {
    inputs
        .iter()
        .filter_map(|(name, field)| match field {
            Field::Defined(f) => Some(format!(
                "\"{name}\": stride {}, centre {}",
                f[axis].stride,
                f[axis].centre()
            )),
            Field::Misaligned { .. } | Field::Undefined { .. } => None,
        })
        .collect::<Vec<_>>()
        .join("; ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_merge_of_no_inputs_is_undefined_not_a_panic() {
        match Field::merge("add", &[]) {
            Field::Undefined { node, .. } => assert_eq!(node, "add"),
            other => panic!("expected an undefined field, got {other:?}"),
        }
    }
}
