//! Test support: small image-folder data sets written in each layout of
//! [`super::folder`] (grey or RGB, PNG or JPEG), whose pixel values are
//! known ([`pixel`]), so tests can check shapes, resizing and
//! normalisation without any real data set.

use super::folder::{Layout, SPLITS};
use image::codecs::jpeg::JpegEncoder;
use image::codecs::png::PngEncoder;
use image::{ColorType, ImageEncoder};
use std::path::{Path, PathBuf};

/// The 8-bit value of row `r`, column `c`, channel `ch` of fixture image
/// `seed`.
pub fn pixel(seed: usize, r: usize, c: usize, ch: usize) -> u8 {
    ((seed * 29 + ch * 70 + r * 7 + c * 3) % 256) as u8
}

/// Interleaved pixels (`height × width × channels`) of fixture image `seed`.
pub fn pixels(seed: usize, width: u32, height: u32, channels: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(width as usize * height as usize * channels);
    for r in 0..height as usize {
        for c in 0..width as usize {
            out.extend((0..channels).map(|ch| pixel(seed, r, c, ch)));
        }
    }
    out
}

/// PNG (or, with `jpeg`, JPEG at quality 95) bytes of interleaved 8-bit
/// pixels with 1 (grey) or 3 (RGB) channels.
pub fn encode(pixels: &[u8], width: u32, height: u32, channels: usize, jpeg: bool) -> Vec<u8> {
    let color = if channels == 1 {
        ColorType::L8
    } else {
        ColorType::Rgb8
    };
    let mut out = Vec::new();
    let written = if jpeg {
        JpegEncoder::new_with_quality(&mut out, 95).write_image(pixels, width, height, color)
    } else {
        PngEncoder::new(&mut out).write_image(pixels, width, height, color)
    };
    written.expect("encoding an image in memory");
    out
}

/// What [`write_folder`] writes: `classes[s]` classes in split `s` (train,
/// val, test) of `images` images each, `width × height`, `channels`
/// channels, PNG or JPEG.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FolderFixture {
    /// Classes per split.
    pub classes: [usize; 3],
    /// Images per class.
    pub images: usize,
    /// Image width.
    pub width: u32,
    /// Image height.
    pub height: u32,
    /// 1 or 3.
    pub channels: usize,
    /// JPEG instead of PNG.
    pub jpeg: bool,
}

impl Default for FolderFixture {
    /// 5, 5 and 5 classes of 4 RGB 8×8 PNGs.
    fn default() -> Self {
        FolderFixture {
            classes: [5, 5, 5],
            images: 4,
            width: 8,
            height: 8,
            channels: 3,
            jpeg: false,
        }
    }
}

/// The class names of split `s`: `train00`, `train01`, …
pub fn class_name(split: usize, class: usize) -> String {
    format!("{}{class:02}", SPLITS[split])
}

/// The seed of image `i` of class `class` of split `split` (see [`pixel`]).
pub fn image_seed(split: usize, class: usize, i: usize) -> usize {
    1000 * split + 10 * class + i
}

/// Writes a data set in `layout` under `root` and returns the image files
/// written, in order (split, class, image).
pub fn write_folder(root: &Path, layout: Layout, f: &FolderFixture) -> Vec<PathBuf> {
    let ext = if f.jpeg { "jpg" } else { "png" };
    let mut written = Vec::new();
    for (s, split) in SPLITS.iter().enumerate() {
        let mut list = String::from(if layout == Layout::Csv {
            "filename,label\n"
        } else {
            ""
        });
        for k in 0..f.classes[s] {
            let class = class_name(s, k);
            for i in 0..f.images {
                let (folder, name) = match layout {
                    Layout::SplitFolders => (root.join(split).join(&class), format!("{i}.{ext}")),
                    Layout::CifarFs => (root.join("data").join(&class), format!("{i}.{ext}")),
                    Layout::Csv => (root.join("images"), format!("{class}_{i}.{ext}")),
                };
                let data = pixels(image_seed(s, k, i), f.width, f.height, f.channels);
                let bytes = encode(&data, f.width, f.height, f.channels, f.jpeg);
                std::fs::create_dir_all(&folder).expect("creating a fixture folder");
                std::fs::write(folder.join(&name), bytes).expect("writing a fixture image");
                written.push(folder.join(&name));
                if layout == Layout::Csv {
                    list.push_str(&format!("{name},{class}\n"));
                }
            }
            if layout == Layout::CifarFs {
                list.push_str(&format!("{class}\n"));
            }
        }
        let list_file = match layout {
            Layout::SplitFolders => continue,
            Layout::Csv => root.join(format!("{split}.csv")),
            Layout::CifarFs => root.join(format!("splits/bertinetto/{split}.txt")),
        };
        std::fs::create_dir_all(list_file.parent().unwrap_or(root)).expect("creating a folder");
        std::fs::write(list_file, list).expect("writing a split file");
    }
    written
}
