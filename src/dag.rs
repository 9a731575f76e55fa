//! The dependency graph of models and sources: topological levels, cycle
//! paths, up- and downstream sets, and text/dot/mermaid renderings.
//!
//! Deterministic throughout: nodes and edges live in ordered maps.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

/// A directed graph: each node maps to the nodes it depends on.
#[derive(Debug, Clone, Default)]
pub struct Dag {
    deps: BTreeMap<String, BTreeSet<String>>,
    dependents: BTreeMap<String, BTreeSet<String>>,
}

impl Dag {
    pub fn new() -> Self {
        Self::default()
    }

    /// Add a node (idempotent).
    pub fn add_node(&mut self, node: &str) {
        self.deps.entry(node.to_string()).or_default();
        self.dependents.entry(node.to_string()).or_default();
    }

    /// `node` reads `upstream`.
    pub fn add_edge(&mut self, node: &str, upstream: &str) {
        self.add_node(node);
        self.add_node(upstream);
        self.deps
            .entry(node.to_string())
            .or_default()
            .insert(upstream.to_string());
        self.dependents
            .entry(upstream.to_string())
            .or_default()
            .insert(node.to_string());
    }

    pub fn nodes(&self) -> impl Iterator<Item = &str> {
        self.deps.keys().map(String::as_str)
    }

    pub fn contains(&self, node: &str) -> bool {
        self.deps.contains_key(node)
    }

    /// What `node` reads directly.
    pub fn deps(&self, node: &str) -> impl Iterator<Item = &str> {
        self.deps.get(node).into_iter().flatten().map(String::as_str)
    }

    /// What reads `node` directly.
    pub fn dependents(&self, node: &str) -> impl Iterator<Item = &str> {
        self.dependents.get(node).into_iter().flatten().map(String::as_str)
    }

    /// Everything `node` reads, directly or not (excluding `node`).
    pub fn upstream(&self, node: &str) -> BTreeSet<String> {
        self.walk(node, &self.deps)
    }

    /// Everything that reads `node`, directly or not (excluding `node`).
    pub fn downstream(&self, node: &str) -> BTreeSet<String> {
        self.walk(node, &self.dependents)
    }

    fn walk(&self, node: &str, edges: &BTreeMap<String, BTreeSet<String>>) -> BTreeSet<String> {
        let mut seen = BTreeSet::new();
        let mut stack = vec![node.to_string()];
        while let Some(n) = stack.pop() {
            for next in edges.get(&n).into_iter().flatten() {
                if seen.insert(next.clone()) {
                    stack.push(next.clone());
                }
            }
        }
        seen.remove(node);
        seen
    }

    /// The graph restricted to `keep`: those nodes and the edges between them.
    pub fn subgraph(&self, keep: &BTreeSet<String>) -> Dag {
        let mut sub = Dag::new();
        for node in self.nodes().filter(|n| keep.contains(*n)) {
            sub.add_node(node);
            for d in self.deps(node).filter(|d| keep.contains(*d)) {
                sub.add_edge(node, d);
            }
        }
        sub
    }

    /// Every elementary cycle found by depth-first search, each as a path that
    /// starts and ends at the same node (`a → b → a`), each reported once.
    pub fn cycles(&self) -> Vec<Vec<String>> {
        #[derive(Clone, Copy, PartialEq)]
        enum Mark {
            New,
            Active,
            Done,
        }
        let mut mark: BTreeMap<&str, Mark> = self.deps.keys().map(|k| (k.as_str(), Mark::New)).collect();
        let mut cycles = Vec::new();
        let mut seen_sets: BTreeSet<BTreeSet<String>> = BTreeSet::new();
        for start in self.deps.keys() {
            if mark[start.as_str()] != Mark::New {
                continue;
            }
            // Iterative DFS keeping the current path.
            let mut path: Vec<&str> = vec![start.as_str()];
            let mut iters: Vec<std::collections::btree_set::Iter<'_, String>> = vec![self.deps[start].iter()];
            mark.insert(start.as_str(), Mark::Active);
            while let Some(it) = iters.last_mut() {
                match it.next() {
                    Some(next) => match mark[next.as_str()] {
                        Mark::New => {
                            mark.insert(next.as_str(), Mark::Active);
                            path.push(next.as_str());
                            iters.push(self.deps[next].iter());
                        }
                        Mark::Active => {
                            let pos = path.iter().position(|p| *p == next.as_str()).unwrap_or(0);
                            let mut cycle: Vec<String> = path[pos..].iter().map(|s| s.to_string()).collect();
                            let set: BTreeSet<String> = cycle.iter().cloned().collect();
                            if seen_sets.insert(set) {
                                // Deps point upstream; print in reading order: a reads b reads … a.
                                cycle.push(next.clone());
                                cycles.push(cycle);
                            }
                        }
                        Mark::Done => {}
                    },
                    None => {
                        iters.pop();
                        if let Some(done) = path.pop() {
                            mark.insert(done, Mark::Done);
                        }
                    }
                }
            }
        }
        cycles
    }

    /// Nodes grouped in levels: every node's dependencies sit in earlier levels,
    /// so the nodes of one level may run in parallel. Nodes on or behind a cycle
    /// are never dropped silently: they are returned in the `Err` with the cycles.
    pub fn topological_levels(&self) -> Result<Vec<Vec<String>>, Vec<Vec<String>>> {
        let mut remaining: BTreeMap<&str, usize> = self.deps.iter().map(|(k, v)| (k.as_str(), v.len())).collect();
        let mut levels = Vec::new();
        let mut current: Vec<&str> = remaining.iter().filter(|(_, n)| **n == 0).map(|(k, _)| *k).collect();
        while !current.is_empty() {
            for node in &current {
                remaining.remove(node);
            }
            let mut next = BTreeSet::new();
            for node in &current {
                for d in self.dependents(node) {
                    if let Some(n) = remaining.get_mut(d) {
                        *n -= 1;
                        if *n == 0 {
                            next.insert(d);
                        }
                    }
                }
            }
            levels.push(current.iter().map(|s| s.to_string()).collect());
            current = next.into_iter().collect();
        }
        if remaining.is_empty() {
            Ok(levels)
        } else {
            Err(self.cycles())
        }
    }

    /// The graph as text: one level per block, each node with what it reads.
    pub fn render_text(&self, levels: &[Vec<String>]) -> String {
        let mut out = String::new();
        for (i, level) in levels.iter().enumerate() {
            let _ = writeln!(out, "level {i}");
            for node in level {
                let deps: Vec<&str> = self.deps(node).collect();
                if deps.is_empty() {
                    let _ = writeln!(out, "  {node}");
                } else {
                    let _ = writeln!(out, "  {node} <- {}", deps.join(", "));
                }
            }
        }
        out
    }

    /// Graphviz dot.
    pub fn render_dot(&self) -> String {
        let mut out = String::from("digraph lakemart {\n  rankdir=LR;\n  node [shape=box];\n");
        for node in self.nodes() {
            let _ = writeln!(out, "  \"{node}\";");
        }
        for node in self.nodes() {
            for d in self.deps(node) {
                let _ = writeln!(out, "  \"{d}\" -> \"{node}\";");
            }
        }
        out.push_str("}\n");
        out
    }

    /// Mermaid flowchart.
    pub fn render_mermaid(&self) -> String {
        let id = |s: &str| s.replace(['.', '-'], "_");
        let mut out = String::from("flowchart LR\n");
        for node in self.nodes() {
            let _ = writeln!(out, "  {}[\"{node}\"]", id(node));
        }
        for node in self.nodes() {
            for d in self.deps(node) {
                let _ = writeln!(out, "  {} --> {}", id(d), id(node));
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dag(edges: &[(&str, &str)]) -> Dag {
        let mut d = Dag::new();
        for (n, up) in edges {
            d.add_edge(n, up);
        }
        d
    }

    #[test]
    fn levels_of_a_diamond() {
        //   a
        //  / \
        // b   c
        //  \ /
        //   d
        let d = dag(&[("b", "a"), ("c", "a"), ("d", "b"), ("d", "c")]);
        let levels = d.topological_levels().unwrap();
        assert_eq!(levels, vec![vec!["a"], vec!["b", "c"], vec!["d"]]);
        assert_eq!(d.downstream("a").into_iter().collect::<Vec<_>>(), vec!["b", "c", "d"]);
        assert_eq!(d.upstream("d").into_iter().collect::<Vec<_>>(), vec!["a", "b", "c"]);
    }

    #[test]
    fn a_cycle_is_reported_with_its_path() {
        // x → a → b → c → a  (x hangs off the cycle)
        let d = dag(&[("a", "c"), ("b", "a"), ("c", "b"), ("x", "a")]);
        let cycles = d.topological_levels().unwrap_err();
        assert_eq!(cycles, vec![vec!["a", "c", "b", "a"]]);
    }

    #[test]
    fn self_reference_is_a_cycle() {
        let d = dag(&[("a", "a")]);
        assert_eq!(d.cycles(), vec![vec!["a", "a"]]);
    }
}
