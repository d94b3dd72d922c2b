//! The trace of a run: every observation, one line each, folded into a hash.
//!
//! The hash is 64-bit FNV-1a over the lines (implemented here: std's hasher
//! is randomised per process). Two runs of one seed must produce the same
//! lines and so the same hash; the `trace <hash>` line the binary prints is
//! how a replay proves it is the same run. The last lines are kept to show
//! what led up to a failure; all of them only when asked.

use std::collections::VecDeque;

use crate::observe::Observation;

const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
const FNV_PRIME: u64 = 0x0000_0100_0000_01b3;

/// Lines kept for a failure report.
const TAIL: usize = 40;

/// See the module documentation.
#[derive(Debug)]
pub struct Trace {
    hash: u64,
    lines: u64,
    tail: VecDeque<String>,
    full: Option<Vec<String>>,
}

impl Trace {
    /// An empty trace; `keep_all` keeps every line (for `--trace`).
    pub fn new(keep_all: bool) -> Self {
        Self {
            hash: FNV_OFFSET,
            lines: 0,
            tail: VecDeque::with_capacity(TAIL),
            full: keep_all.then(Vec::new),
        }
    }

    /// Adds one observation.
    pub fn record(&mut self, obs: &Observation) {
        self.line(obs.to_string());
    }

    /// Adds one line of text (run-loop notes: faults, phases).
    pub fn line(&mut self, line: String) {
        for b in line.bytes().chain(std::iter::once(b'\n')) {
            self.hash ^= u64::from(b);
            self.hash = self.hash.wrapping_mul(FNV_PRIME);
        }
        self.lines += 1;
        if self.tail.len() == TAIL {
            self.tail.pop_front();
        }
        if let Some(full) = &mut self.full {
            full.push(line.clone());
        }
        self.tail.push_back(line);
    }

    /// The hash so far.
    pub fn hash(&self) -> u64 {
        self.hash
    }

    /// How many lines so far.
    pub fn len(&self) -> u64 {
        self.lines
    }

    /// Whether nothing was recorded.
    pub fn is_empty(&self) -> bool {
        self.lines == 0
    }

    /// The last lines, oldest first.
    pub fn tail(&self) -> impl Iterator<Item = &str> {
        self.tail.iter().map(String::as_str)
    }

    /// Every line, if kept.
    pub fn full(&self) -> Option<&[String]> {
        self.full.as_deref()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fnv1a_known_value() {
        // FNV-1a 64 of "a\n".
        let mut t = Trace::new(false);
        t.line("a".into());
        let mut h = FNV_OFFSET;
        for b in b"a\n" {
            h ^= u64::from(*b);
            h = h.wrapping_mul(FNV_PRIME);
        }
        assert_eq!(t.hash(), h);
        assert_ne!(t.hash(), Trace::new(false).hash());
    }
}
