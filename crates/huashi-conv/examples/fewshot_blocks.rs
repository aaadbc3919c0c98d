//! Times the three convolution ops on the four blocks of the few-shot CNN
//! as MAML runs them on a meta-batch: 32 tasks as groups, 5 images (5-way
//! 1-shot support set), 64 filters, 3×3 stride 2 padding 1, from 28×28.
//!
//! `cargo run --release -p huashi-conv --example fewshot_blocks`

use candle_core::{Device, Tensor};
use huashi_conv::{conv2d, conv_input_grad, conv_weight_grad, ConvGeometry};
use std::time::Instant;

fn median_ms<E: std::fmt::Debug>(runs: usize, mut f: impl FnMut() -> Result<Tensor, E>) -> f64 {
    let mut times: Vec<f64> = (0..runs)
        .map(|_| {
            let start = Instant::now();
            f().expect("op runs");
            start.elapsed().as_secs_f64() * 1e3
        })
        .collect();
    times.sort_by(f64::total_cmp);
    times[runs / 2]
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let (tasks, batch, hidden) = (32, 5, 64);
    let geometry = ConvGeometry::new()
        .with_stride([2, 2])
        .with_padding([1, 1, 1, 1])
        .with_groups(tasks);
    let mut size = 28;
    let mut channels = 1;
    let mut total = 0.0;
    for block in 0..4 {
        let x = Tensor::randn(
            0f32,
            1.0,
            (batch, tasks * channels, size, size),
            &Device::Cpu,
        )?;
        let w = Tensor::randn(0f32, 0.1, (tasks * hidden, channels, 3, 3), &Device::Cpu)?;
        let y = conv2d(&x, &w, &geometry)?;
        let forward = median_ms(21, || conv2d(&x, &w, &geometry));
        let input = median_ms(21, || conv_input_grad(&y, &w, &geometry, [size, size]));
        let weight = median_ms(21, || conv_weight_grad(&x, &y, &geometry, [3, 3]));
        total += forward + input + weight;
        println!(
            "block {block}: {size}x{size} {channels}->{hidden} per task: forward {forward:.3} ms, input grad {input:.3} ms, weight grad {weight:.3} ms"
        );
        size = (size - 1) / 2 + 1;
        channels = hidden;
    }
    println!("total {total:.3} ms");
    Ok(())
}
