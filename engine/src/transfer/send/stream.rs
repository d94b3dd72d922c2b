//! Serving a receiver's `Want`s: reading the wanted file in order, sending
//! each chunk as its read lands, and moving the window on with each `Ack`.
//!
//! Keeps the first two invariants of [`super`]: at most `window` chunks read
//! or sent and not acknowledged, and chunks in offset order, each exactly the
//! bytes read. Touches only the [`Stream`] phase, the meter and the outbox.
//! Holds the planted bug `SkipChunk` (see `crate::planted`) in `pump`.

use std::collections::BTreeMap;
use std::time::Instant;

use super::{Phase, SendTransfer, Stream};
use crate::api::Output;
use crate::bounded::Blob;
use crate::limits::{MAX_CHUNK_LEN, MAX_WINDOW};
use crate::planted::PlantedBug;
use crate::transfer::outbox::TransferEvent;
use crate::transfer::progress::size_text;
use crate::wire::transfer::TransferMessage;

impl SendTransfer {
    pub(super) fn handle_want(
        &mut self,
        now: Instant,
        round: u32,
        file: u32,
        offset: u64,
        chunk: u32,
        window: u32,
    ) {
        if matches!(self.phase, Phase::Opening) {
            // A Want racing a re-description: the receiver wants again once
            // it has the new manifest.
            return;
        }
        if !self.offer.accepted() {
            return self.violation("a Want before the offer was accepted");
        }
        let Some(entry) = self
            .manifest
            .as_ref()
            .and_then(|m| m.entries.get(file as usize))
        else {
            return self.violation(&format!("a Want for file {file}, which does not exist"));
        };
        let size = entry.size;
        if offset > size {
            return self.violation(&format!("a Want from {offset}, past the end {size}"));
        }
        if chunk == 0 || chunk as usize > MAX_CHUNK_LEN || window == 0 || window > MAX_WINDOW {
            return self.violation(&format!("a Want with chunk {chunk} and window {window}"));
        }
        let old_round = match &self.phase {
            Phase::Streaming(s) => round <= s.round,
            _ => false,
        };
        if old_round {
            return self.violation("a Want of an old round");
        }
        self.phase = Phase::Streaming(Stream {
            round,
            file,
            size,
            chunk: u64::from(chunk.min(self.config.chunk())),
            window: u64::from(window.min(self.config.window())),
            next_read: offset,
            sent: offset,
            acked: offset,
            reads: BTreeMap::new(),
        });
        if std::mem::take(&mut self.interrupted) && offset > 0 {
            self.boxed.event(TransferEvent::Notice(format!(
                "resuming from {}",
                size_text(offset)
            )));
        }
        let (done, _) = self.progress();
        self.meter.restart(now, done);
        self.pump();
    }

    /// Asks for reads while the window has room.
    pub(super) fn pump(&mut self) {
        let id = self.id;
        let Phase::Streaming(s) = &mut self.phase else {
            return;
        };
        while s.next_read < s.size {
            let len = s.chunk.min(s.size - s.next_read);
            if s.next_read + len - s.acked > s.window * s.chunk {
                break;
            }
            // PLANTED BUG `SkipChunk` (see `crate::planted`): no read, offset
            // advanced, the unfilled buffer sent as the chunk (once the read
            // before it, still pending, is answered).
            if !s.reads.is_empty()
                && s.next_read == s.chunk
                && self.config.planted.has(PlantedBug::SkipChunk)
            {
                s.reads.insert(s.next_read, Some(vec![0; len as usize]));
                s.next_read += len;
                continue;
            }
            s.reads.insert(s.next_read, None);
            self.boxed.out.push_back(Output::ReadChunk {
                transfer: id,
                file: s.file,
                offset: s.next_read,
                len: len as u32,
            });
            s.next_read += len;
        }
    }

    pub(super) fn handle_read(&mut self, file: u32, offset: u64, data: &[u8]) {
        let Phase::Streaming(s) = &mut self.phase else {
            return;
        };
        if s.file != file || !matches!(s.reads.get(&offset), Some(None)) {
            // Stale: asked before a disconnect or a new Want.
            return;
        }
        let want = s.chunk.min(s.size - offset);
        if data.len() as u64 != want {
            let name = self.display_name();
            return self.fail(
                format!(
                    "{name} changed while being sent: read {} bytes at {offset}, expected {want}",
                    data.len()
                ),
                true,
            );
        }
        s.reads.insert(offset, Some(data.to_vec()));
        // Send what is now contiguous, in order.
        let key = self.key;
        let mut out = Vec::new();
        while let Some(mut e) = s.reads.first_entry() {
            let Some(bytes) = e.get_mut().take() else {
                break;
            };
            let at = *e.key();
            e.remove();
            s.sent = at + bytes.len() as u64;
            out.push(TransferMessage::Chunk {
                key,
                round: s.round,
                file: s.file,
                offset: at,
                // Within MAX_CHUNK_LEN: the chunk size is clamped to it.
                data: Blob::new(bytes).unwrap_or_default(),
            });
        }
        for m in out {
            self.send(m);
        }
    }

    pub(super) fn handle_ack(&mut self, now: Instant, round: u32, file: u32, upto: u64) {
        let Phase::Streaming(s) = &mut self.phase else {
            // An ack racing a disconnect or a new round: harmless.
            return;
        };
        if round != s.round || file != s.file {
            return;
        }
        if upto <= s.acked || upto > s.sent {
            let why = format!(
                "an Ack up to {upto}, outside the unacknowledged {}..{}",
                s.acked, s.sent
            );
            return self.violation(&why);
        }
        s.acked = upto;
        let (done, total) = self.progress();
        if let Some(rate) = self.meter.tick(now, done, total) {
            self.boxed
                .event(TransferEvent::Progress { done, total, rate });
        }
        self.pump();
    }
}
