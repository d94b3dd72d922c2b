//! The file-level dependency graph of one crate: its module tree (from `mod`
//! declarations), each path reference resolved to the file that defines the
//! module it reaches (through re-exports), and the cycles (Tarjan's strongly
//! connected components).
//!
//! Reads files only through the `read` function it is lent, so tests can feed
//! it strings. A parent declaring a child is not an edge: only `use` trees and
//! paths in code are.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use crate::parse::{FileItems, PathRef, parse};

/// One source file of the crate.
#[derive(Debug)]
pub struct FileNode {
    pub path: PathBuf,
    /// Its module path from the crate root (empty for the root).
    pub module: Vec<String>,
    pub items: FileItems,
}

/// The files of one crate and the dependencies between them.
#[derive(Debug, Default)]
pub struct CrateGraph {
    pub files: Vec<FileNode>,
    /// Every module path (inline modules too) to the file holding it.
    modules: BTreeMap<Vec<String>, usize>,
    /// `from -> to` with the first line of `from` that makes the edge.
    pub edges: BTreeMap<(usize, usize), usize>,
}

/// Re-exports followed in a row at most (a loop of re-exports stops here).
const MAX_HOPS: usize = 8;

impl CrateGraph {
    /// Loads the crate whose root file is `root` (`lib.rs` or `main.rs`).
    pub fn load(root: &Path, read: &dyn Fn(&Path) -> Option<String>) -> Self {
        let mut g = Self::default();
        g.add_file(root, Vec::new(), true, read);
        g.link();
        g
    }

    fn add_file(
        &mut self,
        path: &Path,
        module: Vec<String>,
        mod_rs_like: bool,
        read: &dyn Fn(&Path) -> Option<String>,
    ) {
        if path.file_name().is_some_and(|n| n == "tests.rs") {
            return;
        }
        let Some(text) = read(path) else { return };
        let items = parse(&text);
        let ix = self.files.len();
        self.modules.insert(module.clone(), ix);
        for inline in &items.inline_mods {
            self.modules
                .insert([module.clone(), inline.clone()].concat(), ix);
        }
        let dir = path.parent().unwrap_or(Path::new("")).to_path_buf();
        let children = if mod_rs_like {
            dir.clone()
        } else {
            dir.join(path.file_stem().unwrap_or_default())
        };
        let mods = items.mods.clone();
        self.files.push(FileNode {
            path: path.to_path_buf(),
            module: module.clone(),
            items,
        });
        for decl in mods {
            let child = [module.clone(), decl.inline.clone(), vec![decl.name.clone()]].concat();
            let base = decl.inline.iter().fold(children.clone(), |d, m| d.join(m));
            if let Some(p) = &decl.path_attr {
                let from = if decl.inline.is_empty() { &dir } else { &base };
                self.add_file(&from.join(p), child, true, read);
                continue;
            }
            let flat = base.join(format!("{}.rs", decl.name));
            if read(&flat).is_some() {
                self.add_file(&flat, child, false, read);
            } else {
                self.add_file(&base.join(&decl.name).join("mod.rs"), child, true, read);
            }
        }
    }

    /// Resolves every reference into edges.
    fn link(&mut self) {
        let mut edges = BTreeMap::new();
        for (from, f) in self.files.iter().enumerate() {
            for r in &f.items.refs {
                if let Some(to) = self.absolute(from, r).and_then(|p| self.resolve(&p, 0))
                    && to != from
                {
                    edges.entry((from, to)).or_insert(r.line);
                }
            }
        }
        self.edges = edges;
    }

    /// The module path `r` names from the root, or `None` when it does not
    /// start inside this crate (`std::…`, another crate, a type's `Self::`).
    fn absolute(&self, file: usize, r: &PathRef) -> Option<Vec<String>> {
        let cur = [self.files[file].module.clone(), r.inline.clone()].concat();
        let segs = &r.segments;
        let first = segs.first()?;
        match first.as_str() {
            "crate" => Some(segs[1..].to_vec()),
            "super" => {
                let ups = segs.iter().take_while(|s| *s == "super").count();
                let keep = cur.len().checked_sub(ups)?;
                Some([&cur[..keep], &segs[ups..]].concat())
            }
            "self" => Some([&cur[..], &segs[1..]].concat()),
            _ => {
                let child = [cur.clone(), vec![first.clone()]].concat();
                self.modules
                    .contains_key(&child)
                    .then(|| [&cur[..], &segs[..]].concat())
            }
        }
    }

    /// The file defining what `full` names: the deepest module on the path,
    /// or, when the next segment is re-exported there, what that re-export
    /// names.
    fn resolve(&self, full: &[String], hops: usize) -> Option<usize> {
        let (depth, &file) = (0..=full.len())
            .rev()
            .find_map(|n| self.modules.get(&full[..n]).map(|f| (n, f)))?;
        let rest = &full[depth..];
        let Some(name) = rest.first() else {
            return Some(file);
        };
        if hops >= MAX_HOPS {
            return Some(file);
        }
        let node = &self.files[file];
        let inline = &full[node.module.len()..depth];
        if node.items.defines.contains(name) {
            return Some(file);
        }
        let reexports = node
            .items
            .refs
            .iter()
            .filter(|r| r.reexport && r.inline == inline);
        for r in reexports.clone() {
            if r.binds.as_deref() == Some(name.as_str())
                && let Some(target) = self.absolute(file, r)
            {
                return self.resolve(&[&target[..], &rest[1..]].concat(), hops + 1);
            }
        }
        for r in reexports.filter(|r| r.glob) {
            if let Some(target) = self.absolute(file, r)
                && self.has_name(&target, name)
            {
                return self.resolve(&[&target[..], rest].concat(), hops + 1);
            }
        }
        Some(file)
    }

    /// True when the module at `module` defines or re-exports `name`.
    fn has_name(&self, module: &[String], name: &str) -> bool {
        let Some(&file) = self.modules.get(module) else {
            return false;
        };
        let node = &self.files[file];
        let inline = &module[node.module.len()..];
        node.items.defines.contains(name)
            || node
                .items
                .refs
                .iter()
                .any(|r| r.reexport && r.inline == inline && r.binds.as_deref() == Some(name))
    }

    /// Every cycle: the strongly connected components of more than one file,
    /// each as sorted file indexes, in a stable order.
    pub fn cycles(&self) -> Vec<Vec<usize>> {
        let n = self.files.len();
        let mut next: Vec<Vec<usize>> = vec![Vec::new(); n];
        for &(a, b) in self.edges.keys() {
            next[a].push(b);
        }
        let mut sccs = tarjan(&next);
        sccs.retain(|c| c.len() > 1);
        for c in &mut sccs {
            c.sort_unstable();
        }
        sccs.sort();
        sccs
    }

    /// The edges inside one component, for the report: `(from, to, line)`.
    pub fn edges_within(&self, component: &[usize]) -> Vec<(usize, usize, usize)> {
        let set: BTreeSet<usize> = component.iter().copied().collect();
        self.edges
            .iter()
            .filter(|((a, b), _)| set.contains(a) && set.contains(b))
            .map(|(&(a, b), &line)| (a, b, line))
            .collect()
    }
}

/// Tarjan's strongly connected components, iteratively (no deep recursion).
pub fn tarjan(next: &[Vec<usize>]) -> Vec<Vec<usize>> {
    let n = next.len();
    let mut index = vec![usize::MAX; n];
    let mut low = vec![0; n];
    let mut on_stack = vec![false; n];
    let mut stack = Vec::new();
    let mut counter = 0;
    let mut out = Vec::new();
    for start in 0..n {
        if index[start] != usize::MAX {
            continue;
        }
        // (node, position in its successor list)
        let mut work = vec![(start, 0usize)];
        index[start] = counter;
        low[start] = counter;
        counter += 1;
        stack.push(start);
        on_stack[start] = true;
        while let Some(&mut (v, ref mut pos)) = work.last_mut() {
            if let Some(&w) = next[v].get(*pos) {
                *pos += 1;
                if index[w] == usize::MAX {
                    index[w] = counter;
                    low[w] = counter;
                    counter += 1;
                    stack.push(w);
                    on_stack[w] = true;
                    work.push((w, 0));
                } else if on_stack[w] {
                    low[v] = low[v].min(index[w]);
                }
                continue;
            }
            work.pop();
            if let Some(&(parent, _)) = work.last() {
                low[parent] = low[parent].min(low[v]);
            }
            if low[v] == index[v] {
                let mut comp = Vec::new();
                while let Some(w) = stack.pop() {
                    on_stack[w] = false;
                    comp.push(w);
                    if w == v {
                        break;
                    }
                }
                out.push(comp);
            }
        }
    }
    out
}
