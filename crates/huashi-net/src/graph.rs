//! Resolving a description into a graph: names to indices, default inputs,
//! input counts per op, and a topological order (Kahn's algorithm, stable in
//! the listed order) that rejects cycles.
//!
//! Slot 0 is the network input; node `i` of the description is slot `i + 1`.

use crate::desc::{check_fields, Layer, Network};
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
