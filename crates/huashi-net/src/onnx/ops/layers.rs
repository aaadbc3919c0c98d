//! The weighted and structural ops of the table in [`super`]: their
//! attributes and weights checked and turned into huashi-net layers.

use super::{padding, pair_list, positive, spec, with_pad};
use crate::desc::Layer;
use crate::error::Result;
use crate::onnx::proto::NodeProto;
use crate::onnx::tensor::{Const, Data};
use crate::onnx::{attrs, Importer};
use crate::shape::Shape;
use crate::spec::Pair;
use huashi_conv::{Padding, PaddingMode};

impl Importer {
    /// A weight input `i` of `n` with `rank` dims.
    pub(crate) fn weight_input(&self, n: &NodeProto, i: usize, rank: usize) -> Result<Const> {
        let w = self
            .weight_constant(n, i)?
            .ok_or_else(|| self.error(n, format!("input {i} (a weight) is required")))?;
        if w.dims.len() != rank {
            return Err(self.unsupported(
                n,
                &format!("a {}-D weight; {rank}-D is supported", w.dims.len()),
            ));
        }
        Ok(w)
    }

    /// An optional bias input `i` of `n` with `len` values.
    pub(crate) fn bias_input(&self, n: &NodeProto, i: usize, len: usize) -> Result<Option<Const>> {
        let b = self.weight_constant(n, i)?;
        match b {
            Some(b) if b.len() != len => Err(self.error(
                n,
                format!("bias has {} values, the layer {len} outputs", b.len()),
            )),
            b => Ok(b),
        }
    }

    /// Strides, dilations, kernel `[kh, kw]` and the input map of a window op.
    fn window(
        &self,
        n: &NodeProto,
        kernel: [usize; 2],
    ) -> Result<(Pair, Pair, [usize; 3], String)> {
        let (input, shape, _) = self.padded_input(n, 0)?;
        let Shape::Map {
            channels,
            height,
            width,
        } = shape
        else {
            return Err(self.unsupported(n, "a window op on a feature vector"));
        };
        let stride = positive(self, n, "strides", &pair_list(self, n, "strides", 2, 1)?)?;
        let dilation = positive(
            self,
            n,
            "dilations",
            &pair_list(self, n, "dilations", 2, 1)?,
        )?;
        if let Some(k) = attrs::ints(n, "kernel_shape") {
            if k.iter()
                .map(|&v| v as u64)
                .ne(kernel.iter().map(|&v| v as u64))
            {
                return Err(self.error(
                    n,
                    format!("kernel_shape {k:?} differs from the weight's {kernel:?}"),
                ));
            }
        }
        Ok((stride, dilation, [channels, height, width], input))
    }

    /// `Conv(X, W, B?)`.
    pub(crate) fn conv(&mut self, n: &NodeProto) -> Result<()> {
        let w = self.weight_input(n, 1, 4)?;
        let [o, cg, kh, kw] = [w.dims[0], w.dims[1], w.dims[2], w.dims[3]];
        let (stride, dilation, [c, h, wd], input) = self.window(n, [kh, kw])?;
        let groups = usize::try_from(attrs::int(n, "group", 1)).unwrap_or(0);
        if groups == 0 || cg.checked_mul(groups) != Some(c) || o % groups != 0 {
            return Err(self.error(
                n,
                format!(
                    "weight {:?} with group {groups} does not fit {c} input channels",
                    w.dims
                ),
            ));
        }
        let b = self.bias_input(n, 2, o)?;
        let extent = [dilation.0[0] * (kh - 1) + 1, dilation.0[1] * (kw - 1) + 1];
        let pending = self.padded_input(n, 0)?.2;
        let padding_mode = self.pad_mode(n, 0)?;
        let own = padding(self, n, [h, wd], extent, stride.0)?;
        let zero = matches!(own, Padding::Valid) || own == Padding::symmetric(0, 0);
        if padding_mode != PaddingMode::Zeros && !zero {
            let what = "a reflect/edge Pad before a Conv that pads again";
            return Err(self.unsupported(n, what));
        }
        let pad = with_pad(self, n, own, pending)?;
        let layer = Layer::Conv {
            padding_mode,
            out_channels: o,
            kernel: Pair([kh, kw]),
            stride,
            dilation,
            padding: spec(pad),
            groups,
            bias: b.is_some(),
        };
        let name = self.single_from(n, layer, input, [c, h, wd])?;
        self.weight(&name, "weight", &w, &w.dims)?;
        if let Some(b) = b {
            self.weight(&name, "bias", &b, &[o])?;
        }
        Ok(())
    }

    /// `ConvTranspose(X, W, B?)`: `output_shape` resolves to output padding.
    pub(crate) fn conv_transpose(&mut self, n: &NodeProto) -> Result<()> {
        let w = self.weight_input(n, 1, 4)?;
        let [ci, og, kh, kw] = [w.dims[0], w.dims[1], w.dims[2], w.dims[3]];
        let (stride, dilation, [c, h, wd], input) = self.window(n, [kh, kw])?;
        if self.padded_input(n, 0)?.2 != [0; 4] {
            return Err(self.unsupported(n, "a Pad before ConvTranspose"));
        }
        let groups = usize::try_from(attrs::int(n, "group", 1)).unwrap_or(0);
        if groups == 0 || ci != c || c % groups != 0 {
            return Err(self.error(
                n,
                format!(
                    "weight {:?} with group {groups} does not fit {c} input channels",
                    w.dims
                ),
            ));
        }
        let (pads, out_pad) = self.transposed_pads(n, [h, wd], [kh, kw], stride, dilation)?;
        let o = og * groups;
        let b = self.bias_input(n, 2, o)?;
        let layer = Layer::ConvTranspose {
            out_channels: o,
            kernel: Pair([kh, kw]),
            stride,
            dilation,
            padding: spec(Padding::Explicit {
                top: pads[0],
                left: pads[1],
                bottom: pads[2],
                right: pads[3],
            }),
            output_padding: Pair([out_pad[0], out_pad[1]]),
            groups,
            bias: b.is_some(),
        };
        let name = self.single_from(n, layer, input, [c, h, wd])?;
        self.weight(&name, "weight", &w, &w.dims)?;
        if let Some(b) = b {
            self.weight(&name, "bias", &b, &[o])?;
        }
        Ok(())
    }

    /// `ConvTranspose`'s pads `[top, left, bottom, right]` and output
    /// padding: explicit (`output_shape` resolved into output padding), or
    /// `auto_pad` `VALID` (none), `SAME_UPPER` / `SAME_LOWER` (output
    /// `i·s`: `total = s·(i − 1) + output_padding + d·(k − 1) + 1 − i·s`
    /// split with the extra at the end / start; a negative total becomes
    /// output padding).
    fn transposed_pads(
        &self,
        n: &NodeProto,
        input: [usize; 2],
        kernel: [usize; 2],
        stride: Pair,
        dilation: Pair,
    ) -> Result<(Vec<usize>, Vec<usize>)> {
        let mut out_pad = pair_list(self, n, "output_padding", 2, 0)?;
        let full = |a: usize| (input[a] - 1) * stride.0[a] + dilation.0[a] * (kernel[a] - 1) + 1;
        let mode = attrs::string(n, "auto_pad", "NOTSET");
        let pads = match mode.as_str() {
            "NOTSET" => pair_list(self, n, "pads", 4, 0)?,
            "VALID" => return Ok((vec![0; 4], out_pad)),
            "SAME_UPPER" | "SAME_LOWER" => {
                let full = [full(0), full(1)];
                return Ok(same_transposed(&mode, input, full, stride.0, out_pad));
            }
            other => {
                return Err(self.error(n, format!("auto_pad \"{other}\" is not an ONNX value")))
            }
        };
        if let Some(target) = attrs::ints(n, "output_shape") {
            let target = &target[target.len().saturating_sub(2)..];
            for a in 0..2 {
                let natural = full(a) as i64 - (pads[a] + pads[a + 2]) as i64;
                let extra = target.get(a).map_or(0, |&t| t - natural);
                out_pad[a] = usize::try_from(extra).map_err(|_| {
                    self.error(
                        n,
                        format!("output_shape {target:?} is smaller than the natural output"),
                    )
                })?;
            }
        }
        Ok((pads, out_pad))
    }

    /// A single-input layer on `input` of map shape `[c, h, w]`.
    fn single_from(
        &mut self,
        n: &NodeProto,
        layer: Layer,
        input: String,
        [c, h, w]: [usize; 3],
    ) -> Result<String> {
        let at = crate::steps::At {
            node: &n.name,
            op: layer.op(),
        };
        let out = crate::steps::step(&at, &layer, Shape::map(c, h, w))?.output;
        self.push(n, layer, vec![input], out)
    }

    /// `MaxPool` / `AveragePool`.
    pub(crate) fn pool(&mut self, n: &NodeProto) -> Result<()> {
        let k = pair_list(self, n, "kernel_shape", 2, 0)?;
        let kernel = positive(self, n, "kernel_shape", &k)?;
        let (stride, dilation, [c, h, w], input) = self.window(n, kernel.0)?;
        if dilation.0 != [1, 1] {
            return Err(self.unsupported(n, "dilated pooling"));
        }
        let max = n.op_type == "MaxPool";
        let pending = self.padded_input(n, 0)?.2;
        if pending != [0; 4] && self.pad_mode(n, 0)? != PaddingMode::Zeros {
            return Err(self.unsupported(n, "a reflect/edge Pad before a pool"));
        }
        let include = attrs::int(n, "count_include_pad", 0) != 0;
        if pending != [0; 4]
            && (max
                || (!include && attrs::ints(n, "pads").is_some_and(|p| p.iter().any(|&v| v != 0))))
        {
            return Err(
                self.unsupported(n, "a zero Pad before MaxPool, or mixed with uncounted pads")
            );
        }
        let mut pad = padding(self, n, [h, w], kernel.0, stride.0)?;
        if attrs::int(n, "ceil_mode", 0) != 0 {
            pad = ceil_padding(pad, [h, w], kernel.0, stride.0);
            if !max && pad != padding(self, n, [h, w], kernel.0, stride.0)? {
                return Err(
                    self.unsupported(n, "ceil_mode average pooling whose last window is partial")
                );
            }
        }
        let explicit_pad = matches!(pad, Padding::Explicit { top, bottom, left, right } if top + bottom + left + right > 0);
        if !max && explicit_pad && !include {
            return Err(self.unsupported(
                n,
                "average pooling over explicit pads with count_include_pad = 0",
            ));
        }
        let pad = with_pad(self, n, pad, pending)?;
        let (kernel, stride, padding) = (kernel, Some(stride), spec(pad));
        let layer = if max {
            Layer::MaxPool {
                kernel,
                stride,
                padding,
            }
        } else {
            Layer::AvgPool {
                kernel,
                stride,
                padding,
            }
        };
        self.single_from(n, layer, input, [c, h, w])?;
        Ok(())
    }

    /// `BatchNormalization(X, scale, B, mean, var)`.
    pub(crate) fn batch_norm(&mut self, n: &NodeProto) -> Result<()> {
        let (_, shape) = self.activation_input(n, 0)?;
        let c = shape.channels();
        let mut tensors = Vec::new();
        for i in 1..5 {
            let t = self
                .weight_constant(n, i)?
                .ok_or_else(|| self.error(n, format!("input {i} is required")))?;
            if t.len() != c {
                return Err(self.error(
                    n,
                    format!("input {i} has {} values for {c} channels", t.len()),
                ));
            }
            tensors.push(t);
        }
        let eps = attrs::float(n, "epsilon", 1e-5);
        if !(eps.is_finite() && eps >= 0.0) {
            return Err(self.error(
                n,
                format!("epsilon {eps} is not a finite non-negative number"),
            ));
        }
        if !tensors[3].is_external() {
            let var = tensors[3]
                .as_floats()
                .iter()
                .map(|v| v + (eps - 1e-5))
                .collect();
            tensors[3].data = Data::F32(var);
        }
        let name = self.single(n, Layer::BatchNorm { affine: true })?;
        let suffixes = ["weight", "bias", "running_mean", "running_var"];
        for (suffix, value) in suffixes.iter().zip(&tensors) {
            self.weight(&name, suffix, value, &[c])?;
        }
        Ok(())
    }
}

/// `SAME_UPPER` / `SAME_LOWER` pads of a transposed convolution whose
/// unpadded output is `full`, so that the output is `i·s` (see
/// `transposed_pads`); returns the pads and the output padding.
fn same_transposed(
    mode: &str,
    input: [usize; 2],
    full: [usize; 2],
    stride: [usize; 2],
    mut out_pad: Vec<usize>,
) -> (Vec<usize>, Vec<usize>) {
    let mut pads = vec![0; 4];
    for a in 0..2 {
        let total = (full[a] + out_pad[a]) as i64 - (input[a] * stride[a]) as i64;
        if total < 0 {
            out_pad[a] += total.unsigned_abs() as usize;
            continue;
        }
        let (small, large) = (total as usize / 2, total as usize - total as usize / 2);
        let upper = mode == "SAME_UPPER";
        pads[a] = if upper { small } else { large };
        pads[a + 2] = if upper { large } else { small };
    }
    (pads, out_pad)
}

/// Explicit padding plus the bottom/right rows `ceil_mode` needs.
fn ceil_padding(pad: Padding, [h, w]: [usize; 2], k: [usize; 2], s: [usize; 2]) -> Padding {
    let Padding::Explicit {
        top,
        bottom,
        left,
        right,
    } = pad
    else {
        return pad;
    };
    let extra = |i: usize, lo: usize, hi: usize, a: usize| {
        let span = (i + lo + hi).saturating_sub(k[a]);
        let mut e = (s[a] - span % s[a]) % s[a];
        // PyTorch/ONNX: the last window must start inside the input or left padding.
        if e > 0 && (span / s[a] + 1) * s[a] >= i + lo {
            e = 0;
        }
        e
    };
    Padding::Explicit {
        top,
        left,
        bottom: bottom + extra(h, top, bottom, 0),
        right: right + extra(w, left, right, 1),
    }
}
