//! The error type of `huashi-conv`: every variant names the offending values.

use candle_core::DType;

/// Which spatial axis a geometry error is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Axis {
    /// The vertical axis (rows, H).
    Height,
    /// The horizontal axis (columns, W).
    Width,
}

impl std::fmt::Display for Axis {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Axis::Height => "height",
            Axis::Width => "width",
        })
    }
}

/// Everything that can go wrong in `huashi-conv`.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A stride of zero was given.
    #[error("stride along {axis} must be at least 1, got 0")]
    ZeroStride {
        /// The axis.
        axis: Axis,
    },
    /// A dilation of zero was given.
    #[error("dilation along {axis} must be at least 1, got 0")]
    ZeroDilation {
        /// The axis.
        axis: Axis,
    },
    /// A kernel extent of zero was given.
    #[error("kernel size along {axis} must be at least 1, got 0")]
    ZeroKernel {
        /// The axis.
        axis: Axis,
    },
    /// `groups` was zero.
    #[error("groups must be at least 1, got 0")]
    ZeroGroups,
    /// A channel count was zero.
    #[error("{what} must be at least 1, got 0")]
    ZeroChannels {
        /// Which channel count.
        what: &'static str,
    },
    /// The dilated kernel does not fit in the padded input.
    #[error("dilated kernel extent {kernel_extent} along {axis} is larger than the padded input {padded_input} (input {input} + padding {padding})")]
    KernelLargerThanInput {
        /// The axis.
        axis: Axis,
        /// `dilation * (kernel - 1) + 1`.
        kernel_extent: usize,
        /// Input plus both paddings.
        padded_input: usize,
        /// The input extent.
        input: usize,
        /// The sum of both paddings.
        padding: usize,
    },
    /// A channel count is not divisible by the number of groups.
    #[error("{what} channels ({channels}) are not divisible by groups ({groups})")]
    ChannelsNotDivisible {
        /// "input" or "output".
        what: &'static str,
        /// The channel count.
        channels: usize,
        /// The number of groups.
        groups: usize,
    },
    /// Transposed-convolution output padding must be smaller than stride or dilation.
    #[error("output_padding {output_padding} along {axis} must be smaller than stride ({stride}) or dilation ({dilation})")]
    OutputPaddingTooLarge {
        /// The axis.
        axis: Axis,
        /// The requested output padding.
        output_padding: usize,
        /// The stride along that axis.
        stride: usize,
        /// The dilation along that axis.
        dilation: usize,
    },
    /// PyTorch's `padding='same'` is defined for stride 1 only.
    #[error("PyTorch 'same' padding needs stride 1, got stride {stride:?}; use Padding::SameTensorFlow for strided 'SAME'")]
    SameNeedsStrideOne {
        /// The stride that was given.
        stride: [usize; 2],
    },
    /// A tensor had the wrong number of dimensions.
    #[error("{what} must have rank {expected}, got shape {got:?}")]
    WrongRank {
        /// Which tensor.
        what: &'static str,
        /// The rank required.
        expected: usize,
        /// The shape that was given.
        got: Vec<usize>,
    },
    /// A tensor had the wrong shape.
    #[error("{what} must have shape {expected:?}, got {got:?}")]
    ShapeMismatch {
        /// Which tensor.
        what: &'static str,
        /// The expected shape.
        expected: Vec<usize>,
        /// The shape that was given.
        got: Vec<usize>,
    },
    /// Tensors of different dtypes were combined, or a dtype is unsupported.
    #[error("{what}: dtype {got:?} is not supported here (expected {expected:?})")]
    DType {
        /// What was being done.
        what: &'static str,
        /// The dtype required.
        expected: DType,
        /// The dtype found.
        got: DType,
    },
    /// Pooling padding must be at most half the (dilated) window, as in PyTorch.
    #[error("pooling padding {padding} along {axis} must be at most half the window {kernel}")]
    PoolPaddingTooLarge {
        /// The axis.
        axis: Axis,
        /// The padding on one side.
        padding: usize,
        /// The window extent.
        kernel: usize,
    },
    /// Reflect padding of at least the input size, circular padding above it,
    /// or replicate padding of an empty axis (PyTorch rejects these too).
    #[error("{mode} padding {padding} along {axis} does not fit an input of size {input} (reflect needs padding < size, circular padding <= size, replicate size >= 1)")]
    PadTooLarge {
        /// The padding mode.
        mode: &'static str,
        /// The axis.
        axis: Axis,
        /// The larger padding of the two sides.
        padding: usize,
        /// The input extent along that axis.
        input: usize,
    },
    /// A transposed convolution cannot produce the requested output size.
    #[error("a transposed convolution cannot give output size {requested} along {axis}: reachable sizes are {min}..={max}")]
    OutputSizeUnreachable {
        /// The axis.
        axis: Axis,
        /// The requested size.
        requested: usize,
        /// The natural size (output padding 0).
        min: usize,
        /// The natural size plus the largest output padding.
        max: usize,
    },
    /// A size computed from the arguments does not fit 64 bits.
    #[error("{what} along {axis} overflows 64 bits")]
    SizeOverflow {
        /// What was being computed, e.g. "the padded input".
        what: &'static str,
        /// The axis.
        axis: Axis,
    },
    /// A cost (parameters, MACs, FLOPs) does not fit 64 bits.
    #[error("{what} overflows 64 bits ({detail})")]
    CostOverflow {
        /// What was being counted.
        what: &'static str,
        /// The operands.
        detail: String,
    },
    /// A numeric argument is out of its valid range.
    #[error("invalid {what}: {detail}")]
    InvalidArgument {
        /// The argument.
        what: &'static str,
        /// What is wrong with it.
        detail: String,
    },
    /// Second-order gradients were requested but candle detaches gradients.
    #[error("second-order gradients are disabled: set the environment variable CANDLE_GRAD_DO_NOT_DETACH=1 before the first backward pass of this thread (candle otherwise detaches gradients and higher derivatives are silently wrong)")]
    SecondOrderDisabled,
    /// An error from candle.
    #[error(transparent)]
    Candle(#[from] candle_core::Error),
}

/// `Result` with [`Error`].
pub type Result<T> = std::result::Result<T, Error>;
