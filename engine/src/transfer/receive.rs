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
//!
//! The rooms: this file holds the state, the constructors and the inputs'
//! dispatch; [`answer`] the user's answer to an offer; [`files`] the
//! file-by-file flow; [`finish`] the rename of a verified file; [`report`]
//! the read-only views.

mod answer;
mod files;
mod finish;
mod pause;
mod report;

use std::time::Instant;

use crate::api::{Input, Output, TransferId};
use crate::transfer::config::TransferConfig;
use crate::transfer::offer::{OfferState, expired_reason};
use crate::transfer::outbox::{Outbox, Tell, TransferEvent};
use crate::transfer::progress::Meter;
use crate::transfer::rehash::{Hasher, Rehash};
pub use crate::transfer::status::KeptPart;
use crate::transfer::window::WriteWindow;
use crate::transfer::{HashCheckpoint, KeptRecord, Origin, SavedSide, TransferRecord};
use crate::wire::transfer::{Manifest, TransferKey, TransferMessage};
use crate::wire::{FileName, Name};

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
    /// Ended while disconnected: the `Cancel` (or `Pause`) saying so goes
    /// out on the next connection (or is given up at the deadline, set by
    /// the next call).
    Telling { tell: Tell, until: Option<Instant> },
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
    /// Ended keeping the current file's `.part` (paused, or cancelled
    /// with enough of it received): where it is, for `/resume` and a
    /// second `/cancel`.
    kept: Option<Box<KeptPart>>,
    /// The connection dropped mid-transfer: the next `Want` says from where
    /// it resumes.
    interrupted: bool,
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
            kept: None,
            interrupted: false,
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
            kept,
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
        if let Some(k) = kept {
            // Ended before the restart, keeping its `.part`: over, and
            // only listed (see `pause`).
            let path = t.local_path(t.next_file);
            t.kept = path
                .and_then(|p| t.kept_part(p, k.bytes, k.paused))
                .map(Box::new);
            t.phase = Phase::Over;
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

    /// A connection to the sender is up.
    pub fn handle_connected(&mut self, _now: Instant) {
        self.connected = true;
        if let Phase::Telling { tell, .. } = &self.phase {
            let msg = tell.message(self.key);
            self.send(msg);
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
        if self.connected && self.moving() {
            self.interrupted = true;
            self.boxed.event(TransferEvent::Notice(
                "interrupted: connection lost; will resume".into(),
            ));
        }
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
                TransferMessage::Complete { .. }
                    | TransferMessage::Cancel { .. }
                    | TransferMessage::Pause { .. }
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
            TransferMessage::Pause { .. } => {
                let by = self.peer.to_string();
                self.paused_by(Some(&by), None);
            }
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
                kept: self.kept.as_ref().map(|k| KeptRecord {
                    bytes: k.bytes,
                    paused: k.paused,
                }),
            },
        });
    }

    fn violation(&mut self, what: &str) {
        self.fail(format!("protocol violation by {}: {what}", self.peer), true);
    }

    fn fail(&mut self, reason: String, tell_peer: bool) {
        let tell = tell_peer.then(|| Tell::cancel(&reason));
        self.stop(tell, false, TransferEvent::Failed { reason });
    }

    /// Ends it: tells the sender `tell` (if any), discards the current
    /// `.part` unless `keep` (then noted in `kept`), reports `event`.
    fn stop(&mut self, tell: Option<Tell>, keep: bool, event: TransferEvent) {
        if self.ended() {
            return;
        }
        // Whatever file is under way may have a .part, opened in this run
        // or left by an earlier one.
        let part = match self.phase {
            Phase::Answer | Phase::Completing | Phase::Over | Phase::Telling { .. } => None,
            _ => self.local_path(self.next_file),
        };
        if let Some(tell) = &tell {
            let msg = tell.message(self.key);
            self.send(msg);
        }
        let id = self.id;
        if let Some(path) = part {
            if keep {
                let paused = matches!(event, TransferEvent::Paused { .. });
                let bytes = self.part_bytes();
                self.kept = self.kept_part(path, bytes, paused).map(Box::new);
            } else {
                self.boxed.out.push_back(Output::DiscardPart {
                    transfer: id,
                    file: self.next_file,
                    path,
                });
            }
        }
        if self.kept.is_some() {
            // Kept, so a restart still lists it (see `pause`).
            self.save();
        } else if !matches!(self.phase, Phase::Answer) {
            self.boxed.forget(id);
        }
        self.boxed
            .out
            .push_back(Output::ReleaseFiles { transfer: id });
        self.phase = match tell {
            Some(tell) if !self.connected => Phase::Telling { tell, until: None },
            _ => Phase::Over,
        };
        self.boxed.event(event);
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
