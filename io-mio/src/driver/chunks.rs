//! Chunk scheduling: serving the engine's disk reads under the send budget,
//! in order per transfer, and feeding back the chunk writes and file work the
//! worker threads finished. Touches the driver's transfer files and chunk
//! queue, and hands results to the engine.

use std::collections::VecDeque;
use std::time::Instant;

use confab_engine::{Engine, Input, TransferId};

use super::{ChunkRequest, Driver};
use crate::files::{FileAnswer, Written};
use crate::role::Stoppable;

impl<E> Driver<E>
where
    E: Engine,
    E::Command: Stoppable,
{
    /// Does waiting chunk reads while the queues are under the send budget,
    /// at most `left` of them. Returns whether any was done.
    pub(super) fn serve_chunk_reads(&mut self, now: Instant, left: &mut usize) -> bool {
        let mut served = false;
        while *left > 0 && self.total_queued() < self.config.send_budget {
            let Some(req) = self.chunk_reads.pop_front() else {
                break;
            };
            *left -= 1;
            served = true;
            self.serve_read(now, req);
            self.drain(now);
        }
        served
    }

    /// Serves every queued read of `transfer` now, before a later file
    /// output of it is carried out (outputs of one transfer keep their order).
    pub(super) fn serve_reads_of(&mut self, now: Instant, transfer: TransferId) {
        if !self.chunk_reads.iter().any(|r| r.transfer == transfer) {
            return;
        }
        let (mine, rest): (VecDeque<ChunkRequest>, VecDeque<ChunkRequest>) = self
            .chunk_reads
            .drain(..)
            .partition(|r| r.transfer == transfer);
        self.chunk_reads = rest;
        for req in mine {
            self.serve_read(now, req);
        }
    }

    pub(super) fn serve_read(&mut self, now: Instant, req: ChunkRequest) {
        let ChunkRequest {
            transfer,
            file,
            offset,
            len,
        } = req;
        self.wait_writes_of(now, transfer);
        match self.files.read_chunk(transfer, file, offset, len) {
            Ok(data) => self.engine.handle_input(
                now,
                Input::ChunkRead {
                    transfer,
                    file,
                    offset,
                    data,
                },
            ),
            Err(error) => self
                .engine
                .handle_input(now, Input::StorageFailed { transfer, error }),
        }
    }

    /// Waits for `transfer`'s chunk writes under way, so that a later file
    /// output of it never overtakes them, and feeds the engine their answers.
    pub(super) fn wait_writes_of(&mut self, now: Instant, transfer: TransferId) {
        let done = self.files.wait_writes(transfer);
        self.feed_written(now, done);
    }

    pub(super) fn feed_written(&mut self, now: Instant, done: Vec<Written>) {
        for w in done {
            let input = match w.result {
                Ok(()) => Input::ChunkWritten {
                    transfer: w.transfer,
                    file: w.file,
                    offset: w.offset,
                },
                Err(error) => Input::StorageFailed {
                    transfer: w.transfer,
                    error,
                },
            };
            self.engine.handle_input(now, input);
        }
    }

    /// Feeds the engine what the file worker and the chunk writer have finished.
    pub(super) fn take_file_answers(&mut self, now: Instant) {
        let done = self.files.collect_written();
        self.feed_written(now, done);
        for answer in self.files.collect() {
            let input = match answer {
                FileAnswer::Hashing {
                    transfer,
                    hashed,
                    total,
                } => Input::SourceHashing {
                    transfer,
                    hashed,
                    total,
                },
                FileAnswer::Opened { transfer, source } => Input::SourceOpened { transfer, source },
                FileAnswer::Failed { transfer, error } => Input::StorageFailed { transfer, error },
            };
            self.engine.handle_input(now, input);
        }
    }
}
