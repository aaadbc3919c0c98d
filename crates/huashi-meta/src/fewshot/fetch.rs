//! Downloading the full Omniglot sets (`images_background.zip`, 964
//! characters, and `images_evaluation.zip`, 659 characters) from the
//! official repository (Lake et al. 2015, brendenlake/omniglot, MIT
//! licence), verified against the MD5 digests torchvision uses
//! (`torchvision.datasets.Omniglot`).
//!
//! The fetch is all-or-nothing: each zip is downloaded into a temporary
//! folder inside the target folder, checked, and unpacked there; only when
//! every file succeeded are the unpacked folders renamed into place. On any
//! failure the temporary folder is removed and existing data is untouched.
//! Sets already present (as folders) are not downloaded again.

use super::error::DataError;
use super::fetch_limits::FetchLimits;
use md5::{Digest, Md5};
use std::io::Read;
use std::path::{Path, PathBuf};

/// The official download base: `{base}/images_background.zip` and
/// `{base}/images_evaluation.zip`.
pub const OMNIGLOT_BASE_URL: &str = "https://github.com/brendenlake/omniglot/raw/master/python";

/// The sets downloaded by [`fetch_omniglot`] (each `{name}.zip` unpacks to
/// the folder `{name}/`).
pub const OMNIGLOT_SETS: [&str; 2] = ["images_background", "images_evaluation"];

/// The expected MD5 digests of the two zips (hex).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OmniglotMd5 {
    /// `images_background.zip` (default: torchvision's
    /// `68d2efa1b9178cc56df9314c21c6e718`).
    pub background: String,
    /// `images_evaluation.zip` (default: torchvision's
    /// `6b91aef0f799c5bb55b94e3f2daec811`).
    pub evaluation: String,
}

impl Default for OmniglotMd5 {
    fn default() -> Self {
        OmniglotMd5 {
            background: "68d2efa1b9178cc56df9314c21c6e718".into(),
            evaluation: "6b91aef0f799c5bb55b94e3f2daec811".into(),
        }
    }
}

/// Where a download stands, reported to the progress callback.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FetchProgress<'a> {
    /// The file being downloaded, e.g. `images_background.zip`.
    pub file: &'a str,
    /// Bytes received so far.
    pub downloaded: u64,
    /// The size announced by the server, if any.
    pub total: Option<u64>,
}

/// Downloads `{base_url}/images_background.zip` and
/// `{base_url}/images_evaluation.zip`, checks their MD5 against `md5`, and
/// unpacks them to `dir/images_background/` and `dir/images_evaluation/`
/// (see the module docs for atomicity). `progress` is called as bytes
/// arrive. Returns the two folders; they load with
/// [`crate::fewshot::Omniglot::load`]`(dir)`.
///
/// Timeouts and the size cap are [`FetchLimits::from_env`].
///
/// # Errors
/// A download that fails, times out, exceeds the cap or has the wrong MD5;
/// a file that cannot be written; a zip that cannot be unpacked.
pub fn fetch_omniglot(
    base_url: &str,
    dir: impl AsRef<Path>,
    md5: &OmniglotMd5,
    progress: &mut dyn FnMut(&FetchProgress),
) -> crate::Result<Vec<PathBuf>> {
    let limits = FetchLimits::from_env();
    fetch_omniglot_with(base_url, dir, md5, &limits, progress)
}

/// [`fetch_omniglot`] with explicit timeouts and size cap.
///
/// # Errors
/// As [`fetch_omniglot`].
pub fn fetch_omniglot_with(
    base_url: &str,
    dir: impl AsRef<Path>,
    md5: &OmniglotMd5,
    limits: &FetchLimits,
    progress: &mut dyn FnMut(&FetchProgress),
) -> crate::Result<Vec<PathBuf>> {
    let dir = dir.as_ref();
    let digests = [parse_md5(&md5.background)?, parse_md5(&md5.evaluation)?];
    std::fs::create_dir_all(dir).map_err(|e| DataError::io(dir, e))?;
    let (staging, _removed_on_interrupt) = huashi_io::interrupt::create_registered(|| {
        tempfile::Builder::new()
            .prefix(".huashi-fetch-")
            .tempdir_in(dir)
    })
    .map_err(|e| DataError::io(dir, e))?;
    let mut staged = Vec::new();
    for (name, expected) in OMNIGLOT_SETS.iter().zip(&digests) {
        if !dir.join(name).is_dir() {
            let url = format!("{}/{name}.zip", base_url.trim_end_matches('/'));
            let target = Target {
                name,
                expected,
                staging: staging.path(),
            };
            stage(&url, &target, limits, progress)?;
            staged.push(*name);
        }
    }
    install(staging.path(), dir, &staged)?;
    Ok(OMNIGLOT_SETS.iter().map(|name| dir.join(name)).collect())
}

/// Lower-case hex of a valid MD5 digest, or [`DataError::InvalidMd5`].
fn parse_md5(value: &str) -> Result<String, DataError> {
    let hex = value.trim().to_ascii_lowercase();
    if hex.len() != 32 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(DataError::InvalidMd5 {
            value: value.to_string(),
        });
    }
    Ok(hex)
}

/// One set to stage: its name, its expected MD5 and the staging folder.
struct Target<'a> {
    name: &'a str,
    expected: &'a str,
    staging: &'a Path,
}

/// Downloads `url` into `staging/{name}.zip`, checks its MD5 and unpacks it
/// into `staging/unpacked/`, which must then hold the folder `name`.
fn stage(
    url: &str,
    target: &Target<'_>,
    limits: &FetchLimits,
    progress: &mut dyn FnMut(&FetchProgress),
) -> Result<(), DataError> {
    let Target {
        name,
        expected,
        staging,
    } = *target;
    let file = format!("{name}.zip");
    let archive = staging.join(&file);
    let actual = download(url, &archive, &file, limits, progress)?;
    if actual != expected {
        return Err(DataError::Checksum {
            file,
            expected: expected.to_string(),
            actual,
        });
    }
    let unpacked = staging.join("unpacked");
    super::archive::unpack_zip(&archive, &unpacked)?;
    std::fs::remove_file(&archive).map_err(|e| DataError::io(&archive, e))?;
    if !unpacked.join(name).is_dir() {
        return Err(DataError::Zip {
            path: file,
            message: format!("the archive has no top-level folder {name}/"),
        });
    }
    Ok(())
}

/// Streams `url` into `target`, reporting progress; returns the MD5 (hex).
fn download(
    url: &str,
    target: &Path,
    file: &str,
    limits: &FetchLimits,
    progress: &mut dyn FnMut(&FetchProgress),
) -> Result<String, DataError> {
    let failed = |message: String| DataError::Download {
        url: url.to_string(),
        message,
    };
    let too_large = || failed(format!("larger than the cap of {} bytes", limits.max_bytes));
    let response = get(url, limits)?;
    let total = response.body().content_length();
    if total.is_some_and(|t| t > limits.max_bytes) {
        return Err(too_large());
    }
    let mut reader = response.into_body().into_reader();
    let (mut hasher, mut stopped) = (Md5::new(), None);
    let mut report = |downloaded| {
        progress(&FetchProgress {
            file,
            downloaded,
            total,
        })
    };
    // Written through huashi-io (temporary file, sync, rename); a network
    // error or the cap stops the write and is kept here, typed.
    let written = huashi_io::write_with(target, |out| {
        let (mut buffer, mut downloaded) = (vec![0u8; 1 << 16], 0u64);
        report(downloaded);
        loop {
            let n = match reader.read(&mut buffer) {
                Ok(0) => return Ok(()),
                Ok(n) => n,
                Err(e) => {
                    stopped = Some(failed(e.to_string()));
                    0
                }
            };
            downloaded += n as u64;
            if downloaded > limits.max_bytes {
                stopped = Some(too_large());
            }
            if stopped.is_some() {
                return Err(std::io::Error::other("the download stopped"));
            }
            hasher.update(&buffer[..n]);
            out.write_all(&buffer[..n])?;
            report(downloaded);
        }
    });
    if let Some(stopped) = stopped {
        return Err(stopped);
    }
    written?;
    Ok(hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect())
}

/// Sends `GET url`; an error status becomes [`DataError::HttpStatus`].
fn get(url: &str, limits: &FetchLimits) -> Result<ureq::http::Response<ureq::Body>, DataError> {
    limits.agent().get(url).call().map_err(|e| match e {
        ureq::Error::StatusCode(status) => DataError::HttpStatus {
            url: url.to_string(),
            status,
        },
        e => DataError::Download {
            url: url.to_string(),
            message: e.to_string(),
        },
    })
}

/// Renames `staging/unpacked/{name}` to `dir/{name}` for each staged name;
/// if one rename fails, the ones already made are removed again.
fn install(staging: &Path, dir: &Path, names: &[&str]) -> Result<(), DataError> {
    for (done, name) in names.iter().enumerate() {
        let (from, to) = (staging.join("unpacked").join(name), dir.join(name));
        if let Err(e) = huashi_io::commit_folder(&from, &to) {
            for undone in &names[..done] {
                let _ = std::fs::remove_dir_all(dir.join(undone));
            }
            return Err(e.into());
        }
    }
    Ok(())
}
