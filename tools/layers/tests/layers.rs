//! Runs the layering rules over the whole workspace and fails on any
//! violation: an import circle between files, a source file over 700 lines
//! outside tests, or a `mod.rs` where `foo.rs` + `foo/` belongs.

use std::path::Path;

use confab_layers::check::check_workspace;

#[test]
fn the_workspace_keeps_its_layers() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let found = check_workspace(&root);
    let mut report = String::new();
    for v in &found {
        report.push_str(&format!("[{}] {}\n{}\n", v.krate, v.key, v.detail));
    }
    println!("{} violation(s)", found.len());
    assert!(found.is_empty(), "layering violations:\n{report}");
}
