//! The structural ops of the table in [`super`]: flatten, reshape, the
//! matrix products as linear layers (a `MatMul` + `Add` pair fused in
//! `arith.rs`) and the channel `Concat`.

use crate::desc::Layer;
use crate::error::Result;
use crate::onnx::proto::NodeProto;
use crate::onnx::tensor::Const;
use crate::onnx::{attrs, Importer};
use crate::shape::Shape;

impl Importer {
    /// `Flatten(axis = 1)`.
    pub(crate) fn flatten(&mut self, n: &NodeProto) -> Result<()> {
        if attrs::int(n, "axis", 1) != 1 {
            return Err(self.unsupported(n, "Flatten on an axis other than 1"));
        }
        self.single(n, Layer::Flatten).map(drop)
    }

    /// `Reshape` to `(N, −1)` (a flatten) or to the same vector, or a step
    /// of a channel shuffle (`onnx/ops/shuffle.rs`).
    pub(crate) fn reshape(&mut self, n: &NodeProto) -> Result<()> {
        if self.shuffle_reshape(n)? {
            return Ok(());
        }
        let (_, shape) = self.activation_input(n, 0)?;
        let target = self
            .constant(n, 1)?
            .and_then(|c| c.as_ints())
            .ok_or_else(|| self.error(n, "the target shape must be a constant"))?;
        let features = match shape {
            Shape::Map {
                channels,
                height,
                width,
            } => channels.saturating_mul(height).saturating_mul(width),
            Shape::Vector { features } => features,
        };
        let flat = matches!(target[..], [b, f] if (b == 1 || b == 0 || b == -1) && (f == -1 || f as u64 == features as u64) && !(b == -1 && f == -1));
        if !flat {
            return Err(self.unsupported(
                n,
                &format!("Reshape to {target:?}; only a flatten to (N, {features}) is supported"),
            ));
        }
        if matches!(shape, Shape::Vector { .. }) {
            let v = self.act(n, 0)?.clone();
            return self.set(n, 0, v);
        }
        self.single(n, Layer::Flatten).map(drop)
    }

    /// `Gemm(A, B, C?)` with `alpha = beta = 1`, `transA = 0`.
    pub(crate) fn gemm(&mut self, n: &NodeProto) -> Result<()> {
        let unit = |name: &str| (attrs::float(n, name, 1.0) - 1.0).abs() < 1e-6;
        if !unit("alpha") || !unit("beta") || attrs::int(n, "transA", 0) != 0 {
            return Err(self.unsupported(n, "Gemm with alpha, beta ≠ 1 or transA"));
        }
        let w = self.weight_input(n, 1, 2)?;
        let w = if attrs::int(n, "transB", 0) != 0 {
            w
        } else {
            transpose(&w)
        };
        self.linear(n, w, 2)
    }

    /// `MatMul(X, W)` with a constant `(in, out)` weight.
    pub(crate) fn matmul(&mut self, n: &NodeProto) -> Result<()> {
        let w = self.weight_input(n, 1, 2)?;
        self.linear(n, transpose(&w), usize::MAX)
    }

    /// A linear layer with weight `(out, in)` and bias input `bias` (if any).
    fn linear(&mut self, n: &NodeProto, w: Const, bias: usize) -> Result<()> {
        let (_, shape) = self.activation_input(n, 0)?;
        let Shape::Vector { features } = shape else {
            return Err(self.unsupported(n, "a matrix product on a feature map (flatten first)"));
        };
        let [out, fan_in] = [w.dims[0], w.dims[1]];
        if fan_in != features {
            return Err(self.error(
                n,
                format!("weight (out {out}, in {fan_in}) on {features} features"),
            ));
        }
        let b = self.bias_input(n, bias, out)?;
        let name = self.single(
            n,
            Layer::Linear {
                out_features: out,
                bias: b.is_some(),
            },
        )?;
        self.weight(&name, "weight", &w, &[out, fan_in])?;
        if let Some(b) = b {
            self.weight(&name, "bias", &b, &[out])?;
        }
        Ok(())
    }

    /// `Concat` along channels (axis 1) of maps or vectors.
    pub(crate) fn concat(&mut self, n: &NodeProto) -> Result<()> {
        if attrs::int(n, "axis", 1) != 1 {
            return Err(self.unsupported(n, "Concat on an axis other than the channels"));
        }
        if n.input.len() == 1 {
            // `torch.cat([x], 1)` (DenseNet's first layer of a block): x itself.
            let v = self.act(n, 0)?.clone();
            return self.set(n, 0, v);
        }
        let mut inputs = Vec::new();
        let mut out: Option<Shape> = None;
        for i in 0..n.input.len() {
            let (node, shape) = self.activation_input(n, i)?;
            out = Some(match (out, shape) {
                (None, s) => s,
                (
                    Some(Shape::Map {
                        channels,
                        height,
                        width,
                    }),
                    Shape::Map {
                        channels: c,
                        height: h,
                        width: w,
                    },
                ) if (h, w) == (height, width) => Shape::map(channels.saturating_add(c), h, w),
                (Some(Shape::Vector { features }), Shape::Vector { features: f }) => {
                    Shape::Vector {
                        features: features.saturating_add(f),
                    }
                }
                (Some(a), b) => {
                    return Err(
                        self.error(n, format!("cannot concatenate {a:?} and {b:?} on channels"))
                    )
                }
            });
            inputs.push(node);
        }
        let out = out.ok_or_else(|| self.error(n, "Concat needs inputs"))?;
        self.push(n, Layer::Concat, inputs, out).map(drop)
    }
}

/// A `(r, c)` matrix transposed to `(c, r)` (only the dims of external
/// values not read).
fn transpose(w: &Const) -> Const {
    let [r, c] = [w.dims[0], w.dims[1]];
    if w.is_external() {
        return Const {
            dims: vec![c, r],
            data: w.data.clone(),
        };
    }
    let v = w.as_floats();
    let t = (0..c * r).map(|k| v[(k % r) * c + k / r]).collect();
    Const {
        dims: vec![c, r],
        data: crate::onnx::tensor::Data::F32(t),
    }
}
