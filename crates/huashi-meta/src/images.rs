//! How the images of a few-shot data set become examples: [`ImageSettings`]
//! (channels, size, resize filter, normalisation, rotations), kept in a
//! run's [`crate::TaskSpec`] and so in its checkpoints.
//!
//! An example is a `C × H × W` `f32` tensor, `C` = 1 (grey) or 3 (RGB).
//! A pixel of 8-bit value `v` in channel `c` becomes
//!
//! ```text
//! x = (v/255 − mean[c]) / std[c]      (with --normalize MEAN[,MEAN,MEAN]/STD[,STD,STD])
//! x = v/255                           (without)
//! ```
//!
//! (one mean or standard deviation applies to every channel). Omniglot
//! keeps its own convention instead: ink = 1, `x = 1 − v/255`. Images are
//! resized to `H × W` with a named filter ([`ResizeFilter`], the `image`
//! crate's filters; default Lanczos3); without a size every image must
//! already have the size of the first one. With rotations each class also
//! appears rotated by 90°, 180° and 270° as three new classes (square
//! images only).
//!
//! ```
//! use huashi_meta::images::{parse_size, Normalization, ResizeFilter};
//!
//! assert_eq!(parse_size("84")?, [84, 84]);
//! assert_eq!(parse_size("32,48")?, [32, 48]);
//! assert_eq!(ResizeFilter::parse("catmull-rom")?, ResizeFilter::CatmullRom);
//! let n = Normalization::parse("0.5,0.4,0.3/0.25,0.2,0.1")?;
//! assert_eq!(n.channel(2), (0.3, 0.1));
//! # Ok::<(), huashi_meta::Error>(())
//! ```

use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// The side of a resized Omniglot drawing, its default size.
pub const OMNIGLOT_SIDE: usize = crate::task::SIDE;
/// The largest accepted image side (height or width) after resizing.
pub const MAX_SIDE: usize = 4096;

/// A resampling filter (the `image` crate's `FilterType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ResizeFilter {
    /// Nearest neighbour.
    Nearest,
    /// Linear (triangle) filter.
    Triangle,
    /// Cubic (Catmull-Rom) filter.
    CatmullRom,
    /// Gaussian filter.
    Gaussian,
    /// Lanczos with window 3 (the default, as PIL's `LANCZOS`).
    #[default]
    Lanczos3,
}

impl ResizeFilter {
    /// Every filter, in the order of its name in [`Self::NAMES`].
    pub const ALL: [ResizeFilter; 5] = [
        ResizeFilter::Nearest,
        ResizeFilter::Triangle,
        ResizeFilter::CatmullRom,
        ResizeFilter::Gaussian,
        ResizeFilter::Lanczos3,
    ];
    /// The filters' names.
    pub const NAMES: [&'static str; 5] =
        ["nearest", "triangle", "catmull-rom", "gaussian", "lanczos3"];

    /// The filter named `name` (see [`Self::NAMES`]).
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] naming the unknown name and the known ones.
    pub fn parse(name: &str) -> Result<Self> {
        let found = Self::NAMES.iter().position(|n| *n == name);
        found
            .map(|i| Self::ALL[i])
            .ok_or_else(|| Error::InvalidConfig {
                what: "resize filter (nearest, triangle, catmull-rom, gaussian, lanczos3)",
                value: name.to_string(),
            })
    }

    /// The filter's name.
    pub fn name(self) -> &'static str {
        let i = Self::ALL.iter().position(|f| *f == self).unwrap_or(4);
        Self::NAMES[i]
    }
}

/// Per-channel normalisation `x = (v/255 − mean) / std`; one value applies
/// to every channel.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Normalization {
    /// The means, one or one per channel.
    pub mean: Vec<f64>,
    /// The standard deviations, one or one per channel (each > 0).
    pub std: Vec<f64>,
}

impl Normalization {
    /// Parses `MEAN[,MEAN,MEAN]/STD[,STD,STD]`, e.g. `0.5/0.25` or
    /// `0.485,0.456,0.406/0.229,0.224,0.225`.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] for another form, a number that does not
    /// parse or is not finite, or a standard deviation ≤ 0.
    pub fn parse(text: &str) -> Result<Self> {
        let bad = || Error::InvalidConfig {
            what: "normalisation (MEAN[,MEAN,MEAN]/STD[,STD,STD], finite, each STD > 0)",
            value: text.to_string(),
        };
        let (mean, std) = text.split_once('/').ok_or_else(bad)?;
        let numbers = |part: &str| -> Result<Vec<f64>> {
            part.split(',')
                .map(|s| s.trim().parse::<f64>().ok().filter(|v| v.is_finite()))
                .collect::<Option<Vec<f64>>>()
                .filter(|v| v.len() == 1 || v.len() == 3)
                .ok_or_else(bad)
        };
        let normalization = Normalization {
            mean: numbers(mean)?,
            std: numbers(std)?,
        };
        if normalization.std.iter().any(|s| *s <= 0.0) {
            return Err(bad());
        }
        Ok(normalization)
    }

    /// The mean and standard deviation of channel `c`.
    pub fn channel(&self, c: usize) -> (f64, f64) {
        let pick = |v: &[f64]| v.get(c).or(v.first()).copied().unwrap_or(0.0);
        (pick(&self.mean), pick(&self.std))
    }
}

/// How the images of a data set become examples (see the module docs).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ImageSettings {
    /// Channels of one example: 1 (grey) or 3 (RGB).
    pub channels: usize,
    /// Height and width of one example.
    pub size: [usize; 2],
    /// Whether images are resized to `size`; `false`: every image must
    /// already be that size.
    pub resize: bool,
    /// The resampling filter.
    pub filter: ResizeFilter,
    /// Per-channel normalisation; `None`: `v/255` (Omniglot: `1 − v/255`).
    pub normalize: Option<Normalization>,
    /// Whether rotations by 90°, 180° and 270° are classes of their own.
    pub rotations: bool,
}

impl ImageSettings {
    /// Omniglot's: 1 channel, 28×28 with Lanczos3, ink = 1, rotations on.
    pub fn omniglot() -> Self {
        ImageSettings {
            channels: 1,
            size: [OMNIGLOT_SIDE, OMNIGLOT_SIDE],
            resize: true,
            filter: ResizeFilter::Lanczos3,
            normalize: None,
            rotations: true,
        }
    }

    /// The shape `[C, H, W]` of one example.
    pub fn shape(&self) -> [usize; 3] {
        [self.channels, self.size[0], self.size[1]]
    }

    /// Checks the settings: 1 or 3 channels, sides in `1..=`[`MAX_SIDE`],
    /// square images with rotations, a normalisation with one value or one
    /// per channel.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] naming the setting and its value.
    pub fn check(&self) -> Result<()> {
        let invalid = |what: &'static str, value: String| Err(Error::InvalidConfig { what, value });
        if self.channels != 1 && self.channels != 3 {
            return invalid("image channels (1 or 3)", self.channels.to_string());
        }
        let [h, w] = self.size;
        if !(1..=MAX_SIDE).contains(&h) || !(1..=MAX_SIDE).contains(&w) {
            return invalid("image size (each side 1 to 4096)", format!("{h}×{w}"));
        }
        if self.rotations && h != w {
            return invalid(
                "image size with rotations (rotated classes need square images: give a square --image-size or --rotations off)",
                format!("{h}×{w}"),
            );
        }
        if let Some(n) = &self.normalize {
            let fits = |v: &[f64]| v.len() == 1 || v.len() == self.channels;
            let finite = n.mean.iter().chain(&n.std).all(|v| v.is_finite());
            if !fits(&n.mean) || !fits(&n.std) || !finite || n.std.iter().any(|s| *s <= 0.0) {
                return invalid(
                    "normalisation (one value or one per channel, finite, std > 0)",
                    format!(
                        "mean {:?}, std {:?} for {} channels",
                        n.mean, n.std, self.channels
                    ),
                );
            }
        }
        Ok(())
    }
}

/// An image-folder data set: its root folder and image settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ImageData {
    /// The data set's root folder (one of the layouts of
    /// `huashi_meta::fewshot::folder`).
    pub root: PathBuf,
    /// How its images become examples.
    pub images: ImageSettings,
}

// Normalisations hold finite numbers only (parsing and
// `ImageSettings::check` refuse the others, JSON has none), so equality is
// an equivalence and `TaskSpec` stays `Eq`.
impl Eq for Normalization {}
impl Eq for ImageSettings {}
impl Eq for ImageData {}

/// Parses an image size `H[,W]` (`84` is 84×84).
///
/// # Errors
/// [`Error::InvalidConfig`] for another form or a side outside
/// `1..=`[`MAX_SIDE`].
pub fn parse_size(text: &str) -> Result<[usize; 2]> {
    let sides: Option<Vec<usize>> = text.split(',').map(|s| s.trim().parse().ok()).collect();
    let size = match sides.as_deref() {
        Some(&[side]) => [side, side],
        Some(&[h, w]) => [h, w],
        _ => [0, 0],
    };
    if size.iter().all(|s| (1..=MAX_SIDE).contains(s)) {
        Ok(size)
    } else {
        Err(Error::InvalidConfig {
            what: "image size (H or H,W, each side 1 to 4096)",
            value: text.to_string(),
        })
    }
}

/// Parses `on` or `off`.
///
/// # Errors
/// [`Error::InvalidConfig`] for another word.
pub fn parse_on_off(text: &str) -> Result<bool> {
    match text {
        "on" => Ok(true),
        "off" => Ok(false),
        other => Err(Error::InvalidConfig {
            what: "switch (on or off)",
            value: other.to_string(),
        }),
    }
}
