//! `huashi meta …`: meta-learning. Training is in [`crate::meta_train`],
//! evaluation in [`crate::meta_eval`], the sinusoid figure in
//! [`crate::meta_plot`]; this file holds the shared clap definitions and
//! the run specification they build.

use clap::{Args, Subcommand, ValueEnum};
use huashi_meta::checkpoint::RunSpec;
use huashi_meta::{Algorithm, Hyper, TaskSpec};
use std::path::PathBuf;

#[derive(Debug, Subcommand)]
pub enum MetaCommand {
    /// Meta-train a model (MAML, first-order MAML, Reptile, ANIL, Meta-SGD,
    /// Prototypical Networks, or the pretrained baseline) on sinusoid
    /// regression or N-way K-shot Omniglot, with validation, checkpoints
    /// (`--resume` continues exactly) and a final test on ≥ 600 held-out
    /// tasks with 95 % confidence intervals.
    Train(crate::meta_train::TrainArgs),
    /// Evaluate a checkpoint on held-out tasks (mean ± 95 % CI), or on the 20
    /// official one-shot runs of Lake et al. 2015 (`--benchmark lake-runs`);
    /// for sinusoids, also plot the adapted curves after 0, 1 and 10 steps.
    Eval(crate::meta_eval::EvalArgs),
}

pub fn run(command: &MetaCommand) -> anyhow::Result<()> {
    match command {
        MetaCommand::Train(args) => crate::meta_train::run(args),
        MetaCommand::Eval(args) => crate::meta_eval::run(args),
    }
}

/// The task families of the CLI.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TaskArg {
    /// Sinusoid regression (Finn et al. 2017).
    Sinusoid,
    /// N-way K-shot Omniglot (embedded subsets, or --data-dir).
    Omniglot,
}

/// Options that define a training run (defaults: the papers' protocols).
#[derive(Debug, Clone, Args)]
pub struct SpecArgs {
    /// The algorithm: maml (second order), fomaml (first order), reptile
    /// (outer step annealed to 0), anil (adapt the head only), metasgd
    /// (learned per-parameter inner rates), protonet (Prototypical Networks,
    /// no inner loop) or pretrain (the baseline: trained on all tasks without
    /// adaptation, fine-tuned at test time).
    #[arg(long, default_value = "maml", value_parser = parse_algorithm)]
    pub algo: Algorithm,
    /// The task family.
    #[arg(long, value_enum, default_value_t = TaskArg::Sinusoid)]
    pub task: TaskArg,
    /// Classes per task (Omniglot only) [default: 5].
    #[arg(long, value_parser = crate::parse::count::<usize>)]
    pub ways: Option<usize>,
    /// Support examples per class (Omniglot) or support points (sinusoid: K) [default: 1 for Omniglot, 10 for sinusoids].
    #[arg(long, value_parser = crate::parse::count::<usize>)]
    pub shots: Option<usize>,
    /// Query examples per class (Omniglot) or query points (sinusoid)
    /// [default: as many as the shots for Omniglot, as in the MAML reference
    /// code; 10 for sinusoids].
    #[arg(long, value_parser = crate::parse::count::<usize>)]
    pub queries: Option<usize>,
    /// Inner gradient steps during meta-training [default: 1; Reptile 5].
    #[arg(long, value_parser = crate::parse::count::<usize>)]
    pub inner_steps: Option<usize>,
    /// Inner gradient steps at evaluation [default: 10 for sinusoids, 3 for Omniglot; Reptile 10].
    #[arg(long, value_parser = crate::parse::count::<usize>)]
    pub eval_inner_steps: Option<usize>,
    /// Inner learning rate α [default: 0.01 for sinusoids, 0.4 for Omniglot; Reptile 0.1].
    #[arg(long)]
    pub inner_lr: Option<f64>,
    /// Adam's meta learning rate (Reptile: the initial outer step size ε₀, annealed to 0) [default: 1e-3; Reptile 1.0].
    #[arg(long)]
    pub meta_lr: Option<f64>,
    /// Tasks per meta-batch [default: 25 for sinusoids, 32 for Omniglot].
    #[arg(long, value_parser = crate::parse::count::<usize>)]
    pub meta_batch: Option<usize>,
    /// Meta-iterations [default: 70000 for sinusoids, 60000 for Omniglot, as in the MAML paper].
    #[arg(long, value_parser = crate::parse::count::<u64>)]
    pub iterations: Option<u64>,
    /// Seed of initialisation and task sampling.
    #[arg(long, default_value_t = 0, value_parser = crate::parse::count::<u64>)]
    pub seed: u64,
    /// Filters per block of the Omniglot CNN (Omniglot only) [default: 64].
    #[arg(long, value_parser = crate::parse::count::<usize>)]
    pub hidden: Option<usize>,
    /// Folder with the official Omniglot files (folders or zips)
    /// [default: the embedded small background subsets].
    #[arg(long, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// Validate every this many iterations (0: never).
    #[arg(long, default_value_t = 500, value_parser = crate::parse::count::<u64>)]
    pub validate_every: u64,
    /// Tasks per validation.
    #[arg(long, default_value_t = 100, value_parser = crate::parse::at_least_one)]
    pub validation_tasks: usize,
}

fn parse_algorithm(name: &str) -> Result<Algorithm, String> {
    Algorithm::parse(name).map_err(|e| e.to_string())
}

impl SpecArgs {
    /// The run specification of command-line style `arguments` (as they
    /// would follow `huashi meta train`), defaults filled in.
    pub fn spec_of(arguments: &[&str]) -> RunSpec {
        #[derive(clap::Parser)]
        struct Wrapper {
            #[command(flatten)]
            spec: SpecArgs,
        }
        let all = std::iter::once("huashi").chain(arguments.iter().copied());
        <Wrapper as clap::Parser>::parse_from(all).spec.spec()
    }

    /// Fails when an option of the Omniglot task is given with
    /// `--task sinusoid`, where it would be silently ignored.
    pub fn check_task_options(&self) -> anyhow::Result<()> {
        if self.task == TaskArg::Sinusoid {
            let given = [
                ("--ways", self.ways.is_some()),
                ("--hidden", self.hidden.is_some()),
                ("--data-dir", self.data_dir.is_some()),
            ];
            if let Some((name, _)) = given.iter().find(|(_, given)| *given) {
                anyhow::bail!("{name} applies to --task omniglot only (the sinusoid model is the 1-40-40-1 MLP)");
            }
        }
        Ok(())
    }

    /// The run specification with the papers' defaults filled in.
    pub fn spec(&self) -> RunSpec {
        let algorithm = self.algo;
        let reptile = algorithm == Algorithm::Reptile;
        let sinusoid = self.task == TaskArg::Sinusoid;
        let pick = |given: Option<usize>, sin: usize, omni: usize| {
            given.unwrap_or(if sinusoid { sin } else { omni })
        };
        let task = if sinusoid {
            TaskSpec::Sinusoid {
                shots: pick(self.shots, 10, 1),
                queries: pick(self.queries, 10, 15),
            }
        } else {
            let shots = pick(self.shots, 10, 1);
            TaskSpec::Omniglot {
                ways: self.ways.unwrap_or(5),
                shots,
                queries: self.queries.unwrap_or(shots),
                data_dir: self.data_dir.clone(),
            }
        };
        let hyper = Hyper {
            algorithm,
            loss: task.loss(),
            inner_lr: self.inner_lr.unwrap_or(match (reptile, sinusoid) {
                (true, _) => 0.1,
                (false, true) => 0.01,
                (false, false) => 0.4,
            }),
            inner_steps: self.inner_steps.unwrap_or(if reptile { 5 } else { 1 }),
            eval_inner_steps: self.eval_inner_steps.unwrap_or(if sinusoid || reptile {
                10
            } else {
                3
            }),
            meta_lr: self.meta_lr.unwrap_or(if reptile { 1.0 } else { 1e-3 }),
            meta_batch: pick(self.meta_batch, 25, 32),
            iterations: self
                .iterations
                .unwrap_or(if sinusoid { 70_000 } else { 60_000 }),
        };
        RunSpec {
            model: task.model(self.hidden.unwrap_or(64), algorithm == Algorithm::Protonet),
            hyper,
            task,
            seed: self.seed,
            validate_every: self.validate_every,
            validation_tasks: self.validation_tasks,
        }
    }
}
