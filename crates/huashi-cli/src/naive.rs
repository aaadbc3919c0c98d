//! A deliberately plain f64 convolution loop, the reference the tour checks
//! the fast kernels against.

use anyhow::ensure;
use candle_core::{DType, Tensor};
use huashi_conv::ConvGeometry;

/// `y[n,o,i,j] = Σ_{c,u,v} w[o,c,u,v] · x[n, g·C_in/G + c, i·s − p + u·d, j·s − p + v·d]`.
pub fn conv2d(x: &Tensor, w: &Tensor, g: &ConvGeometry) -> anyhow::Result<Tensor> {
    let (n, c_in, h, wd) = x.dims4()?;
    let (c_out, cg, kh, kw) = w.dims4()?;
    ensure!(
        g.groups > 0 && c_in == cg * g.groups,
        "weight does not match input channels"
    );
    ensure!(
        c_out % g.groups == 0,
        "output channels not divisible by groups"
    );
    let [ho, wo] = g.output_size([h, wd], [kh, kw])?;
    let xv = x.to_dtype(DType::F64)?.flatten_all()?.to_vec1::<f64>()?;
    let wv = w.to_dtype(DType::F64)?.flatten_all()?.to_vec1::<f64>()?;
    let per_group = c_out / g.groups;
    let mut y = vec![0.0; n * c_out * ho * wo];
    for (idx, out) in y.iter_mut().enumerate() {
        let (j, i) = (idx % wo, (idx / wo) % ho);
        let (o, b) = ((idx / (wo * ho)) % c_out, idx / (wo * ho * c_out));
        let first_channel = (o / per_group) * cg;
        let mut acc = 0.0;
        for c in 0..cg {
            for u in 0..kh {
                for v in 0..kw {
                    let r = (i * g.stride[0] + u * g.dilation[0]) as isize - g.padding[0] as isize;
                    let s = (j * g.stride[1] + v * g.dilation[1]) as isize - g.padding[2] as isize;
                    if r < 0 || s < 0 || r as usize >= h || s as usize >= wd {
                        continue;
                    }
                    let xi = ((b * c_in + first_channel + c) * h + r as usize) * wd + s as usize;
                    acc += wv[((o * cg + c) * kh + u) * kw + v] * xv[xi];
                }
            }
        }
        *out = acc;
    }
    Ok(Tensor::from_vec(y, (n, c_out, ho, wo), x.device())?)
}

/// `max |a − b|` and `max |b|` over all entries, in f64.
pub fn max_abs_diff(a: &Tensor, b: &Tensor) -> anyhow::Result<(f64, f64)> {
    ensure!(
        a.dims() == b.dims(),
        "shapes differ: {:?} vs {:?}",
        a.dims(),
        b.dims()
    );
    let a = a.to_dtype(DType::F64)?;
    let b = b.to_dtype(DType::F64)?;
    let diff = (a - &b)?.abs()?.flatten_all()?.max(0)?.to_scalar::<f64>()?;
    let scale = b.abs()?.flatten_all()?.max(0)?.to_scalar::<f64>()?;
    Ok((diff, scale))
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::Device;

    #[test]
    fn identity_kernel_and_hand_computed_sum() {
        let x = Tensor::arange(0f64, 9.0, &Device::Cpu)
            .unwrap()
            .reshape((1, 1, 3, 3))
            .unwrap();
        let ones = Tensor::ones((1, 1, 2, 2), DType::F64, &Device::Cpu).unwrap();
        let y = conv2d(&x, &ones, &ConvGeometry::new()).unwrap();
        // 0+1+3+4, 1+2+4+5, 3+4+6+7, 4+5+7+8
        assert_eq!(
            y.flatten_all().unwrap().to_vec1::<f64>().unwrap(),
            vec![8.0, 12.0, 20.0, 24.0]
        );
        let g = ConvGeometry::new()
            .with_padding([1, 0, 0, 1])
            .with_stride([2, 2]);
        let y = conv2d(&x, &ones, &g).unwrap();
        // rows -1..0 (only row 0) and 1..2; cols 0..1 and 2..3 (col 3 padded)
        assert_eq!(
            y.flatten_all().unwrap().to_vec1::<f64>().unwrap(),
            vec![1.0, 2.0, 20.0, 13.0]
        );
    }

    #[test]
    fn grouped_channels_read_their_own_group() {
        // 2 input channels, groups 2, multiplier 2: outputs 0,1 read channel 0; 2,3 read channel 1.
        let x = Tensor::new(&[1f64, 10.0], &Device::Cpu)
            .unwrap()
            .reshape((1, 2, 1, 1))
            .unwrap();
        let w = Tensor::new(&[1f64, 2.0, 3.0, 4.0], &Device::Cpu).unwrap();
        let w = w.reshape((4, 1, 1, 1)).unwrap();
        let y = conv2d(&x, &w, &ConvGeometry::new().with_groups(2)).unwrap();
        assert_eq!(
            y.flatten_all().unwrap().to_vec1::<f64>().unwrap(),
            vec![1.0, 2.0, 30.0, 40.0]
        );
    }
}
