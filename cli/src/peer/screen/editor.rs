//! [`Editor`]: the input line. Text, a cursor that moves by user-perceived
//! character (a letter and its combining accents are one step), the usual
//! editing keys, and a history recalled with the arrows. Pure state; the
//! input panel draws it and the key map drives it.
//!
//! Invariant: `cursor` is a byte index on a grapheme boundary of `text`, and
//! the text never holds a line break (a paste's breaks become spaces), since
//! one line is one command for the parser.

use unicode_segmentation::UnicodeSegmentation;

/// Lines kept for recall.
const HISTORY: usize = 500;

#[derive(Debug, Default, Clone)]
pub struct Editor {
    text: String,
    cursor: usize,
    history: Vec<String>,
    /// The history line shown, while recalling.
    recall: Option<usize>,
    /// What was being typed before recalling started.
    draft: String,
}

impl Editor {
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The cursor, as a byte index into [`Self::text`].
    pub fn cursor(&self) -> usize {
        self.cursor
    }

    pub fn is_empty(&self) -> bool {
        self.text.is_empty()
    }

    /// Replaces the whole line, cursor at its end.
    pub fn set(&mut self, text: &str) {
        self.text = one_line(text);
        self.cursor = self.text.len();
    }

    /// Replaces `start..cursor` with `with` (completion).
    pub fn replace_before_cursor(&mut self, start: usize, with: &str) {
        let start = start.min(self.cursor);
        self.text.replace_range(start..self.cursor, &one_line(with));
        self.cursor = start + one_line(with).len();
    }

    pub fn insert(&mut self, s: &str) {
        let s = one_line(s);
        self.text.insert_str(self.cursor, &s);
        self.cursor += s.len();
    }

    fn prev_boundary(&self) -> usize {
        self.text[..self.cursor]
            .grapheme_indices(true)
            .next_back()
            .map_or(0, |(i, _)| i)
    }

    fn next_boundary(&self) -> usize {
        self.text[self.cursor..]
            .graphemes(true)
            .next()
            .map_or(self.cursor, |g| self.cursor + g.len())
    }

    pub fn left(&mut self) {
        self.cursor = self.prev_boundary();
    }

    pub fn right(&mut self) {
        self.cursor = self.next_boundary();
    }

    pub fn home(&mut self) {
        self.cursor = 0;
    }

    pub fn end(&mut self) {
        self.cursor = self.text.len();
    }

    pub fn backspace(&mut self) {
        let at = self.prev_boundary();
        self.text.replace_range(at..self.cursor, "");
        self.cursor = at;
    }

    pub fn delete(&mut self) {
        let to = self.next_boundary();
        self.text.replace_range(self.cursor..to, "");
    }

    /// Ctrl+W: the word before the cursor, and the spaces after it.
    pub fn delete_word(&mut self) {
        let before = &self.text[..self.cursor];
        let trimmed = before.trim_end();
        let at = trimmed.rfind(char::is_whitespace).map_or(0, |i| i + 1);
        self.text.replace_range(at..self.cursor, "");
        self.cursor = at;
    }

    /// Ctrl+U: everything before the cursor.
    pub fn kill_before(&mut self) {
        self.text.replace_range(..self.cursor, "");
        self.cursor = 0;
    }

    /// Ctrl+K: everything after the cursor.
    pub fn kill_after(&mut self) {
        self.text.truncate(self.cursor);
    }

    /// Enter: the line, now kept in the history; the editor is empty again.
    pub fn take(&mut self) -> String {
        let line = std::mem::take(&mut self.text);
        self.cursor = 0;
        self.recall = None;
        self.draft.clear();
        if !line.trim().is_empty() && self.history.last() != Some(&line) {
            if self.history.len() == HISTORY {
                self.history.remove(0);
            }
            self.history.push(line.clone());
        }
        line
    }

    /// Up: the previous line of the history.
    pub fn older(&mut self) {
        let at = match self.recall {
            None if self.history.is_empty() => return,
            None => {
                self.draft = self.text.clone();
                self.history.len() - 1
            }
            Some(0) => 0,
            Some(i) => i - 1,
        };
        self.recall = Some(at);
        self.set(&self.history[at].clone());
    }

    /// Down: the next line of the history, then what was being typed.
    pub fn newer(&mut self) {
        match self.recall {
            None => {}
            Some(i) if i + 1 < self.history.len() => {
                self.recall = Some(i + 1);
                self.set(&self.history[i + 1].clone());
            }
            Some(_) => {
                self.recall = None;
                let draft = std::mem::take(&mut self.draft);
                self.set(&draft);
            }
        }
    }
}

/// `s` on one line: a pasted line break is a space, a tab too.
fn one_line(s: &str) -> String {
    s.chars()
        .map(|c| {
            if matches!(c, '\n' | '\r' | '\t') {
                ' '
            } else {
                c
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edits_by_grapheme() {
        let mut e = Editor::default();
        e.insert("cafe\u{301}!");
        e.left();
        e.left();
        assert_eq!(&e.text()[e.cursor()..], "e\u{301}!");
        e.right();
        e.backspace();
        assert_eq!(e.text(), "caf!", "the accent goes with its letter");
        e.home();
        e.delete();
        assert_eq!(e.text(), "af!");
        e.end();
        e.insert(" 日本");
        e.delete_word();
        assert_eq!(e.text(), "af! ");
        e.insert("a\nb");
        assert_eq!(e.text(), "af! a b");
        e.home();
        e.right();
        e.kill_after();
        assert_eq!(e.text(), "a");
        e.end();
        e.kill_before();
        assert!(e.is_empty());
    }

    #[test]
    fn history_keeps_the_draft() {
        let mut e = Editor::default();
        e.insert("one");
        assert_eq!(e.take(), "one");
        e.insert("two");
        e.take();
        e.insert("dra");
        e.older();
        assert_eq!(e.text(), "two");
        e.older();
        e.older();
        assert_eq!(e.text(), "one");
        e.newer();
        assert_eq!(e.text(), "two");
        e.newer();
        assert_eq!(e.text(), "dra");
        assert_eq!(e.cursor(), 3);
    }
}
