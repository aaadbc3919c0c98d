//! `Resize` (opset 11+) and `Upsample` (opset 9) by integer factors in
//! nearest mode, as PyTorch exports `nn.Upsample(scale_factor=s)`: the
//! `upsample` layer. With an integer factor `s`, output pixel `x` reads
//! input `⌊x/s⌋` under `asymmetric` coordinates with `floor`, and also under
//! `half_pixel` / `pytorch_half_pixel` with either rounding
//! (`(x + ½)/s − ½` rounds to `⌊x/s⌋` for every `x`). `linear` mode with
//! `half_pixel` / `pytorch_half_pixel` coordinates (PyTorch's bilinear,
//! `align_corners=False`) is the bilinear `upsample`; other combinations,
//! `cubic` mode and fractional factors are typed errors.

use crate::desc::Layer;
use crate::error::Result;
use crate::onnx::proto::NodeProto;
use crate::onnx::{attrs, Importer};
use crate::shape::Shape;
use crate::spec::Pair;

impl Importer {
    /// `Resize(X, roi?, scales?, sizes?)` or `Upsample(X, scales)`.
    pub(crate) fn resize(&mut self, n: &NodeProto) -> Result<()> {
        let mode = attrs::string(n, "mode", "nearest");
        let coordinates = attrs::string(n, "coordinate_transformation_mode", "half_pixel");
        let rounding = attrs::string(n, "nearest_mode", "round_prefer_floor");
        let half_pixel = matches!(coordinates.as_str(), "half_pixel" | "pytorch_half_pixel");
        let floor_like = match (coordinates.as_str(), rounding.as_str()) {
            ("asymmetric", "floor") => true,
            (_, r) if half_pixel => r.starts_with("round_prefer"),
            _ => n.op_type == "Upsample",
        };
        let bilinear = mode == "linear" && half_pixel && n.op_type == "Resize";
        if !(bilinear || (mode == "nearest" && floor_like)) {
            let what = format!(
                "mode {mode}, coordinate_transformation_mode {coordinates}, nearest_mode \
                 {rounding}; nearest or half-pixel linear upsampling by integer factors is supported"
            );
            return Err(self.unsupported(n, &what));
        }
        let (_, shape) = self.activation_input(n, 0)?;
        let scale = self.integer_scale(n, shape)?;
        let layer = Layer::Upsample {
            scale: Pair(scale),
            bilinear,
        };
        self.single(n, layer).map(drop)
    }

    /// The factors `[sh, sw]` from the constant `scales` (input 2 of
    /// `Resize`, 1 of `Upsample`) or `sizes` (input 3 of `Resize`).
    fn integer_scale(&self, n: &NodeProto, shape: Shape) -> Result<[usize; 2]> {
        let [h, w] = match shape {
            Shape::Map { height, width, .. } => [height, width],
            Shape::Vector { .. } => return Err(self.unsupported(n, "resizing a vector")),
        };
        let scales_at = if n.op_type == "Upsample" { 1 } else { 2 };
        let scales = self.constant(n, scales_at)?.map(|c| c.as_floats());
        let factors: Option<Vec<f64>> = match scales.filter(|s| !s.is_empty()) {
            Some(s) => Some(s.iter().map(|&v| f64::from(v)).collect()),
            None => self.constant(n, 3)?.and_then(|c| c.as_ints()).map(|sizes| {
                let from = [1, 1, h as i64, w as i64];
                (sizes.iter().zip(from))
                    .map(|(&to, from)| to as f64 / from as f64)
                    .collect()
            }),
        };
        let whole =
            |v: f64| ((1.0..=65536.0).contains(&v) && v.fract() == 0.0).then_some(v as usize);
        match factors.as_deref() {
            Some(&[nb, c, sh, sw]) if nb == 1.0 && c == 1.0 => {
                if let (Some(sh), Some(sw)) = (whole(sh), whole(sw)) {
                    return Ok([sh, sw]);
                }
                Err(self.unsupported(n, &format!("factors {factors:?}; whole factors ≥ 1 on H and W are supported")))
            }
            _ => Err(self.unsupported(n, &format!("factors {factors:?}; [1, 1, sh, sw] from constant scales or sizes is supported"))),
        }
    }
}
