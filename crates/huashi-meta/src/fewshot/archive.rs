//! Reading the files of a data set from a zip archive (in memory) or from a
//! folder tree, as `(relative path with '/', bytes)` pairs.

use super::error::DataError;
use std::io::{Cursor, Read};
use std::path::Path;

/// A file of an archive or folder: its path relative to the root, with `/`
/// separators, and its contents.
pub(crate) type Entry = (String, Vec<u8>);

/// The files of a zip archive held in memory whose path is accepted by
/// `keep`, in archive order. `name` names the archive in errors.
pub(crate) fn zip_entries(
    bytes: &[u8],
    name: &str,
    keep: impl Fn(&str) -> bool,
) -> Result<Vec<Entry>, DataError> {
    let zip_error = |e: zip::result::ZipError| DataError::Zip {
        path: name.to_string(),
        message: e.to_string(),
    };
    let mut archive = zip::ZipArchive::new(Cursor::new(bytes)).map_err(zip_error)?;
    let mut entries = Vec::new();
    for index in 0..archive.len() {
        let mut file = archive.by_index(index).map_err(zip_error)?;
        let path = file.name().map_err(zip_error)?.replace('\\', "/");
        if file.is_dir() || path.starts_with("__MACOSX") || !keep(&path) {
            continue;
        }
        let mut data = Vec::with_capacity(file.size() as usize);
        file.read_to_end(&mut data)
            .map_err(|e| DataError::io(format!("{name}:{path}"), e))?;
        entries.push((path, data));
    }
    Ok(entries)
}

/// The files of a zip archive on disk (see [`zip_entries`]).
pub(crate) fn zip_file_entries(
    path: &Path,
    keep: impl Fn(&str) -> bool,
) -> Result<Vec<Entry>, DataError> {
    let bytes = std::fs::read(path).map_err(|e| DataError::io(path, e))?;
    zip_entries(&bytes, &path.display().to_string(), keep)
}

/// The files under `root/prefix` accepted by `keep`, with paths relative to
/// `root` (so they start with `prefix/`; `prefix` may be empty), sorted by
/// path.
pub(crate) fn folder_entries(
    root: &Path,
    prefix: &str,
    keep: &dyn Fn(&str) -> bool,
) -> Result<Vec<Entry>, DataError> {
    let mut entries = Vec::new();
    walk(root, prefix, keep, &mut entries)?;
    entries.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(entries)
}

fn walk(
    root: &Path,
    relative: &str,
    keep: &dyn Fn(&str) -> bool,
    out: &mut Vec<Entry>,
) -> Result<(), DataError> {
    let folder = root.join(relative);
    let listing = std::fs::read_dir(&folder).map_err(|e| DataError::io(&folder, e))?;
    for item in listing {
        let item = item.map_err(|e| DataError::io(&folder, e))?;
        let name = item.file_name().to_string_lossy().into_owned();
        let path = match relative {
            "" => name,
            _ => format!("{relative}/{name}"),
        };
        let kind = item
            .file_type()
            .map_err(|e| DataError::io(item.path(), e))?;
        if kind.is_dir() {
            walk(root, &path, keep, out)?;
        } else if keep(&path) {
            let data = std::fs::read(item.path()).map_err(|e| DataError::io(item.path(), e))?;
            out.push((path, data));
        }
    }
    Ok(())
}

/// Whether `path` names a PNG file.
pub(crate) fn is_png(path: &str) -> bool {
    path.to_ascii_lowercase().ends_with(".png")
}
