//! [`ImageOptions`]: the image settings a user gives (each optional), and
//! the [`ImageSettings`] they make with each family's defaults:
//!
//! | | Omniglot | image folder |
//! |---|---|---|
//! | size | 28×28 | the first image's (all must match) unless given |
//! | filter | Lanczos3 | Lanczos3 |
//! | channels | 1 (fixed) | the first image's (grey 1, colour 3) unless given |
//! | normalisation | none (ink = 1) | none (`v/255`) unless given |
//! | rotations | on | off |
//!
//! The first image is the first file of the first class of an image
//! folder's training split (`crate::fewshot::probe`).

use crate::error::Result;
use crate::images::{ImageData, ImageSettings, Normalization, ResizeFilter};
use std::path::PathBuf;

/// Image settings as given; `None` takes the family's default (see the
/// module docs).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ImageOptions {
    /// Height and width of an example.
    pub size: Option<[usize; 2]>,
    /// Resampling filter for resizing.
    pub filter: Option<ResizeFilter>,
    /// Channels of an example, 1 or 3 (image folders only).
    pub channels: Option<usize>,
    /// Per-channel normalisation (image folders only).
    pub normalize: Option<Normalization>,
    /// Rotations by 90° as new classes.
    pub rotations: Option<bool>,
}

impl ImageOptions {
    /// The options given, by name, as `(name, given)`: all of them, or
    /// (`folder_only`) those only image folders take.
    pub fn given(&self, folder_only: bool) -> Vec<(&'static str, bool)> {
        let mut given = vec![
            ("channels", self.channels.is_some()),
            ("normalize", self.normalize.is_some()),
        ];
        if !folder_only {
            given.extend([
                ("image_size", self.size.is_some()),
                ("resize_filter", self.filter.is_some()),
                ("rotations", self.rotations.is_some()),
            ]);
        }
        given
    }

    /// Omniglot's settings: 1 channel, ink = 1, the given size, filter and
    /// rotations or the defaults.
    pub fn omniglot(&self) -> ImageSettings {
        let default = ImageSettings::omniglot();
        ImageSettings {
            size: self.size.unwrap_or(default.size),
            filter: self.filter.unwrap_or_default(),
            rotations: self.rotations.unwrap_or(true),
            ..default
        }
    }

    /// An image folder's settings; the first image of `root` gives the size
    /// and channels when they are not given (then no image is resized).
    ///
    /// # Errors
    /// Those of reading the first image (`crate::fewshot::probe`): a
    /// folder in no known layout, an empty split, an unreadable image.
    pub fn folder(&self, root: PathBuf) -> Result<ImageData> {
        let (size, channels) = match (self.size, self.channels) {
            (Some(size), Some(channels)) => (size, channels),
            (size, channels) => {
                let (width, height, first) = probe_first_image(&root)?;
                let native = [height as usize, width as usize];
                (size.unwrap_or(native), channels.unwrap_or(first))
            }
        };
        let images = ImageSettings {
            channels,
            size,
            resize: self.size.is_some(),
            filter: self.filter.unwrap_or_default(),
            normalize: self.normalize.clone(),
            rotations: self.rotations.unwrap_or(false),
        };
        Ok(ImageData { root, images })
    }
}

/// The first image of an image folder: (width, height, channels).
#[cfg(feature = "fewshot")]
fn probe_first_image(root: &std::path::Path) -> Result<(u32, u32, usize)> {
    let (_, info) = crate::fewshot::probe(root)?;
    Ok((info.width, info.height, info.channels))
}

/// Without the `fewshot` feature no image can be read.
#[cfg(not(feature = "fewshot"))]
fn probe_first_image(root: &std::path::Path) -> Result<(u32, u32, usize)> {
    Err(crate::error::Error::InvalidConfig {
        what: "task family (image folders need huashi-meta's `fewshot` feature)",
        value: root.display().to_string(),
    })
}
