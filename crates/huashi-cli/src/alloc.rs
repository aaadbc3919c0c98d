//! Allocator tuning for large tensors.
//!
//! candle allocates a fresh buffer for every op result. glibc's malloc serves
//! buffers above its mmap threshold with a new `mmap` and hands them back with
//! `munmap` when they are freed. Every N=8 feature map (25 MB here) then pays
//! for page faults and zeroing on each allocation. On a 2-core machine that
//! tripled the forward+backward time of `bench conv` and halved the GEMM's
//! speed. Raising the mmap threshold to its maximum (32 MiB on 64-bit) and
//! trimming the heap only above 1 GiB lets freed buffers be reused from the
//! heap. The equivalent environment settings for any program linking
//! huashi are `MALLOC_MMAP_THRESHOLD_=33554432 MALLOC_TRIM_THRESHOLD_=1073741824`.

/// Applies the tuning (glibc only; a no-op elsewhere). Call first in `main`.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
pub fn tune() {
    // Respect explicit settings from the environment.
    if std::env::var_os("MALLOC_MMAP_THRESHOLD_").is_some() {
        return;
    }
    // SAFETY: `mallopt` only changes malloc's tuning parameters. It is
    // thread-safe and is called here before any other thread exists.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 32 << 20);
        libc::mallopt(libc::M_TRIM_THRESHOLD, 1 << 30);
    }
}

/// Applies the tuning (glibc only; a no-op elsewhere). Call first in `main`.
#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
pub fn tune() {}

/// Starts a new peak-resident-memory measurement: returns freed heap memory
/// to the system (`malloc_trim`) and resets the kernel's high-water mark
/// (`5` to `/proc/self/clear_refs`, Linux ≥ 4.0). Returns the resident
/// memory then, the baseline of the measurement, if known.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
pub fn reset_peak_resident() -> Option<u64> {
    // SAFETY: `malloc_trim` only releases free heap pages; it is thread-safe.
    unsafe {
        libc::malloc_trim(0);
    }
    std::fs::write("/proc/self/clear_refs", "5").ok()?;
    status_bytes("VmRSS:")
}

/// Starts a new peak-resident-memory measurement (unsupported here).
#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
pub fn reset_peak_resident() -> Option<u64> {
    None
}

/// The peak resident memory of this process in bytes since the last
/// [`reset_peak_resident`] (`VmHWM` of `/proc/self/status`), if known.
pub fn peak_resident_bytes() -> Option<u64> {
    status_bytes("VmHWM:")
}

/// A `kB` line of `/proc/self/status`, in bytes.
fn status_bytes(key: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with(key))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}
