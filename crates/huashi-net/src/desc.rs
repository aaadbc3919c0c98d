//! The description format: a network is a list of named nodes; each node is
//! one layer and names the nodes it reads (`inputs`), so branches and merges
//! are first-class. A node without `inputs` reads the node listed before it
//! (the first node reads the network input). Nodes may be listed in any order
//! when `inputs` are given; the graph is sorted topologically on analysis.
//!
//! TOML example (JSON has the same structure):
//!
//! ```toml
//! name = "tiny"
//! input_shape = [3, 32, 32]        # optional default (C, H, W)
//!
//! [[nodes]]
//! name = "conv1"
//! op = "conv"
//! out_channels = 16
//! kernel = 3                       # or [kh, kw]
//! stride = 1                       # or [sh, sw]; default 1
//! dilation = 1                     # default 1
//! padding = "same_tf"              # "valid" (default), "same_tf", "same_torch", p, [ph, pw], [t, b, l, r]
//! padding_mode = "zeros"           # "zeros" (default), "reflect", "replicate", "circular" (PyTorch)
//! groups = 1                       # default 1
//! bias = false                     # default true
//!
//! [[nodes]]
//! name = "relu1"
//! op = "activation"
//! function = "relu"
//! ```
//!
//! Ops: `conv`, `depthwise`, `separable`, `spatially_separable`,
//! `conv_transpose`, `pointwise`, `max_pool`,
//! `avg_pool`, `global_avg_pool`, `batch_norm`, `activation`, `dropout`,
//! `add`, `concat` (along channels), `mul` (with a `(C, 1, 1)` gate
//! broadcast), `sub` and `div` (the first input by the others, broadcast
//! as for `mul`), `scale` (`mul·x + add`), `channel_affine` (learnable
//! per-channel `mul`, `add`), `slice` (channels `start..end`), `channel_shuffle`
//! (`groups`), `upsample`, `flatten`, `linear`. Unknown ops and
//! unknown fields are errors that name the line.

use serde::{Deserialize, Serialize};

mod layer;
mod read;
pub use layer::Layer;
pub use read::{check_fields, MAX_NAME_CHARS};

fn default_input() -> String {
    "input".to_string()
}

/// A network description.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Network {
    /// Optional name of the network.
    #[serde(default)]
    pub name: Option<String>,
    /// The name by which nodes refer to the network input (default `"input"`).
    #[serde(default = "default_input")]
    pub input: String,
    /// Default input shape `(C, H, W)`, used when none is given to the analysis.
    #[serde(default)]
    pub input_shape: Option<[usize; 3]>,
    /// The layers.
    pub nodes: Vec<Node>,
}

/// One node: a named layer and the names of the nodes it reads.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Node {
    /// Unique name (used by `inputs` and in reports).
    pub name: String,
    /// Names of the nodes this one reads; `None` means the previous node.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inputs: Option<Vec<String>>,
    /// The layer.
    #[serde(flatten)]
    pub layer: Layer,
}
