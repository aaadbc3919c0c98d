//! Reading the files of a data set from a zip archive (in memory) or from a
//! folder tree, as `(relative path with '/', bytes)` pairs.
//!
//! Archives and folders come from users and downloads, so what they unpack
//! to is capped: [`MAX_TOTAL_BYTES`] in all, and no zip member may inflate
//! to more than [`MAX_RATIO`] times its compressed size (beyond a
//! [`RATIO_FREE_BYTES`] allowance). The official Omniglot zips (≈ 10 MB)
//! unpack to about their own size, so a 1.5 MB zip bomb that inflates to
//! 1.6 GB is refused after reading at most the cap.

use super::error::DataError;
use std::io::{Cursor, Read};
use std::path::Path;

/// A file of an archive or folder: its path relative to the root, with `/`
/// separators, and its contents.
pub(crate) type Entry = (String, Vec<u8>);

/// The most bytes an archive or a folder may unpack to, in all.
pub const MAX_TOTAL_BYTES: u64 = 512 << 20;
/// The largest accepted ratio of a zip member's size to its compressed size.
pub const MAX_RATIO: u64 = 200;
/// Bytes a zip member may always inflate to, whatever its ratio.
pub const RATIO_FREE_BYTES: u64 = 1 << 20;

/// What is left of the unpacking budget of one archive or folder.
struct Budget {
    path: String,
    left: u64,
}

impl Budget {
    fn new(path: &str) -> Self {
        Self {
            path: path.to_string(),
            left: MAX_TOTAL_BYTES,
        }
    }

    fn too_large(&self, member: &str, reason: String) -> DataError {
        DataError::TooLarge {
            path: self.path.clone(),
            member: member.to_string(),
            reason,
        }
    }

    /// Takes `bytes` from the budget, or fails naming `member`.
    fn take(&mut self, member: &str, bytes: u64) -> Result<(), DataError> {
        match self.left.checked_sub(bytes) {
            Some(left) => {
                self.left = left;
                Ok(())
            }
            None => Err(self.too_large(
                member,
                format!("takes the total past the cap of {MAX_TOTAL_BYTES} bytes"),
            )),
        }
    }
}

/// The most bytes a member compressed to `compressed` bytes may inflate to.
fn member_cap(compressed: u64) -> u64 {
    compressed.saturating_mul(MAX_RATIO).max(RATIO_FREE_BYTES)
}

/// Reads one member (`sizes`: compressed and declared), stopping one byte
/// past its caps (declared sizes can lie, so the count read is checked).
fn read_member(
    file: impl Read,
    sizes: (u64, u64),
    path: &str,
    budget: &mut Budget,
) -> Result<Vec<u8>, DataError> {
    let cap = member_cap(sizes.0);
    let limit = cap.min(budget.left);
    let mut data = Vec::with_capacity(sizes.1.min(limit) as usize);
    let name = format!("{}:{path}", budget.path);
    file.take(limit.saturating_add(1))
        .read_to_end(&mut data)
        .map_err(|e| DataError::io(name, e))?;
    let read = data.len() as u64;
    if read > cap {
        let reason = format!("inflates more than {MAX_RATIO} times its compressed size");
        return Err(budget.too_large(path, reason));
    }
    budget.take(path, read)?;
    Ok(data)
}

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
    let mut budget = Budget::new(name);
    let mut entries = Vec::new();
    for index in 0..archive.len() {
        let mut file = archive.by_index(index).map_err(zip_error)?;
        let path = file.name().map_err(zip_error)?.replace('\\', "/");
        if file.is_dir() || path.starts_with("__MACOSX") || !keep(&path) {
            continue;
        }
        let sizes = (file.compressed_size(), file.size());
        let data = read_member(&mut file, sizes, &path, &mut budget)?;
        entries.push((path, data));
    }
    Ok(entries)
}

/// Unpacks the zip archive at `path` into the folder `target`, under the
/// same caps as [`zip_entries`]; members whose names leave the folder and
/// symbolic links are refused.
pub(crate) fn unpack_zip(path: &Path, target: &Path) -> Result<(), DataError> {
    let name = path.display().to_string();
    let zip_error = |e: zip::result::ZipError| DataError::Zip {
        path: name.clone(),
        message: e.to_string(),
    };
    let bytes = huashi_io::read_capped(path, "a zip archive")?;
    let mut archive = zip::ZipArchive::new(Cursor::new(&bytes[..])).map_err(zip_error)?;
    let mut budget = Budget::new(&name);
    for index in 0..archive.len() {
        let mut file = archive.by_index(index).map_err(zip_error)?;
        let member = file.name().map_err(zip_error)?.to_string();
        let relative = match file.enclosed_name() {
            Some(relative) if !file.is_symlink() => relative,
            _ => return Err(budget.too_large(&member, "leaves the folder".into())),
        };
        let out = target.join(relative);
        let parent = if file.is_dir() {
            &out
        } else {
            out.parent().unwrap_or(target)
        };
        std::fs::create_dir_all(parent).map_err(|e| DataError::io(parent, e))?;
        if !file.is_dir() {
            let sizes = (file.compressed_size(), file.size());
            let data = read_member(&mut file, sizes, &member, &mut budget)?;
            std::fs::write(&out, data).map_err(|e| DataError::io(&out, e))?;
        }
    }
    Ok(())
}

/// The files of a zip archive on disk (see [`zip_entries`]).
pub(crate) fn zip_file_entries(
    path: &Path,
    keep: impl Fn(&str) -> bool,
) -> Result<Vec<Entry>, DataError> {
    let bytes = huashi_io::read_capped(path, "a zip archive")?;
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
    let mut budget = Budget::new(&root.display().to_string());
    walk(root, prefix, keep, &mut budget, &mut entries)?;
    entries.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(entries)
}

fn walk(
    root: &Path,
    relative: &str,
    keep: &dyn Fn(&str) -> bool,
    budget: &mut Budget,
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
            walk(root, &path, keep, budget, out)?;
        } else if keep(&path) {
            let data = huashi_io::read_capped(item.path(), "a data file")?;
            budget.take(&path, data.len() as u64)?;
            out.push((path, data));
        }
    }
    Ok(())
}

/// Whether `path` names a PNG file.
pub(crate) fn is_png(path: &str) -> bool {
    path.to_ascii_lowercase().ends_with(".png")
}
