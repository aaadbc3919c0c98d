//! ONNX external data: tensors whose bytes lie in a separate file
//! (`onnx.save(..., save_as_external_data=True)`, how models above protobuf's
//! 2 GB limit, and most large exports, are stored). The graph and every
//! tensor's dims are in the `.onnx` file, which is all `summary` and `rf`
//! need; the values are read here only when asked for (weights for `erf`
//! or the library's [`super::OnnxModel::params`], and the few small
//! constants a shape computation reads).
//!
//! A `location` is a path relative to the model file's folder and may not
//! leave it: absolute paths, `..` and other non-plain components are
//! refused. Each data file is read once, through
//! [`huashi_io::read_capped`]'s size limit, and kept while importing.

use super::tensor::{from_raw, Const, Data, External};
use crate::error::{Error, Result};
use std::cell::RefCell;
use std::collections::HashMap;
use std::path::{Component, Path, PathBuf};
use std::rc::Rc;

/// The external data files of one model, read on demand.
#[derive(Debug, Default)]
pub(crate) struct DataFiles {
    /// The model file's folder; `None` for a model given as bytes.
    folder: Option<PathBuf>,
    /// The files read so far, by `location`.
    read: RefCell<HashMap<String, Rc<Vec<u8>>>>,
}

impl DataFiles {
    /// Data files next to the model at `model` (`None`: bytes without a path).
    pub(crate) fn new(model: Option<&Path>) -> Self {
        DataFiles {
            folder: model.map(|p| p.parent().unwrap_or(Path::new("")).to_path_buf()),
            read: RefCell::default(),
        }
    }

    /// `c` with its values: read from its data file when external.
    ///
    /// # Errors
    /// [`Error::OnnxExternalData`] naming the tensor and the file when the
    /// model has no path, the location leaves the model's folder, or the
    /// file cannot be read or is shorter than the tensor's range.
    pub(crate) fn resolve(&self, c: &Const) -> Result<Const> {
        let Data::External(e) = &c.data else {
            return Ok(c.clone());
        };
        let bytes = self.file(e)?;
        let fail = |detail: String| Error::OnnxExternalData {
            tensor: e.tensor.clone(),
            file: e.location.clone(),
            detail,
        };
        let range = usize::try_from(e.offset)
            .ok()
            .zip(usize::try_from(e.length).ok())
            .and_then(|(o, l)| Some(o..o.checked_add(l)?))
            .filter(|r| r.end <= bytes.len())
            .ok_or_else(|| {
                fail(format!(
                    "holds {} bytes; the tensor needs bytes {}..{}",
                    bytes.len(),
                    e.offset,
                    e.offset.saturating_add(e.length)
                ))
            })?;
        Ok(Const {
            dims: c.dims.clone(),
            data: from_raw(e.data_type, &bytes[range]),
        })
    }

    /// The bytes of `e`'s data file (read once).
    fn file(&self, e: &External) -> Result<Rc<Vec<u8>>> {
        if let Some(bytes) = self.read.borrow().get(&e.location) {
            return Ok(Rc::clone(bytes));
        }
        let fail = |detail: String| Error::OnnxExternalData {
            tensor: e.tensor.clone(),
            file: e.location.clone(),
            detail,
        };
        let Some(folder) = &self.folder else {
            return Err(fail(
                "the model was given as bytes; import it from its path to read external data"
                    .into(),
            ));
        };
        let relative = Path::new(&e.location);
        let plain = relative
            .components()
            .all(|c| matches!(c, Component::Normal(_) | Component::CurDir));
        if !plain || relative.is_absolute() {
            return Err(fail(
                "the location must be a relative path inside the model's folder (no `..`)".into(),
            ));
        }
        let path = folder.join(relative);
        let bytes = huashi_io::read_capped(&path, "an ONNX external data file")
            .map_err(|err| fail(err.to_string()))?;
        let bytes = Rc::new(bytes);
        self.read
            .borrow_mut()
            .insert(e.location.clone(), Rc::clone(&bytes));
        Ok(bytes)
    }
}
