//! The tour's section on meta-learning: a short MAML run on sinusoids beside
//! the pretrained baseline (with the MAML paper's figure), and a short
//! Prototypical Network run on the embedded Omniglot with held-out accuracy.
//! The full protocols are commands of `huashi meta train`.

use crate::report::{meta, table, timing};
use huashi_meta::checkpoint::RunSpec;
use huashi_meta::protocol::{RunOptions, TaskFamily, TestRow, TrainedRun};
use huashi_meta::{Algorithm, Trainer};
use std::path::Path;
use std::time::Instant;

/// The PNG this section writes.
pub const PLOTS: [&str; 1] = ["meta_sinusoid"];

/// Trains `spec` without checkpoints; the trained model and the wall time.
fn train(spec: &RunSpec, label: &str) -> anyhow::Result<(TrainedRun, f64)> {
    let (model, params) = spec.model.build(spec.seed)?;
    let sources = spec.task.sources(spec.seed)?;
    let trainer = Trainer::for_run(spec, &model, &sources);
    let mut state = trainer.start(params)?;
    let bar = timing::progress(spec.hyper.iterations, label);
    let started = Instant::now();
    trainer.run(spec, &mut state, None, &mut |_, _| bar.inc(1))?;
    bar.finish_and_clear();
    let wall = started.elapsed().as_secs_f64();
    Ok((
        TrainedRun {
            spec: spec.clone(),
            model,
            params: state.params,
        },
        wall,
    ))
}

fn rows(name: &str, test: &[TestRow]) -> Vec<Vec<String>> {
    test.iter()
        .map(|r| {
            let e = &r.report;
            let accuracy = e.accuracy.map_or("—".into(), |a| {
                format!("{:.1}% ± {:.1}", 100.0 * a.mean, 100.0 * a.ci95)
            });
            vec![
                name.to_string(),
                r.shots.to_string(),
                e.inner_steps.to_string(),
                format!("{:.3} ± {:.3}", e.loss.mean, e.loss.ci95),
                accuracy,
            ]
        })
        .collect()
}

const HEADERS: [&str; 5] = ["model", "K", "steps", "query loss (± 95% CI)", "accuracy"];

fn sinusoid(dir: &Path) -> anyhow::Result<String> {
    let iterations = 3000;
    let sinusoid = |algorithm| {
        RunOptions {
            iterations: Some(iterations),
            validate_every: 0,
            ..RunOptions::new(algorithm, TaskFamily::Sinusoid)
        }
        .spec()
    };
    let maml_spec = sinusoid(Algorithm::Maml)?;
    let (maml, maml_wall) = train(&maml_spec, "MAML")?;
    let (pretrained, _) = train(&sinusoid(Algorithm::Pretrain)?, "pretrain")?;
    let mut body = rows("MAML", &maml.test(&[5], &[1, 10], 600)?);
    body.extend(rows("pretrained", &pretrained.test(&[5], &[1, 10], 600)?));
    meta::sinusoid(&maml, &dir.join("meta_sinusoid.png"))?;
    let mut md = String::from("### Sinusoid regression (Finn et al. 2017, §5.1)\n\n");
    md += &format!("MAML (second order, meta-batch 25, K = 10, one inner step α = 0.01, Adam 1e-3) trained for {iterations} iterations ({maml_wall:.1} s), beside a network pretrained on all tasks for as long; 600 held-out tasks with K = 5 support points, MSE on 100 query points:\n\n");
    md += &table::markdown(&HEADERS, &body);
    md += "\nThe paper's protocol is 70,000 iterations (`huashi meta train --algo maml --task sinusoid`); ";
    md += "it reports 0.67 / 0.35 after 1 / 10 steps for MAML and 2.41 / 2.19 for the pretrained network.\n\n";
    md += "![MAML on a sinusoid](meta_sinusoid.png)\n\n";
    Ok(md)
}

fn omniglot() -> anyhow::Result<String> {
    let protonet = RunOptions {
        shots: Some(1),
        queries: Some(5),
        meta_batch: Some(8),
        iterations: Some(150),
        hidden: Some(32),
        validate_every: 0,
        ..RunOptions::new(Algorithm::Protonet, TaskFamily::Omniglot)
    }
    .spec()?;
    let (model, wall) = train(&protonet, "ProtoNet")?;
    let body = rows("ProtoNet", &model.test(&[1], &[0], 600)?);
    let mut md =
        String::from("### 5-way 1-shot Omniglot (embedded subsets, held-out characters)\n\n");
    md += &format!("A Prototypical Network (4 conv blocks of 32 filters) trained for 150 episodes of 8 tasks ({wall:.1} s) on 172 characters × 4 rotations, tested on 600 tasks from 50 held-out characters:\n\n");
    md += &table::markdown(&HEADERS, &body);
    md += "\nLonger runs and the other algorithms: `huashi meta train --task omniglot --algo maml|fomaml|reptile|anil|metasgd|protonet`; ";
    md += "`huashi meta eval --checkpoint DIR --benchmark lake-runs` scores the 20 official one-shot runs of Lake et al. (2015).\n\n";
    Ok(md)
}

/// The meta-learning section of the report.
pub fn meta_section(dir: &Path) -> anyhow::Result<String> {
    let mut md = String::from("## Meta-learning\n\n");
    md += &sinusoid(dir)?;
    md += &omniglot()?;
    Ok(md)
}
