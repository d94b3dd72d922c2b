//! What one file says about modules: the `mod` declarations it makes, the
//! module paths it refers to (in `use` trees and in code), what it re-exports
//! and which names it defines.
//!
//! Works on the tokens of [`crate::lex`] only; knows nothing of other files.
//! Items under `#[cfg(test)]` are skipped, since test code may reach anywhere.

use std::collections::BTreeSet;

use crate::lex::{Tok, lex};

/// `mod name;` (a child in its own file).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ModDecl {
    pub name: String,
    /// Inline modules (`mod a { … }`) around the declaration, outermost first.
    pub inline: Vec<String>,
    /// The value of a `#[path = "…"]` attribute on it.
    pub path_attr: Option<String>,
}

/// A path that may name a module of this crate, as written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PathRef {
    /// Inline modules around the reference, outermost first.
    pub inline: Vec<String>,
    /// Segments as written (`super`, `crate`, `self` included); for a
    /// `use … as x` the path before the alias.
    pub segments: Vec<String>,
    pub line: usize,
    /// From a `pub use` (any visibility): others may reach through it.
    pub reexport: bool,
    /// The name a `use` brings into scope (the alias or last segment); `None`
    /// for a glob (`*`) or a path in code.
    pub binds: Option<String>,
    /// A `use …::*`.
    pub glob: bool,
}

/// Everything [`parse`] found in one file.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FileItems {
    pub mods: Vec<ModDecl>,
    /// Inline modules (`mod a { … }`), each as its path within the file.
    pub inline_mods: Vec<Vec<String>>,
    pub refs: Vec<PathRef>,
    /// Names of the types, functions, traits, constants and modules defined.
    pub defines: BTreeSet<String>,
    /// The line of the first `#[cfg(test)]`, if any.
    pub first_test_line: Option<usize>,
}

/// Parses one file's text.
pub fn parse(src: &str) -> FileItems {
    let toks = lex(src);
    let mut p = Parser {
        toks: &toks,
        i: 0,
        out: FileItems::default(),
        braces: Vec::new(),
    };
    p.run();
    p.out
}

struct Parser<'a> {
    toks: &'a [(Tok, usize)],
    i: usize,
    out: FileItems,
    /// One entry per open `{`: the inline module it opened, if any.
    braces: Vec<Option<String>>,
}

const DEFINING: [&str; 9] = [
    "struct", "enum", "fn", "type", "trait", "const", "static", "union", "mod",
];

impl Parser<'_> {
    fn tok(&self, i: usize) -> Option<&Tok> {
        self.toks.get(i).map(|(t, _)| t)
    }

    fn ident(&self, i: usize) -> Option<&str> {
        match self.tok(i) {
            Some(Tok::Ident(s)) => Some(s),
            _ => None,
        }
    }

    fn line(&self, i: usize) -> usize {
        self.toks.get(i).map_or(0, |(_, l)| *l)
    }

    fn inline(&self) -> Vec<String> {
        self.braces.iter().flatten().cloned().collect()
    }

    fn run(&mut self) {
        let mut test = false;
        let mut path_attr = None;
        while self.i < self.toks.len() {
            let i = self.i;
            match self.tok(i) {
                Some(Tok::Punct('#'))
                    if self.tok(i + 1) == Some(&Tok::Punct('['))
                        || self.tok(i + 1) == Some(&Tok::Punct('!'))
                            && self.tok(i + 2) == Some(&Tok::Punct('[')) =>
                {
                    let inner = self.tok(i + 1) == Some(&Tok::Punct('!'));
                    let open = if inner { i + 2 } else { i + 1 };
                    let end = self.matching(open);
                    let attr = &self.toks[open + 1..end.saturating_sub(1).max(open + 1)];
                    if is_cfg_test(attr) {
                        self.out.first_test_line.get_or_insert(self.line(i));
                        if inner {
                            // The whole file is test code.
                            return;
                        }
                        test = true;
                    }
                    if let [(Tok::Ident(p), _), (Tok::Punct('='), _), (Tok::Str(v), _)] = attr
                        && p == "path"
                    {
                        path_attr = Some(v.clone());
                    }
                    self.i = end;
                    continue;
                }
                _ if test => {
                    self.skip_item();
                    test = false;
                    path_attr = None;
                    continue;
                }
                Some(Tok::Ident(w)) if w == "mod" => {
                    if let Some(name) = self.ident(i + 1).map(str::to_owned) {
                        self.out.defines.insert(name.clone());
                        match self.tok(i + 2) {
                            Some(Tok::Punct(';')) => {
                                self.out.mods.push(ModDecl {
                                    name,
                                    inline: self.inline(),
                                    path_attr: path_attr.take(),
                                });
                                self.i = i + 3;
                            }
                            Some(Tok::Punct('{')) => {
                                let mut path = self.inline();
                                path.push(name.clone());
                                self.out.inline_mods.push(path);
                                self.braces.push(Some(name));
                                self.i = i + 3;
                            }
                            _ => self.i = i + 1,
                        }
                        path_attr = None;
                        continue;
                    }
                }
                Some(Tok::Ident(w)) if w == "use" => {
                    let reexport = self.is_pub_before(i);
                    self.use_tree(i + 1, reexport);
                    path_attr = None;
                    continue;
                }
                Some(Tok::Ident(w)) if DEFINING.contains(&w.as_str()) => {
                    if let Some(name) = self.ident(i + 1) {
                        self.out.defines.insert(name.to_owned());
                    }
                }
                Some(Tok::Ident(w)) if w == "macro_rules" => {
                    if let Some(name) = self.ident(i + 2) {
                        self.out.defines.insert(name.to_owned());
                    }
                }
                Some(Tok::Ident(_))
                    if self.tok(i + 1) == Some(&Tok::Sep)
                        && (i == 0 || self.tok(i - 1) != Some(&Tok::Sep)) =>
                {
                    self.code_path(i);
                    continue;
                }
                Some(Tok::Punct('{')) => self.braces.push(None),
                Some(Tok::Punct('}')) => {
                    self.braces.pop();
                }
                _ => {}
            }
            path_attr = None;
            self.i = i + 1;
        }
    }

    /// Index just past the group opened at `open` (`(`, `[` or `{`).
    fn matching(&self, open: usize) -> usize {
        let mut depth = 0usize;
        let mut j = open;
        while j < self.toks.len() {
            match self.tok(j) {
                Some(Tok::Punct('(' | '[' | '{')) => depth += 1,
                Some(Tok::Punct(')' | ']' | '}')) => {
                    depth = depth.saturating_sub(1);
                    if depth == 0 {
                        return j + 1;
                    }
                }
                _ => {}
            }
            j += 1;
        }
        j
    }

    /// Skips the item (or statement) starting here: to a `;` outside any
    /// group, or to the end of its first `{ … }`, or to a `}` closing the
    /// block it stands in.
    fn skip_item(&mut self) {
        let mut j = self.i;
        while j < self.toks.len() {
            match self.tok(j) {
                Some(Tok::Punct(';')) => {
                    self.i = j + 1;
                    return;
                }
                Some(Tok::Punct('{')) => {
                    self.i = self.matching(j);
                    return;
                }
                Some(Tok::Punct('(' | '[')) => j = self.matching(j),
                Some(Tok::Punct('}' | ')' | ']')) => {
                    self.i = j;
                    return;
                }
                _ => j += 1,
            }
        }
        self.i = j;
    }

    /// `pub use`, `pub(crate) use`, `pub(in …) use`.
    fn is_pub_before(&self, i: usize) -> bool {
        if i == 0 {
            return false;
        }
        match self.tok(i - 1) {
            Some(Tok::Ident(w)) => w == "pub",
            Some(Tok::Punct(')')) => {
                let mut j = i - 1;
                while j > 0 && self.tok(j) != Some(&Tok::Punct('(')) {
                    j -= 1;
                }
                j > 0 && self.ident(j - 1) == Some("pub")
            }
            _ => false,
        }
    }

    /// A path in code: `a::b::c` (its first segment at `i`).
    fn code_path(&mut self, i: usize) {
        let mut segments = Vec::new();
        let mut j = i;
        while let Some(w) = self.ident(j) {
            segments.push(w.to_owned());
            if self.tok(j + 1) != Some(&Tok::Sep) {
                break;
            }
            j += 2;
        }
        self.out.refs.push(PathRef {
            inline: self.inline(),
            segments,
            line: self.line(i),
            reexport: false,
            binds: None,
            glob: false,
        });
        self.i = j + 1;
    }

    /// A `use` tree starting at `i`, to its `;`.
    fn use_tree(&mut self, i: usize, reexport: bool) {
        let line = self.line(i);
        let mut end = i;
        while end < self.toks.len() && self.tok(end) != Some(&Tok::Punct(';')) {
            end += 1;
        }
        let toks: Vec<Tok> = self.toks[i..end].iter().map(|(t, _)| t.clone()).collect();
        self.i = end + 1;
        if toks.first() == Some(&Tok::Sep) {
            return; // `use ::extern_crate…`
        }
        let mut found = Vec::new();
        tree(&toks, &mut 0, &mut Vec::new(), &mut found);
        let inline = self.inline();
        for (segments, binds, glob) in found {
            self.out.refs.push(PathRef {
                inline: inline.clone(),
                segments,
                line,
                reexport,
                binds,
                glob,
            });
        }
    }
}

/// Expands one use tree at `toks[*k..]` below `prefix` into
/// (path, bound name, glob) triples.
fn tree(
    toks: &[Tok],
    k: &mut usize,
    prefix: &mut Vec<String>,
    out: &mut Vec<(Vec<String>, Option<String>, bool)>,
) {
    let depth = prefix.len();
    loop {
        match toks.get(*k) {
            Some(Tok::Ident(w)) => {
                *k += 1;
                if w == "self" && depth > 0 && toks.get(*k) != Some(&Tok::Sep) {
                    // `a::{self}` names `a` itself.
                    let binds = alias(toks, k).or_else(|| prefix.last().cloned());
                    out.push((prefix.clone(), binds, false));
                    break;
                }
                prefix.push(w.clone());
                if toks.get(*k) == Some(&Tok::Sep) {
                    *k += 1;
                    continue;
                }
                let binds = alias(toks, k).or_else(|| Some(w.clone()));
                out.push((prefix.clone(), binds, false));
                break;
            }
            Some(Tok::Punct('*')) => {
                *k += 1;
                out.push((prefix.clone(), None, true));
                break;
            }
            Some(Tok::Punct('{')) => {
                *k += 1;
                loop {
                    match toks.get(*k) {
                        None => break,
                        Some(Tok::Punct('}')) => {
                            *k += 1;
                            break;
                        }
                        Some(Tok::Punct(',')) => *k += 1,
                        Some(_) => {
                            let before = *k;
                            tree(toks, k, prefix, out);
                            if *k == before {
                                *k += 1;
                            }
                        }
                    }
                }
                break;
            }
            _ => break,
        }
    }
    prefix.truncate(depth);
}

/// `as name` after a use path (`as _` binds nothing nameable, kept as `_`).
fn alias(toks: &[Tok], k: &mut usize) -> Option<String> {
    if matches!(toks.get(*k), Some(Tok::Ident(w)) if w == "as") {
        *k += 1;
        let name = match toks.get(*k) {
            Some(Tok::Ident(n)) => n.clone(),
            _ => "_".to_owned(),
        };
        *k += 1;
        return Some(name);
    }
    None
}

/// `cfg(test)` exactly (not `cfg(any(test, …))`, which also builds outside tests).
fn is_cfg_test(attr: &[(Tok, usize)]) -> bool {
    let t: Vec<&Tok> = attr.iter().map(|(t, _)| t).collect();
    matches!(
        t.as_slice(),
        [Tok::Ident(c), Tok::Punct('('), Tok::Ident(x), Tok::Punct(')')] if c == "cfg" && x == "test"
    )
}
