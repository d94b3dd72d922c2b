//! [`ReceiveTransfer`]: the receiving side of one transfer (a `/get`, or an
//! offer this peer accepts). It drives the transfer: it asks for the
//! description (`Get`/`Resume`), then, file by file, opens the `.part`,
//! re-hashes whatever the `.part` already holds, asks for the rest (`Want`),
//! writes and hashes the chunks in order, and only renames a file whose MD5
//! matches the sender's.
//!
//! Invariants:
//! - the MD5 state always covers exactly the bytes `0..expected` of the
//!   current file, in order: chunks are taken only at `expected`, and a
//!   resumed prefix is re-read from the `.part` before anything new;
//! - a chunk is acknowledged only once the driver reports it written, and
//!   acknowledgements are cumulative, so the sender never runs more than
//!   `window` chunks ahead of the disk: the writes pending here are bounded
//!   by the window, and a sender that runs further is cut off;
//! - a file is finished (renamed) only when every byte is written and the
//!   digest matches; otherwise only its `.part` is ever discarded;
//! - the record carries the `finishing` mark from before a file's
//!   `FinishFile` until the file is noted done, so a restart in between
//!   neither fetches nor renames that file again (see [`finish`]);
//! - a `Want` goes out only when every earlier write has landed, after a
//!   `Manifest` on the same connection, so a resume never skips or repeats a
//!   byte, and chunks of an older round are ignored.

use std::time::Instant;

use crate::api::{Input, Output, TransferId};
use crate::transfer::folder::{Change, compare};
use crate::transfer::offer::{OfferState, expired_reason};
use crate::transfer::progress::Meter;
use crate::transfer::rehash::{Hasher, Rehash, Step, resume_point};
use crate::transfer::window::WriteWindow;

mod finish;
mod report;
use crate::transfer::{
    HashCheckpoint, Origin, Outbox, SavedSide, TransferConfig, TransferEvent, TransferRecord,
};
use crate::wire::transfer::{ChunkData, Manifest, RelPath, TransferKey, TransferMessage};
use crate::wire::{FileName, Md5, Name, Reason};

#[derive(Debug)]
enum Phase {
    /// An offer waits for the user's answer.
    Answer,
    /// Between files: the next step is opening `next_file` (or completing).
    Idle,
    /// `OpenPart` asked for `next_file`.
    Opening,
    /// Re-reading the `.part` prefix to rebuild the MD5 state.
    Rehash(Rehash),
    /// Taking chunks of `next_file`.
    Receiving(WriteWindow),
    /// `FinishFile` asked for `next_file`.
    Finishing,
    /// Every file is in place and reported; `Complete` waits for a connection.
    Completing,
    /// Done, failed, declined or cancelled.
    Over,
    /// Ended while disconnected: the `Cancel` saying so goes out on the next
    /// connection (or is given up at the deadline, set by the next call).
    Telling {
        reason: Reason,
        until: Option<Instant>,
    },
}

/// See the module documentation.
#[derive(Debug)]
pub struct ReceiveTransfer {
    id: TransferId,
    key: TransferKey,
    peer: Name,
    origin: Origin,
    config: TransferConfig,
    offer: OfferState,
    manifest: Option<Manifest>,
    /// The name its file (or folder) is written under here, when not the
    /// sender's: another download was already writing that name when this
    /// one was accepted (see [`Self::accept_as`]).
    local_root: Option<FileName>,
    next_file: u32,
    first_path: Option<String>,
    phase: Phase,
    connected: bool,
    /// `Get`/`Resume` sent on this connection.
    asked: bool,
    /// The source is described on this connection: `Want`s may go out.
    synced: bool,
    round: u32,
    hasher: Hasher,
    /// The current file's bytes include a prefix found in the `.part`.
    resumed: bool,
    /// The current file was already started over after failing to verify.
    retried: bool,
    /// Restored with the `finishing` mark: `FinishFile` of `next_file` went
    /// out before the restart and may have been carried out. The next
    /// `PartOpened` of that file tells (see [`finish`]); until then every
    /// save keeps the mark.
    finish_unsure: bool,
    /// The last saved MD5 state of the current file.
    checkpoint: Option<HashCheckpoint>,
    /// A state taken when `expected` crossed a checkpoint line, saved once
    /// the bytes before it are written.
    next_checkpoint: Option<HashCheckpoint>,
    meter: Meter,
    boxed: Outbox,
}

impl ReceiveTransfer {
    #[allow(clippy::too_many_arguments)]
    fn new(
        id: TransferId,
        key: TransferKey,
        peer: Name,
        origin: Origin,
        offer: OfferState,
        manifest: Option<Manifest>,
        phase: Phase,
        config: TransferConfig,
    ) -> Self {
        Self {
            id,
            key,
            peer,
            origin,
            meter: Meter::new(config.progress_interval),
            config,
            offer,
            manifest,
            local_root: None,
            next_file: 0,
            first_path: None,
            phase,
            connected: false,
            asked: false,
            synced: false,
            round: 0,
            hasher: Hasher::default(),
            resumed: false,
            retried: false,
            finish_unsure: false,
            checkpoint: None,
            next_checkpoint: None,
            boxed: Outbox::default(),
        }
    }

    /// `/get NAME FILE`: downloads `name` from `peer`'s shared folder, with a
    /// fresh random `key`. Call [`Self::handle_connected`] once a connection
    /// to `peer` is up.
    pub fn fetch(
        _now: Instant,
        id: TransferId,
        key: TransferKey,
        peer: Name,
        name: FileName,
        config: TransferConfig,
    ) -> Self {
        let mut t = Self::new(
            id,
            key,
            peer,
            Origin::Fetch(name),
            OfferState::Accepted,
            None,
            Phase::Idle,
            config,
        );
        t.save();
        t
    }

    /// An `Offer` arrived (on a live connection): reports
    /// [`TransferEvent::Offered`] and waits for [`Self::accept`] or
    /// [`Self::decline`] until `config.offer_timeout`. A manifest that
    /// breaks the rules is refused at once.
    pub fn offered(
        now: Instant,
        id: TransferId,
        key: TransferKey,
        peer: Name,
        manifest: Manifest,
        config: TransferConfig,
    ) -> Self {
        let offer = OfferState::new(now, config.offer_timeout);
        let mut t = Self::new(
            id,
            key,
            peer,
            Origin::Offer,
            offer,
            None,
            Phase::Answer,
            config,
        );
        t.connected = true;
        if let Err(e) = manifest.check() {
            t.violation(&format!("a bad offer: {e}"));
            return t;
        }
        t.synced = true;
        t.boxed.event(TransferEvent::Offered {
            name: manifest.name.to_string(),
            size: manifest.total(),
            files: manifest.entries.len(),
            folder: manifest.folder,
        });
        t.manifest = Some(manifest);
        t
    }

    /// Rebuilds a download after a restart; it resumes once connected.
    /// `None` if the record is not a receive record.
    pub fn restore(_now: Instant, record: TransferRecord, config: TransferConfig) -> Option<Self> {
        let SavedSide::Receive {
            origin,
            manifest,
            next_file,
            first_path,
            complete,
            checkpoint,
            finishing,
            local_root,
        } = record.side
        else {
            return None;
        };
        let mut t = Self::new(
            record.id,
            record.key,
            record.peer,
            origin,
            OfferState::Accepted,
            manifest,
            Phase::Idle,
            config,
        );
        t.next_file = next_file;
        t.local_root = local_root;
        t.first_path = first_path;
        t.checkpoint = checkpoint;
        if complete {
            t.phase = Phase::Completing;
        } else {
            t.finish_unsure = finishing;
        }
        Some(t)
    }

    /// Its local id.
    pub fn id(&self) -> TransferId {
        self.id
    }

    /// Its key on the wire.
    pub fn key(&self) -> TransferKey {
        self.key
    }

    /// The sending peer.
    pub fn peer(&self) -> &Name {
        &self.peer
    }

    /// Whether it has ended (and, once drained, can be dropped).
    pub fn is_over(&self) -> bool {
        matches!(self.phase, Phase::Over)
    }

    fn ended(&self) -> bool {
        matches!(self.phase, Phase::Over | Phase::Telling { .. })
    }

    /// Whether it needs a connection to its sender (the owner should keep
    /// reconnecting while this holds).
    pub fn wants_connection(&self) -> bool {
        !matches!(self.phase, Phase::Over | Phase::Answer)
    }

    /// The next file output, record or event.
    pub fn poll_output(&mut self) -> Option<Output<TransferEvent>> {
        self.boxed.out.pop_front()
    }

    /// The next message for the sender, on the current connection.
    pub fn poll_message(&mut self) -> Option<TransferMessage> {
        self.boxed.msgs.pop_front()
    }

    /// When [`Self::handle_timeout`] should next be called.
    pub fn poll_timeout(&self) -> Option<Instant> {
        match self.phase {
            Phase::Answer => self.offer.deadline(),
            Phase::Telling { until, .. } => until,
            _ => None,
        }
    }

    /// Expires an unanswered offer when its time has come.
    pub fn handle_timeout(&mut self, now: Instant) {
        if let Phase::Telling { until: Some(t), .. } = self.phase {
            if now >= t {
                self.phase = Phase::Over;
            }
            return;
        }
        if matches!(self.phase, Phase::Answer) && self.offer.expired(now) {
            let name = self.name();
            self.fail(expired_reason(&name, self.config.offer_timeout), true);
        }
        self.arm(now);
    }

    /// What an accepted offer would be written under, with no other name
    /// given: the sender's name for it. `None` unless it waits for an
    /// answer.
    pub fn offered_root(&self) -> Option<&FileName> {
        match self.phase {
            Phase::Answer => self.manifest.as_ref().map(|m| &m.name),
            _ => None,
        }
    }

    /// The name this download writes under in the downloads folder (its
    /// file's, or its folder's), while it may write at all: `None` while an
    /// offer waits for an answer, once every file is in place, and once it
    /// has ended. The peer keeps two live downloads from ever sharing one,
    /// or they would share `.part`s.
    pub fn writes_under(&self) -> Option<&FileName> {
        if matches!(self.phase, Phase::Answer | Phase::Completing) || self.ended() {
            return None;
        }
        if let Some(root) = &self.local_root {
            return Some(root);
        }
        match &self.origin {
            Origin::Fetch(name) => Some(name),
            Origin::Offer => self.manifest.as_ref().map(|m| &m.name),
        }
    }

    /// Accepts the offer, to be written under `root` instead of the
    /// sender's name for it (which another download is writing). Refused,
    /// with why, if some path of the offer would be too long under `root`.
    pub fn accept_as(&mut self, now: Instant, root: FileName) -> Result<(), String> {
        let Some(m) = self.manifest.as_ref() else {
            return Err("no offer to accept".into());
        };
        let files = m.entries.len() as u32;
        let saved = self.local_root.replace(root);
        if let Some(bad) = (0..files).find(|&f| self.local_path(f).is_none()) {
            let path = self
                .manifest
                .as_ref()
                .map(|m| m.entries[bad as usize].path.to_string());
            self.local_root = saved;
            return Err(format!(
                "{} would have too long a name",
                path.unwrap_or_default()
            ));
        }
        self.accept(now);
        Ok(())
    }

    /// Where file `file` is written, relative to the downloads folder: the
    /// sender's path, under `local_root` if it has one.
    fn local_path(&self, file: u32) -> Option<RelPath> {
        let entry = self.manifest.as_ref()?.entries.get(file as usize)?;
        let Some(root) = &self.local_root else {
            return Some(entry.path.clone());
        };
        match entry.path.as_str().split_once('/') {
            Some((_, rest)) => RelPath::new(&format!("{root}/{rest}")).ok(),
            None => RelPath::new(root.as_str()).ok(),
        }
    }

    /// Accepts the offer.
    pub fn accept(&mut self, now: Instant) {
        if !matches!(self.phase, Phase::Answer) {
            return;
        }
        self.offer = OfferState::Accepted;
        self.phase = Phase::Idle;
        self.meter.restart(now, 0);
        let key = self.key;
        self.send(TransferMessage::Accept { key });
        self.save();
        self.advance();
    }

    /// Declines the offer.
    pub fn decline(&mut self, now: Instant) {
        if matches!(self.phase, Phase::Answer) {
            self.fail("declined".into(), true);
        }
        self.arm(now);
    }

    /// The user cancels (`/cancel`). Once every file is in place and `Done`
    /// reported, only telling the sender is left: there is nothing to
    /// cancel, and failing then would report one transfer both done and
    /// failed (and have the sender fail a transfer that was delivered).
    pub fn cancel(&mut self, now: Instant) {
        if matches!(self.phase, Phase::Completing) {
            return;
        }
        self.fail("cancelled".into(), true);
        self.arm(now);
    }

    /// A connection to the sender is up.
    pub fn handle_connected(&mut self, _now: Instant) {
        self.connected = true;
        if let Phase::Telling { reason, .. } = &self.phase {
            let (key, reason) = (self.key, reason.clone());
            self.send(TransferMessage::Cancel { key, reason });
            self.phase = Phase::Over;
            return;
        }
        if matches!(self.phase, Phase::Completing) {
            let key = self.key;
            self.send(TransferMessage::Complete { key });
            return;
        }
        self.advance();
    }

    /// The connection to the sender is gone.
    pub fn handle_disconnected(&mut self, _now: Instant) {
        self.connected = false;
        self.asked = false;
        self.synced = false;
        self.boxed.msgs.clear();
        if let Phase::Receiving(r) = &mut self.phase {
            r.want_sent = false;
        }
    }

    /// A message with this transfer's key from the sender.
    pub fn handle_message(&mut self, now: Instant, msg: TransferMessage) {
        if self.ended() {
            return;
        }
        if matches!(self.phase, Phase::Completing) {
            // Only the echo of `Complete` is awaited; a sender that no longer
            // knows the transfer (it finished, or restarted) answers `Cancel`.
            if matches!(
                msg,
                TransferMessage::Complete { .. } | TransferMessage::Cancel { .. }
            ) {
                self.phase = Phase::Over;
                self.boxed.forget(self.id);
                self.boxed
                    .out
                    .push_back(Output::ReleaseFiles { transfer: self.id });
            }
            return;
        }
        match msg {
            TransferMessage::Manifest { manifest, .. } => self.handle_manifest(manifest),
            TransferMessage::Offer { manifest, .. } => {
                // The offer made again after a reconnect: same offer, or a lie.
                if self.manifest.as_ref() != Some(&manifest) {
                    return self.violation("a different offer under the same key");
                }
                if matches!(self.phase, Phase::Answer) {
                    self.synced = true;
                }
            }
            TransferMessage::Chunk {
                round,
                file,
                offset,
                data,
                ..
            } => self.handle_chunk(round, file, offset, data),
            TransferMessage::Cancel { reason, .. } => {
                let why = format!("{} cancelled: {reason}", self.peer);
                self.fail(why, false);
            }
            other => {
                let _ = now;
                self.violation(&format!("a receiver does not take {}", other.kind()))
            }
        }
    }

    /// A file answer about this transfer.
    pub fn handle_input(&mut self, now: Instant, input: Input<'_>) {
        if self.ended() {
            return;
        }
        match input {
            Input::PartOpened { file, len, .. } => self.handle_part_opened(now, file, len),
            Input::ChunkRead {
                file, offset, data, ..
            } => self.handle_rehash_read(now, file, offset, data),
            Input::ChunkWritten { file, offset, .. } => self.handle_written(now, file, offset),
            Input::FileFinished { file, path, .. } => self.handle_finished(file, path),
            Input::StorageFailed { error, .. } => self.fail(error, true),
            _ => {}
        }
        self.arm(now);
    }

    // ---- internals ---------------------------------------------------------

    fn send(&mut self, msg: TransferMessage) {
        if self.connected {
            self.boxed.msgs.push_back(msg);
        }
    }

    fn save(&mut self) {
        self.boxed.persist(TransferRecord {
            id: self.id,
            key: self.key,
            peer: self.peer.clone(),
            side: SavedSide::Receive {
                origin: self.origin.clone(),
                manifest: self.manifest.clone(),
                next_file: self.next_file,
                first_path: self.first_path.clone(),
                complete: matches!(self.phase, Phase::Completing),
                checkpoint: self.checkpoint.clone(),
                finishing: matches!(self.phase, Phase::Finishing) || self.finish_unsure,
                local_root: self.local_root.clone(),
            },
        });
    }

    /// Takes the next step that does not wait for an answer.
    fn advance(&mut self) {
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
                let msg = TransferMessage::Want {
                    key: self.key,
                    round: self.round,
                    file: self.next_file,
                    offset: r.expected,
                    chunk: self.config.chunk(),
                    window: self.config.window(),
                };
                self.send(msg);
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

    fn handle_manifest(&mut self, new: Manifest) {
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
            Origin::Fetch(name) => new.folder || new.name != *name,
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
    fn start_over(&mut self) {
        self.hasher = Hasher::default();
        self.finish_unsure = false;
        self.resumed = false;
        self.checkpoint = None;
        self.next_checkpoint = None;
        self.open_part(true);
    }

    fn handle_part_opened(&mut self, now: Instant, file: u32, len: u64) {
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

    fn handle_rehash_read(&mut self, now: Instant, file: u32, offset: u64, data: &[u8]) {
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

    fn handle_chunk(&mut self, round: u32, file: u32, offset: u64, data: ChunkData) {
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

    fn handle_written(&mut self, now: Instant, file: u32, offset: u64) {
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

    fn violation(&mut self, what: &str) {
        self.fail(format!("protocol violation by {}: {what}", self.peer), true);
    }

    fn fail(&mut self, reason: String, tell_peer: bool) {
        if self.ended() {
            return;
        }
        // Whatever file is under way may have a .part, opened in this run
        // or left by an earlier one.
        let part = match self.phase {
            Phase::Answer | Phase::Completing | Phase::Over | Phase::Telling { .. } => None,
            _ => self.local_path(self.next_file),
        };
        if tell_peer {
            let key = self.key;
            self.send(TransferMessage::Cancel {
                key,
                reason: Reason::truncate(&reason),
            });
        }
        let id = self.id;
        if let Some(path) = part {
            self.boxed.out.push_back(Output::DiscardPart {
                transfer: id,
                file: self.next_file,
                path,
            });
        }
        if !matches!(self.phase, Phase::Answer) {
            self.boxed.forget(id);
        }
        self.boxed
            .out
            .push_back(Output::ReleaseFiles { transfer: id });
        self.phase = if tell_peer && !self.connected {
            Phase::Telling {
                reason: Reason::truncate(&reason),
                until: None,
            }
        } else {
            Phase::Over
        };
        self.boxed.event(TransferEvent::Failed { reason });
    }

    /// Starts the give-up clock of a `Telling` phase just entered.
    fn arm(&mut self, now: Instant) {
        if let Phase::Telling { until, .. } = &mut self.phase {
            until.get_or_insert(now + self.config.idle_timeout);
        }
    }
}

#[cfg(test)]
mod tests;
