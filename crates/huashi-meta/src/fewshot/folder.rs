//! Image-folder data sets: which files make up each class of the train,
//! validation and test splits. Three layouts are recognised, in this order:
//!
//! 1. **CSV** (mini-ImageNet / tiered-ImageNet): `root/images/` and
//!    `root/{train,val,test}.csv`, each a header line `filename,label` and
//!    one `filename,label` line per image (`filename` relative to
//!    `images/`); chosen when `root/train.csv` exists.
//! 2. **CIFAR-FS**: `root/data/<class>/*.png` and
//!    `root/splits/bertinetto/{train,val,test}.txt`, one class name per
//!    line; chosen when `root/splits/bertinetto/` exists.
//! 3. **Split folders**: `root/{train,val,test}/<class>/*.{png,jpg,jpeg}`;
//!    chosen when `root/train/` exists.
//!
//! Classes are sorted by name, images of a class by file name (CSV: in file
//! order). A split that names no class is an error, as is a line that is
//! malformed or names a missing file or folder (the file and line are
//! named). Names that would leave `root` (absolute, or with `..`) are
//! refused.

use super::error::DataError;
use std::collections::BTreeMap;
use std::path::{Component, Path, PathBuf};

/// The splits, in order: training, validation, test.
pub const SPLITS: [&str; 3] = ["train", "val", "test"];

/// A recognised layout (see the module docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    /// `images/` with `train.csv`, `val.csv`, `test.csv`.
    Csv,
    /// CIFAR-FS: `data/<class>/` with `splits/bertinetto/*.txt`.
    CifarFs,
    /// `train/<class>/`, `val/<class>/`, `test/<class>/`.
    SplitFolders,
}

/// One class of a split: its name and its image files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClassFiles {
    /// The class name (folder name or CSV label).
    pub name: String,
    /// Its image files, in order.
    pub files: Vec<PathBuf>,
}

/// Whether `path` names a PNG or JPEG file (by extension).
pub fn is_image(path: &Path) -> bool {
    let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
    ["png", "jpg", "jpeg"].contains(&ext.to_ascii_lowercase().as_str())
}

/// The layout of `root`.
///
/// # Errors
/// [`DataError::Missing`] when `root` is not a folder,
/// [`DataError::NoLayout`] when it matches none of the layouts.
pub fn detect(root: &Path) -> Result<Layout, DataError> {
    if !root.is_dir() {
        return Err(DataError::Missing {
            path: root.display().to_string(),
        });
    }
    if root.join("train.csv").is_file() {
        Ok(Layout::Csv)
    } else if root.join("splits/bertinetto").is_dir() {
        Ok(Layout::CifarFs)
    } else if root.join("train").is_dir() {
        Ok(Layout::SplitFolders)
    } else {
        Err(DataError::NoLayout {
            path: root.display().to_string(),
        })
    }
}

/// The classes of split `split` (one of [`SPLITS`]) of `root` in `layout`.
///
/// # Errors
/// [`DataError::Missing`] for a missing split file or folder,
/// [`DataError::EmptySplit`] for a split without classes,
/// [`DataError::LabelFile`] for a malformed line or one naming a missing
/// file or folder, [`DataError::Io`] or [`DataError::File`] for an
/// unreadable folder or file.
pub fn list_split(root: &Path, layout: Layout, split: &str) -> Result<Vec<ClassFiles>, DataError> {
    let (classes, defined_by) = match layout {
        Layout::Csv => {
            let csv = root.join(format!("{split}.csv"));
            (csv_classes(&csv, &root.join("images"))?, csv)
        }
        Layout::CifarFs => {
            let list = root.join(format!("splits/bertinetto/{split}.txt"));
            (listed_classes(&list, &root.join("data"))?, list)
        }
        Layout::SplitFolders => {
            let folder = root.join(split);
            (folder_classes(&folder)?, folder)
        }
    };
    if classes.is_empty() {
        return Err(DataError::EmptySplit {
            split: split.to_string(),
            path: defined_by.display().to_string(),
        });
    }
    Ok(classes)
}

/// The sub-folders of `folder`, sorted, each with its image files.
fn folder_classes(folder: &Path) -> Result<Vec<ClassFiles>, DataError> {
    let mut classes = Vec::new();
    for (name, path) in sorted_entries(folder)? {
        if path.is_dir() {
            classes.push(ClassFiles {
                name,
                files: images_in(&path)?,
            });
        }
    }
    Ok(classes)
}

/// The image files directly in `folder`, sorted by name.
fn images_in(folder: &Path) -> Result<Vec<PathBuf>, DataError> {
    let entries = sorted_entries(folder)?.into_iter().map(|(_, path)| path);
    Ok(entries.filter(|p| p.is_file() && is_image(p)).collect())
}

/// The entries of `folder` as (name, path), sorted by name.
fn sorted_entries(folder: &Path) -> Result<Vec<(String, PathBuf)>, DataError> {
    if !folder.is_dir() {
        return Err(DataError::Missing {
            path: folder.display().to_string(),
        });
    }
    let listing = std::fs::read_dir(folder).map_err(|e| DataError::io(folder, e))?;
    let mut entries = Vec::new();
    for item in listing {
        let item = item.map_err(|e| DataError::io(folder, e))?;
        entries.push((item.file_name().to_string_lossy().into_owned(), item.path()));
    }
    entries.sort();
    Ok(entries)
}

/// The lines of a text file (read under the input cap), numbered from 1.
fn numbered_lines(file: &Path) -> Result<Vec<(usize, String)>, DataError> {
    if !file.is_file() {
        return Err(DataError::Missing {
            path: file.display().to_string(),
        });
    }
    let text = huashi_io::read_to_string_capped(file, "a split file")?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
    Ok(text
        .lines()
        .enumerate()
        .map(|(i, line)| (i + 1, line.trim().to_string()))
        .collect())
}

fn line_error(file: &Path, line: usize, message: String) -> DataError {
    DataError::LabelFile {
        path: file.display().to_string(),
        line,
        message,
    }
}

/// `name` joined to `base`, if it stays below `base`.
fn below(base: &Path, name: &str) -> Option<PathBuf> {
    let relative = Path::new(name);
    let plain = relative
        .components()
        .all(|c| matches!(c, Component::Normal(_)));
    (plain && !name.is_empty()).then(|| base.join(relative))
}

/// A CSV split: header `filename,label`, then one image per line.
fn csv_classes(csv: &Path, images: &Path) -> Result<Vec<ClassFiles>, DataError> {
    let lines = numbered_lines(csv)?;
    let mut lines = lines.into_iter().filter(|(_, l)| !l.is_empty());
    match lines.next() {
        Some((_, header)) if header.replace(' ', "") == "filename,label" => {}
        Some((n, header)) => {
            let message = format!("expected the header filename,label, found {header:?}");
            return Err(line_error(csv, n, message));
        }
        None => return Ok(Vec::new()),
    }
    let mut classes: BTreeMap<String, Vec<PathBuf>> = BTreeMap::new();
    for (n, line) in lines {
        let fields: Vec<&str> = line.split(',').map(str::trim).collect();
        let [file, label] = fields[..] else {
            let message = format!("expected filename,label, found {line:?}");
            return Err(line_error(csv, n, message));
        };
        if label.is_empty() {
            return Err(line_error(csv, n, format!("empty label in {line:?}")));
        }
        let path = below(images, file).ok_or_else(|| {
            line_error(
                csv,
                n,
                format!("file name {file:?} leaves the images folder"),
            )
        })?;
        if !path.is_file() {
            let message = format!("image {} not found", path.display());
            return Err(line_error(csv, n, message));
        }
        classes.entry(label.to_string()).or_default().push(path);
    }
    Ok(classes
        .into_iter()
        .map(|(name, files)| ClassFiles { name, files })
        .collect())
}

/// A class list (CIFAR-FS): one class folder of `data` per line.
fn listed_classes(list: &Path, data: &Path) -> Result<Vec<ClassFiles>, DataError> {
    let mut names: BTreeMap<String, PathBuf> = BTreeMap::new();
    for (n, name) in numbered_lines(list)? {
        if name.is_empty() {
            continue;
        }
        let folder = below(data, &name).ok_or_else(|| {
            line_error(
                list,
                n,
                format!("class name {name:?} leaves the data folder"),
            )
        })?;
        if !folder.is_dir() {
            let message = format!("class folder {} not found", folder.display());
            return Err(line_error(list, n, message));
        }
        names.insert(name, folder);
    }
    names
        .into_iter()
        .map(|(name, folder)| {
            Ok(ClassFiles {
                name,
                files: images_in(&folder)?,
            })
        })
        .collect()
}
