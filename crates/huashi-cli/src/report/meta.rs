//! Meta-learning reports: the final test as a table, and the MAML paper's
//! sinusoid figure (Finn et al. 2017, Fig. 2): the true
//! function, the K = 5 support points, and the model's prediction before
//! adaptation and after 1 and 10 gradient steps.

use crate::report::table;
use candle_core::{DType, Device, Tensor};
use huashi_meta::checkpoint::RunSpec;
use huashi_meta::cost::IterationCost;
use huashi_meta::eval::adapted_query;
use huashi_meta::protocol::{TestRow, TrainedRun};
use huashi_meta::stream_seed;
use huashi_meta::{Batch, Sinusoid, Task, TaskBatch};
use plotters::prelude::*;
use std::path::Path;

const GRID: usize = 200;

/// One line on what a training meta-iteration of `spec` costs: "model
/// maml_omniglot: 112,005 parameters; one meta-iteration (maml, …): … GMAC,
/// estimated peak … MB".
pub fn cost_line(spec: &RunSpec, cost: &IterationCost) -> String {
    let h = &spec.hyper;
    let (support, query) = (cost.support_examples, cost.query_examples);
    format!(
        "model {}: {} parameters, {} MACs per example; one meta-iteration ({}, {} inner step(s), meta-batch {}, {support} support + {query} query examples per task): {:.3} GMAC, estimated peak memory {:.0} MB",
        spec.model.name(),
        table::thousands(cost.params),
        table::thousands(cost.macs_per_example),
        h.algorithm.name(),
        h.train_steps(),
        h.meta_batch,
        cost.macs as f64 / 1e9,
        cost.peak_bytes as f64 / 1e6,
    )
}

/// Writes the figure for test task 0 of the run to `path`.
pub fn sinusoid(loaded: &TrainedRun, path: &Path) -> anyhow::Result<()> {
    let sampler = Sinusoid::new(stream_seed(loaded.spec.seed, 2));
    let (truth, task) = sampler.task(0, 5, 1, DType::F32, &Device::Cpu)?;
    let xs: Vec<f64> = (0..GRID)
        .map(|i| -5.0 + 10.0 * i as f64 / (GRID - 1) as f64)
        .collect();
    let grid = Tensor::from_vec(
        xs.iter().map(|&x| x as f32).collect::<Vec<_>>(),
        (GRID, 1),
        &Device::Cpu,
    )?;
    let batch = TaskBatch::stack(&[Task {
        support: task.support.clone(),
        query: Batch {
            x: grid.clone(),
            y: grid.zeros_like()?,
        },
    }])?;
    let head = loaded.model.head_names();
    let mut curves = vec![(
        "true function".to_string(),
        xs.iter().map(|&x| (x, truth.value(x))).collect::<Vec<_>>(),
    )];
    for steps in [0, 1, 10] {
        let out = adapted_query(
            &loaded.spec.hyper,
            &loaded.model,
            &head,
            &loaded.params,
            &batch,
            steps,
        )?;
        let ys = out
            .prediction
            .flatten_all()?
            .to_dtype(DType::F64)?
            .to_vec1::<f64>()?;
        let name = match steps {
            0 => "before adaptation".to_string(),
            1 => "after 1 step".to_string(),
            s => format!("after {s} steps"),
        };
        curves.push((name, xs.iter().copied().zip(ys).collect()));
    }
    let support = points(&task.support)?;
    draw(path, loaded.spec.hyper.algorithm.name(), &curves, &support)
}

fn points(batch: &Batch) -> anyhow::Result<Vec<(f64, f64)>> {
    let x = batch
        .x
        .flatten_all()?
        .to_dtype(DType::F64)?
        .to_vec1::<f64>()?;
    let y = batch
        .y
        .flatten_all()?
        .to_dtype(DType::F64)?
        .to_vec1::<f64>()?;
    Ok(x.into_iter().zip(y).collect())
}

fn draw(
    path: &Path,
    algorithm: &str,
    curves: &[(String, Vec<(f64, f64)>)],
    support: &[(f64, f64)],
) -> anyhow::Result<()> {
    let all = curves.iter().flat_map(|(_, p)| p.iter().map(|&(_, y)| y));
    let (lo, hi) = all.fold((f64::MAX, f64::MIN), |(a, b), y| (a.min(y), b.max(y)));
    let pad = 0.1 * (hi - lo).max(1e-3);
    crate::report::plot::with_png(path, (1000, 600), |root| {
        let title = format!("{algorithm}: sinusoid regression, K = 5");
        let mut chart = ChartBuilder::on(root)
            .caption(title, ("sans-serif", 26))
            .margin(15)
            .x_label_area_size(40)
            .y_label_area_size(55)
            .build_cartesian_2d(-5.0..5.0, (lo - pad)..(hi + pad))?;
        chart.configure_mesh().x_desc("x").y_desc("y").draw()?;
        let colours = [
            BLACK,
            RGBColor(200, 80, 40),
            RGBColor(40, 120, 200),
            RGBColor(40, 160, 60),
        ];
        for ((name, pts), colour) in curves.iter().zip(colours) {
            let style =
                ShapeStyle::from(&colour).stroke_width(if name == "true function" { 3 } else { 2 });
            chart
                .draw_series(LineSeries::new(pts.iter().copied(), style))?
                .label(name.clone())
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], colour));
        }
        chart
            .draw_series(
                support
                    .iter()
                    .map(|&p| Circle::new(p, 6, RGBColor(120, 40, 160).filled())),
            )?
            .label("support points (K = 5)")
            .legend(|(x, y)| Circle::new((x + 10, y), 5, RGBColor(120, 40, 160).filled()));
        chart
            .configure_series_labels()
            .border_style(BLACK)
            .background_style(WHITE.mix(0.9))
            .draw()?;
        Ok(())
    })
}

/// The test rows as a text table.
pub fn test_table(rows: &[TestRow]) -> String {
    let headers = [
        "K",
        "steps",
        "tasks",
        "query loss (± 95% CI)",
        "accuracy (± 95% CI)",
    ];
    let body: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            let e = &r.report;
            vec![
                r.shots.to_string(),
                e.inner_steps.to_string(),
                e.tasks.to_string(),
                format!("{:.4} ± {:.4}", e.loss.mean, e.loss.ci95),
                e.accuracy.map_or("—".into(), |a| {
                    format!("{:.2}% ± {:.2}", 100.0 * a.mean, 100.0 * a.ci95)
                }),
            ]
        })
        .collect();
    table::text(&headers, &body)
}
