//! `huashi data fetch omniglot`: download the full Omniglot background and
//! evaluation sets (Lake et al., *Science* 2015), verify their MD5 digests
//! and unpack them atomically (see `huashi_meta::fewshot::fetch`).

use clap::{Args, Subcommand};
use huashi_meta::fewshot::{fetch_omniglot, FetchProgress, OmniglotMd5, OMNIGLOT_BASE_URL};
use indicatif::{ProgressBar, ProgressStyle};
use std::path::PathBuf;

#[derive(Debug, Subcommand)]
pub enum DataCommand {
    /// Download a data set that is too large to embed in the binary.
    #[command(subcommand)]
    Fetch(FetchCommand),
}

#[derive(Debug, Subcommand)]
pub enum FetchCommand {
    /// Download Omniglot's full `images_background.zip` (964 characters, 30
    /// alphabets) and `images_evaluation.zip` (659 characters, 20 alphabets)
    /// from the official repository (brendenlake/omniglot, MIT licence),
    /// check their MD5 digests and unpack them into DIR/images_background/
    /// and DIR/images_evaluation/. Nothing is installed unless both succeed;
    /// sets already in DIR are kept and not downloaded again. Without this,
    /// huashi uses the two small background subsets embedded in the binary.
    /// A download gives up after 30 s to connect, 60 s without data or 15
    /// minutes in all (HUASHI_FETCH_TIMEOUT_SECS sets every timeout, in
    /// seconds) and refuses a file above 100 MiB.
    Omniglot(OmniglotFetchArgs),
}

#[derive(Debug, Clone, Args)]
pub struct OmniglotFetchArgs {
    /// Base URL; the files fetched are URL/images_background.zip and
    /// URL/images_evaluation.zip.
    #[arg(long, value_name = "URL", default_value = OMNIGLOT_BASE_URL)]
    pub url: String,
    /// Folder to unpack into (created if missing). It then loads as an
    /// Omniglot folder (`Omniglot::load(DIR)`).
    #[arg(long, value_name = "DIR")]
    pub dir: PathBuf,
    /// Expected MD5 of images_background.zip, 32 hex digits [default:
    /// torchvision's 68d2efa1b9178cc56df9314c21c6e718].
    #[arg(long, value_name = "HEX")]
    pub md5_background: Option<String>,
    /// Expected MD5 of images_evaluation.zip, 32 hex digits [default:
    /// torchvision's 6b91aef0f799c5bb55b94e3f2daec811].
    #[arg(long, value_name = "HEX")]
    pub md5_evaluation: Option<String>,
}

pub fn run(command: &DataCommand) -> anyhow::Result<()> {
    match command {
        DataCommand::Fetch(FetchCommand::Omniglot(args)) => omniglot(args),
    }
}

fn omniglot(args: &OmniglotFetchArgs) -> anyhow::Result<()> {
    let defaults = OmniglotMd5::default();
    let md5 = OmniglotMd5 {
        background: args.md5_background.clone().unwrap_or(defaults.background),
        evaluation: args.md5_evaluation.clone().unwrap_or(defaults.evaluation),
    };
    let bar = ProgressBar::new(0);
    let style = ProgressStyle::with_template(
        "{msg:>22} [{elapsed_precise}] {bar:30.cyan/blue} {bytes}/{total_bytes} {bytes_per_sec}",
    )
    .unwrap_or_else(|_| ProgressStyle::default_bar())
    .progress_chars("=> ");
    bar.set_style(style);
    let mut progress = |p: &FetchProgress| {
        if p.downloaded == 0 {
            bar.reset();
            bar.set_message(p.file.to_string());
            bar.set_length(p.total.unwrap_or(0));
        }
        bar.set_position(p.downloaded);
    };
    let result = fetch_omniglot(&args.url, &args.dir, &md5, &mut progress);
    bar.finish_and_clear();
    for folder in result? {
        println!("{}", folder.display());
    }
    Ok(())
}
