//! The receiver's write window: which bytes of the current file are hashed
//! and handed to the driver (`expected`), and which the driver has confirmed
//! written (`written`, the only thing ever acknowledged).
//!
//! Invariants: `written <= expected <= size`; chunks are taken only at
//! `expected`; `written` advances only over a contiguous run of confirmed
//! writes; and `expected - written` never exceeds `window` chunks, which is
//! what bounds the writes pending for one transfer whatever the file size.

use std::collections::BTreeMap;

/// See the module documentation.
#[derive(Debug)]
pub(crate) struct WriteWindow {
    /// The file's size.
    pub size: u64,
    /// Everything before this is hashed and handed to the driver.
    pub expected: u64,
    /// Everything before this is written.
    pub written: u64,
    /// Writes not yet confirmed: offset -> (end, confirmed).
    pending: BTreeMap<u64, (u64, bool)>,
    /// A `Want` for the current round is out.
    pub want_sent: bool,
}

impl WriteWindow {
    /// A window whose first `at` bytes are already written and hashed.
    pub fn new(at: u64, size: u64) -> Self {
        Self {
            size,
            expected: at,
            written: at,
            pending: BTreeMap::new(),
            want_sent: false,
        }
    }

    /// Why a chunk of `len` bytes at `offset` may not be taken, if it may not.
    pub fn check(&self, offset: u64, len: u64, chunk: u64, window: u64) -> Result<(), String> {
        if offset != self.expected {
            return Err(format!("a Chunk at {offset}, expected {}", self.expected));
        }
        if len == 0 || len > chunk || offset + len > self.size {
            return Err(format!("a Chunk of {len} bytes at {offset}"));
        }
        if offset + len - self.written > window * chunk {
            return Err("more chunks than the window allows".into());
        }
        Ok(())
    }

    /// Takes a chunk that passed [`WriteWindow::check`].
    pub fn push(&mut self, offset: u64, len: u64) {
        self.expected = offset + len;
        self.pending.insert(offset, (offset + len, false));
    }

    /// The driver wrote the chunk at `offset`. `None` if no such write is
    /// pending (stale); otherwise whether `written` moved.
    pub fn confirm(&mut self, offset: u64) -> Option<bool> {
        match self.pending.get_mut(&offset) {
            Some((_, done)) if !*done => *done = true,
            _ => return None,
        }
        let before = self.written;
        while let Some(e) = self.pending.first_entry() {
            let (end, done) = *e.get();
            if !done {
                break;
            }
            e.remove();
            self.written = end;
        }
        Some(self.written > before)
    }

    /// Every byte written and hashed.
    pub fn complete(&self) -> bool {
        self.written == self.size && self.expected == self.size
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn written_advances_over_contiguous_confirmations_only() {
        let mut w = WriteWindow::new(0, 30);
        for at in [0, 10, 20] {
            assert!(w.check(at, 10, 10, 3).is_ok());
            w.push(at, 10);
        }
        assert_eq!(w.confirm(10), Some(false));
        assert_eq!(w.written, 0);
        assert_eq!(w.confirm(10), None, "twice");
        assert_eq!(w.confirm(0), Some(true));
        assert_eq!(w.written, 20);
        assert_eq!(w.confirm(20), Some(true));
        assert!(w.complete());
    }

    #[test]
    fn refuses_gaps_oversize_and_overrun() {
        let mut w = WriteWindow::new(5, 100);
        assert!(w.check(6, 1, 10, 2).is_err());
        assert!(w.check(5, 11, 10, 2).is_err());
        assert!(w.check(5, 0, 10, 2).is_err());
        w.push(5, 10);
        w.push(15, 10);
        assert!(
            w.check(25, 10, 10, 2).is_err(),
            "a third chunk over a window of 2"
        );
        assert!(
            WriteWindow::new(95, 100).check(95, 10, 10, 2).is_err(),
            "past the end"
        );
    }
}
