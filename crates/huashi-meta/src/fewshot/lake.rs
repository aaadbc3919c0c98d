//! The 20 official 20-way one-shot classification runs of Lake,
//! Salakhutdinov & Tenenbaum, *Science* 350 (2015)
//! (`python/one-shot-classification/all_runs.zip` of brendenlake/omniglot,
//! MIT licence; embedded in this crate).
//!
//! Each run folder `runNN/` holds one drawing of each of 20 characters of
//! the evaluation alphabets (`training/class01.png` … `class20.png`), 20 test
//! drawings (`test/item01.png` … `item20.png`) and `class_labels.txt`, whose
//! lines read `runNN/test/itemKK.png runNN/training/classMM.png`: test item
//! KK shows the character of training class MM. A run becomes a [`Task`]
//! whose support is the 20 training drawings (labels 0..20 in class order)
//! and whose query is the 20 test items, in item order, with their true
//! labels; images are 28×28 as in [`crate::fewshot::image`].

use super::archive::{folder_entries, zip_entries, zip_file_entries, Entry};
use super::error::DataError;
use super::image::{decode_drawing, PIXELS, SIDE};
use crate::task::{Batch, Task};
use candle_core::{Device, Tensor};
use rayon::prelude::*;
use std::collections::BTreeMap;
use std::path::Path;

static ALL_RUNS: &[u8] = include_bytes!("../../data/omniglot/all_runs.zip");

const LABEL_FILE: &str = "class_labels.txt";

/// One one-shot run.
#[derive(Debug, Clone)]
pub struct LakeRun {
    /// The run folder, e.g. `run01`.
    pub name: String,
    /// One drawing per class, in class order ([`PIXELS`] floats each).
    pub training: Vec<Vec<f32>>,
    /// The test drawings, in item order.
    pub test: Vec<Vec<f32>>,
    /// The class (0-based) of each test drawing.
    pub labels: Vec<u32>,
}

impl LakeRun {
    /// The run as a task: support `x` `(classes, 1, 28, 28)` with labels
    /// `0..classes`, query `x` `(items, 1, 28, 28)` with the true labels.
    ///
    /// # Errors
    /// Candle's when the drawings are not [`PIXELS`] floats each or the labels do
    /// not match them.
    pub fn task(&self, device: &Device) -> crate::Result<Task> {
        let support_labels = (0..self.training.len() as u32).collect();
        Ok(Task {
            support: batch(&self.training, support_labels, device)?,
            query: batch(&self.test, self.labels.clone(), device)?,
        })
    }
}

fn batch(images: &[Vec<f32>], labels: Vec<u32>, device: &Device) -> crate::Result<Batch> {
    let n = images.len();
    Ok(Batch {
        x: Tensor::from_vec(images.concat(), (n, 1, SIDE, SIDE), device)?,
        y: Tensor::from_vec(labels, n, device)?,
    })
}

/// The one-shot runs, sorted by name.
#[derive(Debug, Clone)]
pub struct LakeRuns {
    runs: Vec<LakeRun>,
}

impl LakeRuns {
    /// The 20 runs embedded in the crate.
    ///
    /// # Errors
    /// [`crate::Error::Data`] when the embedded archive cannot be read (not expected).
    pub fn embedded() -> crate::Result<Self> {
        let name = "all_runs.zip (embedded)";
        Ok(Self::from_entries(
            zip_entries(ALL_RUNS, name, |_| true)?,
            name,
        )?)
    }

    /// Loads the runs from `all_runs.zip` or from the folder it was unpacked
    /// into (the folder holding `runNN/`, or one above it).
    ///
    /// # Errors
    /// [`crate::Error::Data`]: [`DataError::Missing`] when `path` does not exist or
    /// holds no run, or a read, unzip, label-file or image error naming the file.
    pub fn load(path: impl AsRef<Path>) -> crate::Result<Self> {
        let path = path.as_ref();
        let source = path.display().to_string();
        let entries = if path.is_file() {
            zip_file_entries(path, |_| true)?
        } else if path.is_dir() {
            folder_entries(path, "", &|_| true)?
        } else {
            return Err(DataError::Missing { path: source }.into());
        };
        Ok(Self::from_entries(entries, &source)?)
    }

    fn from_entries(entries: Vec<Entry>, source: &str) -> Result<Self, DataError> {
        let files: BTreeMap<String, Vec<u8>> = entries.into_iter().collect();
        let label_files: Vec<&String> = files
            .keys()
            .filter(|p| p.rsplit('/').next() == Some(LABEL_FILE))
            .collect();
        if label_files.is_empty() {
            return Err(DataError::Missing {
                path: format!("{source}: runNN/{LABEL_FILE}"),
            });
        }
        let runs = label_files
            .par_iter()
            .map(|label_path| read_run(&files, label_path, source))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(LakeRuns { runs })
    }

    /// The runs.
    pub fn runs(&self) -> &[LakeRun] {
        &self.runs
    }

    /// The number of runs.
    pub fn len(&self) -> usize {
        self.runs.len()
    }

    /// Whether there is no run.
    pub fn is_empty(&self) -> bool {
        self.runs.is_empty()
    }

    /// Every run as a task (see [`LakeRun::task`]).
    ///
    /// # Errors
    /// As [`LakeRun::task`].
    pub fn tasks(&self, device: &Device) -> crate::Result<Vec<Task>> {
        self.runs.iter().map(|run| run.task(device)).collect()
    }
}

/// Reads the run whose label file is `label_path` (`[base/]runNN/…`).
fn read_run(
    files: &BTreeMap<String, Vec<u8>>,
    label_path: &str,
    source: &str,
) -> Result<LakeRun, DataError> {
    let run_dir = label_path.strip_suffix(LABEL_FILE).unwrap_or_default();
    let name = run_dir.trim_end_matches('/').rsplit('/').next();
    let name = name.unwrap_or_default();
    let base = &run_dir[..run_dir.len().saturating_sub(name.len() + 1)];
    let prefix = format!("{run_dir}training/");
    let classes: Vec<&String> = files
        .range(prefix.clone()..)
        .map(|(p, _)| p)
        .take_while(|p| p.starts_with(&prefix))
        .filter(|p| p.to_ascii_lowercase().ends_with(".png"))
        .collect();
    let shown = format!("{source}:{label_path}");
    let (items, labels) = parse_labels(files, label_path, base, &classes, &shown)?;
    let decode = |p: &String| decode_drawing(&files[p], &format!("{source}:{p}"));
    let training = classes
        .into_iter()
        .map(decode)
        .collect::<Result<Vec<_>, _>>()?;
    let test = items.iter().map(decode).collect::<Result<Vec<_>, _>>()?;
    debug_assert!(training.iter().chain(&test).all(|t| t.len() == PIXELS));
    Ok(LakeRun {
        name: name.to_string(),
        training,
        test,
        labels,
    })
}

/// The test item paths and their labels (positions in `classes`) read from
/// the label file `label_path` (`shown` names it in errors); paths in the
/// file are relative to `base`.
fn parse_labels(
    files: &BTreeMap<String, Vec<u8>>,
    label_path: &str,
    base: &str,
    classes: &[&String],
    shown: &str,
) -> Result<(Vec<String>, Vec<u32>), DataError> {
    let bad = |line: usize, message: String| DataError::LabelFile {
        path: shown.to_string(),
        line,
        message,
    };
    if classes.is_empty() {
        return Err(bad(0, "no training images in the run's training/".into()));
    }
    let text = String::from_utf8_lossy(&files[label_path]).into_owned();
    let (mut items, mut labels) = (Vec::new(), Vec::new());
    for (n, line) in text.lines().enumerate() {
        let tokens: Vec<&str> = line.split_whitespace().collect();
        let [item, class] = tokens[..] else {
            if tokens.is_empty() {
                continue;
            }
            let message = format!("expected `<test item> <training class>`, got {line:?}");
            return Err(bad(n + 1, message));
        };
        let item_path = format!("{base}{item}");
        if !files.contains_key(&item_path) {
            return Err(bad(n + 1, format!("missing image {item_path}")));
        }
        let class_path = format!("{base}{class}");
        let Some(label) = classes.iter().position(|c| **c == class_path) else {
            return Err(bad(n + 1, format!("missing training image {class_path}")));
        };
        items.push(item_path);
        labels.push(label as u32);
    }
    Ok((items, labels))
}
