//! Channel rearrangements of the table in [`super`]: ShuffleNet's channel
//! shuffle as exporters write it (`Reshape` to `(N, g, C/g, H, W)`,
//! `Transpose` with perm `[0, 2, 1, 3, 4]`, `Reshape` back to
//! `(N, C, H, W)`) becomes one `channel_shuffle` layer; `Slice` of channels
//! and `Split` on channels (PyTorch's `x[:, a:b]`, `chunk`, `split`)
//! become `slice` layers.

use crate::desc::Layer;
use crate::error::Result;
use crate::onnx::proto::NodeProto;
use crate::onnx::{attrs, Importer, Value};
use crate::shape::Shape;

impl Importer {
    /// A `Reshape` that starts or ends a channel shuffle: `Ok(true)` when
    /// handled, `Ok(false)` for other reshapes.
    pub(crate) fn shuffle_reshape(&mut self, n: &NodeProto) -> Result<bool> {
        match self.act(n, 0)?.clone() {
            Value::Act {
                node,
                shape: shape @ Shape::Map { .. },
            } => self.start_shuffle(n, node, shape),
            Value::Grouped {
                node,
                shape,
                groups,
                transposed,
            } => self.end_shuffle(n, node, shape, groups, transposed),
            _ => Ok(false),
        }
    }

    /// `Reshape`'s constant target shape, resolved for a map of `shape`.
    fn reshape_target(&self, n: &NodeProto, shape: Shape) -> Result<Option<Vec<i64>>> {
        let target = self
            .constant(n, 1)?
            .and_then(|c| c.as_ints())
            .ok_or_else(|| self.error(n, "the target shape must be a constant"))?;
        let [c, h, w] = dims(shape);
        Ok(resolve(&[1, c, h, w], &target))
    }

    /// Map `node` reshaped to `(N, g, C/g, H, W)`: a shuffle starts.
    fn start_shuffle(&mut self, n: &NodeProto, node: String, shape: Shape) -> Result<bool> {
        let [c, h, w] = dims(shape);
        let Some(&[_, g, k, th, tw]) = self.reshape_target(n, shape)?.as_deref() else {
            return Ok(false);
        };
        if g.checked_mul(k) != Some(c) || (th, tw) != (h, w) {
            return Ok(false);
        }
        let grouped = Value::Grouped {
            node,
            shape,
            groups: g as usize,
            transposed: false,
        };
        self.set(n, 0, grouped).map(|()| true)
    }

    /// A grouped map reshaped back to `(N, C, H, W)`: a channel shuffle when
    /// its group axes were swapped, else the map itself.
    fn end_shuffle(
        &mut self,
        n: &NodeProto,
        node: String,
        shape: Shape,
        groups: usize,
        transposed: bool,
    ) -> Result<bool> {
        let [c, h, w] = dims(shape);
        if self.reshape_target(n, shape)? != Some(vec![1, c, h, w]) {
            let what = "a 5-D grouped map reshaped to other than its (N, C, H, W)";
            return Err(self.unsupported(n, what));
        }
        if !transposed {
            return self.set(n, 0, Value::Act { node, shape }).map(|()| true);
        }
        let layer = Layer::ChannelShuffle { groups };
        self.push(n, layer, vec![node], shape).map(|_| true)
    }

    /// `Transpose`: the group axes of a channel shuffle, or the identity.
    pub(crate) fn transpose(&mut self, n: &NodeProto) -> Result<()> {
        let perm = attrs::ints(n, "perm").unwrap_or_default();
        match self.act(n, 0)?.clone() {
            Value::Grouped {
                node,
                shape,
                groups,
                transposed,
            } if perm == [0, 2, 1, 3, 4] => {
                let swapped = Value::Grouped {
                    node,
                    shape,
                    groups,
                    transposed: !transposed,
                };
                self.set(n, 0, swapped)
            }
            v @ Value::Act { .. } if perm.iter().enumerate().all(|(i, &p)| p == i as i64) => {
                self.set(n, 0, v)
            }
            _ => Err(self.unsupported(
                n,
                &format!(
                    "Transpose with perm {perm:?}; the group axes of a channel shuffle are supported"
                ),
            )),
        }
    }

    /// `Slice(data, starts, ends, axes?, steps?)` of channels, step 1.
    pub(crate) fn slice(&mut self, n: &NodeProto) -> Result<()> {
        let (input, shape) = self.activation_input(n, 0)?;
        let ints = |i: usize| -> Result<Option<Vec<i64>>> {
            Ok(self.constant(n, i)?.and_then(|c| c.as_ints()))
        };
        let rank = if matches!(shape, Shape::Map { .. }) {
            4
        } else {
            2
        };
        let (starts, ends) = (ints(1)?.unwrap_or_default(), ints(2)?.unwrap_or_default());
        let axes = ints(3)?.unwrap_or_else(|| (0..starts.len() as i64).collect());
        let steps = ints(4)?.unwrap_or_else(|| vec![1; starts.len()]);
        let channels_only = axes.len() == 1
            && (axes[0] == 1 || axes[0] == 1 - rank)
            && starts.len() == 1
            && ends.len() == 1
            && steps == [1];
        if !channels_only {
            return Err(self.unsupported(
                n,
                &format!("Slice on axes {axes:?} with steps {steps:?}; channels with step 1 are supported"),
            ));
        }
        let c = shape.channels() as i64;
        let clamp = |v: i64| (if v < 0 { v.saturating_add(c) } else { v }).clamp(0, c) as usize;
        let (start, end) = (clamp(starts[0]), clamp(ends[0]));
        let out = narrowed(shape, end.saturating_sub(start));
        self.push(n, Layer::Slice { start, end }, vec![input], out)
            .map(drop)
    }

    /// `Split` on channels into the sizes of input 1 or attribute `split`,
    /// else into `num_outputs` (or as many outputs as `n` has) equal parts,
    /// the last one smaller when they do not divide.
    pub(crate) fn split(&mut self, n: &NodeProto) -> Result<()> {
        let (input, shape) = self.activation_input(n, 0)?;
        let rank = if matches!(shape, Shape::Map { .. }) {
            4
        } else {
            2
        };
        let axis = attrs::int(n, "axis", 0);
        if axis != 1 && axis != 1 - rank {
            return Err(self.unsupported(
                n,
                &format!("Split on axis {axis}; the channels are supported"),
            ));
        }
        let sizes = self.split_sizes(n, shape.channels())?;
        let mut start = 0;
        for (i, &size) in sizes.iter().enumerate() {
            let end = start + size as usize;
            let layer = Layer::Slice { start, end };
            self.push_output(
                n,
                i,
                layer,
                vec![input.clone()],
                narrowed(shape, end - start),
            )?;
            start = end;
        }
        Ok(())
    }
}

impl Importer {
    /// The channels of each output of `Split` `n` on `c` channels: input 1,
    /// attribute `split`, or equal parts (the last smaller), checked to be
    /// positive, one per output, summing to `c`.
    fn split_sizes(&self, n: &NodeProto, c: usize) -> Result<Vec<i64>> {
        let given = self.constant(n, 1)?.and_then(|t| t.as_ints());
        let parts = n.output.len().max(1);
        let sizes = match given.or_else(|| attrs::ints(n, "split")) {
            Some(s) => s,
            // `num_outputs` (opset 18) must name the outputs there are.
            None if attrs::int(n, "num_outputs", parts as i64) != parts as i64 => {
                return Err(self.error(n, format!("num_outputs differs from the {parts} outputs")))
            }
            None => {
                let each = c.div_ceil(parts) as i64;
                (0..parts)
                    .map(|i| each.min(c as i64 - each * i as i64))
                    .collect()
            }
        };
        let total = sizes.iter().try_fold(0i64, |a, &s| a.checked_add(s));
        if sizes.len() != n.output.len() || sizes.iter().any(|&s| s <= 0) || total != Some(c as i64)
        {
            let outputs = n.output.len();
            let detail = format!("split sizes {sizes:?} for {outputs} outputs of {c} channels");
            return Err(self.error(n, detail));
        }
        Ok(sizes)
    }
}

/// `[C, H, W]` of a map.
fn dims(shape: Shape) -> [i64; 3] {
    match shape {
        Shape::Map {
            channels,
            height,
            width,
        } => [channels as i64, height as i64, width as i64],
        Shape::Vector { features } => [features as i64, 1, 1],
    }
}

/// `shape` with `c` channels (features).
fn narrowed(shape: Shape, c: usize) -> Shape {
    match shape {
        Shape::Map { height, width, .. } => Shape::map(c, height, width),
        Shape::Vector { .. } => Shape::Vector { features: c },
    }
}

/// ONNX `Reshape`'s target for an input of `input` dims: `0` copies the
/// input's dim, one `−1` takes what is left; `None` when it does not fit.
fn resolve(input: &[i64], target: &[i64]) -> Option<Vec<i64>> {
    let total = product(input.iter().copied())?;
    let mut out: Vec<i64> = target
        .iter()
        .enumerate()
        .map(|(i, &t)| {
            if t == 0 {
                input.get(i).copied().unwrap_or(0)
            } else {
                t
            }
        })
        .collect();
    let known = product(out.iter().copied().filter(|&d| d != -1))?;
    match out.iter().filter(|&&d| d == -1).count() {
        0 => {}
        1 if known > 0 && total % known == 0 => {
            let slot = out.iter().position(|&d| d == -1)?;
            out[slot] = total / known;
        }
        _ => return None,
    }
    let fits = out.iter().all(|&d| d > 0) && product(out.iter().copied()) == Some(total);
    fits.then_some(out)
}

/// The product of `dims`, `None` on overflow.
fn product(mut dims: impl Iterator<Item = i64>) -> Option<i64> {
    dims.try_fold(1i64, |a, d| a.checked_mul(d))
}
