//! The best GEMM of a given FLOP count: what `huashi bench conv` compares
//! dense convolutions with.
//!
//! A convolution's forward is `(C_out × K)·(K × P)` (K = C_in·k², P = N·Ho·Wo);
//! its gradients are the same product with another dimension inside
//! (`(K × C_out)·(C_out × P)`, `(C_out × P)·(P × K)`). Every assignment of
//! the three sizes to `(m, k, n)` has the same `2·m·k·n` FLOPs, but the `gemm`
//! crate (which candle and huashi use) is much faster for some than for
//! others. This module times all of them (the six orders, each with every
//! matrix row-major and with every matrix column-major) with `gemm::gemm` on
//! all rayon threads, f32, median of the runs after a warm-up, and reports
//! the fastest as the GEMM floor.

use crate::report::timing::{self, Timing};
use gemm::Parallelism;
use huashi_rng::Rng;
use serde::Serialize;
use std::time::Duration;

/// How all three matrices of a product are stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Layout {
    RowMajor,
    ColumnMajor,
}

impl Layout {
    fn name(self) -> &'static str {
        match self {
            Layout::RowMajor => "row-major",
            Layout::ColumnMajor => "column-major",
        }
    }

    /// `(column stride, row stride)` of a `rows × cols` matrix.
    fn strides(self, rows: usize, cols: usize) -> (isize, isize) {
        match self {
            Layout::RowMajor => (1, cols as isize),
            Layout::ColumnMajor => (rows as isize, 1),
        }
    }
}

/// One timed orientation: `dst (m × n) = lhs (m × k) · rhs (k × n)`.
#[derive(Debug, Clone, Serialize)]
pub struct Orientation {
    pub shape: String,
    pub m: usize,
    pub k: usize,
    pub n: usize,
    pub layout: Layout,
    pub timing: Timing,
    pub gflops: f64,
}

/// Every orientation of one FLOP count and the fastest of them.
#[derive(Debug, Clone, Serialize)]
pub struct GemmFloor {
    pub orientations: Vec<Orientation>,
    /// Index of the fastest (lowest median) in `orientations`.
    pub best: usize,
}

impl GemmFloor {
    pub fn best(&self) -> &Orientation {
        &self.orientations[self.best]
    }
}

/// The distinct `[m, k, n]` orders of three sizes.
pub fn orders([a, b, c]: [usize; 3]) -> Vec<[usize; 3]> {
    let mut out: Vec<[usize; 3]> = Vec::new();
    for o in [
        [a, b, c],
        [c, b, a],
        [b, a, c],
        [c, a, b],
        [a, c, b],
        [b, c, a],
    ] {
        if !out.contains(&o) {
            out.push(o);
        }
    }
    out
}

/// Times every orientation of `dims` (`[m, k, n]` of any one of them).
pub fn measure(dims: [usize; 3], runs: usize, seed: u64) -> anyhow::Result<GemmFloor> {
    // One buffer for both operands and one for the result, large enough
    // for every order.
    let sizes = |[m, k, n]: [usize; 3]| (m * k + k * n, m * n);
    let (len, dst_len) = orders(dims)
        .into_iter()
        .map(sizes)
        .fold((0, 0), |a, b| (a.0.max(b.0), a.1.max(b.1)));
    let mut rng = Rng::new(seed);
    let data: Vec<f32> = (0..len).map(|_| rng.uniform_in(-1.0, 1.0) as f32).collect();
    let mut dst = vec![0f32; dst_len];
    let mut orientations = Vec::new();
    for order in orders(dims) {
        for layout in [Layout::RowMajor, Layout::ColumnMajor] {
            orientations.push(time_one(order, layout, &data, &mut dst, runs)?);
        }
    }
    let best = (0..orientations.len())
        .min_by(|&i, &j| {
            let (a, b) = (&orientations[i].timing, &orientations[j].timing);
            a.median_ms.total_cmp(&b.median_ms)
        })
        .ok_or_else(|| anyhow::anyhow!("no GEMM orientation"))?;
    Ok(GemmFloor { orientations, best })
}

fn time_one(
    [m, k, n]: [usize; 3],
    layout: Layout,
    data: &[f32],
    dst: &mut [f32],
    runs: usize,
) -> anyhow::Result<Orientation> {
    let (lhs, rhs) = data.split_at(m * k);
    let timing = timing::measure(runs, Duration::from_secs(2), || {
        product(&mut dst[..m * n], lhs, &rhs[..k * n], [m, k, n], layout);
        Ok(())
    })?;
    Ok(Orientation {
        shape: format!("({m}×{k})·({k}×{n})"),
        m,
        k,
        n,
        layout,
        gflops: timing.gflops(2.0 * (m * k * n) as f64),
        timing,
    })
}

/// `dst = lhs · rhs`, all three stored in `layout`.
fn product(dst: &mut [f32], lhs: &[f32], rhs: &[f32], [m, k, n]: [usize; 3], layout: Layout) {
    assert!(dst.len() == m * n && lhs.len() == m * k && rhs.len() == k * n);
    let (dst_cs, dst_rs) = layout.strides(m, n);
    let (lhs_cs, lhs_rs) = layout.strides(m, k);
    let (rhs_cs, rhs_rs) = layout.strides(k, n);
    // SAFETY: each slice holds exactly its matrix, and the strides of a
    // contiguous row- or column-major matrix keep every index inside it;
    // `dst` is borrowed mutably, so it aliases neither input.
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            dst.as_mut_ptr(),
            dst_cs,
            dst_rs,
            false,
            lhs.as_ptr(),
            lhs_cs,
            lhs_rs,
            rhs.as_ptr(),
            rhs_cs,
            rhs_rs,
            0.0,
            1.0,
            false,
            false,
            false,
            Parallelism::Rayon(0),
        );
    }
}

impl Orientation {
    /// `"(m×k)·(k×n) row-major"`.
    pub fn label(&self) -> String {
        format!("{} {}", self.shape, self.layout.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn six_orders_of_distinct_sizes_fewer_of_equal_ones() {
        let all = orders([2, 3, 4]);
        assert_eq!(all.len(), 6);
        assert!(all.iter().all(|o| o.iter().product::<usize>() == 24));
        assert_eq!(orders([5, 5, 7]).len(), 3);
    }

    #[test]
    fn both_layouts_compute_the_same_product() {
        let (lhs, rhs) = (
            [1f32, 2.0, 3.0, 4.0, 5.0, 6.0],
            [1f32, 0.0, 0.0, 1.0, 1.0, 1.0],
        );
        // Row-major: lhs 2×3, rhs 3×2.
        let mut row = [0f32; 4];
        product(&mut row, &lhs, &rhs, [2, 3, 2], Layout::RowMajor);
        assert_eq!(row, [4.0, 5.0, 10.0, 11.0]);
        // Column-major storage of the same numbers is the transposes.
        let mut col = [0f32; 4];
        product(&mut col, &lhs, &rhs, [2, 3, 2], Layout::ColumnMajor);
        // lhs = [[1,3,5],[2,4,6]], rhs = [[1,1],[0,1],[0,1]] (column-major).
        assert_eq!(col, [1.0, 2.0, 9.0, 12.0]);
    }
}
