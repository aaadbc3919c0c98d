//! The candle custom ops of [`super`] (see the table there): `A`, `R` and
//! `D` are [`Plain`] (two operands), `A_m` and `D_m` are [`Masked`] (the
//! same with a mask source as third operand), `M` is [`Moments`].

use super::kernels::{self, Dims, Elem};
use candle_core::{CpuStorage, CustomOp1, CustomOp2, CustomOp3, Layout, Shape, Tensor, WithDType};

/// Which op of the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `a·s + t` (`A`, or `A_m` with a mask).
    Affine,
    /// `relu(a·s + t)` (`R`; never masked).
    AffineRelu,
    /// `[Σ a⊙x ; Σ a]` (`D`, or `D_m` with a mask).
    DotSum,
}

/// An op with its sizes: `dims` of the `(B, C, L)` operands, `rows` of the
/// `(k, C)` coefficients (taken or produced).
#[derive(Debug, Clone, Copy)]
struct Spec {
    kind: Kind,
    dims: Dims,
    rows: usize,
}

/// An op without mask.
struct Plain(Spec);

/// An op with the mask source `y` as third operand.
struct Masked(Spec);

/// The per-channel moments `[μ ; σ²]`.
struct Moments(Dims);

/// Applies an op of the table; `y` is the mask source.
///
/// # Shapes
/// `Affine`/`AffineRelu`: `a (B, C, L)`, `b = st (rows, C)` → `(B, C, L)`;
/// `DotSum`: `a, b (B, C, L)` → `(rows, C)`; the mask source `y (B, C, L)`.
///
/// # Errors
/// Candle's when an operand does not have the shape `dims` and `rows` give, or
/// the operands are not all f32 or all f64.
pub fn apply(
    kind: Kind,
    dims: Dims,
    rows: usize,
    a: &Tensor,
    b: &Tensor,
    y: Option<&Tensor>,
) -> candle_core::Result<Tensor> {
    let spec = Spec { kind, dims, rows };
    let (a, b) = (a.contiguous()?, b.contiguous()?);
    match y {
        None => a.apply_op2(&b, Plain(spec)),
        Some(y) => a.apply_op3(&b, &y.contiguous()?, Masked(spec)),
    }
}

/// Applies `M`.
///
/// # Shapes
/// `x (B, C, L)` → `(2, C)`, rows `[μ ; σ²]`.
///
/// # Errors
/// Candle's when `x` is not of shape `dims`, or not f32/f64.
pub fn moments(dims: Dims, x: &Tensor) -> candle_core::Result<Tensor> {
    x.contiguous()?.apply_op1(Moments(dims))
}

/// The contiguous data of an operand of shape `expected`.
fn operand<'a, T>(
    data: &'a [T],
    layout: &Layout,
    expected: &[usize],
    name: &str,
) -> candle_core::Result<&'a [T]> {
    if layout.dims() != expected {
        candle_core::bail!("{name}: operand {:?}, expected {expected:?}", layout.dims());
    }
    match layout.contiguous_offsets() {
        Some((start, end)) => Ok(&data[start..end]),
        None => candle_core::bail!("{name}: operand is not contiguous"),
    }
}

/// [`operand`] of element type `T`; another type is an error.
fn typed_operand<'a, T: WithDType>(
    (storage, layout): Operand<'a>,
    expected: &[usize],
    name: &str,
) -> candle_core::Result<&'a [T]> {
    match storage.as_slice::<T>() {
        Ok(data) => operand(data, layout, expected, name),
        Err(_) => candle_core::bail!("{name}: operands must all be f32 or all f64"),
    }
}

/// An operand as f32 or f64 data.
type Operand<'a> = (&'a CpuStorage, &'a Layout);

impl Spec {
    fn name(&self) -> &'static str {
        match self.kind {
            Kind::Affine => "huashi-affine",
            Kind::AffineRelu => "huashi-affine-relu",
            Kind::DotSum => "huashi-channel-dot-sum",
        }
    }

    /// Shapes of the first two operands and of the result.
    fn shapes(&self) -> [Vec<usize>; 3] {
        let d = self.dims;
        let full = vec![d.batch, d.channels, d.len];
        let coef = vec![self.rows, d.channels];
        match self.kind {
            Kind::Affine | Kind::AffineRelu => [full.clone(), coef, full],
            Kind::DotSum => [full.clone(), full, coef],
        }
    }

    fn run<T: Elem>(&self, a: &[T], b: &[T], y: Option<&[T]>) -> Vec<T> {
        let d = self.dims;
        match (self.kind, y) {
            (Kind::Affine, None) => kernels::affine(d, a, b, false),
            (Kind::Affine, Some(y)) => kernels::masked_affine(d, a, y, b),
            (Kind::AffineRelu, _) => kernels::affine(d, a, b, true),
            (Kind::DotSum, y) => kernels::dot_sum(d, a, b, y, self.rows),
        }
    }

    /// [`Spec::run`] on operands of one element type `T`.
    fn typed<T: Elem + WithDType>(
        &self,
        a: Operand,
        b: Operand,
        y: Option<Operand>,
    ) -> candle_core::Result<Vec<T>> {
        let [sa, sb, _] = self.shapes();
        let (name, full) = (
            self.name(),
            [self.dims.batch, self.dims.channels, self.dims.len],
        );
        let (a, b) = (typed_operand(a, &sa, name)?, typed_operand(b, &sb, name)?);
        let y = y.map(|y| typed_operand(y, &full, name)).transpose()?;
        Ok(self.run(a, b, y))
    }

    fn forward(
        &self,
        a: Operand,
        b: Operand,
        y: Option<Operand>,
    ) -> candle_core::Result<(CpuStorage, Shape)> {
        let [_, _, out] = self.shapes();
        let storage = match a.0 {
            CpuStorage::F32(_) => CpuStorage::F32(self.typed(a, b, y)?),
            CpuStorage::F64(_) => CpuStorage::F64(self.typed(a, b, y)?),
            _ => candle_core::bail!("{}: operands must all be f32 or all f64", self.name()),
        };
        Ok((storage, Shape::from(out)))
    }

    /// Gradients of the first two operands (see the table); `mask` is the
    /// mask source of `A_m`/`D_m`, or the result of `R`.
    fn backward(
        &self,
        a: &Tensor,
        b: &Tensor,
        mask: Option<&Tensor>,
        grad: &Tensor,
    ) -> candle_core::Result<(Option<Tensor>, Option<Tensor>)> {
        let (d, rows) = (self.dims, self.rows);
        let grad = grad.contiguous()?;
        let (ga, gb) = match self.kind {
            Kind::Affine | Kind::AffineRelu => {
                let s1 = b.narrow(0, 0, 1)?;
                let ga = a
                    .track_op()
                    .then(|| apply(Kind::Affine, d, 1, &grad, &s1, mask));
                let gb = b
                    .track_op()
                    .then(|| apply(Kind::DotSum, d, rows, &grad, a, mask));
                (ga, gb)
            }
            Kind::DotSum => {
                let g1 = grad.narrow(0, 0, 1)?;
                let ga = a
                    .track_op()
                    .then(|| apply(Kind::Affine, d, rows, b, &grad, mask));
                let gb = b
                    .track_op()
                    .then(|| apply(Kind::Affine, d, 1, a, &g1, mask));
                (ga, gb)
            }
        };
        Ok((ga.transpose()?, gb.transpose()?))
    }
}

impl CustomOp2 for Plain {
    fn name(&self) -> &'static str {
        self.0.name()
    }

    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
    ) -> candle_core::Result<(CpuStorage, Shape)> {
        self.0.forward((s1, l1), (s2, l2), None)
    }

    fn bwd(
        &self,
        a: &Tensor,
        b: &Tensor,
        result: &Tensor,
        grad: &Tensor,
    ) -> candle_core::Result<(Option<Tensor>, Option<Tensor>)> {
        let mask = (self.0.kind == Kind::AffineRelu).then_some(result);
        self.0.backward(a, b, mask, grad)
    }
}

impl CustomOp3 for Masked {
    fn name(&self) -> &'static str {
        match self.0.kind {
            Kind::DotSum => "huashi-masked-channel-dot-sum",
            _ => "huashi-masked-affine",
        }
    }

    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
        s3: &CpuStorage,
        l3: &Layout,
    ) -> candle_core::Result<(CpuStorage, Shape)> {
        self.0.forward((s1, l1), (s2, l2), Some((s3, l3)))
    }

    fn bwd(
        &self,
        a: &Tensor,
        b: &Tensor,
        y: &Tensor,
        _result: &Tensor,
        grad: &Tensor,
    ) -> candle_core::Result<(Option<Tensor>, Option<Tensor>, Option<Tensor>)> {
        let (ga, gb) = self.0.backward(a, b, Some(y), grad)?;
        Ok((ga, gb, None))
    }
}

impl CustomOp1 for Moments {
    fn name(&self) -> &'static str {
        "huashi-channel-moments"
    }

    fn cpu_fwd(&self, s: &CpuStorage, l: &Layout) -> candle_core::Result<(CpuStorage, Shape)> {
        let d = self.0;
        let full = [d.batch, d.channels, d.len];
        let name = self.name();
        let storage = match s {
            CpuStorage::F32(x) => CpuStorage::F32(kernels::moments(d, operand(x, l, &full, name)?)),
            CpuStorage::F64(x) => CpuStorage::F64(kernels::moments(d, operand(x, l, &full, name)?)),
            _ => candle_core::bail!("{name}: f32 or f64 only"),
        };
        Ok((storage, Shape::from((2, d.channels))))
    }

    /// `∂x = A(x, [a ; ḡ_μ/N − μ·a])` with `a = 2ḡ_σ/N`.
    fn bwd(
        &self,
        x: &Tensor,
        result: &Tensor,
        grad: &Tensor,
    ) -> candle_core::Result<Option<Tensor>> {
        let d = self.0;
        let n = (d.batch * d.len) as f64;
        let (g_mean, g_var, mean) = (grad.get(0)?, grad.get(1)?, result.get(0)?);
        let a = (g_var * (2.0 / n))?;
        let t = ((g_mean / n)? - mean.mul(&a)?)?;
        let st = Tensor::stack(&[a, t], 0)?;
        Ok(Some(apply(Kind::Affine, d, 2, x, &st, None)?))
    }
}
