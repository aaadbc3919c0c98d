//! `Pad`: its padding stays pending on the value and folds into the next
//! `Conv` (any mode: zero padding adds to the conv's own, reflect / edge
//! become its `padding_mode`) or `AveragePool` (zero padding only).

use crate::error::Result;
use crate::onnx::proto::NodeProto;
use crate::onnx::{attrs, Importer, Value};
use crate::shape::Shape;
use huashi_conv::{Padding, PaddingMode};

impl Importer {
    /// `Pad` on H and W (zeros, reflect or edge): kept as pending padding
    /// of its input, folded into the `Conv` or `AveragePool` that reads it
    /// (zeros are counted by the average, as ONNX's padded data).
    pub(crate) fn pad(&mut self, n: &NodeProto) -> Result<()> {
        let mode = attrs::string(n, "mode", "constant");
        let (pads, value) = match attrs::ints(n, "pads") {
            Some(p) => (p, attrs::float(n, "value", 0.0)),
            None => {
                let pads = self
                    .constant(n, 1)?
                    .and_then(|c| c.as_ints())
                    .unwrap_or_default();
                let value = self.constant(n, 2)?;
                (
                    pads,
                    value.map_or(0.0, |c| c.as_floats().first().copied().unwrap_or(0.0)),
                )
            }
        };
        let [0, 0, top, left, 0, 0, bottom, right] = pads[..] else {
            return Err(self.unsupported(
                n,
                &format!("pads {pads:?}; padding of H and W of a map is supported"),
            ));
        };
        let mode = match (mode.as_str(), value) {
            ("constant", 0.0) => PaddingMode::Zeros,
            ("reflect", _) => PaddingMode::Reflect,
            ("edge", _) => PaddingMode::Replicate,
            _ => {
                return Err(self.unsupported(
                    n,
                    &format!(
                        "{mode} padding with value {value}; zero, reflect and edge padding \
                         are supported"
                    ),
                ))
            }
        };
        let side = |v: i64| usize::try_from(v).ok().filter(|&v| v <= 1 << 20);
        let (Some(t), Some(b), Some(l), Some(r)) =
            (side(top), side(bottom), side(left), side(right))
        else {
            return Err(self.unsupported(
                n,
                &format!("pads {pads:?}; non-negative pads up to 2^20 are supported"),
            ));
        };
        let (node, shape, [t0, b0, l0, r0]) = self.padded_input(n, 0)?;
        if [t0, b0, l0, r0] != [0; 4] && self.pad_mode(n, 0)? != mode {
            return Err(self.unsupported(n, "two Pads of different modes in a row"));
        }
        let pads = [t + t0, b + b0, l + l0, r + r0];
        self.set(
            n,
            0,
            Value::Padded {
                node,
                shape,
                pads,
                mode,
            },
        )
    }

    /// The mode of the padding pending on input `i` (`Zeros` when none).
    pub(crate) fn pad_mode(&self, n: &NodeProto, i: usize) -> Result<PaddingMode> {
        Ok(match self.act(n, i)? {
            Value::Padded { mode, .. } => *mode,
            _ => PaddingMode::Zeros,
        })
    }

    /// Input `i` as an activation and the padding pending on it
    /// (`[top, bottom, left, right]`, from `Pad` nodes).
    pub(crate) fn padded_input(
        &self,
        n: &NodeProto,
        i: usize,
    ) -> Result<(String, Shape, [usize; 4])> {
        match self.act(n, i)? {
            Value::Padded {
                node, shape, pads, ..
            } => Ok((node.clone(), *shape, *pads)),
            _ => self
                .activation_input(n, i)
                .map(|(node, shape)| (node, shape, [0; 4])),
        }
    }
}

/// `padding` of a window op after the zero padding `extra` of a `Pad`.
pub(crate) fn with_pad(
    imp: &Importer,
    n: &NodeProto,
    padding: Padding,
    extra: [usize; 4],
) -> Result<Padding> {
    let [t, b, l, r] = extra;
    Ok(match padding {
        _ if extra == [0; 4] => padding,
        Padding::Valid => Padding::Explicit {
            top: t,
            bottom: b,
            left: l,
            right: r,
        },
        Padding::Explicit {
            top,
            bottom,
            left,
            right,
        } => Padding::Explicit {
            top: top + t,
            bottom: bottom + b,
            left: left + l,
            right: right + r,
        },
        _ => return Err(imp.unsupported(n, "auto_pad SAME after a Pad")),
    })
}
