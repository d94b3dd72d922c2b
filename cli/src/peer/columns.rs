//! [`Table`]: rows of cells lined up in columns by their width on a
//! terminal (`unicode-width`), not by their count of bytes or chars, so a
//! file name in CJK (two columns per character) or with combining accents
//! does not push the rest of its row out of line. Pure.

use unicode_width::UnicodeWidthStr;

/// How a column's cells sit in it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Align {
    Left,
    Right,
}

/// A table under construction; cells are already what is shown (escaped).
#[derive(Debug)]
pub struct Table {
    align: Vec<Align>,
    rows: Vec<Vec<String>>,
}

impl Table {
    /// A table whose columns sit as `align` says.
    pub fn new(align: &[Align]) -> Self {
        Self {
            align: align.to_vec(),
            rows: Vec::new(),
        }
    }

    /// Adds a row (one cell per column).
    pub fn row(&mut self, cells: Vec<String>) {
        debug_assert_eq!(cells.len(), self.align.len());
        self.rows.push(cells);
    }

    /// The rows, each on its own line starting with `\n  `, columns two
    /// spaces apart; the last column is not padded on the right.
    pub fn render(&self) -> String {
        let widths: Vec<usize> = (0..self.align.len())
            .map(|c| {
                self.rows
                    .iter()
                    .map(|r| r.get(c).map_or(0, |s| s.width()))
                    .max()
                    .unwrap_or(0)
            })
            .collect();
        let mut out = String::new();
        for row in &self.rows {
            out.push_str("\n ");
            let last = row.len().saturating_sub(1);
            for (c, cell) in row.iter().enumerate() {
                let fill = " ".repeat(widths[c].saturating_sub(cell.width()));
                out.push(' ');
                match self.align[c] {
                    Align::Right => {
                        out.push_str(&fill);
                        out.push_str(cell);
                    }
                    Align::Left if c == last => out.push_str(cell),
                    Align::Left => {
                        out.push_str(cell);
                        out.push_str(&fill);
                    }
                }
                if c != last {
                    out.push(' ');
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wide_names_line_up() {
        let mut t = Table::new(&[Align::Left, Align::Left, Align::Right, Align::Left]);
        t.row(vec![
            "bob".into(),
            "日本語のファイル.txt".into(),
            "1.00 KiB".into(),
            "aa".into(),
        ]);
        t.row(vec![
            "carol".into(),
            "plain.txt".into(),
            "12 B".into(),
            "bb".into(),
        ]);
        t.row(vec![
            "al".into(),
            "cafe\u{301}.txt".into(),
            "3.50 MiB".into(),
            "cc".into(),
        ]);
        let out = t.render();
        let lines: Vec<&str> = out.lines().skip(1).collect();
        assert_eq!(lines.len(), 3);
        // Each row's last column starts at the same terminal column.
        let starts: Vec<usize> = lines
            .iter()
            .map(|l| l[..l.rfind(' ').unwrap() + 1].width())
            .collect();
        assert!(starts.iter().all(|&s| s == starts[0]), "{out}\n{starts:?}");
        assert_eq!(lines[1], "  carol  plain.txt                 12 B  bb");
        assert!(
            lines[0].starts_with("  bob    日本語のファイル.txt  1.00 KiB  aa"),
            "{out}"
        );
    }
}
