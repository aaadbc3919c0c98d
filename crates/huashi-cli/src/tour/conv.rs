//! The convolution sections of the tour that need no timing: conv arithmetic,
//! the check of the fast kernels against a naive loop, and a receptive field
//! drawn from the input gradient.

use crate::report::plot::{self, Series};
use crate::report::table;
use candle_core::{DType, Device, Tensor};
use huashi_conv::reference::{naive_conv2d, ConvProblem};
use huashi_conv::{conv2d, conv_input_grad, ConvGeometry, Padding};
use std::path::Path;

/// One conv-arithmetic example: a square input, kernel, stride, dilation, rule.
struct Example {
    input: usize,
    kernel: usize,
    stride: usize,
    dilation: usize,
    padding: Padding,
    note: &'static str,
}

/// `(input, kernel, stride, dilation, padding, note)`.
type ExampleRow = (usize, usize, usize, usize, Padding, &'static str);

const EXAMPLES: [ExampleRow; 9] = [
    (56, 3, 1, 1, Padding::Valid, "o = i − k + 1"),
    (
        56,
        3,
        1,
        1,
        Padding::SamePyTorch,
        "same size; 1 pixel each side",
    ),
    (
        56,
        4,
        1,
        1,
        Padding::SamePyTorch,
        "even kernel: the extra pixel goes bottom/right",
    ),
    (
        56,
        3,
        1,
        2,
        Padding::SamePyTorch,
        "dilation 2: extent 5, padding 2",
    ),
    (
        224,
        3,
        2,
        1,
        Padding::SameTensorFlow,
        "o = ⌈i/s⌉; TF pads only bottom/right here",
    ),
    (
        224,
        3,
        2,
        1,
        P1,
        "PyTorch padding=1: same size, window shifted by one pixel vs TF",
    ),
    (
        225,
        3,
        2,
        1,
        Padding::SameTensorFlow,
        "odd input: symmetric again",
    ),
    (
        224,
        3,
        2,
        1,
        Padding::SamePyTorch,
        "PyTorch refuses 'same' with stride > 1",
    ),
    (5, 7, 1, 1, Padding::Valid, "kernel larger than the input"),
];

const P1: Padding = Padding::Explicit {
    top: 1,
    bottom: 1,
    left: 1,
    right: 1,
};

fn examples() -> Vec<Example> {
    EXAMPLES
        .iter()
        .map(
            |&(input, kernel, stride, dilation, padding, note)| Example {
                input,
                kernel,
                stride,
                dilation,
                padding,
                note,
            },
        )
        .collect()
}

fn example_row(e: &Example) -> Vec<String> {
    let outcome = e
        .padding
        .resolve([e.input; 2], [e.kernel; 2], [e.stride; 2], [e.dilation; 2])
        .and_then(|p| {
            let g = ConvGeometry::new()
                .with_stride([e.stride; 2])
                .with_dilation([e.dilation; 2])
                .with_padding(p);
            Ok((p, g.output_size([e.input; 2], [e.kernel; 2])?))
        });
    let (padding, output) = match outcome {
        Ok((p, o)) => (
            format!("top {} bottom {} left {} right {}", p[0], p[1], p[2], p[3]),
            o[0].to_string(),
        ),
        Err(err) => ("—".into(), format!("error: {err}")),
    };
    let rule = match e.padding {
        Padding::Valid => "valid".to_string(),
        Padding::SamePyTorch => "PyTorch 'same'".into(),
        Padding::SameTensorFlow => "TensorFlow 'SAME'".into(),
        Padding::Explicit { top, .. } => format!("explicit {top}"),
    };
    let geometry = format!(
        "{0}×{0}, k={1}, s={2}, d={3}",
        e.input, e.kernel, e.stride, e.dilation
    );
    vec![geometry, rule, padding, output, e.note.into()]
}

/// Conv arithmetic examples and a chart of parameters against kernel size.
pub fn arithmetic_section(dir: &Path) -> anyhow::Result<String> {
    let rows: Vec<Vec<String>> = examples().iter().map(example_row).collect();
    let mut md = String::from("## Convolution arithmetic\n\n");
    md += "Output size along an axis: `o = ⌊(i + p_lo + p_hi − d·(k−1) − 1) / s⌋ + 1` ";
    md += "(Dumoulin & Visin). `Padding::SamePyTorch` is PyTorch's `padding='same'` ";
    md += "(stride 1 only); `Padding::SameTensorFlow` is TensorFlow's `'SAME'` (any stride, ";
    md += "`o = ⌈i/s⌉`). Both put an odd extra pixel bottom/right.\n\n";
    md += &table::markdown(
        &[
            "input, kernel, stride, dilation",
            "padding rule",
            "resolved padding",
            "output",
            "note",
        ],
        &rows,
    );
    let g = ConvGeometry::new()
        .with_stride([2, 2])
        .with_padding([1, 1, 1, 1]);
    let back = g.transposed_output_size([28, 28], [3, 3], [1, 1])?;
    md += &format!(
        "\nTransposed convolution undoes the shape: 3×3, stride 2, padding 1 maps 56 → 28, and \
         back 28 → {} with output_padding 1 (without it: {}).\n\n",
        back[0],
        g.transposed_output_size([28, 28], [3, 3], [0, 0])?[0]
    );
    let series = kernel_size_series(64, 128);
    plot::line_chart(
        &dir.join("params_vs_kernel.png"),
        "Parameters vs kernel size k, 64→128 channels",
        ("kernel size k", "parameters"),
        &series,
    )?;
    md += "![parameters against kernel size](params_vs_kernel.png)\n\n";
    md += "Standard grows as `k²·C_in·C_out`, spatially separable (k×1 then 1×k, C_in in between) ";
    md += "as `k·C_in·(C_in + C_out)`, depthwise-separable as `k²·C_in + C_in·C_out`.\n\n";
    Ok(md)
}

fn kernel_size_series(c_in: usize, c_out: usize) -> Vec<Series> {
    let ks = [1usize, 3, 5, 7, 9, 11];
    let curve = |name: &str, f: &dyn Fn(usize) -> usize| Series {
        name: name.into(),
        points: ks.iter().map(|&k| (k as f64, f(k) as f64)).collect(),
    };
    vec![
        curve("standard k×k", &|k| k * k * c_in * c_out),
        curve("spatially separable", &|k| k * c_in * (c_in + c_out)),
        curve("depthwise-separable", &|k| k * k * c_in + c_in * c_out),
    ]
}

/// One reference case: fast conv vs the naive loop.
struct CheckCase {
    name: &'static str,
    x: [usize; 4],
    w: [usize; 4],
    geometry: ConvGeometry,
}

fn check_cases() -> Vec<CheckCase> {
    let general = ConvGeometry::new()
        .with_stride([2, 1])
        .with_dilation([1, 2])
        .with_padding([1, 0, 2, 1])
        .with_groups(2);
    let depthwise = ConvGeometry::new()
        .with_padding([1, 1, 1, 1])
        .with_groups(3);
    vec![
        CheckCase {
            name: "grouped (2), stride (2,1), dilation (1,2), padding (1,0,2,1), 3×2 kernel",
            x: [2, 4, 9, 7],
            w: [6, 2, 3, 2],
            geometry: general,
        },
        CheckCase {
            name: "depthwise, multiplier 2, 3×3, padding 1",
            x: [2, 3, 8, 8],
            w: [6, 1, 3, 3],
            geometry: depthwise,
        },
    ]
}

fn check_row(case: &CheckCase, dtype: DType) -> anyhow::Result<(Vec<String>, bool)> {
    let x = crate::rng::uniform(&case.x, 1.0, 11, dtype)?;
    let w = crate::rng::uniform(&case.w, 1.0, 12, dtype)?;
    let fast = conv2d(&x, &w, &case.geometry)?;
    let [n, c_in, h, wd] = case.x;
    let [c_out, _, kh, kw] = case.w;
    let problem = ConvProblem::new(n, [c_in, c_out], [h, wd], [kh, kw], case.geometry);
    let values = |t: &Tensor| -> anyhow::Result<Vec<f64>> {
        Ok(t.to_dtype(DType::F64)?.flatten_all()?.to_vec1::<f64>()?)
    };
    let reference = naive_conv2d(&problem, &values(&x)?, &values(&w)?);
    let fast_values = values(&fast)?;
    let max_abs = |v: &mut dyn Iterator<Item = f64>| v.fold(0f64, |m, d| m.max(d.abs()));
    let diff = max_abs(
        &mut fast_values
            .iter()
            .zip(&reference.values)
            .map(|(a, b)| a - b),
    );
    let scale = max_abs(&mut reference.values.iter().copied());
    let eps = if dtype == DType::F32 {
        f32::EPSILON as f64
    } else {
        f64::EPSILON
    };
    let terms = (case.w[1] * case.w[2] * case.w[3]) as f64;
    let tolerance = 4.0 * eps * terms * scale.max(1.0);
    let ok = diff <= tolerance;
    let row = vec![
        case.name.to_string(),
        format!("{dtype:?}"),
        format!("{:?}", fast.dims()),
        format!("{diff:.2e}"),
        format!("{tolerance:.2e}"),
        if ok { "pass" } else { "FAIL" }.to_string(),
    ];
    Ok((row, ok))
}

/// The fast kernels against the naive loop, f32 and f64.
pub fn check_section() -> anyhow::Result<(String, bool)> {
    let mut rows = Vec::new();
    let mut all_ok = true;
    for case in check_cases() {
        for dtype in [DType::F32, DType::F64] {
            let (row, ok) = check_row(&case, dtype)?;
            all_ok &= ok;
            rows.push(row);
        }
    }
    let mut md = String::from("## Fast kernels vs a naive loop\n\n");
    md += "`huashi_conv::conv2d` against a plain f64 six-fold loop (tolerance ";
    md += "`4·ε·(terms per output)·max|y|`). The test suite checks many more cases, and the ";
    md += "gradients.\n\n";
    md += &table::markdown(
        &[
            "case",
            "dtype",
            "output shape",
            "max |fast − naive|",
            "tolerance",
            "result",
        ],
        &rows,
    );
    Ok((md + "\n", all_ok))
}

/// The input gradient of one output pixel through two stacked convolutions.
pub fn receptive_field_section(dir: &Path) -> anyhow::Result<String> {
    let size = 15;
    let ones = Tensor::ones((1, 1, 3, 3), DType::F32, &Device::Cpu)?;
    let first = ConvGeometry::new().with_padding([1; 4]);
    let second = ConvGeometry::new()
        .with_dilation([2, 2])
        .with_padding([2; 4]);
    let mut dy = vec![0f32; size * size];
    dy[(size / 2) * size + size / 2] = 1.0;
    let dy = Tensor::from_vec(dy, (1, 1, size, size), &Device::Cpu)?;
    let mid = conv_input_grad(&dy, &ones, &second, [size, size])?;
    let dx = conv_input_grad(&mid, &ones, &first, [size, size])?;
    let grid: Vec<Vec<f64>> = dx
        .squeeze(0)?
        .squeeze(0)?
        .to_dtype(DType::F64)?
        .to_vec2::<f64>()?;
    let support = grid.iter().flatten().filter(|v| **v != 0.0).count();
    plot::heatmap(
        &dir.join("receptive_field.png"),
        "∂y_center/∂x: 3×3 conv then 3×3 dilation-2 conv",
        &grid,
    )?;
    let mut md = String::from("## Receptive field from the input gradient\n\n");
    md += "`conv_input_grad` (the transposed convolution) carries a one-hot output gradient back ";
    md += "through a 3×3 convolution followed by a 3×3 convolution with dilation 2 (all-ones ";
    md += "weights). The analytic receptive field is 1 + 2 + 4 = 7 pixels wide; the gradient's ";
    md += &format!(
        "support has {support} pixels (7×7 = 49), each counting the paths to the output.\n\n"
    );
    Ok(md + "![receptive field](receptive_field.png)\n\n")
}
