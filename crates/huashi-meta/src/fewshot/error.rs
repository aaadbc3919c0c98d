//! Errors of the few-shot data layer. Every variant names the offending file,
//! value or URL.

/// Errors while loading, sampling or fetching few-shot data.
#[derive(Debug, thiserror::Error)]
pub enum DataError {
    /// A data folder or file that does not exist.
    #[error("data not found: {path}")]
    Missing {
        /// The path looked for.
        path: String,
    },
    /// A folder that holds none of the recognised Omniglot sets.
    #[error("no Omniglot data in {path}: expected one of {expected} (as folders or .zip files)")]
    NoData {
        /// The folder searched.
        path: String,
        /// The names looked for.
        expected: String,
    },
    /// Reading or writing a file failed. (The message includes the I/O
    /// error's, so it is not also the `source()`: a report printing the
    /// chain would repeat it.)
    #[error("I/O error on {path}: {error}")]
    Io {
        /// The file or folder.
        path: String,
        /// The underlying error.
        error: std::io::Error,
    },
    /// A zip archive could not be read or unpacked.
    #[error("bad zip archive {path}: {message}")]
    Zip {
        /// The archive.
        path: String,
        /// What went wrong.
        message: String,
    },
    /// A zip archive whose members inflate past a cap (a zip bomb), or a
    /// data folder larger than the cap.
    #[error("{path}: {member} {reason}; refusing to unpack it")]
    TooLarge {
        /// The archive or folder.
        path: String,
        /// The member or file at fault.
        member: String,
        /// Which cap it breaks.
        reason: String,
    },
    /// Reading a file failed or it is larger than the input limit.
    #[error(transparent)]
    File(#[from] huashi_io::Error),
    /// An image that could not be decoded.
    #[error("cannot decode image {path}: {message}")]
    Image {
        /// The image file.
        path: String,
        /// What went wrong.
        message: String,
    },
    /// An image whose size is not the expected one.
    #[error("image {path} is {width}×{height}, expected {expected}×{expected}")]
    ImageSize {
        /// The image file.
        path: String,
        /// Its width.
        width: u32,
        /// Its height.
        height: u32,
        /// The expected side.
        expected: u32,
    },
    /// Flat pixel data whose length is not a whole number of images.
    #[error("class {class} has {len} floats, not a multiple of {pixels} (one image)")]
    PixelCount {
        /// The class.
        class: String,
        /// The number of floats given.
        len: usize,
        /// Floats per image.
        pixels: usize,
    },
    /// A sampler or split setting out of range.
    #[error("invalid {what}: {value} ({reason})")]
    InvalidSetting {
        /// The setting.
        what: &'static str,
        /// Its value.
        value: usize,
        /// Why it is invalid.
        reason: String,
    },
    /// More classes per task than the pool holds.
    #[error("{ways}-way tasks need {ways} classes but the pool has {classes}")]
    TooFewClasses {
        /// Classes per task.
        ways: usize,
        /// Classes in the pool.
        classes: usize,
    },
    /// A class with fewer drawings than `shots + queries`.
    #[error("class {class} has {available} drawings, fewer than the {needed} (shots + queries) a task needs")]
    TooFewDrawings {
        /// The class.
        class: String,
        /// Drawings needed.
        needed: usize,
        /// Drawings it has.
        available: usize,
    },
    /// A folder in none of the image-folder layouts.
    #[error("no image-folder layout in {path}: expected one of (1) split folders train/<class>/*.png|jpg, val/…, test/…; (2) images/ with train.csv, val.csv, test.csv (header filename,label); (3) CIFAR-FS: data/<class>/*.png with splits/bertinetto/train.txt, val.txt, test.txt")]
    NoLayout {
        /// The folder searched.
        path: String,
    },
    /// A split without any class.
    #[error("the {split} split of {path} has no class")]
    EmptySplit {
        /// The split (`train`, `val` or `test`).
        split: String,
        /// The folder or file that defines it.
        path: String,
    },
    /// A split with fewer classes than a task's ways.
    #[error("{ways}-way tasks need {ways} classes but the {split} split has {classes}")]
    SplitTooSmall {
        /// The split (`train`, `val` or `test`).
        split: String,
        /// Classes per task.
        ways: usize,
        /// Classes in the split.
        classes: usize,
    },
    /// Images of different sizes and no size to resize them to.
    #[error("images differ in size: {path} is {}×{} but {first} is {}×{}; give --image-size H[,W] to resize them all", size[0], size[1], first_size[0], first_size[1])]
    DifferentSizes {
        /// The first image (or the run's size).
        first: String,
        /// Its width and height.
        first_size: [u32; 2],
        /// The image that differs.
        path: String,
        /// Its width and height.
        size: [u32; 2],
    },
    /// A channel count other than 1 (grey) or 3 (RGB).
    #[error("{what} has {channels} channels; only 1 (grey) or 3 (RGB) are supported")]
    Channels {
        /// What has them (a pool, a setting).
        what: String,
        /// The channel count.
        channels: usize,
    },
    /// Rotations asked of a pool of non-square images.
    #[error("rotations as new classes need square images, these are {height}×{width} (turn rotations off or resize to a square)")]
    NotSquare {
        /// Image height.
        height: usize,
        /// Image width.
        width: usize,
    },
    /// A malformed or inconsistent line of a label file (Lake's
    /// `class_labels.txt`, a split's CSV or class list), or a file it names
    /// that is missing.
    #[error("{path} line {line}: {message}")]
    LabelFile {
        /// The label file.
        path: String,
        /// The line number, from 1 (0: the file as a whole).
        line: usize,
        /// What is wrong.
        message: String,
    },
    /// A download failed before an HTTP status was received.
    #[error("download of {url} failed: {message}")]
    Download {
        /// The URL.
        url: String,
        /// What went wrong.
        message: String,
    },
    /// The server answered with an error status.
    #[error("download of {url} failed: HTTP status {status}")]
    HttpStatus {
        /// The URL.
        url: String,
        /// The status code.
        status: u16,
    },
    /// A downloaded file whose MD5 differs from the expected one.
    #[error("checksum mismatch for {file}: expected MD5 {expected}, got {actual}")]
    Checksum {
        /// The file.
        file: String,
        /// The expected digest (hex).
        expected: String,
        /// The digest of what was downloaded (hex).
        actual: String,
    },
    /// A text that is not an MD5 digest (32 hexadecimal digits).
    #[error("not an MD5 digest (32 hex digits): {value:?}")]
    InvalidMd5 {
        /// The text given.
        value: String,
    },
}

impl DataError {
    /// An [`DataError::Io`] for `path`.
    pub fn io(path: impl AsRef<std::path::Path>, error: std::io::Error) -> Self {
        DataError::Io {
            path: path.as_ref().display().to_string(),
            error,
        }
    }
}
