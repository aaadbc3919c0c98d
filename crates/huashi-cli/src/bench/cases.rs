//! The three benchmark cases of `huashi bench conv` and the project's targets for them:
//! dense 3×3 and 1×1 convolutions at ≥ 80 % of the measured FMA peak, the
//! depthwise forward at ≤ 1.1× the memory-copy floor.

use anyhow::bail;
use huashi_conv::ConvGeometry;
use serde::Serialize;

/// What a case's time is judged against.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Floor {
    /// A plain GEMM of the same FLOP count.
    Gemm,
    /// Copying the input into a fresh buffer plus writing an output-sized one.
    Copy,
}

/// The project's target for a case.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub enum Target {
    /// At least this fraction of the machine's FMA peak (forward, and
    /// forward+backward at 3 × the forward's FLOPs).
    FmaFraction(f64),
    /// The forward at most this multiple of the copy floor.
    CopyRatio(f64),
}

impl Target {
    /// Whether a measurement meets the target, given its fraction of the FMA
    /// peak and its ratio to the copy floor.
    pub fn met(self, fma_fraction: f64, copy_ratio: f64) -> bool {
        match self {
            Target::FmaFraction(min) => fma_fraction >= min,
            Target::CopyRatio(max) => copy_ratio <= max,
        }
    }

    pub fn describe(self) -> String {
        match self {
            Target::FmaFraction(min) => format!("≥ {:.0} % of FMA peak", 100.0 * min),
            Target::CopyRatio(max) => format!("≤ {max}× copy floor"),
        }
    }
}

/// One benchmark case: an f32 convolution, stride 1, dilation 1.
#[derive(Debug, Clone, Serialize)]
pub struct Case {
    pub id: char,
    pub description: String,
    pub batch: usize,
    pub c_in: usize,
    pub c_out: usize,
    pub size: usize,
    pub kernel: usize,
    pub groups: usize,
    /// Symmetric padding on every side.
    pub padding: usize,
    /// `[m, k, n]` of the GEMM with the forward's FLOP count.
    pub gemm: [usize; 3],
    pub floor: Floor,
    pub target: Target,
}

impl Case {
    pub fn geometry(&self) -> ConvGeometry {
        ConvGeometry::new()
            .with_padding([self.padding; 4])
            .with_groups(self.groups)
    }

    pub fn input_shape(&self) -> [usize; 4] {
        [self.batch, self.c_in, self.size, self.size]
    }

    pub fn weight_shape(&self) -> [usize; 4] {
        [
            self.c_out,
            self.c_in / self.groups,
            self.kernel,
            self.kernel,
        ]
    }

    pub fn output_shape(&self) -> anyhow::Result<[usize; 4]> {
        let [h, w] = self
            .geometry()
            .output_size([self.size; 2], [self.kernel; 2])?;
        Ok([self.batch, self.c_out, h, w])
    }

    /// `2 · N·C_out·Ho·Wo·(C_in/g)·k²`.
    pub fn flops_forward(&self) -> f64 {
        let out: usize = self.output_shape().map_or(0, |s| s.iter().product());
        let per_output: usize = self.weight_shape()[1..].iter().product();
        2.0 * out as f64 * per_output as f64
    }

    /// Bytes moved by the copy floor: read x, write its copy, write y (f32).
    pub fn copy_bytes(&self) -> usize {
        let x: usize = self.input_shape().iter().product();
        let y: usize = self.output_shape().map_or(0, |s| s.iter().product());
        4 * (2 * x + y)
    }
}

/// All three cases.
pub fn all_cases() -> Vec<Case> {
    let base = Case {
        id: 'a',
        description: "3×3 conv, N=8, 64→64, 56×56, pad 1".into(),
        batch: 8,
        c_in: 64,
        c_out: 64,
        size: 56,
        kernel: 3,
        groups: 1,
        padding: 1,
        gemm: [64, 576, 8 * 56 * 56],
        floor: Floor::Gemm,
        target: Target::FmaFraction(0.8),
    };
    let depthwise = Case {
        id: 'b',
        description: "depthwise 3×3, N=8, C=256, 56×56, pad 1".into(),
        c_in: 256,
        c_out: 256,
        groups: 256,
        // 384·384·392 = 8·256·56·56·9 multiply-accumulates.
        gemm: [384, 384, 392],
        floor: Floor::Copy,
        target: Target::CopyRatio(1.1),
        ..base.clone()
    };
    let pointwise = Case {
        id: 'c',
        description: "1×1 conv, N=8, 256→256, 56×56".into(),
        c_in: 256,
        c_out: 256,
        kernel: 1,
        padding: 0,
        gemm: [256, 256, 8 * 56 * 56],
        ..base.clone()
    };
    vec![base, depthwise, pointwise]
}

/// The cases named by their letters (all when `ids` is empty).
pub fn cases(ids: &[char]) -> anyhow::Result<Vec<Case>> {
    let all = all_cases();
    if let Some(bad) = ids.iter().find(|id| !all.iter().any(|c| c.id == **id)) {
        bail!("unknown case `{bad}`; the cases are a, b and c");
    }
    Ok(all
        .into_iter()
        .filter(|c| ids.is_empty() || ids.contains(&c.id))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gemm_has_the_forward_flop_count() {
        for case in all_cases() {
            let [m, k, n] = case.gemm;
            assert_eq!(
                case.flops_forward(),
                2.0 * (m * k * n) as f64,
                "case {}",
                case.id
            );
            assert_eq!(case.output_shape().unwrap(), [8, case.c_out, 56, 56]);
        }
    }

    #[test]
    fn case_selection() {
        assert_eq!(cases(&[]).unwrap().len(), 3);
        let picked: Vec<char> = cases(&['c', 'a']).unwrap().iter().map(|c| c.id).collect();
        assert_eq!(picked, vec!['a', 'c']);
        assert!(cases(&['d']).is_err());
    }

    #[test]
    fn copy_floor_bytes() {
        let b = &all_cases()[1];
        assert_eq!(b.copy_bytes(), 4 * 3 * 8 * 256 * 56 * 56);
    }
}
