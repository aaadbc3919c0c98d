//! [`ParamSet`]: the parameters of a functional model, an ordered map from
//! PyTorch-style names to tensors, with safetensors I/O.
//!
//! Names: `<node>.weight` and `<node>.bias` for `conv`, `depthwise`,
//! `pointwise` and `linear` nodes; `<node>.depthwise.weight`,
//! `<node>.pointwise.weight` and `<node>.pointwise.bias` for `separable`
//! nodes; `<node>.vertical.weight`, `<node>.horizontal.weight` and
//! `<node>.horizontal.bias` for `spatially_separable` nodes; `<node>.weight`
//! `(C_in, C_out/groups, kh, kw)` and `<node>.bias` for `conv_transpose`
//! nodes; `<node>.weight`, `<node>.bias`, `<node>.running_mean` and
//! `<node>.running_var` for `batch_norm` (the last two are moving
//! statistics, not trainable).

use crate::error::{Error, Result};
use candle_core::{Device, Tensor};
use std::collections::HashMap;
use std::path::Path;

/// An ordered map name → tensor (insertion order is kept).
#[derive(Debug, Clone, Default)]
pub struct ParamSet {
    entries: Vec<(String, Tensor)>,
    index: HashMap<String, usize>,
}

impl ParamSet {
    /// An empty set.
    pub fn new() -> Self {
        Self::default()
    }

    /// Inserts or replaces `name` (a replaced tensor keeps its position).
    pub fn insert(&mut self, name: impl Into<String>, tensor: Tensor) {
        let name = name.into();
        match self.index.get(&name) {
            Some(&i) => self.entries[i].1 = tensor,
            None => {
                self.index.insert(name.clone(), self.entries.len());
                self.entries.push((name, tensor));
            }
        }
    }

    /// The tensor called `name`.
    pub fn get(&self, name: &str) -> Option<&Tensor> {
        self.index.get(name).map(|&i| &self.entries[i].1)
    }

    /// The tensor called `name`, or [`Error::MissingParam`].
    ///
    /// # Errors
    /// [`Error::MissingParam`] (with an empty expected shape) when it is absent.
    pub fn require(&self, name: &str) -> Result<&Tensor> {
        self.get(name).ok_or_else(|| Error::MissingParam {
            name: name.to_string(),
            expected: Vec::new(),
        })
    }

    /// Number of tensors.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the set is empty.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Names in order.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.entries.iter().map(|(n, _)| n.as_str())
    }

    /// `(name, tensor)` pairs in order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Tensor)> {
        self.entries.iter().map(|(n, t)| (n.as_str(), t))
    }

    /// Total number of scalar values.
    pub fn numel(&self) -> usize {
        self.entries.iter().map(|(_, t)| t.elem_count()).sum()
    }

    /// A new set with `f` applied to every tensor (same names, same order).
    ///
    /// # Errors
    /// The first error of `f`, as [`Error::Tensor`].
    pub fn map(
        &self,
        mut f: impl FnMut(&str, &Tensor) -> candle_core::Result<Tensor>,
    ) -> Result<Self> {
        let mut out = ParamSet::new();
        for (name, t) in self.iter() {
            out.insert(name, f(name, t)?);
        }
        Ok(out)
    }

    /// Writes the set to a safetensors file with [`huashi_io::write_through_path`]
    /// (temporary file, sync, rename), so an existing checkpoint is never
    /// left half-written.
    ///
    /// # Errors
    /// [`Error::File`] naming `path` when the write fails.
    pub fn save(&self, path: impl AsRef<Path>) -> Result<()> {
        let map: HashMap<String, Tensor> = self.entries.iter().cloned().collect();
        huashi_io::write_through_path(path, |temporary| {
            candle_core::safetensors::save(&map, temporary)
        })?;
        Ok(())
    }

    /// Reads a safetensors file; the order follows `like` (names absent from
    /// `like` come last, sorted). Use [`crate::Model::load`] to also check
    /// names and shapes against a model.
    ///
    /// # Errors
    /// [`Error::File`] when the file is missing, or with
    /// [`huashi_io::Error::TooMuchMemory`] when the file (read whole) is
    /// above the memory limit, checked before reading; [`Error::WeightFile`]
    /// when it is not safetensors.
    pub fn load(path: impl AsRef<Path>, like: &[&str], device: &Device) -> Result<Self> {
        let path = path.as_ref();
        let metadata = std::fs::metadata(path).map_err(|cause| huashi_io::Error::Read {
            path: path.to_path_buf(),
            cause,
        })?;
        let what = format!("reading the weights {}", path.display());
        huashi_io::check_memory(&what, metadata.len())?;
        let mut map =
            candle_core::safetensors::load(path, device).map_err(|e| Error::WeightFile {
                path: path.display().to_string(),
                reason: e.to_string(),
            })?;
        let mut out = ParamSet::new();
        for name in like {
            if let Some(t) = map.remove(*name) {
                out.insert(*name, t);
            }
        }
        let mut rest: Vec<_> = map.into_iter().collect();
        rest.sort_by(|a, b| a.0.cmp(&b.0));
        for (name, t) in rest {
            out.insert(name, t);
        }
        Ok(out)
    }
}
