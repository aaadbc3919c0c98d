//! The Omniglot data set of Lake, Salakhutdinov & Tenenbaum, "Human-level
//! concept learning through probabilistic program induction", *Science*
//! 350 (2015), <https://github.com/brendenlake/omniglot> (MIT licence):
//! 1,623 handwritten characters of 50 alphabets, 20 drawings each, in a
//! *background* set (964 characters, 30 alphabets) and an *evaluation* set
//! (659 characters, 20 alphabets).
//!
//! The crate embeds the two small official background subsets
//! (`images_background_small1/2`, 242 distinct characters together);
//! [`Omniglot::load`] reads the full sets from a folder. Drawings are
//! 28×28 unless another size or filter is asked for
//! ([`Omniglot::embedded_with`], [`Omniglot::load_with`]).
//!
//! Splits are over *characters*, never drawings ([`Omniglot::split`]): with
//! the evaluation set present, test = the evaluation characters (Lake's
//! background/evaluation protocol) and validation = a seeded subset of the
//! background characters; otherwise a seeded shuffle holds out
//! [`SplitConfig::test`] characters for test and [`SplitConfig::validation`]
//! for validation (defaults 50 and 20; the other 172 embedded characters
//! train).

use super::archive::{folder_entries, is_png, zip_entries, zip_file_entries, Entry};
use super::error::DataError;
use super::image::decode_drawing_sized;
use super::pool::ClassPool;
use crate::images::{ImageSettings, ResizeFilter, OMNIGLOT_SIDE};
use huashi_rng::Rng;
use rayon::prelude::*;
use std::collections::BTreeMap;
use std::path::Path;

static SMALL1: &[u8] = include_bytes!("../../data/omniglot/images_background_small1.zip");
static SMALL2: &[u8] = include_bytes!("../../data/omniglot/images_background_small2.zip");

/// The top-level folders (or `.zip` files) recognised by [`Omniglot::load`].
pub const SET_FOLDERS: [&str; 4] = [
    "images_background",
    "images_evaluation",
    "images_background_small1",
    "images_background_small2",
];

/// The official set a character comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum OmniglotSet {
    /// `images_background` (or one of its small subsets).
    Background,
    /// `images_evaluation`.
    Evaluation,
}

impl OmniglotSet {
    /// The set of a top-level folder name, if it is one of [`SET_FOLDERS`].
    pub fn of_folder(name: &str) -> Option<Self> {
        match name {
            "images_evaluation" => Some(OmniglotSet::Evaluation),
            n if SET_FOLDERS.contains(&n) => Some(OmniglotSet::Background),
            _ => None,
        }
    }
}

/// One character: its alphabet, its name and its drawings.
#[derive(Debug, Clone)]
pub struct Character {
    /// The alphabet, e.g. `Greek`.
    pub alphabet: String,
    /// The character folder, e.g. `character03`.
    pub name: String,
    /// The official set it comes from.
    pub set: OmniglotSet,
    /// The drawings, `size` each (`H·W` floats, ink = 1), concatenated in
    /// file-name order.
    pub drawings: Vec<f32>,
    /// Height and width of a drawing (28×28 by default).
    pub size: [usize; 2],
}

impl Character {
    /// The number of drawings.
    pub fn count(&self) -> usize {
        self.drawings.len() / self.pixels()
    }

    /// Floats per drawing, `H·W`.
    pub fn pixels(&self) -> usize {
        self.size[0] * self.size[1]
    }

    /// Drawing `i` (`H·W` floats, row-major).
    pub fn drawing(&self, i: usize) -> &[f32] {
        let pixels = self.pixels();
        &self.drawings[i * pixels..(i + 1) * pixels]
    }

    /// `alphabet/name`, the class name used in pools.
    pub fn class_name(&self) -> String {
        format!("{}/{}", self.alphabet, self.name)
    }
}

/// Sizes and seed of a character split (see the module docs).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SplitConfig {
    /// Test characters when there is no evaluation set (default 50).
    pub test: usize,
    /// Validation characters (default 20).
    pub validation: usize,
    /// The seed of the shuffle (default 0).
    pub seed: u64,
}

impl Default for SplitConfig {
    fn default() -> Self {
        SplitConfig {
            test: 50,
            validation: 20,
            seed: 0,
        }
    }
}

/// Train, validation and test pools of disjoint characters (not yet
/// rotated; see [`ClassPool::with_rotations`]).
#[derive(Debug, Clone)]
pub struct Split {
    /// Characters to meta-train on.
    pub train: ClassPool,
    /// Characters for model selection.
    pub validation: ClassPool,
    /// Held-out characters.
    pub test: ClassPool,
}

/// Omniglot characters, sorted by (set, alphabet, character).
#[derive(Debug, Clone)]
pub struct Omniglot {
    characters: Vec<Character>,
    size: [usize; 2],
}

/// Omniglot's default drawing size and filter: 28×28, Lanczos3.
const DEFAULT_SIZE: ([usize; 2], ResizeFilter) =
    ([OMNIGLOT_SIDE, OMNIGLOT_SIDE], ResizeFilter::Lanczos3);

impl Omniglot {
    /// The embedded small background subsets 1 and 2 together: Greek and
    /// Latin, present in both, are kept once, giving 242 characters × 20
    /// drawings.
    ///
    /// # Errors
    /// [`crate::Error::Data`] when an embedded archive or drawing cannot be decoded
    /// (not expected for the embedded data).
    pub fn embedded() -> crate::Result<Self> {
        Self::embedded_sized(DEFAULT_SIZE)
    }

    /// The embedded subsets with the size and filter of `images` (its
    /// channels, normalisation and rotations are not used here).
    ///
    /// # Errors
    /// As [`Self::embedded`].
    pub fn embedded_with(images: &ImageSettings) -> crate::Result<Self> {
        Self::embedded_sized((images.size, images.filter))
    }

    fn embedded_sized(size: ([usize; 2], ResizeFilter)) -> crate::Result<Self> {
        let mut entries = zip_entries(SMALL1, "images_background_small1.zip (embedded)", is_png)?;
        entries.extend(zip_entries(
            SMALL2,
            "images_background_small2.zip (embedded)",
            is_png,
        )?);
        Ok(Self::from_entries(entries, size)?)
    }

    /// Loads every set found in `dir`: folders named as in [`SET_FOLDERS`]
    /// (layout `<set>/<Alphabet>/characterNN/*.png`), or zips of those names
    /// (`images_background.zip`, …) directly in `dir`; a folder wins over a
    /// zip of the same name. Characters present in several sets (the small
    /// subsets) are merged by file name.
    ///
    /// # Errors
    /// [`crate::Error::Data`]: [`DataError::Missing`] when `dir` is not a folder,
    /// [`DataError::NoData`] when it holds none of the sets, or a read, unzip
    /// or image error naming the file.
    pub fn load(dir: impl AsRef<Path>) -> crate::Result<Self> {
        Self::load_sized(dir.as_ref(), DEFAULT_SIZE)
    }

    /// Loads `dir` as [`Self::load`] does, with the size and filter of
    /// `images`.
    ///
    /// # Errors
    /// As [`Self::load`].
    pub fn load_with(dir: impl AsRef<Path>, images: &ImageSettings) -> crate::Result<Self> {
        Self::load_sized(dir.as_ref(), (images.size, images.filter))
    }

    fn load_sized(dir: &Path, size: ([usize; 2], ResizeFilter)) -> crate::Result<Self> {
        if !dir.is_dir() {
            return Err(DataError::Missing {
                path: dir.display().to_string(),
            }
            .into());
        }
        let (mut entries, mut found) = (Vec::new(), false);
        for name in SET_FOLDERS {
            let (folder, zip) = (dir.join(name), dir.join(format!("{name}.zip")));
            if folder.is_dir() {
                entries.extend(folder_entries(dir, name, &is_png)?);
            } else if zip.is_file() {
                entries.extend(zip_file_entries(&zip, is_png)?);
            } else {
                continue;
            }
            found = true;
        }
        if !found {
            return Err(DataError::NoData {
                path: dir.display().to_string(),
                expected: SET_FOLDERS.join(", "),
            }
            .into());
        }
        Ok(Self::from_entries(entries, size)?)
    }

    /// Groups `(path, png)` entries by character, keeping the first of
    /// duplicate files, and decodes them in parallel.
    fn from_entries(
        entries: Vec<Entry>,
        (size, filter): ([usize; 2], ResizeFilter),
    ) -> Result<Self, DataError> {
        type Key = (OmniglotSet, String, String);
        let mut groups: BTreeMap<Key, BTreeMap<String, Entry>> = BTreeMap::new();
        for (path, bytes) in entries {
            let parts: Vec<&str> = path.split('/').collect();
            let [top, alphabet, character, file] = parts[..] else {
                continue;
            };
            let Some(set) = OmniglotSet::of_folder(top) else {
                continue;
            };
            let key = (set, alphabet.to_string(), character.to_string());
            let files = groups.entry(key).or_default();
            files.entry(file.to_string()).or_insert((path, bytes));
        }
        let characters = groups
            .into_par_iter()
            .map(|((set, alphabet, name), files)| {
                let mut drawings = Vec::with_capacity(files.len() * size[0] * size[1]);
                for (path, bytes) in files.values() {
                    drawings.extend(decode_drawing_sized(bytes, path, size, filter)?);
                }
                Ok(Character {
                    alphabet,
                    name,
                    set,
                    drawings,
                    size,
                })
            })
            .collect::<Result<Vec<_>, DataError>>()?;
        Ok(Omniglot { characters, size })
    }

    /// The characters, sorted by (set, alphabet, character).
    pub fn characters(&self) -> &[Character] {
        &self.characters
    }

    /// The number of characters.
    pub fn len(&self) -> usize {
        self.characters.len()
    }

    /// Whether there is no character.
    pub fn is_empty(&self) -> bool {
        self.characters.is_empty()
    }

    /// Whether any character comes from the evaluation set.
    pub fn has_evaluation(&self) -> bool {
        self.characters
            .iter()
            .any(|c| c.set == OmniglotSet::Evaluation)
    }

    /// All characters as one pool (class `i` = character `i`).
    ///
    /// # Errors
    /// [`crate::Error::Data`] with [`DataError::PixelCount`] (not expected for
    /// decoded characters).
    pub fn pool(&self) -> crate::Result<ClassPool> {
        self.pool_of(&(0..self.len()).collect::<Vec<_>>())
    }

    fn pool_of(&self, indices: &[usize]) -> crate::Result<ClassPool> {
        let chars = indices.iter().map(|&i| &self.characters[i]);
        let names = chars.clone().map(Character::class_name).collect();
        let images = chars.map(|c| c.drawings.clone()).collect();
        let [height, width] = self.size;
        Ok(ClassPool::with_shape([1, height, width], names, images)?)
    }

    /// Splits the characters into train, validation and test pools (see the
    /// module docs).
    ///
    /// # Errors
    /// [`crate::Error::Data`] with [`DataError::InvalidSetting`] when no character
    /// would be left for training.
    pub fn split(&self, config: &SplitConfig) -> crate::Result<Split> {
        let (test, rest): (Vec<usize>, Vec<usize>) = if self.has_evaluation() {
            (0..self.len()).partition(|&i| self.characters[i].set == OmniglotSet::Evaluation)
        } else {
            let shuffled = shuffled(self.len(), Rng::indexed(config.seed, "omniglot split", 1));
            check_held_out("test characters", config.test, self.len())?;
            let (test, rest) = shuffled.split_at(config.test);
            (test.to_vec(), rest.to_vec())
        };
        check_held_out("validation characters", config.validation, rest.len())?;
        let order = shuffled(rest.len(), Rng::indexed(config.seed, "omniglot split", 2));
        let (mut validation, mut train): (Vec<usize>, Vec<usize>) = (Vec::new(), Vec::new());
        for (rank, &i) in order.iter().enumerate() {
            let pool = if rank < config.validation {
                &mut validation
            } else {
                &mut train
            };
            pool.push(rest[i]);
        }
        let mut test = test;
        for pool in [&mut train, &mut validation, &mut test] {
            pool.sort_unstable();
        }
        Ok(Split {
            train: self.pool_of(&train)?,
            validation: self.pool_of(&validation)?,
            test: self.pool_of(&test)?,
        })
    }
}

/// Fails unless `held_out < available`, so that training keeps a character.
fn check_held_out(what: &'static str, held_out: usize, available: usize) -> Result<(), DataError> {
    if held_out >= available {
        return Err(DataError::InvalidSetting {
            what,
            value: held_out,
            reason: format!("only {available} characters are available and at least one must remain for training"),
        });
    }
    Ok(())
}

/// `0..n` in a seeded random order (Fisher–Yates).
fn shuffled(n: usize, mut rng: Rng) -> Vec<usize> {
    let mut order: Vec<usize> = (0..n).collect();
    for i in (1..n).rev() {
        let j = rng.below(i + 1);
        order.swap(i, j);
    }
    order
}
