//! Loading an image-folder data set ([`super::folder`]) into train,
//! validation and test [`ClassPool`]s of one image shape, once, in
//! parallel over classes.
//!
//! Before decoding, the memory of all pools (`images × C·H·W × 4` bytes,
//! four times that with rotations) is checked against `huashi_io`'s limit;
//! each file is read under its input cap. Without resizing, every image
//! must have the size of the first image of the training split.

use super::decode::{decode_image, image_info, ImageInfo};
use super::error::DataError;
use super::folder::{detect, list_split, ClassFiles, Layout, SPLITS};
use super::pool::ClassPool;
use crate::images::ImageSettings;
use rayon::prelude::*;
use std::path::{Path, PathBuf};

/// The pools of an image-folder data set (not yet rotated).
#[derive(Debug, Clone)]
pub struct FolderSplits {
    /// The layout found.
    pub layout: Layout,
    /// Classes to meta-train on (`train`).
    pub train: ClassPool,
    /// Classes for model selection (`val`).
    pub validation: ClassPool,
    /// Held-out classes (`test`).
    pub test: ClassPool,
}

/// The first image of the training split of `root`, and what it is.
///
/// # Errors
/// As [`list_split`]; [`DataError::TooFewDrawings`] when no training class
/// has an image; the read or decode error of that image.
pub fn probe(root: &Path) -> Result<(PathBuf, ImageInfo), DataError> {
    let layout = detect(root)?;
    let classes = list_split(root, layout, SPLITS[0])?;
    let first = classes.iter().find_map(|c| c.files.first());
    let Some(first) = first else {
        return Err(DataError::TooFewDrawings {
            class: classes[0].name.clone(),
            needed: 1,
            available: 0,
        });
    };
    let bytes = huashi_io::read_capped(first, "an image")?;
    let info = image_info(&bytes, &first.display().to_string())?;
    Ok((first.clone(), info))
}

/// Loads the three splits of `root` with `settings` (rotations are left to
/// [`ClassPool::with_rotations`]).
///
/// # Errors
/// [`DataError::Channels`] for a channel count other than 1 or 3;
/// as [`detect`] and [`list_split`]; a memory estimate above the limit
/// ([`DataError::File`]); [`DataError::Image`] or
/// [`DataError::DifferentSizes`] for an image, naming its path.
pub fn load_folder(root: &Path, settings: &ImageSettings) -> Result<FolderSplits, DataError> {
    if settings.channels != 1 && settings.channels != 3 {
        let what = format!("the image setting for {}", root.display());
        return Err(DataError::Channels {
            what,
            channels: settings.channels,
        });
    }
    let layout = detect(root)?;
    let lists = SPLITS
        .iter()
        .map(|split| list_split(root, layout, split))
        .collect::<Result<Vec<_>, _>>()?;
    check_memory(&lists, settings)?;
    let first = lists[0].iter().find_map(|c| c.files.first());
    let first = first.map_or_else(
        || "the run's image size".into(),
        |p| p.display().to_string(),
    );
    let mut pools = lists
        .iter()
        .map(|classes| load_pool(classes, settings, &first))
        .collect::<Result<Vec<_>, _>>()?;
    let test = pools.pop().unwrap_or_default();
    let validation = pools.pop().unwrap_or_default();
    let train = pools.pop().unwrap_or_default();
    Ok(FolderSplits {
        layout,
        train,
        validation,
        test,
    })
}

/// Fails when the decoded pools would not fit the memory limit.
fn check_memory(lists: &[Vec<ClassFiles>], settings: &ImageSettings) -> Result<(), DataError> {
    let files: usize = lists.iter().flatten().map(|c| c.files.len()).sum();
    let [c, h, w] = settings.shape().map(|s| s as u64);
    let copies = if settings.rotations { 4 } else { 1 };
    let what = format!("{files} decoded images of {c}×{h}×{w} floats");
    let bytes = huashi_io::checked_product(&what, &[files as u64, c, h, w, 4, copies])?;
    Ok(huashi_io::check_memory(&what, bytes)?)
}

/// Decodes every image of `classes` into one pool.
fn load_pool(
    classes: &[ClassFiles],
    settings: &ImageSettings,
    first: &str,
) -> Result<ClassPool, DataError> {
    let images = classes
        .par_iter()
        .map(|class| {
            let mut data =
                Vec::with_capacity(class.files.len() * settings.shape().iter().product::<usize>());
            for file in &class.files {
                let bytes = huashi_io::read_capped(file, "an image")?;
                let path = file.display().to_string();
                data.extend(decode_image(&bytes, &path, settings, first)?);
            }
            Ok(data)
        })
        .collect::<Result<Vec<_>, DataError>>()?;
    let names = classes.iter().map(|c| c.name.clone()).collect();
    ClassPool::with_shape(settings.shape(), names, images)
}
