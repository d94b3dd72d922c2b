//! Cutting text to a width in terminal columns, measured with
//! unicode-width per user-perceived character: a CJK character takes two
//! columns, a combining accent none and stays with its letter, and a
//! character is never split across lines. Pure.

use unicode_segmentation::UnicodeSegmentation;
use unicode_width::UnicodeWidthStr;

/// Columns `s` takes.
pub fn width(s: &str) -> usize {
    s.width()
}

/// `text` cut into lines of at most `width` columns: at the program's own
/// line breaks, then at the last space that fits, else anywhere. Later
/// lines start with `indent` spaces. Always at least one line.
pub fn wrap(text: &str, width: usize, indent: usize) -> Vec<String> {
    let width = width.max(1);
    let indent = if indent * 2 > width { 0 } else { indent };
    let mut out = Vec::new();
    for para in text.split('\n') {
        let mut line = String::new();
        let mut cols = 0;
        // Where the last space of `line` ends, and its column.
        let mut space: Option<(usize, usize)> = None;
        for g in para.graphemes(true) {
            let w = g.width();
            if cols + w > width && cols > 0 && g == " " {
                // The space that overflows is the break itself.
                out.push(line.trim_end().to_owned());
                line = " ".repeat(indent);
                cols = indent;
                space = None;
                continue;
            }
            if cols + w > width && cols > 0 {
                let (rest, rest_cols) = match space {
                    Some((at, at_cols)) if at_cols > indent => {
                        let rest = line[at..].to_owned();
                        line.truncate(at);
                        (rest, cols - at_cols)
                    }
                    _ => (String::new(), 0),
                };
                out.push(line.trim_end().to_owned());
                line = " ".repeat(indent);
                line.push_str(&rest);
                cols = indent + rest_cols;
                space = None;
            }
            line.push_str(g);
            cols += w;
            if g == " " {
                space = Some((line.len(), cols));
            }
        }
        out.push(line);
    }
    out
}

/// `s` cut to at most `width` columns, with `…` when cut.
pub fn fit(s: &str, width: usize) -> String {
    if s.width() <= width {
        return s.to_owned();
    }
    let mut out = String::new();
    let mut cols = 0;
    for g in s.graphemes(true) {
        let w = g.width();
        if cols + w + 1 > width {
            break;
        }
        out.push_str(g);
        cols += w;
    }
    if width > 0 {
        out.push('…');
    }
    out
}

/// `s` padded with spaces to `width` columns (cut first if longer).
pub fn pad(s: &str, width: usize) -> String {
    let s = fit(s, width);
    let cols = s.width();
    format!("{s}{}", " ".repeat(width.saturating_sub(cols)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wraps_by_columns_at_spaces() {
        assert_eq!(wrap("hello there world", 11, 2), ["hello there", "  world"]);
        assert_eq!(wrap("abcdefgh", 3, 0), ["abc", "def", "gh"]);
        assert_eq!(wrap("a\nb", 10, 0), ["a", "b"]);
        assert_eq!(wrap("", 10, 0), [""]);
    }

    #[test]
    fn wide_and_combining_characters_are_measured() {
        // Each CJK character is two columns: three fit in 6.
        assert_eq!(wrap("日本語の資料", 6, 0), ["日本語", "の資料"]);
        // The accent stays with its e and takes no column.
        let lines = wrap("cafe\u{301}s", 4, 0);
        assert_eq!(lines, ["cafe\u{301}", "s"]);
        assert!(lines.iter().all(|l| width(l) <= 4));
        assert_eq!(fit("日本語の資料", 5), "日本…");
        assert_eq!(width(&pad("日本", 6)), 6);
    }
}
