//! Pooling built from differentiable pieces, so gradients of every order are
//! exact (candle's own pooling has no backward for stride ≠ kernel and scales
//! the max-pool gradient by 1/(kh·kw)).
//!
//! - Max pooling: `y[n,c,i,j] = max_{(u,v) ∈ window(i,j)} x[n,c,·,·]` over the
//!   real (unpadded) pixels of the window. The arg-max positions are found by
//!   a kernel, then `y = index_select(x, argmax)`; candle differentiates
//!   index_select into index_add and back, so `∂y/∂x` routes each output
//!   gradient to its arg-max (first one on ties; NaN propagates, as in
//!   PyTorch). A window that covers only padding is an error.
//! - Average pooling: a depthwise convolution with a constant all-ones kernel
//!   through our conv op, divided by the window size (`count_include_pad`,
//!   PyTorch's default) or by the number of real pixels in each window
//!   (Keras/TensorFlow, PyTorch `count_include_pad=False`).
//! - Global average pooling: the mean over H and W, kept as `(N, C, 1, 1)`.

use crate::error::{Axis, Error, Result};
use crate::geometry::{ConvGeometry, Padding};
use crate::kernels::ConvDims;
use crate::ops::conv2d;
use candle_core::{DType, Tensor};
use rayon::prelude::*;

/// Window, stride, dilation and padding of a pooling layer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolConfig {
    /// Window `[kh, kw]`.
    pub kernel: [usize; 2],
    /// Stride `[sh, sw]` (PyTorch's default is the window).
    pub stride: [usize; 2],
    /// Dilation of the window (max pooling only; 1 for average pooling).
    pub dilation: [usize; 2],
    /// Padding rule; each side at most half the window, as PyTorch requires.
    pub padding: Padding,
}

impl PoolConfig {
    /// A `kernel` window with stride equal to the window and no padding.
    pub fn new(kernel: [usize; 2]) -> Self {
        PoolConfig {
            kernel,
            stride: kernel,
            dilation: [1, 1],
            padding: Padding::Valid,
        }
    }
    /// Sets the stride.
    pub fn with_stride(mut self, stride: [usize; 2]) -> Self {
        self.stride = stride;
        self
    }
    /// Sets the padding rule.
    pub fn with_padding(mut self, padding: Padding) -> Self {
        self.padding = padding;
        self
    }
    /// Sets the dilation.
    pub fn with_dilation(mut self, dilation: [usize; 2]) -> Self {
        self.dilation = dilation;
        self
    }

    /// Resolves the geometry for an input of spatial size `input` and checks it.
    ///
    /// # Errors
    /// The errors of [`Padding::resolve`], and [`Error::PoolPaddingTooLarge`] when a
    /// side's padding exceeds half the dilated window.
    pub fn geometry(&self, input: [usize; 2]) -> Result<ConvGeometry> {
        let padding = self
            .padding
            .resolve(input, self.kernel, self.stride, self.dilation)?;
        for (a, axis) in [Axis::Height, Axis::Width].into_iter().enumerate() {
            let extent = self.dilation[a] * (self.kernel[a] - 1) + 1;
            for side in [padding[2 * a], padding[2 * a + 1]] {
                if side > extent / 2 {
                    return Err(Error::PoolPaddingTooLarge {
                        axis,
                        padding: side,
                        kernel: extent,
                    });
                }
            }
        }
        Ok(ConvGeometry::new()
            .with_stride(self.stride)
            .with_dilation(self.dilation)
            .with_padding(padding))
    }

    /// Output spatial size for an input of spatial size `input`.
    ///
    /// # Errors
    /// As [`PoolConfig::geometry`] and [`ConvGeometry::output_size`].
    pub fn output_size(&self, input: [usize; 2]) -> Result<[usize; 2]> {
        self.geometry(input)?.output_size(input, self.kernel)
    }

    fn dims(&self, x: &Tensor) -> Result<ConvDims> {
        let [n, c, h, w] = match *x.dims() {
            [n, c, h, w] => [n, c, h, w],
            _ => {
                return Err(Error::WrongRank {
                    what: "pooling input",
                    expected: 4,
                    got: x.dims().to_vec(),
                })
            }
        };
        let geometry = self.geometry([h, w])?.with_groups(c.max(1));
        let out_size = geometry.output_size([h, w], self.kernel)?;
        let dims = ConvDims {
            batch: n,
            in_channels: c,
            out_channels: c,
            in_size: [h, w],
            out_size,
            kernel: self.kernel,
            geometry,
        };
        check_windows_touch_input(&dims)?;
        Ok(dims)
    }
}

/// Every window must contain at least one real pixel (possible to violate
/// with dilation), otherwise its maximum is undefined.
fn check_windows_touch_input(dims: &ConvDims) -> Result<()> {
    for (a, axis) in [Axis::Height, Axis::Width].into_iter().enumerate() {
        let mut covered = vec![false; dims.out_size[a]];
        for tap in 0..dims.kernel[a] {
            let (_, first, end) = dims.tap_range(a, tap);
            covered[first..end].iter_mut().for_each(|c| *c = true);
        }
        if let Some(position) = covered.iter().position(|c| !c) {
            return Err(Error::InvalidArgument {
                what: "pooling window",
                detail: format!("the window at output {axis} {position} covers only padding"),
            });
        }
    }
    Ok(())
}

/// Max pooling of NCHW `x` (f32 or f64).
///
/// # Shapes
/// `x (N, C, H, W)` → `(N, C, Ho, Wo)`.
///
/// # Errors
/// [`Error::WrongRank`] unless `x` is 4-D, the errors of [`PoolConfig::output_size`],
/// and [`Error::InvalidArgument`] when a window covers only padding or `x` has
/// more than `u32::MAX` elements.
pub fn max_pool2d(x: &Tensor, config: &PoolConfig) -> Result<Tensor> {
    let dims = config.dims(x)?;
    if dims.input_len() > u32::MAX as usize {
        return Err(Error::InvalidArgument {
            what: "max pooling input",
            detail: format!(
                "{} elements; at most {} are supported",
                dims.input_len(),
                u32::MAX
            ),
        });
    }
    let planes = dims.batch * dims.in_channels;
    let values: Vec<f64> = x.flatten_all()?.to_dtype(DType::F64)?.to_vec1()?;
    let argmax = argmax_indices(&dims, &values);
    // Flat indices into the whole tensor: candle differentiates index_select
    // into index_add and back, to any order (its scatter-add backward is wrong).
    let (hw, p) = (dims.in_plane() as u32, dims.out_plane().max(1));
    let global: Vec<u32> = argmax
        .iter()
        .enumerate()
        .map(|(o, &at)| (o / p) as u32 * hw + at)
        .collect();
    let index = Tensor::from_vec(global, planes * dims.out_plane(), x.device())?;
    let pooled = x.flatten_all()?.index_select(&index, 0)?;
    Ok(pooled.reshape((
        dims.batch,
        dims.in_channels,
        dims.out_size[0],
        dims.out_size[1],
    ))?)
}

/// For every output, the flat in-plane index of its window's maximum.
fn argmax_indices(dims: &ConvDims, x: &[f64]) -> Vec<u32> {
    let [kh, kw] = dims.kernel;
    let [_, wo] = dims.out_size;
    let (hw, p) = (dims.in_plane(), dims.out_plane());
    let mut argmax = vec![0u32; dims.batch * dims.in_channels * p];
    argmax
        .par_chunks_mut(p.max(1))
        .enumerate()
        .for_each(|(plane, out)| {
            let x_plane = &x[plane * hw..(plane + 1) * hw];
            for (o, slot) in out.iter_mut().enumerate() {
                let (i, j) = (o / wo, o % wo);
                let mut best: Option<(usize, f64)> = None;
                for u in 0..kh {
                    let (off_y, y0, y1) = dims.tap_range(0, u);
                    if i < y0 || i >= y1 {
                        continue;
                    }
                    let iy = ((i * dims.geometry.stride[0]) as isize + off_y) as usize;
                    for v in 0..kw {
                        let (off_x, x0, x1) = dims.tap_range(1, v);
                        if j < x0 || j >= x1 {
                            continue;
                        }
                        let ix = ((j * dims.geometry.stride[1]) as isize + off_x) as usize;
                        let at = iy * dims.in_size[1] + ix;
                        let value = x_plane[at];
                        let better = match best {
                            None => true,
                            Some((_, b)) => value > b || (value.is_nan() && !b.is_nan()),
                        };
                        if better {
                            best = Some((at, value));
                        }
                    }
                }
                *slot = best.map_or(0, |(at, _)| at as u32);
            }
        });
    argmax
}

/// Average pooling of NCHW `x`; `count_include_pad` divides by the full
/// window (PyTorch default), otherwise by the real pixels in it (Keras).
///
/// # Shapes
/// `x (N, C, H, W)` → `(N, C, Ho, Wo)`.
///
/// # Errors
/// [`Error::InvalidArgument`] for a dilation other than 1 or a window over only
/// padding, [`Error::WrongRank`] unless `x` is 4-D, and the errors of
/// [`PoolConfig::output_size`] and [`conv2d`] (f32/f64 on the CPU only).
pub fn avg_pool2d(x: &Tensor, config: &PoolConfig, count_include_pad: bool) -> Result<Tensor> {
    if config.dilation != [1, 1] {
        return Err(Error::InvalidArgument {
            what: "average pooling dilation",
            detail: format!("{:?}; average pooling has no dilation", config.dilation),
        });
    }
    let dims = config.dims(x)?;
    let [kh, kw] = config.kernel;
    let ones = Tensor::ones((dims.in_channels, 1, kh, kw), x.dtype(), x.device())?;
    let sums = conv2d(x, &ones, &dims.geometry)?;
    if count_include_pad {
        return Ok((sums / (kh * kw) as f64)?);
    }
    let plane = Tensor::ones(
        (1, 1, dims.in_size[0], dims.in_size[1]),
        x.dtype(),
        x.device(),
    )?;
    let single = Tensor::ones((1, 1, kh, kw), x.dtype(), x.device())?;
    let counts = conv2d(&plane, &single, &dims.geometry.with_groups(1))?;
    Ok(sums.broadcast_div(&counts)?)
}

/// Global average pooling: `(N, C, H, W) → (N, C, 1, 1)`.
///
/// # Shapes
/// `x (N, C, H, W)` → `(N, C, 1, 1)`.
///
/// # Errors
/// [`Error::WrongRank`] unless `x` is 4-D.
pub fn global_avg_pool(x: &Tensor) -> Result<Tensor> {
    if x.rank() != 4 {
        return Err(Error::WrongRank {
            what: "pooling input",
            expected: 4,
            got: x.dims().to_vec(),
        });
    }
    Ok(x.mean_keepdim(3)?.mean_keepdim(2)?)
}
