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
