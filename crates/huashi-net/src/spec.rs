//! Small value types of the description format, with forgiving spellings:
//! a [`Pair`] is `3` or `[3, 5]`; a [`PaddingSpec`] is `"valid"`,
//! `"same_tf"`, `"same_torch"`, `1`, `[ph, pw]` or `[top, bottom, left, right]`.

use huashi_conv::Padding;
use serde::de::{self, Deserializer, SeqAccess, Visitor};
use serde::{Deserialize, Serialize, Serializer};
use std::fmt;

/// A per-axis pair `[vertical, horizontal]`, written `n` (both axes) or `[h, w]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pair(pub [usize; 2]);

impl Pair {
    /// The same value on both axes.
    pub const fn square(n: usize) -> Self {
        Pair([n, n])
    }
}

impl Default for Pair {
    fn default() -> Self {
        Pair([1, 1])
    }
}

impl Serialize for Pair {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(s)
    }
}

/// Reads a non-negative integer or a list of them.
struct Numbers;

impl<'de> Visitor<'de> for Numbers {
    type Value = Vec<usize>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a non-negative integer or a list of them")
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
        usize::try_from(v)
            .map(|v| vec![v])
            .map_err(|_| E::custom(format!("{v} does not fit this platform's sizes")))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
        usize::try_from(v)
            .map(|v| vec![v])
            .map_err(|_| E::custom(format!("expected a non-negative integer, got {v}")))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut out = Vec::new();
        while let Some(v) = seq.next_element::<usize>()? {
            out.push(v);
        }
        Ok(out)
    }
}

impl<'de> Deserialize<'de> for Pair {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match d.deserialize_any(Numbers)?[..] {
            [n] => Ok(Pair([n, n])),
            [h, w] => Ok(Pair([h, w])),
            ref other => Err(de::Error::custom(format!(
                "expected n or [h, w], got a list of {} numbers",
                other.len()
            ))),
        }
    }
}

/// A padding rule as written in a description (see the module docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PaddingSpec(pub Padding);

impl Serialize for PaddingSpec {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self.0 {
            Padding::Valid => s.serialize_str("valid"),
            Padding::SameTensorFlow => s.serialize_str("same_tf"),
            Padding::SamePyTorch => s.serialize_str("same_torch"),
            Padding::Explicit {
                top,
                bottom,
                left,
                right,
            } => [top, bottom, left, right].serialize(s),
        }
    }
}

/// Reads a padding rule name or explicit sizes.
struct PaddingVisitor;

impl<'de> Visitor<'de> for PaddingVisitor {
    type Value = Padding;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(
            "\"valid\", \"same_tf\", \"same_torch\", p, [ph, pw] or [top, bottom, left, right]",
        )
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Padding, E> {
        match v {
            "valid" => Ok(Padding::Valid),
            "same_tf" | "same_tensorflow" => Ok(Padding::SameTensorFlow),
            "same_torch" | "same_pytorch" => Ok(Padding::SamePyTorch),
            _ => Err(E::custom(format!(
                "unknown padding \"{v}\": expected \"valid\", \"same_tf\" (TensorFlow 'SAME') or \"same_torch\" (PyTorch 'same')"
            ))),
        }
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Padding, E> {
        Numbers.visit_u64(v).map(|n| Padding::symmetric(n[0], n[0]))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Padding, E> {
        Numbers.visit_i64(v).map(|n| Padding::symmetric(n[0], n[0]))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Padding, A::Error> {
        match Numbers.visit_seq(seq)?[..] {
            [ph, pw] => Ok(Padding::symmetric(ph, pw)),
            [top, bottom, left, right] => Ok(Padding::Explicit {
                top,
                bottom,
                left,
                right,
            }),
            ref other => Err(de::Error::custom(format!(
                "padding list must be [ph, pw] or [top, bottom, left, right], got {} numbers",
                other.len()
            ))),
        }
    }
}

impl<'de> Deserialize<'de> for PaddingSpec {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(PaddingVisitor).map(PaddingSpec)
    }
}

/// Element-wise activation functions (shape- and field-preserving, no
/// trainable parameters; `leaky_relu`, `elu` and `hard_sigmoid` take
/// constants, see [`Activation::defaults`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Activation {
    /// `max(x, 0)`.
    Relu,
    /// `min(max(x, 0), 6)` (MobileNet).
    Relu6,
    /// `max(x, 0.01·x)` or another slope.
    LeakyRelu,
    /// `1 / (1 + e^{−x})`.
    Sigmoid,
    /// `tanh(x)`.
    Tanh,
    /// `x · sigmoid(x)` (swish).
    Silu,
    /// Gaussian error linear unit.
    Gelu,
    /// Exponential linear unit.
    Elu,
    /// Softmax over channels / features.
    Softmax,
    /// The identity.
    Identity,
    /// `clamp(x/6 + 1/2, 0, 1)` (PyTorch `Hardsigmoid`, ONNX `HardSigmoid`
    /// with α = 1/6, β = 1/2).
    HardSigmoid,
    /// `x · clamp(x/6 + 1/2, 0, 1)` (MobileNetV3's h-swish).
    HardSwish,
    /// The error function `erf(x)` (ONNX `Erf`, the core of an exported
    /// exact GELU `x · (1 + erf(x/√2)) / 2`).
    Erf,
}

impl Activation {
    /// The constants `[α, β]` the function takes and their defaults
    /// (PyTorch's): `leaky_relu` `[0.01]` (slope for `x < 0`), `elu` `[1]`
    /// (`α·(eˣ − 1)` for `x < 0`), `hard_sigmoid` `[1/6, 1/2]`
    /// (`clamp(α·x + β, 0, 1)`); the others none.
    pub fn defaults(self) -> &'static [f64] {
        match self {
            Activation::LeakyRelu => &[0.01],
            Activation::Elu => &[1.0],
            Activation::HardSigmoid => &[1.0 / 6.0, 0.5],
            _ => &[],
        }
    }
}
