//! The driver's disk: carries out a host's file outputs on its
//! [`HostFiles`] at once and in order, and holds each answer back for the
//! host's disk latency, like a disk that lands writes in order but reports
//! them late.
//!
//! Answers live in the driver task, so a crash loses those not yet
//! delivered (the operations themselves already happened: a write whose
//! `ChunkWritten` never arrived, as on a real machine).

use std::cell::RefCell;
use std::collections::VecDeque;
use std::time::{Duration, Instant};

use confab_engine::Output;
use confab_engine::testing::files::FileAnswer;

use crate::files::{HostFiles, StorageOp};

/// See the module documentation.
pub struct Disk {
    latency: Duration,
    answers: VecDeque<(Instant, FileAnswer)>,
}

impl Disk {
    /// A disk answering `latency` after each operation.
    pub fn new(latency: Duration) -> Self {
        Self {
            latency,
            answers: VecDeque::new(),
        }
    }

    /// Carries out `out` on `files` at `now`; what it did, for the journal.
    pub fn carry_out<E>(
        &mut self,
        files: &RefCell<HostFiles>,
        now: Instant,
        out: Output<E>,
    ) -> Option<StorageOp> {
        let (op, answer) = files.borrow_mut().carry_out(out);
        if let Some(a) = answer {
            // One latency for all: the queue stays in time order.
            self.answers.push_back((now + self.latency, a));
        }
        op
    }

    /// When the next answer is due.
    pub fn next_at(&self) -> Option<Instant> {
        self.answers.front().map(|(at, _)| *at)
    }

    /// The next answer due by `now`.
    pub fn pop_due(&mut self, now: Instant) -> Option<FileAnswer> {
        if self.next_at()? > now {
            return None;
        }
        self.answers.pop_front().map(|(_, a)| a)
    }
}
