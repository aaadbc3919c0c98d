//! Decoding one image of an image folder (PNG or JPEG, any size, grey or
//! colour) into an example of [`ImageSettings`]: converted to `C` = 1 (grey,
//! the `image` crate's luma `0.2126 R + 0.7152 G + 0.0722 B`) or 3 (RGB)
//! channels (alpha is dropped), resized to `H × W` with the settings' filter
//! when its size differs, then `x = (v/255 − mean[c]) / std[c]` (or `v/255`
//! without normalisation), stored channel-major (`C` planes of `H × W`).
//!
//! Images come from users, so the decoder is limited: sides up to
//! [`MAX_DECODED_SIDE`] and [`MAX_DECODE_BYTES`] of memory per image (the
//! file itself was read under `huashi_io`'s input cap).

use super::error::DataError;
use super::image::filter_type;
use crate::images::{ImageSettings, Normalization};
use image::imageops::resize;
use image::io::{Limits, Reader as ImageReader};
use image::DynamicImage;
use std::io::Cursor;

/// The largest side of an image file accepted for decoding.
pub const MAX_DECODED_SIDE: u32 = 16_384;
/// The most memory the decoder may allocate for one image.
pub const MAX_DECODE_BYTES: u64 = 512 << 20;

/// What the first image of a data set says about all of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ImageInfo {
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// 3 for a colour image, 1 for a grey one (alpha not counted).
    pub channels: usize,
}

fn bad(path: &str) -> impl Fn(image::ImageError) -> DataError + '_ {
    move |e| DataError::Image {
        path: path.to_string(),
        message: e.to_string(),
    }
}

fn reader<'a>(bytes: &'a [u8], path: &str) -> Result<ImageReader<Cursor<&'a [u8]>>, DataError> {
    let mut reader = ImageReader::new(Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|e| DataError::io(path, e))?;
    let mut limits = Limits::default();
    limits.max_image_width = Some(MAX_DECODED_SIDE);
    limits.max_image_height = Some(MAX_DECODED_SIDE);
    limits.max_alloc = Some(MAX_DECODE_BYTES);
    reader.limits(limits);
    Ok(reader)
}

fn decode(bytes: &[u8], path: &str) -> Result<DynamicImage, DataError> {
    reader(bytes, path)?.decode().map_err(bad(path))
}

/// The size and channels of one image file (`path` names it in errors).
///
/// # Errors
/// [`DataError::Image`] when it is not a PNG or JPEG, is corrupt or
/// exceeds the decoder limits.
pub fn image_info(bytes: &[u8], path: &str) -> Result<ImageInfo, DataError> {
    let image = decode(bytes, path)?;
    Ok(ImageInfo {
        width: image.width(),
        height: image.height(),
        channels: if image.color().has_color() { 3 } else { 1 },
    })
}

/// Decodes one image file into `settings.shape()` floats (see the module
/// docs). Without resizing, the image must be `settings.size` already;
/// `first` names the image (or setting) that size comes from in the error.
///
/// # Errors
/// [`DataError::Image`] for a file that cannot be decoded,
/// [`DataError::DifferentSizes`] for an image of another size when
/// `settings.resize` is off.
pub fn decode_image(
    bytes: &[u8],
    path: &str,
    settings: &ImageSettings,
    first: &str,
) -> Result<Vec<f32>, DataError> {
    let [height, width] = settings.size.map(|s| s as u32);
    let (w, h) = reader(bytes, path)?.into_dimensions().map_err(bad(path))?;
    if !settings.resize && (w, h) != (width, height) {
        let first = match first == path {
            true => "the run's image size".to_string(),
            false => first.to_string(),
        };
        return Err(DataError::DifferentSizes {
            first,
            first_size: [width, height],
            path: path.to_string(),
            size: [w, h],
        });
    }
    let image = decode(bytes, path)?;
    let filter = filter_type(settings.filter);
    let raw = if settings.channels == 1 {
        let grey = image.to_luma8();
        match (w, h) == (width, height) {
            true => grey.into_raw(),
            false => resize(&grey, width, height, filter).into_raw(),
        }
    } else {
        let rgb = image.to_rgb8();
        match (w, h) == (width, height) {
            true => rgb.into_raw(),
            false => resize(&rgb, width, height, filter).into_raw(),
        }
    };
    Ok(planar(&raw, settings.channels, settings.normalize.as_ref()))
}

/// Interleaved 8-bit values (`pixel × channels`) as normalised floats,
/// channel-major.
pub fn planar(raw: &[u8], channels: usize, normalize: Option<&Normalization>) -> Vec<f32> {
    let pixels = raw.len() / channels.max(1);
    let mut out = vec![0.0f32; pixels * channels];
    for c in 0..channels {
        let (mean, std) = normalize.map_or((0.0, 1.0), |n| n.channel(c));
        let plane = &mut out[c * pixels..(c + 1) * pixels];
        for (p, x) in plane.iter_mut().enumerate() {
            *x = ((f64::from(raw[p * channels + c]) / 255.0 - mean) / std) as f32;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn planar_splits_channels_and_normalises() {
        let raw = [0u8, 255, 51, 255, 0, 102];
        let n = Normalization {
            mean: vec![0.5],
            std: vec![0.5, 1.0, 0.2],
        };
        let x = planar(&raw, 3, Some(&n));
        // Channel 0: (0 − .5)/.5, (1 − .5)/.5; channel 1: 1 − .5, 0 − .5; …
        let expected = [-1.0, 1.0, 0.5, -0.5, (0.2 - 0.5) / 0.2, (0.4 - 0.5) / 0.2];
        for (a, b) in x.iter().zip(expected) {
            assert!((a - b).abs() < 1e-6, "{x:?}");
        }
    }

    #[test]
    fn garbage_is_an_image_error_naming_the_path() {
        let err = image_info(b"definitely not an image", "a/b.jpg").unwrap_err();
        assert!(matches!(err, DataError::Image { ref path, .. } if path == "a/b.jpg"));
    }
}
