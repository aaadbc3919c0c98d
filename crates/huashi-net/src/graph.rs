//! Resolving a description into a graph: names to indices, default inputs,
//! input counts per op, and a topological order (Kahn's algorithm, stable in
//! the listed order) that rejects cycles.
//!
//! Slot 0 is the network input; node `i` of the description is slot `i + 1`.

use crate::desc::{Layer, Network};
use crate::error::{Error, Result};
use std::collections::{HashMap, VecDeque};

/// A checked graph: the inputs of every slot and an evaluation order.
#[derive(Debug, Clone)]
pub struct Graph {
    /// Slot names: the input's, then the nodes' in listed order.
    pub names: Vec<String>,
    /// Input slots of every slot (empty for the input).
    pub inputs: Vec<Vec<usize>>,
    /// Node slots (not the input) in an order where inputs come first.
    pub order: Vec<usize>,
}

impl Graph {
    /// Resolves and checks `network`.
    ///
    /// # Errors
    /// [`Error::Empty`], [`Error::InvalidField`], [`Error::DuplicateNode`],
    /// [`Error::DanglingInput`], [`Error::InputCount`] or [`Error::Cycle`], naming the node.
    pub fn build(network: &Network) -> Result<Self> {
        if network.nodes.is_empty() {
            return Err(Error::Empty);
        }
        check_fields(network)?;
        let names: Vec<String> = std::iter::once(network.input.clone())
            .chain(network.nodes.iter().map(|n| n.name.clone()))
            .collect();
        let index = name_index(&names)?;
        let mut inputs = vec![Vec::new()];
        for (i, node) in network.nodes.iter().enumerate() {
            let slots = match &node.inputs {
                None => vec![i],
                Some(list) => list
                    .iter()
                    .map(|input| {
                        index
                            .get(input.as_str())
                            .copied()
                            .ok_or_else(|| Error::DanglingInput {
                                node: node.name.clone(),
                                input: input.clone(),
                            })
                    })
                    .collect::<Result<Vec<_>>>()?,
            };
            check_input_count(&node.name, &node.layer, slots.len())?;
            inputs.push(slots);
        }
        let order = topological_order(&names, &inputs)?;
        Ok(Graph {
            names,
            inputs,
            order,
        })
    }

    /// The slot of the node (or input) called `name`.
    ///
    /// # Errors
    /// [`Error::UnknownNode`] when no node or input is called `name`.
    pub fn slot(&self, name: &str) -> Result<usize> {
        self.names
            .iter()
            .position(|n| n == name)
            .ok_or_else(|| Error::UnknownNode {
                name: name.to_string(),
            })
    }
}

/// The longest node (or input) name accepted, in characters.
pub const MAX_NAME_CHARS: usize = 1024;

/// Checks what the format cannot: name lengths (at most
/// [`MAX_NAME_CHARS`]) and dropout rates (finite, in `[0, 1]`).
///
/// # Errors
/// [`Error::InvalidField`] naming the node (a long name by its position and
/// first characters).
pub fn check_fields(network: &Network) -> Result<()> {
    let names = std::iter::once(&network.input).chain(network.nodes.iter().map(|n| &n.name));
    for (slot, name) in names.enumerate() {
        let chars = name.chars().count();
        if chars > MAX_NAME_CHARS {
            let start: String = name.chars().take(32).collect();
            return Err(Error::InvalidField {
                node: format!("#{slot} ({start}…)"),
                field: "name",
                detail: format!("{chars} characters, more than the limit of {MAX_NAME_CHARS}"),
            });
        }
    }
    for node in &network.nodes {
        if let Layer::Dropout { rate } = node.layer {
            if !(0.0..=1.0).contains(&rate) {
                return Err(Error::InvalidField {
                    node: node.name.clone(),
                    field: "rate",
                    detail: format!("a dropout rate is a probability in [0, 1], got {rate}"),
                });
            }
        }
    }
    Ok(())
}

/// Maps names to slots, rejecting duplicates and empty names.
fn name_index(names: &[String]) -> Result<HashMap<&str, usize>> {
    let mut index = HashMap::with_capacity(names.len());
    for (slot, name) in names.iter().enumerate() {
        if name.is_empty() {
            return Err(Error::InvalidField {
                node: format!("#{slot}"),
                field: "name",
                detail: "names must not be empty".into(),
            });
        }
        if index.insert(name.as_str(), slot).is_some() {
            return Err(Error::DuplicateNode { name: name.clone() });
        }
    }
    Ok(index)
}

/// Merges take two or more inputs, every other op exactly one.
fn check_input_count(node: &str, layer: &Layer, got: usize) -> Result<()> {
    let (ok, expected) = if layer.is_merge() {
        (got >= 2, "at least 2")
    } else {
        (got == 1, "exactly 1")
    };
    if ok {
        return Ok(());
    }
    Err(Error::InputCount {
        node: node.to_string(),
        op: layer.op(),
        expected,
        got,
    })
}

/// Kahn's algorithm; the nodes never reached are on or behind a cycle.
fn topological_order(names: &[String], inputs: &[Vec<usize>]) -> Result<Vec<usize>> {
    let n = names.len();
    let mut pending: Vec<usize> = inputs.iter().map(Vec::len).collect();
    let mut readers = vec![Vec::new(); n];
    for (slot, list) in inputs.iter().enumerate() {
        for &source in list {
            readers[source].push(slot);
        }
    }
    let mut ready = VecDeque::from([0]);
    let mut order = Vec::with_capacity(n - 1);
    while let Some(slot) = ready.pop_front() {
        if slot != 0 {
            order.push(slot);
        }
        for &reader in &readers[slot] {
            pending[reader] -= 1;
            if pending[reader] == 0 {
                ready.push_back(reader);
            }
        }
    }
    if order.len() + 1 < n {
        let nodes = (1..n)
            .filter(|&s| pending[s] > 0)
            .map(|s| names[s].clone())
            .collect();
        return Err(Error::Cycle { nodes });
    }
    Ok(order)
}
