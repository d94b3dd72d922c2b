//! Tokens of a Rust source file, enough to find modules, `use` trees and paths.
//!
//! Touches nothing but the text it is given. Comments, string contents (other
//! than a `#[path = "…"]` value), numbers, lifetimes and character literals are
//! dropped so that a path written in a comment or a string never counts as a
//! dependency.

/// One token. Punctuation other than `::` is kept as single characters.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Tok {
    Ident(String),
    /// A string literal's contents (only `#[path]` reads them).
    Str(String),
    /// `::`
    Sep,
    Punct(char),
    /// A number, lifetime or character literal.
    Other,
}

/// Splits `src` into tokens, each with the 1-based line it starts on.
pub fn lex(src: &str) -> Vec<(Tok, usize)> {
    let b = src.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    let mut line = 1;
    while i < b.len() {
        let c = b[i];
        let start_line = line;
        match c {
            b'\n' => {
                line += 1;
                i += 1;
            }
            _ if c.is_ascii_whitespace() => i += 1,
            b'/' if b.get(i + 1) == Some(&b'/') => {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
            }
            b'/' if b.get(i + 1) == Some(&b'*') => {
                let mut depth = 0;
                while i < b.len() {
                    if b[i] == b'/' && b.get(i + 1) == Some(&b'*') {
                        depth += 1;
                        i += 2;
                    } else if b[i] == b'*' && b.get(i + 1) == Some(&b'/') {
                        depth -= 1;
                        i += 2;
                        if depth == 0 {
                            break;
                        }
                    } else {
                        line += usize::from(b[i] == b'\n');
                        i += 1;
                    }
                }
            }
            b'"' => {
                let (s, end, lines) = quoted(b, i + 1);
                out.push((Tok::Str(s), start_line));
                line += lines;
                i = end;
            }
            b'r' | b'b' if raw_string_start(b, i).is_some() => {
                let (hashes, body) = raw_string_start(b, i).unwrap_or_default();
                let mut j = body;
                let mut closed = false;
                while j < b.len() && !closed {
                    if b[j] == b'"'
                        && b[j + 1..]
                            .iter()
                            .take(hashes)
                            .filter(|&&h| h == b'#')
                            .count()
                            == hashes
                    {
                        closed = true;
                    } else {
                        line += usize::from(b[j] == b'\n');
                    }
                    j += 1;
                }
                out.push((
                    Tok::Str(String::from_utf8_lossy(&b[body..j.saturating_sub(1)]).into_owned()),
                    start_line,
                ));
                i = j + hashes;
            }
            b'b' if b.get(i + 1) == Some(&b'"') => {
                let (s, end, lines) = quoted(b, i + 2);
                out.push((Tok::Str(s), start_line));
                line += lines;
                i = end;
            }
            b'b' if b.get(i + 1) == Some(&b'\'') => i = char_literal(b, i + 1).unwrap_or(i + 2),
            b'\'' => {
                // A character literal, or a lifetime / label.
                i = match char_literal(b, i) {
                    Some(end) => end,
                    None => {
                        let mut j = i + 1;
                        while j < b.len() && is_ident(b[j]) {
                            j += 1;
                        }
                        j
                    }
                };
                out.push((Tok::Other, start_line));
            }
            _ if c.is_ascii_digit() => {
                while i < b.len()
                    && (is_ident(b[i])
                        || b[i] == b'.' && b.get(i + 1).is_some_and(u8::is_ascii_digit))
                {
                    i += 1;
                }
                out.push((Tok::Other, start_line));
            }
            _ if is_ident(c) => {
                let mut j = i;
                while j < b.len() && is_ident(b[j]) {
                    j += 1;
                }
                let mut word = &src[i..j];
                if word == "r" && b.get(j) == Some(&b'#') {
                    // A raw identifier: `r#type`.
                    let k = j + 1;
                    let mut e = k;
                    while e < b.len() && is_ident(b[e]) {
                        e += 1;
                    }
                    word = &src[k..e];
                    j = e;
                }
                out.push((Tok::Ident(word.to_owned()), start_line));
                i = j;
            }
            b':' if b.get(i + 1) == Some(&b':') => {
                out.push((Tok::Sep, start_line));
                i += 2;
            }
            _ => {
                // Non-ASCII outside strings and comments only appears in identifiers.
                let ch = src[i..].chars().next().unwrap_or(' ');
                out.push((Tok::Punct(ch), start_line));
                i += ch.len_utf8();
            }
        }
    }
    out
}

fn is_ident(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_' || c >= 0x80
}

/// Contents of a `"…"` string whose body starts at `i`: (text, index after
/// the closing quote, newlines inside).
fn quoted(b: &[u8], mut i: usize) -> (String, usize, usize) {
    let start = i;
    let mut lines = 0;
    while i < b.len() && b[i] != b'"' {
        if b[i] == b'\\' {
            i += 1;
        }
        if b.get(i) == Some(&b'\n') {
            lines += 1;
        }
        i += 1;
    }
    let s = String::from_utf8_lossy(&b[start..i.min(b.len())]).into_owned();
    (s, i + 1, lines)
}

/// For `r"`, `r#"`, `br#"`…: (number of `#`, index of the body's start).
fn raw_string_start(b: &[u8], i: usize) -> Option<(usize, usize)> {
    let mut j = i;
    if b[j] == b'b' {
        j += 1;
    }
    if b.get(j) != Some(&b'r') {
        return None;
    }
    j += 1;
    let hashes = b[j..].iter().take_while(|&&c| c == b'#').count();
    j += hashes;
    (b.get(j) == Some(&b'"')).then_some((hashes, j + 1))
}

/// The end of a character literal starting with the quote at `i`, or `None`
/// when the quote opens a lifetime.
fn char_literal(b: &[u8], i: usize) -> Option<usize> {
    let next = *b.get(i + 1)?;
    if next == b'\\' {
        let close = b[i + 2..].iter().position(|&c| c == b'\'')?;
        return Some(i + 2 + close + 1);
    }
    // One character (possibly multi-byte UTF-8) then a closing quote.
    let len = match next {
        0..=0x7f => 1,
        0xc0..=0xdf => 2,
        0xe0..=0xef => 3,
        _ => 4,
    };
    (b.get(i + 1 + len) == Some(&b'\'')).then_some(i + 2 + len)
}
