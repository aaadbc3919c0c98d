//! Saving and loading trained ESNs.
//!
//! Format `huashi-esn`, version [`FORMAT_VERSION`]: a
//! [safetensors](https://github.com/huggingface/safetensors) file whose JSON
//! header metadata holds
//!
//! * `format` = `"huashi-esn"`, `format_version` = `"1"`;
//! * `config`: the [`EsnConfig`] as JSON; `layout`: the readout's
//!   [`FeatureLayout`] as JSON; `user`: caller metadata as a JSON object;
//!
//! and whose tensors are, for every layer `l` and matrix `M` in
//! `w`, `w_in`, `w_fb` (if present): `layer{l}.M.shape` (u64 `[rows, cols]`),
//! `layer{l}.M.indptr` (u64), `layer{l}.M.indices` (u32), `layer{l}.M.values`
//! (f64) in CSR form; `layer{l}.bias` (f64 `[N]`); and `readout.weights`
//! (f64 `[F, m]`, row-major). Weights are stored bit-exactly, so a loaded
//! network predicts exactly as the saved one. Files are written to a
//! temporary file in the same directory, flushed, and renamed over the
//! target. Any malformed or foreign file is an [`Error::Format`].

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use faer::Mat;
use safetensors::tensor::{Dtype, SafeTensors, TensorView};

use crate::error::{Error, Result};
use crate::esn::{Esn, EsnConfig};
use crate::readout::{FeatureLayout, LinearReadout};
use crate::reservoir::Reservoir;
use crate::sparse::CsrMatrix;
use crate::stack::ReservoirStack;

/// The format name written in every file.
pub const FORMAT_NAME: &str = "huashi-esn";
/// The format version this crate writes and reads.
pub const FORMAT_VERSION: u32 = 1;
/// Largest input/feedback dimension accepted from a file.
const MAX_DIM: usize = 1 << 24;

fn format_err(reason: impl Into<String>) -> Error {
    Error::Format {
        reason: reason.into(),
    }
}

/// Tensors being collected for writing: name → (dtype, shape, bytes).
type Tensors = Vec<(String, Dtype, Vec<usize>, Vec<u8>)>;

fn push_f64(t: &mut Tensors, name: String, shape: Vec<usize>, v: &[f64]) {
    t.push((
        name,
        Dtype::F64,
        shape,
        v.iter().flat_map(|x| x.to_le_bytes()).collect(),
    ));
}

fn push_csr(t: &mut Tensors, name: &str, m: &CsrMatrix) {
    let u64s = |v: &[usize]| v.iter().flat_map(|x| (*x as u64).to_le_bytes()).collect();
    t.push((
        format!("{name}.shape"),
        Dtype::U64,
        vec![2],
        u64s(&[m.nrows(), m.ncols()]),
    ));
    t.push((
        format!("{name}.indptr"),
        Dtype::U64,
        vec![m.indptr().len()],
        u64s(m.indptr()),
    ));
    let idx = m.indices().iter().flat_map(|x| x.to_le_bytes()).collect();
    t.push((format!("{name}.indices"), Dtype::U32, vec![m.nnz()], idx));
    push_f64(t, format!("{name}.values"), vec![m.nnz()], m.values());
}

impl Esn {
    /// Serialises the network with caller `metadata` (e.g. the data
    /// transform used) into the `huashi-esn` format.
    ///
    /// # Errors
    /// Only if the header or the tensors cannot be encoded.
    pub fn to_bytes(&self, metadata: &BTreeMap<String, String>) -> Result<Vec<u8>> {
        let t = self.tensors();
        let header = self.header(metadata)?;
        let views = t
            .iter()
            .map(|(n, d, s, b)| TensorView::new(*d, s.clone(), b).map(|v| (n.clone(), v)))
            .collect::<std::result::Result<Vec<_>, _>>()
            .map_err(|e| format_err(format!("cannot encode tensors: {e}")))?;
        safetensors::serialize(views, Some(header))
            .map_err(|e| format_err(format!("cannot encode tensors: {e}")))
    }

    /// Every weight as a named little-endian tensor.
    fn tensors(&self) -> Tensors {
        let mut t: Tensors = Vec::new();
        for (l, layer) in self.reservoir().layers().iter().enumerate() {
            push_csr(&mut t, &format!("layer{l}.w"), layer.w());
            push_csr(&mut t, &format!("layer{l}.w_in"), layer.w_in());
            if let Some(fb) = layer.w_fb() {
                push_csr(&mut t, &format!("layer{l}.w_fb"), fb);
            }
            let shape = vec![layer.units()];
            push_f64(&mut t, format!("layer{l}.bias"), shape, layer.bias());
        }
        let w = self.readout().weights();
        let row_major: Vec<f64> = (0..w.nrows())
            .flat_map(|i| (0..w.ncols()).map(move |j| w[(i, j)]))
            .collect();
        let shape = vec![w.nrows(), w.ncols()];
        push_f64(&mut t, "readout.weights".into(), shape, &row_major);
        t
    }

    /// The header metadata: format, version, config, layout, user fields.
    fn header(&self, metadata: &BTreeMap<String, String>) -> Result<HashMap<String, String>> {
        let json = |e: serde_json::Error| format_err(format!("cannot encode header: {e}"));
        let config = serde_json::to_string(self.config()).map_err(json)?;
        let layout = serde_json::to_string(&self.readout().layout()).map_err(json)?;
        let user = serde_json::to_string(metadata).map_err(json)?;
        Ok(HashMap::from([
            ("format".to_string(), FORMAT_NAME.to_string()),
            ("format_version".to_string(), FORMAT_VERSION.to_string()),
            ("config".to_string(), config),
            ("layout".to_string(), layout),
            ("user".to_string(), user),
        ]))
    }

    /// Parses bytes written by [`Esn::to_bytes`]; returns the network and the
    /// caller metadata.
    ///
    /// # Errors
    /// [`crate::Error::Format`] for anything that is not a valid model of this
    /// version.
    pub fn from_bytes(bytes: &[u8]) -> Result<(Esn, BTreeMap<String, String>)> {
        let st = SafeTensors::deserialize(bytes)
            .map_err(|e| format_err(format!("not a safetensors file: {e}")))?;
        let (config, layout, user) = read_header(bytes)?;
        let layers = (0..config.layers.len())
            .map(|l| read_layer(&st, &config, l))
            .collect::<Result<Vec<_>>>()?;
        let stack = ReservoirStack::from_layers(layers)?;
        if layout != config.layout(stack.inputs()) {
            return Err(format_err(format!(
                "readout layout {layout:?} does not match the layers"
            )));
        }
        let weights = read_f64_matrix(&st, "readout.weights")?;
        let readout = LinearReadout::new(layout, weights)?;
        Ok((Esn::from_parts(config, stack, readout)?, user))
    }

    /// Saves atomically to `path` (no caller metadata).
    ///
    /// # Errors
    /// The file cannot be written.
    pub fn save(&self, path: impl AsRef<Path>) -> Result<()> {
        self.save_with_metadata(path, &BTreeMap::new())
    }

    /// Saves atomically to `path` with caller metadata.
    ///
    /// # Errors
    /// The file cannot be written.
    pub fn save_with_metadata(
        &self,
        path: impl AsRef<Path>,
        metadata: &BTreeMap<String, String>,
    ) -> Result<()> {
        huashi_io::write_bytes(path, &self.to_bytes(metadata)?)?;
        Ok(())
    }

    /// Loads a network saved by [`Esn::save`].
    ///
    /// # Errors
    /// The file cannot be read, or as [`Esn::from_bytes`].
    pub fn load(path: impl AsRef<Path>) -> Result<Esn> {
        Ok(Self::load_with_metadata(path)?.0)
    }

    /// Loads a network and its caller metadata.
    ///
    /// # Errors
    /// The file cannot be read, or as [`Esn::from_bytes`].
    pub fn load_with_metadata(path: impl AsRef<Path>) -> Result<(Esn, BTreeMap<String, String>)> {
        let path = path.as_ref();
        let bytes = huashi_io::read_capped(path, "an ESN model file")?;
        Self::from_bytes(&bytes)
    }
}

/// The checked header: config, readout layout and user metadata.
fn read_header(bytes: &[u8]) -> Result<(EsnConfig, FeatureLayout, BTreeMap<String, String>)> {
    let (_, meta) = SafeTensors::read_metadata(bytes).map_err(|e| format_err(e.to_string()))?;
    let header = meta.metadata().clone().unwrap_or_default();
    let field = |k: &str| {
        header
            .get(k)
            .ok_or_else(|| format_err(format!("header field {k:?} missing")))
    };
    if field("format")? != FORMAT_NAME {
        return Err(format_err(format!("foreign format {:?}", field("format")?)));
    }
    if field("format_version")? != &FORMAT_VERSION.to_string() {
        let found = field("format_version")?;
        return Err(format_err(format!(
            "unsupported format version {found:?} (this build reads {FORMAT_VERSION})"
        )));
    }
    let json = |k: &str, e: serde_json::Error| format_err(format!("header field {k:?}: {e}"));
    let config: EsnConfig =
        serde_json::from_str(field("config")?).map_err(|e| json("config", e))?;
    let layout = serde_json::from_str(field("layout")?).map_err(|e| json("layout", e))?;
    let user = serde_json::from_str(field("user")?).map_err(|e| json("user", e))?;
    let bad_config = |e: Error| format_err(format!("header field \"config\": {e}"));
    config.check().map_err(bad_config)?;
    Ok((config, layout, user))
}

fn read_layer(st: &SafeTensors<'_>, config: &EsnConfig, l: usize) -> Result<Reservoir> {
    let w = read_csr(st, &format!("layer{l}.w"))?;
    let w_in = read_csr(st, &format!("layer{l}.w_in"))?;
    let w_fb = match st.tensor(&format!("layer{l}.w_fb.shape")) {
        Ok(_) => Some(read_csr(st, &format!("layer{l}.w_fb"))?),
        Err(_) => None,
    };
    if w_in.ncols() > MAX_DIM || w_fb.as_ref().is_some_and(|m| m.ncols() > MAX_DIM) {
        return Err(format_err(format!(
            "layer {l}: input dimension above {MAX_DIM}"
        )));
    }
    let bias = read_f64(st, &format!("layer{l}.bias"))?.1;
    Reservoir::from_parts(config.layers[l].clone(), w, w_in, bias, w_fb)
}

/// Reads a tensor of the given dtype: `(shape, little-endian chunks)`.
fn read_raw<'a>(
    st: &'a SafeTensors<'_>,
    name: &str,
    dtype: Dtype,
    width: usize,
) -> Result<(Vec<usize>, Vec<&'a [u8]>)> {
    let t = st
        .tensor(name)
        .map_err(|_| format_err(format!("tensor {name:?} missing")))?;
    if t.dtype() != dtype {
        return Err(format_err(format!(
            "tensor {name:?} has dtype {:?}, expected {dtype:?}",
            t.dtype()
        )));
    }
    Ok((t.shape().to_vec(), t.data().chunks_exact(width).collect()))
}

fn read_f64(st: &SafeTensors<'_>, name: &str) -> Result<(Vec<usize>, Vec<f64>)> {
    let (shape, chunks) = read_raw(st, name, Dtype::F64, 8)?;
    let v = chunks
        .iter()
        .map(|c| f64::from_le_bytes(<[u8; 8]>::try_from(*c).unwrap_or_default()))
        .collect();
    Ok((shape, v))
}

fn read_u64(st: &SafeTensors<'_>, name: &str) -> Result<Vec<usize>> {
    let (_, chunks) = read_raw(st, name, Dtype::U64, 8)?;
    chunks
        .iter()
        .map(|c| {
            usize::try_from(u64::from_le_bytes(
                <[u8; 8]>::try_from(*c).unwrap_or_default(),
            ))
            .map_err(|_| format_err(format!("{name}: index overflow")))
        })
        .collect()
}

fn read_csr(st: &SafeTensors<'_>, name: &str) -> Result<CsrMatrix> {
    let shape = read_u64(st, &format!("{name}.shape"))?;
    let [rows, cols] = shape[..] else {
        return Err(format_err(format!("{name}.shape must hold 2 values")));
    };
    let indptr = read_u64(st, &format!("{name}.indptr"))?;
    let (_, chunks) = read_raw(st, &format!("{name}.indices"), Dtype::U32, 4)?;
    let indices = chunks
        .iter()
        .map(|c| u32::from_le_bytes(<[u8; 4]>::try_from(*c).unwrap_or_default()))
        .collect();
    let values = read_f64(st, &format!("{name}.values"))?.1;
    CsrMatrix::from_parts(rows, cols, indptr, indices, values)
}

fn read_f64_matrix(st: &SafeTensors<'_>, name: &str) -> Result<Mat<f64>> {
    let (shape, v) = read_f64(st, name)?;
    let [rows, cols] = shape[..] else {
        return Err(format_err(format!("{name} must be 2-D")));
    };
    if rows.checked_mul(cols) != Some(v.len()) {
        return Err(format_err(format!("{name}: shape does not match data")));
    }
    Ok(Mat::from_fn(rows, cols, |i, j| v[i * cols + j]))
}
