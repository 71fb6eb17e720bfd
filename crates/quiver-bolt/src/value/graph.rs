//! Graph values: nodes, relationships and paths, as received in query results.
//!
//! These are snapshots sent by the server. They cannot be sent back as query parameters (the
//! official drivers refuse that too); encoding one fails with
//! [`ValueError::NotSendable`](super::ValueError::NotSendable).

use std::borrow::Cow;

use quiver_packstream::PackStr;

use super::Map;

/// A node snapshot (structure `4E`).
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    /// The legacy numeric id (deprecated by the server in favour of `element_id`).
    pub id: i64,
    /// The node's labels.
    pub labels: Vec<PackStr>,
    /// The node's properties.
    pub properties: Map,
    /// The element id; `None` on Bolt 4.x, where it does not exist (see
    /// [`Node::element_id_or_legacy`] for what official drivers expose there).
    pub element_id: Option<PackStr>,
}

/// A relationship snapshot with its end points (structure `52`).
#[derive(Debug, Clone, PartialEq)]
pub struct Relationship {
    /// The legacy numeric id.
    pub id: i64,
    /// Legacy numeric id of the start node.
    pub start_node_id: i64,
    /// Legacy numeric id of the end node.
    pub end_node_id: i64,
    /// The relationship type.
    pub rel_type: PackStr,
    /// The relationship's properties.
    pub properties: Map,
    /// The element id; `None` on Bolt 4.x.
    pub element_id: Option<PackStr>,
    /// Element id of the start node; `None` on Bolt 4.x.
    pub start_node_element_id: Option<PackStr>,
    /// Element id of the end node; `None` on Bolt 4.x.
    pub end_node_element_id: Option<PackStr>,
}

/// A relationship without its end points (structure `72`); only used inside a [`Path`], whose
/// node sequence supplies the end points (see [`Segment::relationship`]).
#[derive(Debug, Clone, PartialEq)]
pub struct UnboundRelationship {
    /// The legacy numeric id.
    pub id: i64,
    /// The relationship type.
    pub rel_type: PackStr,
    /// The relationship's properties.
    pub properties: Map,
    /// The element id; `None` on Bolt 4.x.
    pub element_id: Option<PackStr>,
}

/// A path (structure `50`) in the compact wire form: distinct nodes, distinct relationships and
/// the `indices` that walk them.
///
/// `indices` alternates a relationship reference and a node reference, one pair per step: the
/// relationship reference is 1-based into `relationships`, negative when the relationship is
/// traversed against its direction; the node reference is 0-based into `nodes`. The path starts
/// at `nodes[0]`. Decoding checks these rules, so [`Path::segments`] of a decoded path yields
/// every step; for a hand-built path that breaks them, it stops at the first bad step (see
/// [`Path::check`]).
#[derive(Debug, Clone, PartialEq)]
pub struct Path {
    /// The distinct nodes of the path; the first one is the start.
    pub nodes: Vec<Node>,
    /// The distinct relationships of the path.
    pub relationships: Vec<UnboundRelationship>,
    /// The walk, as described on [`Path`].
    pub indices: Vec<i64>,
}

/// One step of a [`Path`]: `start -[relationship]- end`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Segment<'a> {
    /// Where this step starts.
    pub start: &'a Node,
    /// The relationship traversed.
    pub unbound: &'a UnboundRelationship,
    /// Where this step ends.
    pub end: &'a Node,
    /// `true` when the relationship points from `start` to `end`, `false` when it is traversed
    /// backwards.
    pub forward: bool,
}

impl Segment<'_> {
    /// The traversed relationship with its real start and end node (which, for a backwards
    /// step, are this segment's `end` and `start`).
    pub fn relationship(&self) -> Relationship {
        let (from, to) = if self.forward {
            (self.start, self.end)
        } else {
            (self.end, self.start)
        };
        Relationship {
            id: self.unbound.id,
            start_node_id: from.id,
            end_node_id: to.id,
            rel_type: self.unbound.rel_type.clone(),
            properties: self.unbound.properties.clone(),
            element_id: self.unbound.element_id.clone(),
            start_node_element_id: from.element_id.clone(),
            end_node_element_id: to.element_id.clone(),
        }
    }
}

/// An element id, or on Bolt 4.x (which has none) the legacy id in decimal, as the official
/// drivers expose it there.
fn element_id_or_legacy(element_id: Option<&PackStr>, id: i64) -> Cow<'_, str> {
    match element_id {
        Some(element_id) => Cow::Borrowed(element_id.as_str()),
        None => Cow::Owned(id.to_string()),
    }
}

impl Node {
    /// The element id; on Bolt 4.x, where nodes have none, the legacy id as a decimal string
    /// (what the official drivers return as `element_id` there).
    pub fn element_id_or_legacy(&self) -> Cow<'_, str> {
        element_id_or_legacy(self.element_id.as_ref(), self.id)
    }
}

impl Relationship {
    /// The element id; on Bolt 4.x the legacy id as a decimal string (as the official drivers).
    pub fn element_id_or_legacy(&self) -> Cow<'_, str> {
        element_id_or_legacy(self.element_id.as_ref(), self.id)
    }

    /// The start node's element id; on Bolt 4.x its legacy id as a decimal string.
    pub fn start_node_element_id_or_legacy(&self) -> Cow<'_, str> {
        element_id_or_legacy(self.start_node_element_id.as_ref(), self.start_node_id)
    }

    /// The end node's element id; on Bolt 4.x its legacy id as a decimal string.
    pub fn end_node_element_id_or_legacy(&self) -> Cow<'_, str> {
        element_id_or_legacy(self.end_node_element_id.as_ref(), self.end_node_id)
    }
}

impl UnboundRelationship {
    /// The element id; on Bolt 4.x the legacy id as a decimal string (as the official drivers).
    pub fn element_id_or_legacy(&self) -> Cow<'_, str> {
        element_id_or_legacy(self.element_id.as_ref(), self.id)
    }
}

impl Path {
    /// The first node, `None` only for a (malformed) path without nodes.
    pub fn start(&self) -> Option<&Node> {
        self.nodes.first()
    }

    /// The last node of the walk (the start node for a zero-length path).
    pub fn end(&self) -> Option<&Node> {
        self.segments()
            .last()
            .map(|s| s.end)
            .or_else(|| self.start())
    }

    /// Number of steps (relationships traversed, counting repeats).
    pub fn len(&self) -> usize {
        self.indices.len() / 2
    }

    /// Whether the path is a single node without steps.
    pub fn is_empty(&self) -> bool {
        self.indices.is_empty()
    }

    /// The steps in order.
    pub fn segments(&self) -> Segments<'_> {
        Segments {
            path: self,
            current: self.nodes.first(),
            position: 0,
        }
    }

    /// Checks the walk rules described on [`Path`]; the error says which rule is broken.
    pub fn check(&self) -> Result<(), String> {
        if self.nodes.is_empty() {
            return Err("a path needs at least one node".to_owned());
        }
        if self.indices.len() % 2 != 0 {
            return Err(format!(
                "path indices must come in pairs, got {} entries",
                self.indices.len()
            ));
        }
        for (step, pair) in self.indices.chunks_exact(2).enumerate() {
            let (rel, node) = (pair[0], pair[1]);
            let rel_ok = rel != 0 && rel.unsigned_abs() <= self.relationships.len() as u64;
            if !rel_ok {
                return Err(format!(
                    "path step {step}: relationship index {rel} is not in ±1..={}",
                    self.relationships.len()
                ));
            }
            let node_ok = node >= 0 && (node as u64) < self.nodes.len() as u64;
            if !node_ok {
                return Err(format!(
                    "path step {step}: node index {node} is not in 0..{}",
                    self.nodes.len()
                ));
            }
        }
        Ok(())
    }
}

/// Iterator over the steps of a [`Path`], from [`Path::segments`].
#[derive(Debug, Clone)]
pub struct Segments<'a> {
    path: &'a Path,
    current: Option<&'a Node>,
    position: usize,
}

impl<'a> Iterator for Segments<'a> {
    type Item = Segment<'a>;

    fn next(&mut self) -> Option<Segment<'a>> {
        let start = self.current?;
        let rel_index = *self.path.indices.get(self.position)?;
        let node_index = *self.path.indices.get(self.position + 1)?;
        let unbound = usize::try_from(rel_index.unsigned_abs())
            .ok()
            .and_then(|i| i.checked_sub(1))
            .and_then(|i| self.path.relationships.get(i));
        let end = usize::try_from(node_index)
            .ok()
            .and_then(|i| self.path.nodes.get(i));
        match (unbound, end) {
            (Some(unbound), Some(end)) => {
                self.position += 2;
                self.current = Some(end);
                Some(Segment {
                    start,
                    unbound,
                    end,
                    forward: rel_index > 0,
                })
            }
            _ => {
                self.current = None;
                None
            }
        }
    }
}

#[cfg(test)]
mod legacy_element_id_tests {
    use super::*;

    #[test]
    fn bolt_4_values_expose_the_legacy_id_as_element_id() {
        let node = Node {
            id: 42,
            labels: Vec::new(),
            properties: Map::new(),
            element_id: None,
        };
        assert_eq!(node.element_id_or_legacy(), "42");
        let rel = Relationship {
            id: 7,
            start_node_id: 1,
            end_node_id: -2,
            rel_type: PackStr::from("R"),
            properties: Map::new(),
            element_id: None,
            start_node_element_id: None,
            end_node_element_id: None,
        };
        assert_eq!(rel.element_id_or_legacy(), "7");
        assert_eq!(rel.start_node_element_id_or_legacy(), "1");
        assert_eq!(rel.end_node_element_id_or_legacy(), "-2");
        // Bolt 5: the real element id wins.
        let node = Node {
            element_id: Some(PackStr::from("4:abc:42")),
            ..node
        };
        assert_eq!(node.element_id_or_legacy(), "4:abc:42");
    }
}
