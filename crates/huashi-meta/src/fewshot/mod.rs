//! Few-shot image classification data: Omniglot, image folders of any
//! `C × H × W`, N-way K-shot samplers and the one-shot runs of Lake et al.
//! (2015).
//!
//! Protocol (Lake, Salakhutdinov & Tenenbaum, *Science* 2015; Vinyals et al.
//! 2016; Santoro et al. 2016; Finn, Abbeel & Levine, ICML 2017):
//!
//! 1. [`Omniglot`] loads characters (alphabet, character, 20 drawings each)
//!    and resizes every 105×105 drawing to 28×28 with a Lanczos filter, ink
//!    = 1, background = 0 ([`image`]).
//! 2. [`Omniglot::split`] splits *characters* (never drawings) into train,
//!    validation and test pools ([`ClassPool`]).
//! 3. [`ClassPool::with_rotations`] turns each character of a pool into four
//!    classes rotated by 0°, 90°, 180° and 270°, after the split, so a
//!    held-out character stays held out in every rotation.
//! 4. [`FewShotSampler`] draws N-way K-shot tasks, reproducibly from
//!    `(seed, task index)`, as `(N·K, C, H, W)` tensors of the pool's shape.
//! 5. [`LakeRuns`]: the 20 official 20-way one-shot runs of Lake et al.
//!
//! Image folders ([`folder`]: split folders, CSV files as mini-ImageNet's,
//! CIFAR-FS's class lists) are decoded once by [`load_folder`] into train,
//! validation and test pools whose classes are the splits' ([`decode`]:
//! grey or RGB, resized with a named filter, `x = (v/255 − mean)/std` per
//! channel; see [`crate::images`]). Rotations are optional there
//! (`ImageSettings::rotations`), and need square images.
//!
//! The small official subsets (`images_background_small1/2`) and the 20 runs
//! are embedded in the crate (MIT licence, brendenlake/omniglot commit
//! `057f034`, see `data/omniglot/README.md`); the full sets are fetched with
//! [`fetch_omniglot`].
//!
//! ```
//! use candle_core::Device;
//! use huashi_meta::fewshot::{FewShotSampler, Omniglot, SplitConfig};
//!
//! let omniglot = Omniglot::embedded()?;
//! let split = omniglot.split(&SplitConfig::default())?;
//! let train = split.train.with_rotations()?;
//! let sampler = FewShotSampler { ways: 5, shots: 1, queries: 15, seed: 0 };
//! let task = sampler.task(&train, 0, &Device::Cpu)?;
//! assert_eq!(task.support.x.dims(), &[5, 1, 28, 28]);
//! assert_eq!(task.query.y.dims(), &[75]);
//! # Ok::<(), huashi_meta::Error>(())
//! ```

mod archive;
pub mod decode;
pub mod error;
pub mod fetch;
pub mod fetch_limits;
pub mod folder;
/// Image-folder fixtures in each layout: only with the `testing` feature.
#[cfg(any(test, feature = "testing"))]
pub mod folder_fixtures;
pub mod folder_pools;
pub mod image;
pub mod lake;
pub mod omniglot;
pub mod pool;
pub mod sampler;
/// Fixtures for tests (PNG drawings, zips, a loopback HTTP server): only
/// with the `testing` feature, so no user of the library ships them.
#[cfg(any(test, feature = "testing"))]
pub mod testing;

pub use error::DataError;
pub use fetch::{
    fetch_omniglot, fetch_omniglot_with, FetchProgress, OmniglotMd5, OMNIGLOT_BASE_URL,
    OMNIGLOT_SETS,
};
pub use fetch_limits::FetchLimits;
pub use folder::{ClassFiles, Layout};
pub use folder_pools::{load_folder, probe, FolderSplits};
pub use lake::{LakeRun, LakeRuns};
pub use omniglot::{Character, Omniglot, OmniglotSet, Split, SplitConfig};
pub use pool::ClassPool;
pub use sampler::{DrawnClass, FewShotSampler};

/// N-way K-shot tasks of one class pool.
#[derive(Debug, Clone)]
pub struct PoolSampler {
    /// The sampler settings and seed.
    pub sampler: FewShotSampler,
    /// The classes.
    pub pool: ClassPool,
}

impl crate::TaskSampler for PoolSampler {
    fn task(&self, index: u64) -> crate::Result<crate::Task> {
        self.sampler
            .task(&self.pool, index, &candle_core::Device::Cpu)
    }
}
