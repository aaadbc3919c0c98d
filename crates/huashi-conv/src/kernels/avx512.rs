//! The AVX-512 tiles of [`super::tile`], written with intrinsics for `f32`
//! (16 lanes) and `f64` (8 lanes) by one macro: compilers do not find the
//! register tiling of the generic loops on their own (they vectorise across
//! rows with gathers and spill the accumulators).
//!
//! The rows × pixels tile keeps `MR = 8` rows × 3 vectors of pixels in 24
//! accumulator registers; per tap it makes 3 loads and 8 broadcast FMAs of
//! 3 vectors each.

use super::tile::MR;

/// Tiles compiled for AVX-512F.
pub trait Avx512Tiles: Sized {
    /// `acc[r][l] = Σ_k a[k·MR + r] · src[offsets[k] + p0 + l]`, `NP` = three
    /// vectors of `Self`.
    ///
    /// # Safety
    /// The CPU has AVX-512F; `a.len() == MR · offsets.len()`; and
    /// `offsets[k] + p0 + NP ≤ src.len()` for every `k`.
    unsafe fn avx512_tile<const NP: usize>(
        a: &[Self],
        src: &[Self],
        offsets: &[usize],
        p0: usize,
    ) -> [[Self; NP]; MR];
}

macro_rules! avx512_tiles {
    ($t:ty, $lanes:expr, $vec:ty, $zero:ident, $load:ident, $set1:ident, $fma:ident,
     $store:ident) => {
        impl Avx512Tiles for $t {
            #[target_feature(enable = "avx512f")]
            unsafe fn avx512_tile<const NP: usize>(
                a: &[$t],
                src: &[$t],
                offsets: &[usize],
                p0: usize,
            ) -> [[$t; NP]; MR] {
                use std::arch::x86_64::*;
                assert_eq!(NP, 3 * $lanes);
                debug_assert_eq!(a.len(), MR * offsets.len());
                let mut acc: [[$vec; 3]; MR] = [[$zero(); 3]; MR];
                let (a, src) = (a.as_ptr(), src.as_ptr());
                for (k, &offset) in offsets.iter().enumerate() {
                    // SAFETY (all reads): the caller's bounds contract.
                    let b = src.add(offset + p0);
                    let b = [$load(b), $load(b.add($lanes)), $load(b.add(2 * $lanes))];
                    let a_k = a.add(k * MR);
                    for (r, acc_r) in acc.iter_mut().enumerate() {
                        let w = $set1(*a_k.add(r));
                        for (c, b) in acc_r.iter_mut().zip(b) {
                            *c = $fma(w, b, *c);
                        }
                    }
                }
                let mut out = [[0.0; NP]; MR];
                for (o, acc_r) in out.iter_mut().zip(&acc) {
                    for (j, v) in acc_r.iter().enumerate() {
                        $store(o.as_mut_ptr().add(j * $lanes), *v);
                    }
                }
                out
            }
        }
    };
}

#[cfg(target_arch = "x86_64")]
avx512_tiles!(
    f32,
    16,
    std::arch::x86_64::__m512,
    _mm512_setzero_ps,
    _mm512_loadu_ps,
    _mm512_set1_ps,
    _mm512_fmadd_ps,
    _mm512_storeu_ps
);
#[cfg(target_arch = "x86_64")]
avx512_tiles!(
    f64,
    8,
    std::arch::x86_64::__m512d,
    _mm512_setzero_pd,
    _mm512_loadu_pd,
    _mm512_set1_pd,
    _mm512_fmadd_pd,
    _mm512_storeu_pd
);

/// Elsewhere the tiles are never called ([`super::tile::Simd::detect`] never
/// gives AVX-512 off x86-64); these fall back to the generic loops.
#[cfg(not(target_arch = "x86_64"))]
macro_rules! portable {
    ($t:ty) => {
        impl Avx512Tiles for $t {
            unsafe fn avx512_tile<const NP: usize>(
                a: &[$t],
                src: &[$t],
                offsets: &[usize],
                p0: usize,
            ) -> [[$t; NP]; MR] {
                super::tile::generic_tile::<$t, NP>(a, src, offsets, p0)
            }
        }
    };
}
#[cfg(not(target_arch = "x86_64"))]
portable!(f32);
#[cfg(not(target_arch = "x86_64"))]
portable!(f64);
