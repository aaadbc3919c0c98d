//! The error type of `huashi-net`: every variant names the node, field or
//! line at fault and the offending values.

use crate::shape::Shape;
use huashi_conv::Axis;

/// Everything that can go wrong reading or analysing a network description.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The text is not a valid description (syntax, unknown `op`, unknown or
    /// mistyped field, missing field).
    #[error("{format} description, line {line}, column {column}: {message}")]
    Parse {
        /// `"TOML"` or `"JSON"`.
        format: &'static str,
        /// 1-based line (0 when unknown).
        line: usize,
        /// 1-based column (0 when unknown).
        column: usize,
        /// What is wrong.
        message: String,
    },
    /// The description has no nodes.
    #[error("the network has no nodes")]
    Empty,
    /// Two nodes (or a node and the input) share a name.
    #[error("node name \"{name}\" is used more than once")]
    DuplicateNode {
        /// The name.
        name: String,
    },
    /// A node reads a name that is neither the input nor a node.
    #[error("node \"{node}\" reads \"{input}\", which is neither the input nor a node")]
    DanglingInput {
        /// The reading node.
        node: String,
        /// The missing name.
        input: String,
    },
    /// The data flow has a cycle.
    #[error("the graph has a cycle through the nodes {nodes:?}")]
    Cycle {
        /// Nodes on or after a cycle (none of them can be computed).
        nodes: Vec<String>,
    },
    /// A node has the wrong number of inputs for its op.
    #[error("node \"{node}\" ({op}) needs {expected} input(s), got {got}")]
    InputCount {
        /// The node.
        node: String,
        /// Its op.
        op: &'static str,
        /// What the op accepts ("1", "at least 2").
        expected: &'static str,
        /// How many it has.
        got: usize,
    },
    /// The inputs of a merge (`add`, `concat`) have incompatible shapes.
    #[error("shape mismatch at merge \"{node}\" ({op}): input \"{first}\" is {first_shape}, input \"{other}\" is {other_shape}")]
    MergeShapeMismatch {
        /// The merge node.
        node: String,
        /// Its op.
        op: &'static str,
        /// The first input.
        first: String,
        /// Its shape.
        first_shape: Box<Shape>,
        /// The input that does not match.
        other: String,
        /// Its shape.
        other_shape: Box<Shape>,
    },
    /// A layer got a feature vector where it needs a feature map, or the reverse.
    #[error("node \"{node}\" ({op}) needs {expected}, got {got}")]
    WrongInputKind {
        /// The node.
        node: String,
        /// Its op.
        op: &'static str,
        /// "a (C, H, W) feature map" or "a feature vector".
        expected: &'static str,
        /// The shape it got.
        got: Shape,
    },
    /// A field has a value the op does not accept.
    #[error("node \"{node}\": invalid {field}: {detail}")]
    InvalidField {
        /// The node (or "input").
        node: String,
        /// The field.
        field: &'static str,
        /// What is wrong.
        detail: String,
    },
    /// A convolution/pooling geometry error (kernel larger than input,
    /// channels not divisible by groups, ...), from `huashi-conv`.
    #[error("node \"{node}\" ({op}): {cause}")]
    Layer {
        /// The node.
        node: String,
        /// Its op.
        op: &'static str,
        /// The geometry error.
        cause: huashi_conv::Error,
    },
    /// The receptive field of a node is undefined because the paths merging
    /// at `merge` are not aligned (Araujo et al. 2019, "alignment").
    #[error("node \"{node}\" has no receptive field: paths merging at \"{merge}\" are misaligned along {axis} ({detail})")]
    Misaligned {
        /// The node asked about.
        node: String,
        /// The merge where alignment fails.
        merge: String,
        /// The axis.
        axis: Axis,
        /// The effective strides and centres of the merging paths.
        detail: String,
    },
    /// The receptive field of a node is undefined because of a layer on its
    /// paths (a transposed convolution with stride > 1).
    #[error("node \"{node}\" has no receptive field: {reason} at \"{at}\"")]
    UndefinedField {
        /// The node asked about.
        node: String,
        /// The layer that makes the field undefined.
        at: String,
        /// Why, e.g. "transposed stride 2".
        reason: String,
    },
    /// A size, count or receptive field computed for a node does not fit
    /// 64 bits (never reported as a wrapped number).
    #[error("node \"{node}\" ({op}): {what} overflows 64 bits ({detail})")]
    Overflow {
        /// The node.
        node: String,
        /// Its op.
        op: &'static str,
        /// What was being computed, e.g. "the MACs".
        what: &'static str,
        /// The operands.
        detail: String,
    },
    /// A zoo model name asked about does not exist.
    #[error("no zoo model named \"{name}\" (known: {known})")]
    UnknownModel {
        /// The name.
        name: String,
        /// The known names, comma-separated.
        known: String,
    },
    /// A description file is malformed (the inner error says where). The
    /// message includes the inner error's, so it is not also given as the
    /// `source()` (a report printing the chain would repeat it).
    #[error("{path}: {error}")]
    InFile {
        /// The file.
        path: String,
        /// What is wrong in it.
        error: Box<Error>,
    },
    /// A model given by name or path is neither a zoo model nor a file.
    #[error(
        "`{spec}` is neither a zoo model nor a description file ({reason}); zoo models: {known}"
    )]
    NoSuchModel {
        /// The name or path given.
        spec: String,
        /// Why the path does not work ("no such file", "a folder").
        reason: &'static str,
        /// The known zoo names, comma-separated.
        known: String,
    },
    /// Writing, reading or locking a file failed (the error names it).
    #[error(transparent)]
    File(#[from] huashi_io::Error),
    /// A weight file is damaged or not a safetensors file.
    #[error("bad weight file {path}: {reason}")]
    WeightFile {
        /// The file.
        path: String,
        /// What is wrong.
        reason: String,
    },
    /// A tensor operation failed while running a model.
    #[error("tensor error: {0}")]
    Tensor(Box<candle_core::Error>),
    /// A convolution or pooling op failed while running a model.
    #[error("node \"{node}\": {cause}")]
    Op {
        /// The node.
        node: String,
        /// The op error.
        cause: huashi_conv::Error,
    },
    /// A parameter set lacks a tensor the model needs.
    #[error("parameter \"{name}\" is missing (expected shape {expected:?})")]
    MissingParam {
        /// The tensor name.
        name: String,
        /// The shape the model needs.
        expected: Vec<usize>,
    },
    /// A parameter tensor has the wrong shape.
    #[error("parameter \"{name}\" has shape {got:?}, the model needs {expected:?}")]
    ParamShape {
        /// The tensor name.
        name: String,
        /// The shape the model needs.
        expected: Vec<usize>,
        /// The shape found.
        got: Vec<usize>,
    },
    /// A parameter set holds a tensor the model does not know.
    #[error("parameter \"{name}\" is not a parameter of the model")]
    UnexpectedParam {
        /// The tensor name.
        name: String,
    },
    /// The input tensor does not have the shape the model was built for.
    #[error("model input must be (N, {expected:?}), got {got:?}")]
    InputShape {
        /// `[C, H, W]` the model was built for.
        expected: [usize; 3],
        /// The dims given.
        got: Vec<usize>,
    },
    /// An ONNX file cannot be decoded or holds a value the importer refuses
    /// (bad tensor, negative or huge dims, missing input, bad attribute).
    #[error("ONNX {what}: {detail}")]
    Onnx {
        /// Where: the file, `node #i "name" (Op)`, an initializer or input.
        what: String,
        /// What is wrong.
        detail: String,
    },
    /// An ONNX tensor's external data cannot be read: the data file is
    /// missing, too short, outside the model's folder, or the model came
    /// without a path to find it by.
    #[error("ONNX tensor \"{tensor}\": external data file {file}: {detail}")]
    OnnxExternalData {
        /// The tensor (initializer) name.
        tensor: String,
        /// The data file, as the model names it (or resolved).
        file: String,
        /// What is wrong.
        detail: String,
    },
    /// An ONNX op the importer does not map (never silently skipped).
    #[error("ONNX node #{position} \"{node}\": op {op} is not supported{detail}")]
    UnsupportedOp {
        /// The op type (with its domain when not the default one).
        op: String,
        /// The node's name.
        node: String,
        /// Its position in the graph's node list.
        position: usize,
        /// Why, when an attribute value is the cause (empty otherwise).
        detail: String,
    },
    /// A node name asked about does not exist.
    #[error("no node named \"{name}\"")]
    UnknownNode {
        /// The name.
        name: String,
    },
}

impl From<candle_core::Error> for Error {
    fn from(e: candle_core::Error) -> Self {
        Error::Tensor(Box::new(e))
    }
}

/// `Result` with [`Error`].
pub type Result<T> = std::result::Result<T, Error>;
