//! Decoding one Omniglot drawing.
//!
//! The drawings of Lake et al. (2015) are 105×105 PNGs, 1-bit (or 8-bit)
//! greyscale, with 1/white the background and 0/black the ink. As in the
//! few-shot literature they are resized to 28×28: MAML's resize script
//! (Finn et al. 2017, `data/omniglot_resized/resize_images.py`) calls PIL's
//! `resize((28, 28), LANCZOS)`; here the image is expanded to 8-bit
//! greyscale and resized with the `image` crate's Lanczos3 filter. Pixels
//! then become `1 − value/255` (MAML's loader), so ink ≈ 1 and background
//! ≈ 0, stored row-major as [`PIXELS`] `f32`s. Another size and filter can
//! be asked for ([`decode_drawing_sized`]).
//!
//! Caveat: Pillow silently replaces the filter by nearest-neighbour for
//! 1-bit (mode `"1"`) images, so the files MAML's script writes are binary;
//! decoding to 8-bit first, as here (and as torchvision/learn2learn do with
//! `convert("L")`), gives anti-aliased strokes instead.

use super::error::DataError;
use crate::images::{ResizeFilter, MAX_SIDE};
pub use crate::task::SIDE;

/// Floats per default-sized drawing (`SIDE × SIDE`).
pub const PIXELS: usize = SIDE * SIDE;
use image::imageops::{resize, FilterType};
use image::io::{Limits, Reader as ImageReader};
use image::ImageFormat;
use std::io::Cursor;

/// The side of an original Omniglot drawing, in pixels.
pub const ORIGINAL_SIDE: u32 = 105;

/// Decodes one Omniglot PNG (`bytes`; `path` names it in errors) and returns
/// its 28×28 resized pixels, ink = 1, background = 0, row-major.
///
/// # Errors
/// [`DataError::Image`] when the bytes are not a PNG (or exceed the decoder
/// limits), [`DataError::ImageSize`] when the drawing is not 105×105.
pub fn decode_drawing(bytes: &[u8], path: &str) -> Result<Vec<f32>, DataError> {
    decode_drawing_sized(bytes, path, [SIDE, SIDE], ResizeFilter::Lanczos3)
}

/// Decodes one Omniglot PNG as [`decode_drawing`] does, resized to `size`
/// (height, width) with `filter`.
///
/// # Errors
/// As [`decode_drawing`].
pub fn decode_drawing_sized(
    bytes: &[u8],
    path: &str,
    [rows, cols]: [usize; 2],
    filter: ResizeFilter,
) -> Result<Vec<f32>, DataError> {
    if let Some(&side) = [rows, cols].iter().find(|s| !(1..=MAX_SIDE).contains(*s)) {
        return Err(DataError::InvalidSetting {
            what: "drawing side",
            value: side,
            reason: format!("must be 1 to {MAX_SIDE}"),
        });
    }
    let bad = |e: image::ImageError| DataError::Image {
        path: path.to_string(),
        message: e.to_string(),
    };
    let reader = || ImageReader::with_format(Cursor::new(bytes), ImageFormat::Png);
    let (width, height) = reader().into_dimensions().map_err(bad)?;
    if width != ORIGINAL_SIDE || height != ORIGINAL_SIDE {
        return Err(DataError::ImageSize {
            path: path.to_string(),
            width,
            height,
            expected: ORIGINAL_SIDE,
        });
    }
    let mut decoder = reader();
    decoder.limits(drawing_limits());
    let image = decoder.decode().map_err(bad)?;
    let grey = image.to_luma8();
    let small = resize(&grey, cols as u32, rows as u32, filter_type(filter));
    Ok(small
        .into_raw()
        .into_iter()
        .map(|v| 1.0 - f32::from(v) / 255.0)
        .collect())
}

/// The `image` crate's filter for `filter`.
pub fn filter_type(filter: ResizeFilter) -> FilterType {
    match filter {
        ResizeFilter::Nearest => FilterType::Nearest,
        ResizeFilter::Triangle => FilterType::Triangle,
        ResizeFilter::CatmullRom => FilterType::CatmullRom,
        ResizeFilter::Gaussian => FilterType::Gaussian,
        ResizeFilter::Lanczos3 => FilterType::Lanczos3,
    }
}

/// Decoder limits of one drawing: its side, and a few bytes per pixel.
fn drawing_limits() -> Limits {
    let mut limits = Limits::default();
    limits.max_image_width = Some(ORIGINAL_SIDE);
    limits.max_image_height = Some(ORIGINAL_SIDE);
    limits.max_alloc = Some(1 << 20);
    limits
}

/// Rotates a square `side × side` row-major image counter-clockwise by
/// `quarter_turns × 90°` (as `numpy.rot90` and PIL's `rotate`).
pub fn rotate(image: &[f32], side: usize, quarter_turns: usize) -> Vec<f32> {
    let mut out = image.to_vec();
    for _ in 0..quarter_turns % 4 {
        let src = out.clone();
        for r in 0..side {
            for c in 0..side {
                out[r * side + c] = src[c * side + (side - 1 - r)];
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fewshot::testing::{drawing_png, png_bytes};

    #[test]
    fn decodes_ink_as_one_and_background_as_zero() {
        let pixels = decode_drawing(&drawing_png(3), "fixture.png").unwrap();
        assert_eq!(pixels.len(), PIXELS);
        let ink = pixels.iter().cloned().fold(0.0f32, f32::max);
        let background = pixels[0];
        assert!(ink > 0.9 && background < 0.05, "{ink} {background}");
        assert!(pixels.iter().all(|p| (0.0..=1.0).contains(p)));
    }

    #[test]
    fn rejects_non_png_and_wrong_size() {
        let err = decode_drawing(b"not a png", "a/b.png").unwrap_err();
        assert!(matches!(err, DataError::Image { ref path, .. } if path == "a/b.png"));
        let small = png_bytes(&vec![255u8; 20 * 30], 20, 30);
        let err = decode_drawing(&small, "c.png").unwrap_err();
        assert!(
            matches!(
                err,
                DataError::ImageSize {
                    width: 20,
                    height: 30,
                    ..
                }
            ),
            "{err}"
        );
        assert!(err.to_string().contains("c.png"));
    }

    #[test]
    fn rotation_is_counter_clockwise_and_has_period_four() {
        // [[1, 2], [3, 4]] rotated 90° counter-clockwise is [[2, 4], [1, 3]].
        let m = [1.0, 2.0, 3.0, 4.0];
        assert_eq!(rotate(&m, 2, 1), vec![2.0, 4.0, 1.0, 3.0]);
        assert_eq!(rotate(&m, 2, 2), vec![4.0, 3.0, 2.0, 1.0]);
        assert_eq!(rotate(&m, 2, 4), m.to_vec());
    }
}
