//! A pool of classes to draw few-shot tasks from: for each class a name and
//! its images, all of one shape `[C, H, W]` (`C` = 1 or 3; Omniglot's are
//! `[1, 28, 28]`, ink = 1), stored channel-major (`C` planes of `H × W`).
//!
//! Rotation augmentation follows Santoro et al. (2016) and Finn et al.
//! (2017): each character rotated by 0°, 90°, 180° and 270° is a class of
//! its own. It is applied to a pool *after* the character split
//! ([`crate::fewshot::Omniglot::split`]), so a held-out character is held
//! out in all four rotations.

use super::error::DataError;
use super::image::{rotate, SIDE};

/// Classes × images × `C·H·W` floats, with a name per class (e.g.
/// `Greek/character03` or, rotated, `Greek/character03/rot90`).
#[derive(Debug, Clone)]
pub struct ClassPool {
    shape: [usize; 3],
    names: Vec<String>,
    images: Vec<Vec<f32>>,
}

impl Default for ClassPool {
    fn default() -> Self {
        ClassPool {
            shape: [1, SIDE, SIDE],
            names: Vec::new(),
            images: Vec::new(),
        }
    }
}

impl ClassPool {
    /// A pool of Omniglot-shaped (`[1, 28, 28]`) images: see
    /// [`Self::with_shape`].
    ///
    /// # Errors
    /// As [`Self::with_shape`].
    pub fn new(names: Vec<String>, images: Vec<Vec<f32>>) -> Result<Self, DataError> {
        Self::with_shape([1, SIDE, SIDE], names, images)
    }

    /// A pool of images of `shape` `[C, H, W]` from class names and, per
    /// class, its images concatenated (a multiple of `C·H·W` floats).
    ///
    /// # Errors
    /// [`DataError::Channels`] unless `C` is 1 or 3,
    /// [`DataError::InvalidSetting`] for a zero side or when the two lists
    /// differ in length, [`DataError::PixelCount`] for a class whose floats
    /// are not a multiple of `C·H·W`.
    pub fn with_shape(
        shape: [usize; 3],
        names: Vec<String>,
        images: Vec<Vec<f32>>,
    ) -> Result<Self, DataError> {
        let [channels, height, width] = shape;
        if channels != 1 && channels != 3 {
            let what = "a class pool".to_string();
            return Err(DataError::Channels { what, channels });
        }
        let pixels = channels * height * width;
        if pixels == 0 {
            return Err(DataError::InvalidSetting {
                what: "image side",
                value: 0,
                reason: format!("the pool's shape is {shape:?}"),
            });
        }
        if names.len() != images.len() {
            return Err(DataError::InvalidSetting {
                what: "number of class images",
                value: images.len(),
                reason: format!("{} class names were given", names.len()),
            });
        }
        for (name, data) in names.iter().zip(&images) {
            if data.len() % pixels != 0 {
                return Err(DataError::PixelCount {
                    class: name.clone(),
                    len: data.len(),
                    pixels,
                });
            }
        }
        Ok(ClassPool {
            shape,
            names,
            images,
        })
    }

    /// The shape `[C, H, W]` of one image.
    pub fn shape(&self) -> [usize; 3] {
        self.shape
    }

    /// Floats per image, `C·H·W`.
    pub fn pixels(&self) -> usize {
        self.shape.iter().product()
    }

    /// The number of classes.
    pub fn len(&self) -> usize {
        self.names.len()
    }

    /// Whether the pool has no class.
    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }

    /// The class names, in class order.
    pub fn names(&self) -> &[String] {
        &self.names
    }

    /// The name of class `class`.
    pub fn name(&self, class: usize) -> &str {
        &self.names[class]
    }

    /// The number of images (drawings) of class `class`.
    pub fn drawings(&self, class: usize) -> usize {
        self.images[class].len() / self.pixels()
    }

    /// Image `drawing` of class `class`: `C·H·W` floats, channel-major.
    pub fn image(&self, class: usize, drawing: usize) -> &[f32] {
        let pixels = self.pixels();
        &self.images[class][drawing * pixels..(drawing + 1) * pixels]
    }

    /// The pool with each class rotated by 0°, 90°, 180° and 270°
    /// (counter-clockwise, every channel) as four classes, named
    /// `<name>/rot0`, `<name>/rot90`, `<name>/rot180`, `<name>/rot270`, in
    /// that order.
    ///
    /// # Errors
    /// [`DataError::NotSquare`] when the images are not square.
    pub fn with_rotations(&self) -> Result<ClassPool, DataError> {
        let [_, height, width] = self.shape;
        if height != width {
            return Err(DataError::NotSquare { height, width });
        }
        let mut names = Vec::with_capacity(4 * self.len());
        let mut images = Vec::with_capacity(4 * self.len());
        for (name, data) in self.names.iter().zip(&self.images) {
            for turns in 0..4 {
                names.push(format!("{name}/rot{}", 90 * turns));
                let rotated = data
                    .chunks(height * width)
                    .flat_map(|plane| rotate(plane, height, turns))
                    .collect();
                images.push(rotated);
            }
        }
        Ok(ClassPool {
            shape: self.shape,
            names,
            images,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PIXELS: usize = SIDE * SIDE;

    fn pool() -> ClassPool {
        let image: Vec<f32> = (0..PIXELS).map(|i| i as f32).collect();
        let two = [image.clone(), image].concat();
        ClassPool::new(vec!["A/character01".into()], vec![two]).unwrap()
    }

    #[test]
    fn rotations_make_four_named_classes() {
        let rotated = pool().with_rotations().unwrap();
        assert_eq!(rotated.len(), 4);
        assert_eq!(rotated.name(1), "A/character01/rot90");
        assert_eq!(rotated.name(3), "A/character01/rot270");
        assert_eq!(rotated.drawings(2), 2);
        assert_eq!(rotated.image(0, 1), pool().image(0, 1));
        assert_eq!(rotated.image(2, 0), rotate(pool().image(0, 0), SIDE, 2));
        assert_ne!(rotated.image(1, 0), rotated.image(0, 0));
    }

    #[test]
    fn rejects_partial_images_and_mismatched_lists() {
        let err = ClassPool::new(vec!["x".into()], vec![vec![0.0; 10]]).unwrap_err();
        assert!(
            matches!(err, DataError::PixelCount { len: 10, .. }),
            "{err}"
        );
        let err = ClassPool::new(vec!["x".into()], vec![]).unwrap_err();
        assert!(matches!(err, DataError::InvalidSetting { .. }), "{err}");
        let err = ClassPool::with_shape([2, 4, 4], vec![], vec![]).unwrap_err();
        assert!(
            matches!(err, DataError::Channels { channels: 2, .. }),
            "{err}"
        );
    }

    #[test]
    fn rotations_turn_every_channel_and_need_square_images() {
        // Two channels of [[1, 2], [3, 4]] and [[5, 6], [7, 8]], as RGB's
        // first two planes (the third is zero).
        let image = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 0.0, 0.0, 0.0, 0.0];
        let pool = ClassPool::with_shape([3, 2, 2], vec!["c".into()], vec![image.to_vec()]);
        let rotated = pool.unwrap().with_rotations().unwrap();
        assert_eq!(rotated.shape(), [3, 2, 2]);
        assert_eq!(
            &rotated.image(1, 0)[..8],
            &[2.0, 4.0, 1.0, 3.0, 6.0, 8.0, 5.0, 7.0]
        );
        let wide = ClassPool::with_shape([1, 2, 3], vec!["w".into()], vec![vec![0.0; 6]]);
        let err = wide.unwrap().with_rotations().unwrap_err();
        assert!(
            matches!(
                err,
                DataError::NotSquare {
                    height: 2,
                    width: 3
                }
            ),
            "{err}"
        );
    }
}
