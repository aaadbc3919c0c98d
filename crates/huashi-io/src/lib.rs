//! huashi-io: how every huashi crate and command touches the file system.
//!
//! - [`write`](mod@write): the one way to write an output file. The bytes go to a
//!   temporary sibling `.<name>.huashi-tmp-<pid>-<n>`, which is flushed and
//!   synced, renamed over the final name, and then the folder is synced, so
//!   the final name holds either the old file or the whole new one, also
//!   after a crash or a power loss. On any error the temporary file is
//!   removed and the error names the final path and the cause in one line.
//!   A folder filled under a temporary name is moved into place the same
//!   way ([`write::commit_folder`]).
//! - [`lock`]: a run folder is owned by one process at a time (an advisory
//!   `flock` on `<dir>/.huashi.lock`, released by the kernel when the holder
//!   exits, however it exits).
//! - [`log`]: an append-only log of lines (one per finished unit of work)
//!   that a stopped run resumes; a torn last line is dropped.
//! - [`read`]: reads that stop at a size limit instead of filling memory, and
//!   the check that an output is not one of the inputs.
//! - [`budget`]: sizes from users and files multiplied without overflow,
//!   and memory estimated and checked against a limit before allocating.
//! - [`interrupt`]: temporary files and folders are registered while they
//!   exist; after Ctrl-C (or SIGTERM) the `huashi` binary removes them before
//!   it exits.

pub mod budget;
pub mod error;
pub mod interrupt;
pub mod lock;
pub mod log;
pub mod read;
#[cfg(feature = "testing")]
pub mod testing;
pub mod write;

pub use budget::{check_memory, checked_product, checked_sum};
pub use error::{Error, Result};
pub use lock::FolderLock;
pub use log::LineLog;
pub use read::{ensure_not_input, read_capped, read_to_string_capped};
pub use write::{commit_folder, write_bytes, write_through_path, write_with};
