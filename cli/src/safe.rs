//! [`Shown`]: text that came from the network, made safe to put on a
//! terminal; pure, touches nothing. Every human (not `--json`) line and every
//! error on standard error goes through here, so nothing a
//! peer, a group or a registry sends can move the cursor, wipe the screen,
//! recolour the terminal, ring its bell or reorder what a person reads.
//!
//! Two layers, both here so there is one rule: [`Shown`] wraps each field
//! taken from the network (and escapes line breaks too, so a message cannot
//! fake a line of its own), and [`terminal_line`] is applied by the printer to
//! every finished line, keeping only the line breaks the program wrote; a
//! field that forgot its [`Shown`] can at worst break a line, never send an
//! escape sequence. `--json` output keeps the exact text: JSON escapes
//! control characters and scripts deal in data, not in glyphs.

use std::fmt::{self, Write as _};

/// Network text, displayed with its dangerous characters escaped: `\e` for
/// ESC, `\r`, `\n`, `\t`, `\xNN` for the other C0 controls and DEL, and
/// `U+XXXX` for C1 controls, bidirectional overrides and isolates, zero-width
/// and other invisible formatting characters (Unicode category Cf) and the
/// line and paragraph separators.
#[derive(Debug, Clone, Copy)]
pub struct Shown<'a>(pub &'a str);

impl fmt::Display for Shown<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(&escape(self.0, false))
    }
}

/// `line` with every dangerous character escaped except `\n`, which the
/// program itself uses between the lines of one answer.
pub fn terminal_line(line: &str) -> String {
    escape(line, true)
}

fn escape(text: &str, keep_newlines: bool) -> String {
    if !text
        .chars()
        .any(|c| dangerous(c) && !(keep_newlines && c == '\n'))
    {
        return text.to_owned();
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '\n' if keep_newlines => out.push('\n'),
            '\x1b' => out.push_str("\\e"),
            '\r' => out.push_str("\\r"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            c if c.is_ascii_control() => {
                let _ = write!(out, "\\x{:02X}", c as u32);
            }
            c if dangerous(c) => {
                let _ = write!(out, "U+{:04X}", c as u32);
            }
            c => out.push(c),
        }
    }
    out
}

/// True for what must never reach a terminal as it is.
fn dangerous(c: char) -> bool {
    let u = c as u32;
    // C0, DEL and C1 controls.
    c.is_control()
        // Line and paragraph separators (Zl, Zp).
        || matches!(u, 0x2028 | 0x2029)
        || format_char(u)
}

/// Unicode general category Cf ("format"): invisible characters that change
/// how others are shown, bidirectional overrides and isolates among them.
/// The whole category as of Unicode 15.1 (there is no crate for it in the
/// workspace, and the list changes rarely).
fn format_char(u: u32) -> bool {
    matches!(
        u,
        0x00AD
            | 0x0600..=0x0605
            | 0x061C
            | 0x06DD
            | 0x070F
            | 0x0890..=0x0891
            | 0x08E2
            | 0x180E
            | 0x200B..=0x200F
            | 0x202A..=0x202E
            | 0x2060..=0x2064
            | 0x2066..=0x206F
            | 0xFEFF
            | 0xFFF9..=0xFFFB
            | 0x110BD
            | 0x110CD
            | 0x13430..=0x1343F
            | 0x1BCA0..=0x1BCA3
            | 0x1D173..=0x1D17A
            | 0xE0001
            | 0xE0020..=0xE007F
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_terminal_controls_and_invisible_formatting() {
        let hostile = "hi\x1b[2J\x1b[H\r\x07\t\x7f\u{9b}31m\u{202E}\u{200B}\u{2066}\u{2069}\u{FEFF}\u{2028}\n!";
        let shown = Shown(hostile).to_string();
        assert_eq!(
            shown,
            "hi\\e[2J\\e[H\\r\\x07\\t\\x7FU+009B31mU+202EU+200BU+2066U+2069U+FEFFU+2028\\n!"
        );
        assert!(shown.chars().all(|c| !dangerous(c)), "{shown:?}");
    }

    #[test]
    fn ordinary_text_is_kept_as_it_is() {
        for s in ["hello", "größe 日本語 ✓ émoji 🎉", "C:\\path\\file", "a  b"] {
            assert_eq!(Shown(s).to_string(), s);
            assert_eq!(terminal_line(s), s);
        }
    }

    #[test]
    fn a_finished_line_keeps_only_its_line_breaks() {
        assert_eq!(
            terminal_line("online (1):\n  bob\x1b[31m\u{202E}"),
            "online (1):\n  bob\\e[31mU+202E"
        );
    }
}
