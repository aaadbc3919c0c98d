//! `huashi meta …`: meta-learning: [`train`] and [`eval`], on
//! `huashi_meta::protocol` (the papers' defaults, the final test). This file
//! holds the options that describe a run.

pub mod eval;
pub mod train;

use clap::Args;
use huashi_meta::images::{parse_on_off, parse_size, Normalization, ResizeFilter};
use huashi_meta::protocol::{RunOptions, TaskFamily};
use huashi_meta::{Algorithm, ImageOptions};
use huashi_net::InitScheme;
use std::path::PathBuf;

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
    /// The task family: sinusoid (regression), omniglot (the embedded
    /// subsets, or --data-dir) or images (an image folder: --data-dir).
    #[arg(long, default_value = "sinusoid", value_parser = parse_family)]
    pub task: TaskFamily,
    /// Classes per task (Omniglot, images) [default: 5].
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
    /// Filters per block of the few-shot CNN (Omniglot, images) [default: 64].
    #[arg(long, value_parser = crate::parse::count::<usize>)]
    pub hidden: Option<usize>,
    /// Folder with the official Omniglot files (folders or zips) [default:
    /// the embedded small background subsets]; for --task images the image
    /// folder, in one of three layouts: train/CLASS/*.png|jpg, val/…,
    /// test/…; images/ with train.csv, val.csv, test.csv (filename,label);
    /// CIFAR-FS's data/CLASS/ with splits/bertinetto/ train.txt, val.txt,
    /// test.txt.
    #[arg(long, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// The network to meta-learn: a zoo model (maml_omniglot,
    /// maml_sinusoid, …) or a TOML/JSON description file; it runs on the
    /// tasks' input shape, and its output must fit the tasks (the ways, or
    /// 1 for sinusoids), which is checked before training [default: the
    /// papers' networks: the 1-40-40-1 MLP, the 4-block CNN].
    #[arg(long, value_name = "NAME|FILE")]
    pub model: Option<String>,
    /// Prototypical Networks only: the end point whose output is the
    /// embedding (a feature vector) [default: the model's output].
    #[arg(long, value_name = "END_POINT")]
    pub embedding: Option<String>,
    /// ANIL only: the nodes whose parameters the inner loop adapts
    /// [default: the last node with parameters, the head].
    #[arg(long, value_name = "NODE[,NODE…]", value_delimiter = ',')]
    pub adapt_only: Vec<String>,
    /// Add a linear layer `head` with as many outputs as --ways (1 for
    /// sinusoids) after the --model's last node (flattening a feature map).
    #[arg(long)]
    pub head: bool,
    /// Weight initialisation: pytorch (nn.Conv2d/nn.Linear defaults,
    /// uniform ±1/√fan_in) or xavier (Xavier-uniform weights, zero biases:
    /// learn2learn's maml_init_) [default: xavier for the papers' CNN,
    /// pytorch for the MLP and for a --model].
    #[arg(long, value_parser = parse_init)]
    pub init: Option<InitScheme>,
    /// Size of an example, H or H,W pixels (Omniglot, images) [default:
    /// 28×28 for Omniglot; for images the images' own size, which must then
    /// be the same for all].
    #[arg(long, value_name = "H[,W]", value_parser = parse_image_size)]
    pub image_size: Option<[usize; 2]>,
    /// Resampling filter for --image-size: nearest, triangle, catmull-rom,
    /// gaussian or lanczos3 (Omniglot, images) [default: lanczos3].
    #[arg(long, value_name = "FILTER", value_parser = parse_filter)]
    pub resize_filter: Option<ResizeFilter>,
    /// Channels of an example, 1 (grey) or 3 (RGB) (images only) [default:
    /// the first image's].
    #[arg(long, value_parser = parse_channels)]
    pub channels: Option<usize>,
    /// Per-channel normalisation MEAN/STD, each one number or three
    /// comma-separated (one per channel), e.g. 0.5/0.25 or
    /// 0.485,0.456,0.406/0.229,0.224,0.225: a pixel of value v becomes
    /// (v/255 − mean)/std (images only) [default: v/255].
    #[arg(long, value_name = "MEAN/STD", value_parser = parse_normalize)]
    pub normalize: Option<Normalization>,
    /// Rotations by 90°, 180° and 270° as new classes, on or off (square
    /// images; Omniglot, images) [default: on for Omniglot, off for images].
    #[arg(long, value_name = "on|off", value_parser = parse_rotations)]
    pub rotations: Option<bool>,
    /// Validate every this many iterations (0: never).
    #[arg(long, default_value_t = 500, value_parser = crate::parse::count::<u64>)]
    pub validate_every: u64,
    /// Tasks per validation.
    #[arg(long, default_value_t = 100, value_parser = crate::parse::at_least_one)]
    pub validation_tasks: usize,
}

/// `sinusoid` (regression, Finn et al. 2017), `omniglot` (N-way K-shot:
/// the embedded subsets, or --data-dir) or `images` (an image folder).
fn parse_family(name: &str) -> Result<TaskFamily, String> {
    match name {
        "sinusoid" => Ok(TaskFamily::Sinusoid),
        "omniglot" => Ok(TaskFamily::Omniglot),
        "images" => Ok(TaskFamily::Images),
        other => Err(format!(
            "unknown task family {other:?} (sinusoid, omniglot, images)"
        )),
    }
}

fn parse_init(name: &str) -> Result<InitScheme, String> {
    match name {
        "pytorch" => Ok(InitScheme::PyTorch),
        "xavier" => Ok(InitScheme::XavierUniform),
        other => Err(format!(
            "unknown initialisation {other:?} (pytorch, xavier)"
        )),
    }
}

fn parse_image_size(text: &str) -> Result<[usize; 2], String> {
    parse_size(text).map_err(|e| e.to_string())
}

fn parse_filter(text: &str) -> Result<ResizeFilter, String> {
    ResizeFilter::parse(text).map_err(|e| e.to_string())
}

fn parse_channels(text: &str) -> Result<usize, String> {
    match text {
        "1" => Ok(1),
        "3" => Ok(3),
        other => Err(format!("{other:?} channels: 1 (grey) or 3 (RGB)")),
    }
}

fn parse_normalize(text: &str) -> Result<Normalization, String> {
    Normalization::parse(text).map_err(|e| e.to_string())
}

fn parse_rotations(text: &str) -> Result<bool, String> {
    parse_on_off(text).map_err(|e| e.to_string())
}

fn parse_algorithm(name: &str) -> Result<Algorithm, String> {
    Algorithm::parse(name).map_err(|e| e.to_string())
}

impl SpecArgs {
    /// The library's run options (the papers' protocol fills what is not given).
    pub fn options(&self) -> RunOptions {
        RunOptions {
            ways: self.ways,
            shots: self.shots,
            queries: self.queries,
            inner_steps: self.inner_steps,
            eval_inner_steps: self.eval_inner_steps,
            inner_lr: self.inner_lr,
            meta_lr: self.meta_lr,
            meta_batch: self.meta_batch,
            iterations: self.iterations,
            hidden: self.hidden,
            data_dir: self.data_dir.clone(),
            model: self.model.clone(),
            embedding: self.embedding.clone(),
            adapt_only: self.adapt_only.clone(),
            head: self.head,
            init: self.init,
            images: ImageOptions {
                size: self.image_size,
                filter: self.resize_filter,
                channels: self.channels,
                normalize: self.normalize.clone(),
                rotations: self.rotations,
            },
            seed: self.seed,
            validate_every: self.validate_every,
            validation_tasks: self.validation_tasks,
            ..RunOptions::new(self.algo, self.task)
        }
    }
}
