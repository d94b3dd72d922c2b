//! The file-by-file flow of a [`ReceiveTransfer`]: ask for the description,
//! open each `.part`, re-hash what it already holds, ask for the rest
//! (`Want`), and take the chunks in order as the driver writes them.
//!
//! Keeps the invariants of the module documentation of [`super`]: the MD5
//! state covers exactly `0..expected`, acknowledgements follow the writes,
//! and a `Want` goes out only after a `Manifest` on the same connection.
//! Touches the phase, the manifest, the hasher and the round; finishing a
//! verified file is [`super::finish`].

use std::time::Instant;

use super::{Phase, ReceiveTransfer};
use crate::api::Output;
use crate::transfer::folder::{Change, compare};
use crate::transfer::outbox::TransferEvent;
use crate::transfer::rehash::{Hasher, Rehash, Step, resume_point};
use crate::transfer::window::WriteWindow;
use crate::transfer::{HashCheckpoint, Origin};
use crate::wire::Md5;
use crate::wire::transfer::{ChunkData, Manifest, TransferMessage};

impl ReceiveTransfer {
    /// Takes the next step that does not wait for an answer.
    pub(super) fn advance(&mut self) {
        if self.is_over() || matches!(self.phase, Phase::Answer) {
            return;
        }
        let files = self.manifest.as_ref().map(|m| m.entries.len() as u32);
        if matches!(self.phase, Phase::Idle) && files == Some(self.next_file) && self.synced {
            return self.complete();
        }
        if self.connected && !self.synced && !self.asked {
            self.asked = true;
            let key = self.key;
            let msg = match &self.origin {
                Origin::Fetch(name) => TransferMessage::Get {
                    key,
                    name: name.clone(),
                },
                Origin::Offer => TransferMessage::Resume { key },
            };
            self.send(msg);
        }
        if !self.synced {
            return;
        }
        match &mut self.phase {
            Phase::Idle => self.open_part(false),
            Phase::Receiving(r)
                if !r.want_sent && r.written == r.expected && r.expected < r.size =>
            {
                r.want_sent = true;
                self.round += 1;
                let at = r.expected;
                let msg = TransferMessage::Want {
                    key: self.key,
                    round: self.round,
                    file: self.next_file,
                    offset: r.expected,
                    chunk: self.config.chunk(),
                    window: self.config.window(),
                };
                self.send(msg);
                if self.interrupted {
                    self.resuming_from(at);
                }
            }
            _ => {}
        }
    }

    fn open_part(&mut self, fresh: bool) {
        let (Some(size), Some(path)) = (
            self.entry_size(self.next_file),
            self.local_path(self.next_file),
        ) else {
            return;
        };
        self.phase = Phase::Opening;
        self.boxed.out.push_back(Output::OpenPart {
            transfer: self.id,
            file: self.next_file,
            path,
            size,
            fresh,
        });
    }

    pub(super) fn handle_manifest(&mut self, new: Manifest) {
        if self.asked && self.synced && self.manifest.as_ref() == Some(&new) {
            return self.redescribed();
        }
        if !self.asked || self.synced {
            return self.violation("a Manifest nobody asked for");
        }
        if let Err(e) = new.check() {
            return self.violation(&format!("a bad manifest: {e}"));
        }
        let other_file = match &self.origin {
            Origin::Fetch(name) => new.name != *name,
            Origin::Offer => false,
        };
        if other_file {
            return self.violation("a Manifest of another file than the one asked for");
        }
        self.synced = true;
        match self.manifest.take() {
            None => {
                self.manifest = Some(new);
                self.save();
            }
            Some(old) => {
                let change = compare(&old, &new, self.next_file as usize);
                let name = new.name.to_string();
                self.manifest = Some(new);
                match change {
                    Change::Same => {}
                    Change::Current => {
                        self.save();
                        // A file verified and (maybe) renamed is not started
                        // over: it is the user's, or about to be.
                        if !matches!(self.phase, Phase::Finishing) && !self.finish_unsure {
                            self.boxed.event(TransferEvent::Notice(format!(
                                "{name} changed at {}; starting the file over",
                                self.peer
                            )));
                            self.start_over();
                        }
                    }
                    Change::All => {
                        self.next_file = 0;
                        // Whatever was finishing stays where it lands; the
                        // mark must not be saved against file 0.
                        self.phase = Phase::Idle;
                        self.finish_unsure = false;
                        self.save();
                        self.boxed.event(TransferEvent::Notice(format!(
                            "{name} changed at {}; starting over (files already received stay)",
                            self.peer
                        )));
                        self.start_over();
                    }
                    Change::Other => {
                        return self.violation("a Manifest of another transfer");
                    }
                }
            }
        }
        self.advance();
    }

    /// The sender described the same source again on this connection. It
    /// answered a `Get` or `Resume` twice: one asked on a connection that was
    /// then replaced (a crossed dial), one on its replacement, both answered
    /// on the live one. Answering the second, it dropped whatever it was
    /// streaming and ignores `Want`s that raced it, so ask again from where
    /// the bytes are; chunks still in flight belong to an older round and are
    /// ignored.
    fn redescribed(&mut self) {
        if let Phase::Receiving(r) = &mut self.phase {
            r.want_sent = false;
            self.round += 1;
        }
        self.advance();
    }

    /// Drops what is known of the current file and opens it afresh.
    pub(super) fn start_over(&mut self) {
        self.hasher = Hasher::default();
        self.finish_unsure = false;
        self.resumed = false;
        self.checkpoint = None;
        self.next_checkpoint = None;
        self.open_part(true);
    }

    pub(super) fn handle_part_opened(&mut self, now: Instant, file: u32, len: u64) {
        if !matches!(self.phase, Phase::Opening) || file != self.next_file {
            return;
        }
        let Some(size) = self.entry_size(file) else {
            return;
        };
        if std::mem::take(&mut self.finish_unsure) && self.finished_before_restart(len) {
            return;
        }
        self.hasher = Hasher::default();
        if len > size {
            // Longer than the file can be: not a prefix of it.
            return self.open_part(true);
        }
        self.resumed = len > 0;
        self.next_checkpoint = None;
        // Start re-reading from the saved MD5 state if it is of this very
        // file and the .part still reaches it.
        let entry = self
            .manifest
            .as_ref()
            .and_then(|m| m.entries.get(file as usize))
            .map(|e| (e.size, e.md5));
        let from = resume_point(self.checkpoint.take(), file, entry, len);
        let start = match from {
            Some((h, c)) => {
                self.hasher = h;
                let at = c.offset;
                self.checkpoint = Some(c);
                at
            }
            None => 0,
        };
        if len == start {
            self.start_receiving(now, len, size);
        } else {
            self.phase = Phase::Rehash(Rehash::new(start, len));
            self.pump_rehash();
        }
    }

    fn start_receiving(&mut self, now: Instant, at: u64, size: u64) {
        self.phase = Phase::Receiving(WriteWindow::new(at, size));
        let (done, _) = self.progress();
        self.meter.restart(now, done);
        self.maybe_verify();
        self.advance();
    }

    fn pump_rehash(&mut self) {
        let at = (self.id, self.next_file);
        let chunk = u64::from(self.config.chunk());
        let window = u64::from(self.config.window());
        if let Phase::Rehash(r) = &mut self.phase {
            r.pump(at, chunk, window, &mut self.boxed.out);
        }
    }

    pub(super) fn handle_rehash_read(&mut self, now: Instant, file: u32, offset: u64, data: &[u8]) {
        let chunk = u64::from(self.config.chunk());
        let Phase::Rehash(r) = &mut self.phase else {
            return;
        };
        if file != self.next_file {
            return;
        }
        match r.take(offset, data, chunk, &mut self.hasher) {
            Step::Stale => {}
            // The .part changed under us: trust none of it.
            Step::Short => self.start_over(),
            Step::Hashed(false) => self.pump_rehash(),
            Step::Hashed(true) => {
                let len = r.len;
                let size = self.entry_size(file).unwrap_or(len);
                self.start_receiving(now, len, size);
            }
        }
    }

    pub(super) fn handle_chunk(&mut self, round: u32, file: u32, offset: u64, data: ChunkData) {
        if round < self.round {
            return; // of an earlier round, still in flight: ignore
        }
        let chunk = u64::from(self.config.chunk());
        let window = u64::from(self.config.window());
        let (id, synced) = (self.id, self.synced);
        let Phase::Receiving(r) = &mut self.phase else {
            return self.violation("a Chunk nobody asked for");
        };
        if !synced || !r.want_sent || round != self.round {
            return self.violation("a Chunk nobody asked for");
        }
        let len = data.len() as u64;
        if file != self.next_file {
            return self.violation(&format!("a Chunk of file {file}"));
        }
        if let Err(why) = r.check(offset, len, chunk, window) {
            return self.violation(&why);
        }
        self.hasher.update(&data[..]);
        let every = self.config.checkpoint_every.max(1);
        if (r.expected / every != (r.expected + len) / every) && self.next_checkpoint.is_none() {
            let md5 = self
                .manifest
                .as_ref()
                .and_then(|m| m.entries.get(file as usize))
                .map_or_else(Md5::default, |e| e.md5);
            self.next_checkpoint = Some(HashCheckpoint {
                file,
                offset: r.expected + len,
                size: r.size,
                md5,
                state: self.hasher.save(),
            });
        }
        r.push(offset, len);
        self.boxed.out.push_back(Output::WriteChunk {
            transfer: id,
            file,
            offset,
            data: data.into_vec(),
        });
    }

    pub(super) fn handle_written(&mut self, now: Instant, file: u32, offset: u64) {
        let Phase::Receiving(r) = &mut self.phase else {
            return;
        };
        if file != self.next_file {
            return;
        }
        let Some(moved) = r.confirm(offset) else {
            return;
        };
        let reached = self
            .next_checkpoint
            .as_ref()
            .is_some_and(|c| c.offset <= r.written);
        if moved && r.want_sent && self.synced {
            let msg = TransferMessage::Ack {
                key: self.key,
                round: self.round,
                file,
                upto: r.written,
            };
            self.send(msg);
        }
        if reached {
            self.checkpoint = self.next_checkpoint.take();
            self.save();
        }
        let (done, total) = self.progress();
        if let Some(rate) = self.meter.tick(now, done, total) {
            self.boxed
                .event(TransferEvent::Progress { done, total, rate });
        }
        self.maybe_verify();
        self.advance();
    }
}
