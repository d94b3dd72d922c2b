//! [`SendTransfer`]: the sending side of one transfer (a fetch served from
//! the shared folder, or an offer of a file or folder).
//!
//! It opens its source through the driver, describes it (`Offer` or
//! `Manifest`), and then does what the receiver's `Want`s ask: it reads chunks
//! of the wanted file from the wanted offset and sends them in order.
//!
//! Invariants:
//! - bytes read or sent but not yet acknowledged never exceed `window`
//!   chunks, so memory held here (chunks read out of order) and data queued
//!   on the connection are bounded by the window, whatever the file size;
//! - chunks go out in offset order, each exactly the bytes the driver read;
//!   a short read means the source changed under us, and fails the transfer
//!   rather than sending a file that never existed;
//! - messages are only queued while connected, and a disconnect drops the
//!   queue and every read in flight (their answers are then ignored): after
//!   a reconnect the receiver says where to resume;
//! - a remote that breaks the protocol loses this transfer (a `Cancel` with
//!   the reason, and a `Failed` event), never anything else;
//! - an accepted transfer never waits for its receiver without a deadline,
//!   except an offer while disconnected (see [`give_up`]): the receiver's
//!   last word may be lost with a connection this side already replaced.
//!
//! The rooms: this file holds the state, the constructors and the inputs'
//! dispatch; [`stream`] serves `Want`s (reads, chunks, acks, the window);
//! [`give_up`] bounds the waits; [`report`] holds the read-only views.

mod give_up;
mod report;
mod stream;

use std::collections::BTreeMap;
use std::time::Instant;

use crate::api::{Input, Output, Source, TransferId};
use crate::transfer::config::TransferConfig;
use crate::transfer::folder::manifest_from;
use crate::transfer::offer::{OfferState, expired_reason};
use crate::transfer::outbox::{Outbox, Tell, TransferEvent};
use crate::transfer::progress::Meter;
use crate::transfer::status::Direction;
use crate::transfer::{SavedSide, TransferRecord};
use crate::wire::transfer::{Manifest, TransferKey, TransferMessage};
use crate::wire::{FileName, Name};
use give_up::GiveUp;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Fetch,
    Offer,
}

#[derive(Debug)]
enum Phase {
    /// `OpenSource` asked; waiting for its answer.
    Opening,
    /// Described; waiting for an answer or a `Want`.
    Waiting,
    /// Sending the file a `Want` asked for.
    Streaming(Stream),
    /// Done, failed or cancelled.
    Over,
    /// Ended while disconnected: the `Cancel` (or `Pause`) saying so goes
    /// out on the next connection (or is given up at the deadline, set by
    /// the next call).
    Telling { tell: Tell, until: Option<Instant> },
}

#[derive(Debug)]
struct Stream {
    round: u32,
    file: u32,
    size: u64,
    chunk: u64,
    window: u64,
    /// Offset of the next `ReadChunk` to ask for.
    next_read: u64,
    /// Everything before this is sent.
    sent: u64,
    /// Everything before this is acknowledged.
    acked: u64,
    /// Reads asked for and not yet sent, by offset: `None` until answered.
    reads: BTreeMap<u64, Option<Vec<u8>>>,
}

/// See the module documentation.
#[derive(Debug)]
pub struct SendTransfer {
    id: TransferId,
    key: TransferKey,
    peer: Name,
    source: Source,
    kind: Kind,
    config: TransferConfig,
    offer: OfferState,
    manifest: Option<Manifest>,
    phase: Phase,
    connected: bool,
    /// When waiting for the receiver ends.
    give_up: GiveUp,
    meter: Meter,
    hashing: Meter,
    boxed: Outbox,
    /// The connection dropped while streaming: the next `Want` says from
    /// where it resumes.
    interrupted: bool,
}

impl SendTransfer {
    fn new(
        now: Instant,
        id: TransferId,
        key: TransferKey,
        peer: Name,
        source: Source,
        kind: Kind,
        config: TransferConfig,
    ) -> Self {
        let offer = match kind {
            Kind::Fetch => OfferState::Accepted,
            Kind::Offer => OfferState::new(now, config.offer_timeout),
        };
        let mut t = Self {
            id,
            key,
            peer,
            source: source.clone(),
            kind,
            meter: Meter::new(config.progress_interval),
            hashing: Meter::new(config.progress_interval),
            config,
            offer,
            manifest: None,
            phase: Phase::Opening,
            // A fetch is made on an incoming `Get`, so its connection is up;
            // for an offer the owner says when (`handle_connected`).
            connected: kind == Kind::Fetch,
            give_up: GiveUp::default(),
            boxed: Outbox::default(),
            interrupted: false,
        };
        t.boxed.out.push_back(Output::OpenSource {
            transfer: id,
            source,
        });
        t
    }

    /// Serves a `Get` for `name` from the shared folder, on the live
    /// connection the `Get` came on.
    pub fn fetch(
        now: Instant,
        id: TransferId,
        key: TransferKey,
        peer: Name,
        name: FileName,
        config: TransferConfig,
    ) -> Self {
        Self::new(
            now,
            id,
            key,
            peer,
            Source::Shared(name),
            Kind::Fetch,
            config,
        )
    }

    /// Offers what `path` names (a file or folder) to `peer`, with a fresh
    /// random `key`. The offer expires after `config.offer_timeout`.
    pub fn offer(
        now: Instant,
        id: TransferId,
        key: TransferKey,
        peer: Name,
        path: String,
        config: TransferConfig,
    ) -> Self {
        Self::new(now, id, key, peer, Source::Local(path), Kind::Offer, config)
    }

    /// Rebuilds an accepted offer after a restart; it waits for the
    /// receiver's `Resume`. `None` if the record is not a send record.
    pub fn restore(now: Instant, record: TransferRecord, config: TransferConfig) -> Option<Self> {
        let SavedSide::Send { source, manifest } = record.side else {
            return None;
        };
        let mut t = Self::new(
            now,
            record.id,
            record.key,
            record.peer,
            source,
            Kind::Offer,
            config,
        );
        // No need to open the source until the receiver asks.
        t.boxed.out.clear();
        t.offer = OfferState::Accepted;
        t.manifest = Some(manifest);
        t.phase = Phase::Waiting;
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

    /// The receiving peer.
    pub fn peer(&self) -> &Name {
        &self.peer
    }

    /// Whether it has ended (and, once drained, can be dropped).
    pub fn is_over(&self) -> bool {
        matches!(self.phase, Phase::Over)
    }

    /// Whether it needs a connection to the receiver: to make its offer, or
    /// to say it was cancelled.
    pub fn wants_connection(&self) -> bool {
        matches!(self.phase, Phase::Telling { .. })
            || (!self.offer.accepted() && !matches!(self.phase, Phase::Over))
    }

    fn ended(&self) -> bool {
        matches!(self.phase, Phase::Over | Phase::Telling { .. })
    }

    /// The next file output, record or event.
    pub fn poll_output(&mut self) -> Option<Output<TransferEvent>> {
        self.boxed.out.pop_front()
    }

    /// The next message for the receiver, on the current connection.
    pub fn poll_message(&mut self) -> Option<TransferMessage> {
        self.boxed.msgs.pop_front()
    }

    /// When [`Self::handle_timeout`] should next be called.
    pub fn poll_timeout(&self) -> Option<Instant> {
        match self.phase {
            Phase::Over => return None,
            Phase::Telling { until, .. } => return until,
            _ => {}
        }
        match (self.offer.deadline(), self.give_up.deadline()) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Runs the offer's expiry if it is due.
    pub fn handle_timeout(&mut self, now: Instant) {
        if let Phase::Telling { until: Some(t), .. } = self.phase {
            if now >= t {
                self.phase = Phase::Over;
            }
            return;
        }
        if !self.ended() && self.offer.expired(now) {
            let name = self.display_name();
            self.fail(expired_reason(&name, self.config.offer_timeout), true);
        }
        if let Some(why) = self.give_up.due(now, &self.peer, &self.config) {
            self.fail(why, false);
        }
        self.arm(now);
    }

    /// A connection to the receiver is up.
    pub fn handle_connected(&mut self, now: Instant) {
        self.connected = true;
        self.give_up
            .connected(now, self.offer.accepted(), &self.config);
        if let Phase::Telling { tell, .. } = &self.phase {
            let msg = tell.message(self.key);
            self.send(msg);
            self.phase = Phase::Over;
            return;
        }
        // An offer not yet answered is made again: the first may have been
        // lost with the old connection.
        if !self.offer.accepted() && matches!(self.phase, Phase::Waiting) {
            self.send_description();
        }
    }

    /// The connection to the receiver is gone.
    pub fn handle_disconnected(&mut self, now: Instant) {
        self.connected = false;
        self.give_up
            .disconnected(now, self.kind == Kind::Fetch, &self.config);
        self.boxed.msgs.clear();
        if matches!(self.phase, Phase::Streaming(_)) {
            self.phase = Phase::Waiting;
            self.interrupted = true;
            self.boxed.event(TransferEvent::Notice(format!(
                "interrupted: connection lost; will resume when {} is back",
                self.peer
            )));
        }
    }

    /// The user cancels (`/cancel`).
    pub fn cancel(&mut self, now: Instant) {
        self.fail("cancelled".into(), true);
        self.arm(now);
    }

    /// `/pause`: stops here and tells the receiver, which keeps
    /// what arrived. Refused, with why, when there is nothing to pause.
    pub fn pause(&mut self, now: Instant) -> Result<(), String> {
        if self.ended() {
            return Err("it is over".into());
        }
        if !self.offer.accepted() {
            return Err(format!(
                "{} has not accepted it yet (/cancel withdraws it)",
                self.peer
            ));
        }
        let reason = format!("paused; {} keeps what arrived", self.peer);
        self.stop(Some(Tell::Pause), TransferEvent::Paused { reason });
        self.arm(now);
        Ok(())
    }

    /// A message with this transfer's key from the receiver.
    pub fn handle_message(&mut self, now: Instant, msg: TransferMessage) {
        if self.ended() {
            return;
        }
        self.give_up.heard();
        match msg {
            TransferMessage::Get { name, .. } => match &self.source {
                // Asked again (the receiver reconnected or restarted):
                // describe the file as it is now.
                Source::Shared(n) if *n == name => self.reopen(),
                _ => self.violation("a Get for another file under the same key"),
            },
            TransferMessage::Accept { .. } => {
                if self.kind == Kind::Offer && !self.offer.accepted() {
                    self.accepted(now);
                }
            }
            TransferMessage::Resume { .. } => {
                if self.kind != Kind::Offer {
                    return self.violation("Resume of a fetch");
                }
                // Resuming implies acceptance (an Accept may have been lost).
                if !self.offer.accepted() {
                    self.accepted(now);
                }
                self.reopen();
            }
            TransferMessage::Want {
                round,
                file,
                offset,
                chunk,
                window,
                ..
            } => self.handle_want(now, round, file, offset, chunk, window),
            TransferMessage::Ack {
                round, file, upto, ..
            } => self.handle_ack(now, round, file, upto),
            TransferMessage::Complete { .. } => self.complete(),
            TransferMessage::Pause { .. } => {
                let reason = format!("paused by {}", self.peer);
                self.stop(None, TransferEvent::Paused { reason });
            }
            TransferMessage::Cancel { reason, .. } => {
                let why = format!("{} cancelled: {reason}", self.peer);
                self.fail(why, false);
            }
            other @ (TransferMessage::Offer { .. }
            | TransferMessage::Manifest { .. }
            | TransferMessage::Chunk { .. }) => {
                self.violation(&format!("a sender does not take {}", other.kind()))
            }
        }
    }

    /// A file answer about this transfer.
    pub fn handle_input(&mut self, now: Instant, input: Input<'_>) {
        if self.ended() {
            return;
        }
        match input {
            Input::SourceHashing { hashed, total, .. } => self.hashing(now, hashed, total),
            Input::SourceOpened { source, .. } => {
                if !matches!(self.phase, Phase::Opening) {
                    return;
                }
                match manifest_from(&source) {
                    Ok(m) => {
                        self.manifest = Some(m);
                        self.phase = Phase::Waiting;
                        if self.offer.accepted() {
                            self.save();
                        }
                        self.send_description();
                    }
                    Err(e) => self.fail(e, true),
                }
            }
            Input::ChunkRead {
                file, offset, data, ..
            } => self.handle_read(file, offset, data),
            Input::StorageFailed { error, .. } => self.fail(error, true),
            _ => {}
        }
        self.arm(now);
    }

    // ---- internals ---------------------------------------------------------

    fn hashing(&mut self, now: Instant, hashed: u64, total: u64) {
        if self.hashing.tick(now, hashed, total).is_none() {
            return;
        }
        let pct = hashed.saturating_mul(100) / total.max(1);
        let name = self.display_name();
        self.boxed
            .event(TransferEvent::Notice(format!("hashing {name}: {pct}%")));
    }

    fn send(&mut self, msg: TransferMessage) {
        if self.connected {
            self.boxed.msgs.push_back(msg);
        }
    }

    fn send_description(&mut self) {
        let Some(manifest) = self.manifest.clone() else {
            return;
        };
        let key = self.key;
        if self.offer.accepted() {
            self.send(TransferMessage::Manifest { key, manifest });
        } else {
            self.send(TransferMessage::Offer { key, manifest });
        }
    }

    fn reopen(&mut self) {
        self.phase = Phase::Opening;
        self.boxed.out.push_back(Output::OpenSource {
            transfer: self.id,
            source: self.source.clone(),
        });
    }

    fn accepted(&mut self, now: Instant) {
        self.offer = OfferState::Accepted;
        self.meter.restart(now, 0);
        self.save();
    }

    fn save(&mut self) {
        // Fetches are not saved: after a restart the receiver asks again.
        if self.kind != Kind::Offer {
            return;
        }
        let Some(manifest) = self.manifest.clone() else {
            return;
        };
        self.boxed.persist(TransferRecord {
            id: self.id,
            key: self.key,
            peer: self.peer.clone(),
            side: SavedSide::Send {
                source: self.source.clone(),
                manifest,
            },
        });
    }

    fn complete(&mut self) {
        if self.manifest.is_none() {
            return self.violation("Complete before anything was described");
        }
        // Echoed, so the receiver knows it may forget the transfer.
        let key = self.key;
        if self.connected {
            self.boxed.msgs.push_back(TransferMessage::Complete { key });
        }
        let Some(m) = &self.manifest else {
            return;
        };
        let (name, md5, folder) = (m.name.to_string(), m.digest(), m.folder);
        let (files, size) = (m.entries.len() as u64, m.total());
        let path = match &self.source {
            Source::Shared(n) => n.to_string(),
            Source::Local(p) => p.clone(),
        };
        self.end();
        self.boxed.event(TransferEvent::Done {
            direction: Direction::Send,
            name,
            path,
            md5,
            folder,
            files,
            size,
        });
    }

    fn violation(&mut self, what: &str) {
        self.fail(format!("protocol violation by {}: {what}", self.peer), true);
    }

    fn fail(&mut self, reason: String, tell_peer: bool) {
        let tell = tell_peer.then(|| Tell::cancel(&reason));
        self.stop(tell, TransferEvent::Failed { reason });
    }

    /// Ends it, telling the receiver `tell` (if any), and reports `event`.
    fn stop(&mut self, tell: Option<Tell>, event: TransferEvent) {
        if self.ended() {
            return;
        }
        // An offer that failed before it was ever described (its source
        // could not be opened) is unknown to the receiver: there is no one
        // to tell, so it must not linger (and dial the receiver) to say so.
        let unheard_of = self.kind == Kind::Offer && self.manifest.is_none();
        let untold = tell.is_some() && !self.connected && !unheard_of;
        if let Some(tell) = &tell {
            let msg = tell.message(self.key);
            self.send(msg);
        }
        self.end();
        if let Some(tell) = tell.filter(|_| untold) {
            self.phase = Phase::Telling { tell, until: None };
        }
        self.boxed.event(event);
    }

    /// Starts the give-up clock of a `Telling` phase just entered.
    fn arm(&mut self, now: Instant) {
        if let Phase::Telling { until, .. } = &mut self.phase {
            until.get_or_insert(now + self.config.idle_timeout);
        }
    }

    fn end(&mut self) {
        self.phase = Phase::Over;
        if self.kind == Kind::Offer {
            self.boxed.forget(self.id);
        }
        self.boxed
            .out
            .push_back(Output::ReleaseFiles { transfer: self.id });
    }
}
