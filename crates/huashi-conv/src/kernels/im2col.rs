//! im2col and its adjoint col2im for one sample and one group.
//!
//! `col[(c·kh + u)·kw + v, i·Wo + j] = x[c, i·s_h − p_top + u·d_h, j·s_w − p_left + v·d_w]`
//! (zero outside the input), so that a convolution is `W · col`.

use super::{ConvDims, Real};

/// Fills `col` (`patch_len` rows of `Ho·Wo`, `row_stride` apart) from the
/// group's input planes `x`.
pub fn im2col<T: Real>(dims: &ConvDims, x: &[T], col: &mut [T], row_stride: usize) {
    let [h, w] = dims.in_size;
    let [ho, wo] = dims.out_size;
    let [kh, kw] = dims.kernel;
    let [sh, sw] = dims.geometry.stride;
    let plane = ho * wo;
    let (taps_y, taps_x) = taps(dims);
    for c in 0..dims.in_per_group() {
        let x_plane = &x[c * h * w..(c + 1) * h * w];
        for (u, &(off_y, y0, y1)) in taps_y.iter().enumerate() {
            for (v, &(off_x, x0, x1)) in taps_x.iter().enumerate() {
                let row = (c * kh + u) * kw + v;
                let dst = &mut col[row * row_stride..][..plane];
                for (i, dst_row) in dst.chunks_exact_mut(wo).enumerate() {
                    if i < y0 || i >= y1 {
                        dst_row.fill(T::ZERO);
                        continue;
                    }
                    let iy = (i * sh) as isize + off_y;
                    let src = &x_plane[iy as usize * w..(iy as usize + 1) * w];
                    dst_row[..x0].fill(T::ZERO);
                    dst_row[x1..].fill(T::ZERO);
                    copy_strided(&mut dst_row[x0..x1], src, x0, sw, off_x);
                }
            }
        }
    }
}

/// Adds `col` (`patch_len` rows of `Ho·Wo`, `row_stride` apart) back into
/// the group's input planes `dx`.
pub fn col2im_add<T: Real>(dims: &ConvDims, col: &[T], dx: &mut [T], row_stride: usize) {
    let [h, w] = dims.in_size;
    let [ho, wo] = dims.out_size;
    let [kh, kw] = dims.kernel;
    let [sh, sw] = dims.geometry.stride;
    let plane = ho * wo;
    let (taps_y, taps_x) = taps(dims);
    for c in 0..dims.in_per_group() {
        let dx_plane = &mut dx[c * h * w..(c + 1) * h * w];
        for (u, &(off_y, y0, y1)) in taps_y.iter().enumerate() {
            for (v, &(off_x, x0, x1)) in taps_x.iter().enumerate() {
                let row = (c * kh + u) * kw + v;
                let src = &col[row * row_stride..][..plane];
                for i in y0..y1 {
                    let iy = ((i * sh) as isize + off_y) as usize;
                    let dst = &mut dx_plane[iy * w..(iy + 1) * w];
                    add_strided(dst, &src[i * wo + x0..i * wo + x1], x0, sw, off_x);
                }
            }
        }
    }
}

/// [`ConvDims::tap_range`] of every kernel row and column.
type Taps = Vec<(isize, usize, usize)>;
fn taps(dims: &ConvDims) -> (Taps, Taps) {
    let along = |axis: usize| {
        (0..dims.kernel[axis])
            .map(|t| dims.tap_range(axis, t))
            .collect()
    };
    (along(0), along(1))
}

/// `dst[j] = src[(first + j)·stride + offset]`.
#[inline]
pub fn copy_strided<T: Real>(dst: &mut [T], src: &[T], first: usize, stride: usize, offset: isize) {
    if dst.is_empty() {
        return;
    }
    let start = ((first * stride) as isize + offset) as usize;
    if stride == 1 {
        dst.copy_from_slice(&src[start..start + dst.len()]);
    } else {
        for (j, d) in dst.iter_mut().enumerate() {
            *d = src[start + j * stride];
        }
    }
}

/// `dst[(first + j)·stride + offset] += src[j]`.
#[inline]
pub fn add_strided<T: Real>(dst: &mut [T], src: &[T], first: usize, stride: usize, offset: isize) {
    if src.is_empty() {
        return;
    }
    let start = ((first * stride) as isize + offset) as usize;
    if stride == 1 {
        for (d, s) in dst[start..start + src.len()].iter_mut().zip(src) {
            *d += *s;
        }
    } else {
        for (j, s) in src.iter().enumerate() {
            dst[start + j * stride] += *s;
        }
    }
}
