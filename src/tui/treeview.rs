//! Flattening a [`Dissection`]'s layer trees into the rows the tree pane shows.
//!
//! A node is identified across PDUs by its *key*: the names of its ancestors and itself, each
//! with its rank among same-named siblings ("MMS#0/Body#0/Part 2#0"). Expansion and selection
//! are kept by key, so moving to another PDU of the same structure keeps the same fields open,
//! as Wireshark does.

use crate::tree::{Dissection, Node};
use std::collections::HashSet;

/// One visible row of the tree pane.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TreeRow {
    pub depth: usize,
    /// Child indices from the layer (`path[0]` is the layer index).
    pub path: Vec<usize>,
    pub key: String,
    pub has_children: bool,
    pub expanded: bool,
}

/// Which nodes are open: a node is expanded when it is open by default (the last layer, i.e.
/// the MMS PDU) XOR its key was toggled by the user.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Expansion {
    pub toggled: HashSet<String>,
}

impl Expansion {
    fn default_open(depth: usize, path: &[usize], layers: usize) -> bool {
        depth == 0 && path[0] + 1 == layers
    }

    pub fn is_expanded(&self, row_key: &str, depth: usize, path: &[usize], layers: usize) -> bool {
        Self::default_open(depth, path, layers) ^ self.toggled.contains(row_key)
    }

    pub fn set(&mut self, row: &TreeRow, layers: usize, open: bool) {
        let default = Self::default_open(row.depth, &row.path, layers);
        if open == default {
            self.toggled.remove(&row.key);
        } else {
            self.toggled.insert(row.key.clone());
        }
    }
}

/// The node at `path` (layer index, then child indices).
pub fn node_at<'a>(d: &'a Dissection, path: &[usize]) -> Option<&'a Node> {
    let (first, rest) = path.split_first()?;
    let mut n = d.layers.get(*first)?;
    for &i in rest {
        n = n.children.get(i)?;
    }
    Some(n)
}

fn child_keys(parent_key: &str, nodes: &[Node]) -> Vec<String> {
    let mut seen: Vec<(&str, usize)> = Vec::new();
    nodes
        .iter()
        .map(|n| {
            let rank = match seen.iter_mut().find(|(name, _)| *name == n.name) {
                Some((_, c)) => {
                    *c += 1;
                    *c
                }
                None => {
                    seen.push((&n.name, 0));
                    0
                }
            };
            if parent_key.is_empty() {
                format!("{}#{rank}", n.name)
            } else {
                format!("{parent_key}/{}#{rank}", n.name)
            }
        })
        .collect()
}

/// A pre-order walk over the layer trees, collecting rows.
struct Walk<'e> {
    layers: usize,
    exp: &'e Expansion,
    /// Descend into closed nodes too (search), not only into open ones (display).
    all: bool,
    out: Vec<TreeRow>,
}

impl Walk<'_> {
    fn visit(&mut self, nodes: &[Node], parent_key: &str, path: &mut Vec<usize>, depth: usize) {
        let keys = child_keys(parent_key, nodes);
        for (i, (n, key)) in nodes.iter().zip(keys).enumerate() {
            path.push(i);
            let expanded = self.exp.is_expanded(&key, depth, path, self.layers);
            self.out.push(TreeRow {
                depth,
                path: path.clone(),
                key: key.clone(),
                has_children: !n.children.is_empty(),
                expanded,
            });
            if (expanded || self.all) && !n.children.is_empty() {
                self.visit(&n.children, &key, path, depth + 1);
            }
            path.pop();
        }
    }
}

fn walk(d: &Dissection, exp: &Expansion, all: bool) -> Vec<TreeRow> {
    let mut w = Walk {
        layers: d.layers.len(),
        exp,
        all,
        out: Vec::new(),
    };
    w.visit(&d.layers, "", &mut Vec::new(), 0);
    w.out
}

/// The rows shown for `d` with expansion `exp`.
pub fn visible_rows(d: &Dissection, exp: &Expansion) -> Vec<TreeRow> {
    walk(d, exp, false)
}

/// Every node of `d` in pre-order (for search), whether visible or not.
pub fn all_rows(d: &Dissection, exp: &Expansion) -> Vec<TreeRow> {
    walk(d, exp, true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tui::fixture;

    #[test]
    fn last_layer_open_by_default_and_toggles_by_key() {
        let pdus = fixture::http_mm1_basic_pdus();
        let d = &pdus[0].dissection;
        let mut exp = Expansion::default();
        let rows = visible_rows(d, &exp);
        assert_eq!(rows[0].key, "HTTP#0");
        assert!(!rows[0].expanded);
        assert_eq!(rows[1].key, "MMS#0");
        assert!(rows[1].expanded);
        // HTTP, MMS, 7 header fields and Body
        assert_eq!(rows.len(), 2 + 8);
        let body = rows
            .iter()
            .find(|r| r.key == "MMS#0/Body#0")
            .unwrap()
            .clone();
        exp.set(&body, d.layers.len(), true);
        let rows = visible_rows(d, &exp);
        assert_eq!(rows.len(), 2 + 8 + 3);
        assert!(rows.iter().any(|r| r.key == "MMS#0/Body#0/Part 2#0"));
        // the same key opens the body of the m-retrieve-conf too
        let d3 = &pdus[3].dissection;
        assert!(
            visible_rows(d3, &exp)
                .iter()
                .any(|r| r.key == "MMS#0/Body#0/Part 1#0")
        );
    }

    #[test]
    fn same_named_siblings_get_distinct_keys() {
        let d = Dissection {
            buffers: vec![],
            layers: vec![Node::group("L", "", 0..0).with_children(vec![
                Node::group("To", "a", 0..0),
                Node::group("To", "b", 0..0),
            ])],
        };
        let rows = visible_rows(&d, &Expansion::default());
        assert_eq!(rows[1].key, "L#0/To#0");
        assert_eq!(rows[2].key, "L#0/To#1");
    }
}
