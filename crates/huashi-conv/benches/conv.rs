//! Criterion benches of the three reference cases of `huashi bench conv`:
//! (a) 3×3, N=8, 64→64, 56×56, pad 1; (b) depthwise 3×3, N=8, C=256, 56×56,
//! pad 1; (c) 1×1, N=8, 256→256, 56×56 — forward, input gradient, weight
//! gradient, and forward+backward through candle's autograd.

use candle_core::{Device, Tensor, Var};
use criterion::{criterion_group, criterion_main, Criterion};
use huashi_conv::{conv2d, conv_input_grad, conv_weight_grad, ConvGeometry};

struct Case {
    name: &'static str,
    in_channels: usize,
    out_channels: usize,
    kernel: usize,
    padding: usize,
    groups: usize,
}

const CASES: [Case; 3] = [
    Case {
        name: "a_3x3_64to64",
        in_channels: 64,
        out_channels: 64,
        kernel: 3,
        padding: 1,
        groups: 1,
    },
    Case {
        name: "b_depthwise_3x3_256",
        in_channels: 256,
        out_channels: 256,
        kernel: 3,
        padding: 1,
        groups: 256,
    },
    Case {
        name: "c_1x1_256to256",
        in_channels: 256,
        out_channels: 256,
        kernel: 1,
        padding: 0,
        groups: 1,
    },
];

fn bench_case(c: &mut Criterion, case: &Case) -> candle_core::Result<()> {
    let device = Device::Cpu;
    let x = Var::from_tensor(&Tensor::randn(
        0f32,
        1.0,
        (8, case.in_channels, 56, 56),
        &device,
    )?)?;
    let shape = (
        case.out_channels,
        case.in_channels / case.groups,
        case.kernel,
        case.kernel,
    );
    let w = Var::from_tensor(&Tensor::randn(0f32, 0.1, shape, &device)?)?;
    let geometry = ConvGeometry::new()
        .with_padding([case.padding; 4])
        .with_groups(case.groups);
    let y = conv2d(&x, &w, &geometry).map_err(candle_core::Error::wrap)?;
    let dy = y.ones_like()?;
    let mut group = c.benchmark_group(case.name);
    group.sample_size(10);
    group.bench_function("forward", |b| b.iter(|| conv2d(&x, &w, &geometry)));
    group.bench_function("input_grad", |b| {
        b.iter(|| conv_input_grad(&dy, &w, &geometry, [56, 56]))
    });
    let kernel = [case.kernel; 2];
    group.bench_function("weight_grad", |b| {
        b.iter(|| conv_weight_grad(&x, &dy, &geometry, kernel))
    });
    group.bench_function("forward_backward", |b| {
        b.iter(|| conv2d(&x, &w, &geometry).map(|y| y.sum_all().and_then(|l| l.backward())))
    });
    group.finish();
    Ok(())
}

fn benches(c: &mut Criterion) {
    for case in &CASES {
        if let Err(e) = bench_case(c, case) {
            eprintln!("bench {} failed: {e}", case.name);
        }
    }
}

criterion_group!(conv_benches, benches);
criterion_main!(conv_benches);
