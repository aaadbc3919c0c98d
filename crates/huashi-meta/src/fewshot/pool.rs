//! A pool of classes to draw few-shot tasks from: for each class a name and
//! its drawings (28×28 `f32` images, ink = 1).
//!
//! Rotation augmentation follows Santoro et al. (2016) and Finn et al.
//! (2017): each character rotated by 0°, 90°, 180° and 270° is a class of
//! its own. It is applied to a pool *after* the character split
//! ([`crate::fewshot::Omniglot::split`]), so a held-out character is held
//! out in all four rotations.

use super::error::DataError;
use super::image::{rotate, PIXELS, SIDE};

/// Classes × drawings × [`PIXELS`] floats, with a name per class (e.g.
/// `Greek/character03` or, rotated, `Greek/character03/rot90`).
#[derive(Debug, Clone, Default)]
pub struct ClassPool {
    names: Vec<String>,
    images: Vec<Vec<f32>>,
}

impl ClassPool {
    /// A pool from class names and, per class, its drawings concatenated
    /// (a multiple of [`PIXELS`] floats).
    ///
    /// # Errors
    /// [`DataError::PixelCount`] for a class whose floats are not a multiple
    /// of [`PIXELS`], [`DataError::InvalidSetting`] when the two lists differ
    /// in length.
    pub fn new(names: Vec<String>, images: Vec<Vec<f32>>) -> Result<Self, DataError> {
        if names.len() != images.len() {
            return Err(DataError::InvalidSetting {
                what: "number of class images",
                value: images.len(),
                reason: format!("{} class names were given", names.len()),
            });
        }
        for (name, data) in names.iter().zip(&images) {
            if data.len() % PIXELS != 0 {
                return Err(DataError::PixelCount {
                    class: name.clone(),
                    len: data.len(),
                    pixels: PIXELS,
                });
            }
        }
        Ok(ClassPool { names, images })
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

    /// The number of drawings of class `class`.
    pub fn drawings(&self, class: usize) -> usize {
        self.images[class].len() / PIXELS
    }

    /// Drawing `drawing` of class `class`: [`PIXELS`] floats, row-major.
    pub fn image(&self, class: usize, drawing: usize) -> &[f32] {
        &self.images[class][drawing * PIXELS..(drawing + 1) * PIXELS]
    }

    /// The pool with each class rotated by 0°, 90°, 180° and 270°
    /// (counter-clockwise) as four classes, named `<name>/rot0`,
    /// `<name>/rot90`, `<name>/rot180`, `<name>/rot270`, in that order.
    pub fn with_rotations(&self) -> ClassPool {
        let mut names = Vec::with_capacity(4 * self.len());
        let mut images = Vec::with_capacity(4 * self.len());
        for (name, data) in self.names.iter().zip(&self.images) {
            for turns in 0..4 {
                names.push(format!("{name}/rot{}", 90 * turns));
                let rotated = data
                    .chunks(PIXELS)
                    .flat_map(|image| rotate(image, SIDE, turns))
                    .collect();
                images.push(rotated);
            }
        }
        ClassPool { names, images }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pool() -> ClassPool {
        let image: Vec<f32> = (0..PIXELS).map(|i| i as f32).collect();
        let two = [image.clone(), image].concat();
        ClassPool::new(vec!["A/character01".into()], vec![two]).unwrap()
    }

    #[test]
    fn rotations_make_four_named_classes() {
        let rotated = pool().with_rotations();
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
    }
}
