//! Unit tests of the parser and the graph on small strings.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::check::{code_lines, mod_rs_allowed};
use crate::graph::{CrateGraph, tarjan};
use crate::parse::parse;

/// A crate made of `(path, text)` pairs, rooted at `src/lib.rs`.
fn graph(files: &[(&str, &str)]) -> CrateGraph {
    let map: BTreeMap<PathBuf, String> = files
        .iter()
        .map(|(p, t)| (PathBuf::from(p), (*t).to_owned()))
        .collect();
    CrateGraph::load(Path::new("src/lib.rs"), &|p| map.get(p).cloned())
}

/// The cycles as lists of file paths.
fn cycles(g: &CrateGraph) -> Vec<Vec<String>> {
    g.cycles()
        .iter()
        .map(|c| {
            c.iter()
                .map(|&f| g.files[f].path.display().to_string())
                .collect()
        })
        .collect()
}

fn paths(src: &str) -> Vec<String> {
    parse(src)
        .refs
        .iter()
        .map(|r| r.segments.join("::"))
        .collect()
}

#[test]
fn use_trees_expand() {
    let src = "use crate::a::{b, c::{d as e, self}, f::*};\npub use super::g;";
    let items = parse(src);
    let got: Vec<(String, Option<String>, bool, bool)> = items
        .refs
        .iter()
        .map(|r| (r.segments.join("::"), r.binds.clone(), r.glob, r.reexport))
        .collect();
    assert_eq!(
        got,
        [
            ("crate::a::b".into(), Some("b".into()), false, false),
            ("crate::a::c::d".into(), Some("e".into()), false, false),
            ("crate::a::c".into(), Some("c".into()), false, false),
            ("crate::a::f".into(), None, true, false),
            ("super::g".into(), Some("g".into()), false, true),
        ]
    );
}

#[test]
fn comments_strings_and_tests_are_not_paths() {
    let src = r##"
        // use crate::commented;
        /* crate::block::comment /* nested */ */
        const S: &str = "crate::in_string";
        const R: &str = r#"crate::raw "quoted""#;
        const C: char = '"';
        fn f<'a>(x: &'a str) -> &'a str { crate::real::f(x) }
        #[cfg(test)]
        mod tests { use crate::only_tests; }
        #[cfg(test)]
        use crate::test_import;
    "##;
    assert_eq!(paths(src), ["crate::real::f"]);
    assert_eq!(parse(src).first_test_line, Some(8));
}

#[test]
fn modules_and_attributes() {
    let src = "#[path = \"x/y.rs\"]\nmod y;\npub(crate) mod z;\nmod inline { mod deep; }\n#[cfg(test)]\nmod tests;";
    let items = parse(src);
    let mods: Vec<(String, Vec<String>, Option<String>)> = items
        .mods
        .iter()
        .map(|m| (m.name.clone(), m.inline.clone(), m.path_attr.clone()))
        .collect();
    assert_eq!(
        mods,
        [
            ("y".into(), vec![], Some("x/y.rs".into())),
            ("z".into(), vec![], None),
            ("deep".into(), vec!["inline".into()], None),
        ]
    );
    assert_eq!(items.inline_mods, [vec!["inline".to_owned()]]);
}

#[test]
fn a_cycle_is_found() {
    let g = graph(&[
        ("src/lib.rs", "mod a;\nmod b;"),
        ("src/a.rs", "use crate::b::B;\npub struct A;"),
        (
            "src/b.rs",
            "pub struct B;\nfn f() -> crate::a::A { todo!() }",
        ),
    ]);
    assert_eq!(cycles(&g), [["src/a.rs", "src/b.rs"]]);
}

#[test]
fn a_parent_declaring_its_child_is_no_edge() {
    let g = graph(&[
        ("src/lib.rs", "mod a;"),
        ("src/a.rs", "mod b;\npub struct A;"),
        ("src/a/b.rs", "use super::A;"),
    ]);
    assert!(cycles(&g).is_empty());
    assert_eq!(g.edges.len(), 1);
}

#[test]
fn a_parent_using_its_child_that_uses_it_is_a_cycle() {
    let g = graph(&[
        ("src/lib.rs", "mod a;"),
        ("src/a/mod.rs", "mod b;\npub struct A;\nfn f() { b::g() }"),
        ("src/a/b.rs", "use super::A;\npub fn g() {}"),
    ]);
    assert_eq!(cycles(&g), [["src/a/mod.rs", "src/a/b.rs"]]);
}

#[test]
fn no_cycle_one_way_down() {
    let g = graph(&[
        ("src/lib.rs", "mod ids;\nmod role;\nmod api;"),
        ("src/ids.rs", "pub struct Id;"),
        ("src/role.rs", "use crate::ids::Id;"),
        (
            "src/api.rs",
            "use crate::{ids::Id, role};\nfn f() { role::go() }",
        ),
    ]);
    assert!(cycles(&g).is_empty());
    assert_eq!(g.edges.len(), 3);
}

#[test]
fn re_exports_lead_to_the_defining_file() {
    // `a` re-exports `b::B`; `c` names it through `a`, and `b` uses `c`:
    // the edge goes to b.rs, so there is a cycle b <-> c but none through a.
    let g = graph(&[
        ("src/lib.rs", "mod a;\nmod c;\npub use a::*;"),
        ("src/a.rs", "mod b;\npub use self::b::B;"),
        ("src/a/b.rs", "pub struct B;\nuse crate::c::C;"),
        (
            "src/c.rs",
            "pub struct C;\nuse crate::a::B;\nfn f(_: crate::B) {}",
        ),
    ]);
    assert_eq!(cycles(&g), [["src/a/b.rs", "src/c.rs"]]);
}

#[test]
fn tarjan_finds_components() {
    let next = vec![vec![1], vec![2], vec![0, 3], vec![], vec![4]];
    let mut comps: Vec<Vec<usize>> = tarjan(&next)
        .into_iter()
        .map(|mut c| {
            c.sort_unstable();
            c
        })
        .collect();
    comps.sort();
    assert_eq!(comps, [vec![0, 1, 2], vec![3], vec![4]]);
}

#[test]
fn sizes_and_module_style() {
    assert_eq!(code_lines("a\nb\n#[cfg(test)]\nmod tests;\n"), 2);
    assert_eq!(code_lines("a\nb\n"), 2);
    let parts = |p: &str| p.split('/').map(str::to_owned).collect::<Vec<_>>();
    assert!(mod_rs_allowed(&parts("tests/support/mod.rs")));
    assert!(mod_rs_allowed(&parts("benches/support/mod.rs")));
    assert!(!mod_rs_allowed(&parts("src/peer/mod.rs")));
    assert!(!mod_rs_allowed(&parts("tests/a/b/mod.rs")));
}
