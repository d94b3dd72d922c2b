//! The workspace rules, applied to files on disk: no import cycle between the
//! files of a crate, no non-test source file over [`MAX_LINES`] lines, and the
//! `foo.rs` + `foo/` module style (no `mod.rs`, except for the support
//! folders of integration tests and benches, where Cargo's convention needs
//! it).
//!
//! Touches the file system read-only; [`crate::graph`] does the graph work.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use crate::graph::CrateGraph;

/// The most lines a source file may have before its first `#[cfg(test)]`.
pub const MAX_LINES: usize = 700;

/// The crates checked, as folders below the workspace root.
pub const CRATES: [&str; 6] = ["engine", "io-mio", "sim", "cli", "fuzz", "tools/layers"];

/// One broken rule.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Violation {
    /// The crate's folder (one of [`CRATES`]).
    pub krate: String,
    /// Stable text naming the violation (for allow lists): `cycle: FILES…`,
    /// `size: FILE` or `mod.rs: FILE`, paths relative to the workspace root.
    pub key: String,
    /// What to show a reader (line counts, the edges of a cycle).
    pub detail: String,
}

/// Checks every crate of [`CRATES`] below `root`.
pub fn check_workspace(root: &Path) -> Vec<Violation> {
    CRATES.iter().flat_map(|k| check_crate(root, k)).collect()
}

/// Checks one crate folder.
pub fn check_crate(root: &Path, krate: &str) -> Vec<Violation> {
    let mut out = Vec::new();
    let dir = root.join(krate);
    let read = |p: &Path| std::fs::read_to_string(root.join(p)).ok();
    for crate_root in ["src/lib.rs", "src/main.rs"] {
        let rel = Path::new(krate).join(crate_root);
        if !root.join(&rel).is_file() {
            continue;
        }
        let g = CrateGraph::load(&rel, &read);
        for comp in g.cycles() {
            let files: Vec<String> = comp.iter().map(|&f| show(&g.files[f].path)).collect();
            let mut detail = String::new();
            for (a, b, line) in g.edges_within(&comp) {
                let _ = writeln!(
                    detail,
                    "    {}:{line} -> {}",
                    show(&g.files[a].path),
                    show(&g.files[b].path)
                );
            }
            out.push(Violation {
                krate: krate.to_owned(),
                key: format!("cycle: {}", files.join(" ")),
                detail,
            });
        }
    }
    let mut files = Vec::new();
    rust_files(&dir, &mut files);
    files.sort();
    for path in files {
        let rel = path.strip_prefix(root).unwrap_or(&path).to_path_buf();
        let inside: Vec<String> = rel
            .strip_prefix(krate)
            .unwrap_or(&rel)
            .iter()
            .map(|c| c.to_string_lossy().into_owned())
            .collect();
        let is_test = inside.first().is_some_and(|c| c == "tests")
            || rel.file_name().is_some_and(|n| n == "tests.rs");
        if rel.file_name().is_some_and(|n| n == "mod.rs") && !mod_rs_allowed(&inside) {
            out.push(Violation {
                krate: krate.to_owned(),
                key: format!("mod.rs: {}", show(&rel)),
                detail: "    use foo.rs + foo/ instead".to_owned(),
            });
        }
        if is_test {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap_or_default();
        let lines = code_lines(&text);
        if lines > MAX_LINES {
            out.push(Violation {
                krate: krate.to_owned(),
                key: format!("size: {}", show(&rel)),
                detail: format!("    {lines} lines before any #[cfg(test)] (at most {MAX_LINES})"),
            });
        }
    }
    out
}

/// `tests/NAME/mod.rs` and `benches/NAME/mod.rs`: a support module shared by
/// several test or bench targets, which Cargo would build as a target of its
/// own if it were `tests/NAME.rs`.
pub fn mod_rs_allowed(inside: &[String]) -> bool {
    matches!(inside, [top, _, file] if (top == "tests" || top == "benches") && file == "mod.rs")
}

/// Lines of `text` before the first `#[cfg(test)]` line (all, without one).
pub fn code_lines(text: &str) -> usize {
    text.lines()
        .position(|l| l.trim_start().starts_with("#[cfg(test)]"))
        .unwrap_or_else(|| text.lines().count())
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        let name = e.file_name().to_string_lossy().into_owned();
        if p.is_dir() {
            if name != "target" && !name.starts_with('.') {
                rust_files(&p, out);
            }
        } else if name.ends_with(".rs") {
            out.push(p);
        }
    }
}

fn show(p: &Path) -> String {
    p.to_string_lossy().replace('\\', "/")
}
