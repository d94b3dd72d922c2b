//! [`Transfers`]: the file transfers of a peer, and how the role machine
//! drives them (see [`crate::transfer`] for the sub-machines themselves).
//!
//! The peer owns one map from (remote name, [`TransferKey`]) to its local
//! [`TransferId`] and one from `TransferId` to the sub-machine. Everything
//! reaches a sub-machine through [`Peer::drive_transfer`], which, right
//! after the call, drains what the sub-machine produced: its messages onto
//! the remote's open connection, its file outputs and records into the
//! peer's outputs, its events turned into [`PeerEvent`]s, its deadline into
//! the peer's one timer table (`Timer::Transfer`). A sub-machine that is
//! over is dropped there and then.
//!
//! **Fairness.** Because every call is drained at once, transfer messages
//! and chat messages reach a connection in the order they were produced.
//! A sub-machine hands out `Chunk`s only while fewer than a window are
//! unacknowledged, so a chat message waits behind at most one window per
//! transfer sharing that connection, never behind a file (and at most
//! [`MAX_TRANSFERS_PER_PEER`] transfers share one).
//!
//! **Connections.** Sub-machines are told `handle_connected` /
//! `handle_disconnected` per remote by [`Peer::transfer_sync`], which
//! compares the open connection to that remote with the one its transfers
//! were last told about (`told`). It runs before a transfer message is
//! routed (so a message never reaches a sub-machine that thinks it is
//! disconnected), when a link opens, and at the end of every entry point
//! (so a close, a replacement by a crossed dial, or a crash of the remote is
//! noticed whatever path closed the connection). While any transfer with a
//! remote `wants_connection`, the peer wants that remote, so the link's
//! usual redial and backoff apply.
//!
//! Invariants: `keys` and `machines` hold the same transfers; every
//! transfer with a deadline has exactly that deadline as its
//! `Timer::Transfer`; `offers[id]` is the question of a pending offer, on
//! the same [`Questions`](super::chat::Questions) queue as chat requests and
//! group invitations, removed with the offer.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Instant;

use crate::api::{CommandError, ConnId, Input, Output, TransferId};
use crate::error::SelfAction;
use crate::limits::{MAX_TRANSFERS, MAX_TRANSFERS_PER_PEER};
use crate::peer::Peer;
use crate::peer::command::RequestId;
use crate::peer::event::{PeerEvent, TransferStatus};
use crate::peer::io::{Io, Timer};
use crate::peer::questions::{Question, Questions};
use crate::transfer::{
    ReceiveTransfer, SavedSide, SendTransfer, TransferConfig, TransferEvent, TransferMachine,
    TransferRecord,
};
use crate::wire::transfer::{TransferKey, TransferMessage};
use crate::wire::{FileName, Name, Reason};

/// One transfer, either side.
#[derive(Debug)]
pub(crate) enum Machine {
    Send(SendTransfer),
    Receive(ReceiveTransfer),
}

impl Machine {
    fn get(&self) -> &dyn TransferMachine {
        match self {
            Machine::Send(s) => s,
            Machine::Receive(r) => r,
        }
    }

    fn get_mut(&mut self) -> &mut dyn TransferMachine {
        match self {
            Machine::Send(s) => s,
            Machine::Receive(r) => r,
        }
    }
}

/// See the module documentation.
#[derive(Debug)]
pub(crate) struct Transfers {
    config: TransferConfig,
    next_id: u64,
    machines: BTreeMap<TransferId, Machine>,
    keys: BTreeMap<(Name, TransferKey), TransferId>,
    /// The connection each remote's transfers were last told is up.
    told: BTreeMap<Name, ConnId>,
    /// Pending offers and their question.
    offers: BTreeMap<TransferId, RequestId>,
}

impl Transfers {
    pub fn new(config: TransferConfig) -> Self {
        Self {
            config,
            next_id: 0,
            machines: BTreeMap::new(),
            keys: BTreeMap::new(),
            told: BTreeMap::new(),
            offers: BTreeMap::new(),
        }
    }

    /// Rebuilds a transfer saved before a restart (an unusable record is
    /// ignored: the driver's store may hold an older version's).
    pub fn restore(&mut self, now: Instant, record: TransferRecord) {
        let id = record.id;
        if self.machines.contains_key(&id) {
            return;
        }
        let config = self.config.clone();
        let m = match record.side {
            SavedSide::Send { .. } => SendTransfer::restore(now, record, config).map(Machine::Send),
            SavedSide::Receive { .. } => {
                ReceiveTransfer::restore(now, record, config).map(Machine::Receive)
            }
        };
        let Some(m) = m else { return };
        // Ids stay unique among the live ones (a finished transfer's id may
        // come back after a restart; nothing refers to it any more).
        self.next_id = self.next_id.max(id.0);
        self.insert(id, m);
    }

    fn mint_id(&mut self) -> TransferId {
        self.next_id += 1;
        TransferId(self.next_id)
    }

    fn mint_key(&self, io: &mut Io, peer: &Name) -> TransferKey {
        loop {
            let key = TransferKey(io.rng.next_u64());
            if !self.keys.contains_key(&(peer.clone(), key)) {
                return key;
            }
        }
    }

    fn insert(&mut self, id: TransferId, m: Machine) {
        let t = m.get();
        self.keys.insert((t.peer().clone(), t.key()), id);
        self.machines.insert(id, m);
    }

    /// Forgets transfer `id`; its pending question, if any.
    fn remove(&mut self, id: TransferId) -> (Option<Machine>, Option<RequestId>) {
        let m = self.machines.remove(&id);
        if let Some(m) = &m {
            let t = m.get();
            self.keys.remove(&(t.peer().clone(), t.key()));
        }
        (m, self.offers.remove(&id))
    }

    fn live(&self) -> impl Iterator<Item = &dyn TransferMachine> {
        self.machines
            .values()
            .map(Machine::get)
            .filter(|m| !m.is_over())
    }

    /// Whether one more transfer with `name` is allowed; why not if not.
    pub fn room_for(&self, name: &Name) -> Result<(), CommandError> {
        if self.live().count() >= MAX_TRANSFERS {
            return Err(CommandError::TooManyTransfers);
        }
        if self.live().filter(|m| m.peer() == name).count() >= MAX_TRANSFERS_PER_PEER {
            return Err(CommandError::TooManyTransfersWith(name.clone()));
        }
        Ok(())
    }

    /// Whether a transfer needs a connection to `name`.
    pub fn wants(&self, name: &Name) -> bool {
        self.live()
            .any(|m| m.peer() == name && m.wants_connection())
    }

    /// Everyone a transfer needs a connection to.
    pub fn wanted(&self) -> BTreeSet<Name> {
        self.live()
            .filter(|m| m.wants_connection())
            .map(|m| m.peer().clone())
            .collect()
    }

    /// The live download writing under `root` in the downloads folder, if
    /// any (see [`ReceiveTransfer::writes_under`]).
    fn writing(&self, root: &FileName) -> Option<TransferId> {
        self.machines.iter().find_map(|(id, m)| match m {
            Machine::Receive(r) if r.writes_under() == Some(root) => Some(*id),
            _ => None,
        })
    }

    fn of_peer(&self, name: &Name) -> Vec<TransferId> {
        self.machines
            .iter()
            .filter(|(_, m)| m.get().peer() == name)
            .map(|(id, _)| *id)
            .collect()
    }

    /// What `/transfers` shows, by id.
    pub fn statuses(&self) -> Vec<TransferStatus> {
        self.machines.values().map(|m| m.get().status()).collect()
    }

    /// How many transfers exist (for tests and statistics).
    pub fn len(&self) -> usize {
        self.machines.len()
    }
}

/// Turns what transfer `id` reports into the peer's events.
fn report(
    io: &mut Io,
    questions: &mut Questions,
    offers: &mut BTreeMap<TransferId, RequestId>,
    id: TransferId,
    from: &Name,
    e: TransferEvent,
) {
    let event = match e {
        TransferEvent::Offered {
            name, size, files, ..
        } => {
            let rid = questions.add(Question::File(id));
            offers.insert(id, rid);
            if files > 1 {
                io.notice(format!("{id}: {from} offers {name}, {files} files"));
            }
            PeerEvent::FileOffer {
                id: rid,
                from: from.clone(),
                name,
                size,
            }
        }
        TransferEvent::Progress { done, total, rate } => PeerEvent::TransferProgress {
            id,
            done,
            total,
            rate,
        },
        TransferEvent::Notice(message) => PeerEvent::Notice {
            message: format!("{id}: {message}"),
        },
        TransferEvent::Done {
            direction,
            name,
            path,
            md5,
        } => PeerEvent::TransferDone {
            id,
            direction,
            name,
            path,
            md5,
        },
        TransferEvent::Failed { reason } => {
            // An offer that ends unanswered (expired, withdrawn) is no
            // longer a question.
            if let Some(rid) = offers.remove(&id) {
                questions.remove(rid);
            }
            PeerEvent::TransferFailed { id, reason }
        }
    };
    io.event(event);
}

/// A transfer's non-event output as the peer's.
fn pass(out: Output<TransferEvent>) -> Output<PeerEvent> {
    out.map_event(|e| PeerEvent::Notice {
        message: format!("{e:?}"),
    })
}

impl Peer {
    /// Runs `f` on transfer `id` (if it still exists), then carries out
    /// what it produced. Every call into a sub-machine goes through here.
    pub(crate) fn drive_transfer(&mut self, id: TransferId, f: impl FnOnce(&mut Machine, Instant)) {
        let now = self.io.now;
        let Some(m) = self.transfers.machines.get_mut(&id) else {
            return;
        };
        f(m, now);
        self.drain_transfer(id);
    }

    fn drain_transfer(&mut self, id: TransferId) {
        let Some(m) = self.transfers.machines.get_mut(&id) else {
            return;
        };
        let m = m.get_mut();
        let peer = m.peer().clone();
        while let Some(msg) = m.poll_message() {
            // Not open: lost like bytes on a dropped connection; the
            // transfer is told of the loss by `transfer_sync`.
            self.links.send_transfer(&mut self.io, &peer, msg);
        }
        while let Some(out) = m.poll_output() {
            match out {
                Output::Event(e) => report(
                    &mut self.io,
                    &mut self.questions,
                    &mut self.transfers.offers,
                    id,
                    &peer,
                    e,
                ),
                other => self.io.out.push_back(pass(other)),
            }
        }
        match m.poll_timeout() {
            Some(at) => self.io.timers.set(Timer::Transfer(id), at),
            None => self.io.timers.cancel(&Timer::Transfer(id)),
        }
        if m.is_over() {
            self.io.timers.cancel(&Timer::Transfer(id));
            if let (_, Some(rid)) = self.transfers.remove(id) {
                self.questions.remove(rid);
            }
            return;
        }
        // A transfer may come to want a connection with none open and none
        // on the way: one that ended (cancelled, say) while its peer was
        // away has to tell it, and nothing else would dial for it.
        if m.wants_connection() && self.links.conn_of(&peer).is_none() {
            self.ensure_link(&peer);
        }
    }

    /// Tells `name`'s transfers whether a connection to `name` is up, if that
    /// changed since they were last told (see the module documentation).
    pub(crate) fn transfer_sync(&mut self, name: &Name) {
        let cur = self.links.conn_of(name);
        let prev = self.transfers.told.get(name).copied();
        if cur == prev {
            return;
        }
        match cur {
            Some(c) => self.transfers.told.insert(name.clone(), c),
            None => self.transfers.told.remove(name),
        };
        let ids = self.transfers.of_peer(name);
        if prev.is_some() {
            for &id in &ids {
                self.drive_transfer(id, |m, now| m.get_mut().handle_disconnected(now));
            }
        }
        if cur.is_some() {
            for &id in &ids {
                self.drive_transfer(id, |m, now| m.get_mut().handle_connected(now));
            }
        }
    }

    /// At the end of every entry point: notices connections that came or
    /// went by any path.
    pub(crate) fn transfers_settle(&mut self) {
        let mut names: BTreeSet<Name> = self
            .transfers
            .machines
            .values()
            .map(|m| m.get().peer().clone())
            .collect();
        names.extend(self.transfers.told.keys().cloned());
        for name in names {
            self.transfer_sync(&name);
        }
    }

    /// After a restart: sets each restored transfer's timer.
    pub(crate) fn transfers_restored(&mut self) {
        let ids: Vec<TransferId> = self.transfers.machines.keys().copied().collect();
        for id in ids {
            self.drain_transfer(id);
        }
    }

    /// A transfer message from `from` on its verified link.
    pub(crate) fn on_transfer_message(&mut self, from: &Name, msg: TransferMessage) {
        self.transfer_sync(from);
        let key = msg.key();
        if let Some(&id) = self.transfers.keys.get(&(from.clone(), key)) {
            return self.drive_transfer(id, |m, now| m.get_mut().handle_message(now, msg));
        }
        if !msg.starts_transfer() {
            // Never answer a Cancel: two sides that both forgot would
            // otherwise bounce it forever.
            if !matches!(msg, TransferMessage::Cancel { .. }) {
                let why = format!(
                    "{} has no such transfer (over, or lost in a restart before it was accepted)",
                    self.me()
                );
                self.refuse_transfer(from, key, &why);
            }
            return;
        }
        if let Err(why) = self.transfers.room_for(from) {
            self.io
                .notice(format!("refused a {} from {from}: {why}", msg.kind()));
            let why = format!("{} is busy: {why}", self.me());
            return self.refuse_transfer(from, key, &why);
        }
        let id = self.transfers.mint_id();
        let now = self.io.now;
        let config = self.transfers.config.clone();
        let m =
            match msg {
                TransferMessage::Get { key, name } => {
                    self.io
                        .notice(format!("{id}: {from} is downloading {name}"));
                    Machine::Send(SendTransfer::fetch(
                        now,
                        id,
                        key,
                        from.clone(),
                        name,
                        config,
                    ))
                }
                TransferMessage::Offer { key, manifest } => Machine::Receive(
                    ReceiveTransfer::offered(now, id, key, from.clone(), manifest, config),
                ),
                _ => return,
            };
        // Made on a live connection: it starts connected.
        self.transfers.insert(id, m);
        self.drain_transfer(id);
    }

    fn refuse_transfer(&mut self, to: &Name, key: TransferKey, why: &str) {
        let msg = TransferMessage::Cancel {
            key,
            reason: Reason::truncate(why),
        };
        self.links.send_transfer(&mut self.io, to, msg);
    }

    /// A file answer: to the transfer it names.
    pub(crate) fn transfer_input(&mut self, input: Input<'_>) {
        let id = match &input {
            Input::SourceHashing { transfer, .. }
            | Input::SourceOpened { transfer, .. }
            | Input::PartOpened { transfer, .. }
            | Input::ChunkRead { transfer, .. }
            | Input::ChunkWritten { transfer, .. }
            | Input::FileFinished { transfer, .. }
            | Input::StorageFailed { transfer, .. } => *transfer,
            _ => return,
        };
        self.drive_transfer(id, |m, now| m.get_mut().handle_input(now, input));
    }

    /// `Timer::Transfer(id)` fired.
    pub(crate) fn transfer_timer(&mut self, id: TransferId) {
        self.drive_transfer(id, |m, now| m.get_mut().handle_timeout(now));
    }

    /// Starts a transfer the user asked for: connected at once if a link
    /// to its peer is open, otherwise once one is.
    fn start_transfer(&mut self, id: TransferId, m: Machine) {
        let name = m.get().peer().clone();
        self.transfer_sync(&name);
        self.transfers.insert(id, m);
        if self.transfers.told.contains_key(&name) {
            self.drive_transfer(id, |m, now| m.get_mut().handle_connected(now));
        } else {
            self.drain_transfer(id);
            self.ensure_link(&name);
        }
    }

    fn check_remote(&self, name: &Name, what: SelfAction) -> Result<(), CommandError> {
        if name == self.me() {
            return Err(CommandError::Yourself(what));
        }
        self.transfers.room_for(name)
    }

    /// `/get NAME FILE`. A `.part` left by an earlier download of FILE is
    /// resumed, not started over (the receiver re-hashes it).
    pub(crate) fn cmd_get(&mut self, from: Name, file: FileName) -> Result<(), CommandError> {
        self.check_remote(&from, SelfAction::DownloadFrom)?;
        if let Some(id) = self.transfers.writing(&file) {
            return Err(CommandError::AlreadyDownloading { file, id });
        }
        let id = self.transfers.mint_id();
        let key = self.transfers.mint_key(&mut self.io, &from);
        let config = self.transfers.config.clone();
        self.io.notice(format!("{id}: asking {from} for {file}"));
        let m = ReceiveTransfer::fetch(self.io.now, id, key, from, file, config);
        self.start_transfer(id, Machine::Receive(m));
        Ok(())
    }

    /// `/send NAME PATH`.
    pub(crate) fn cmd_send_file(&mut self, to: Name, path: String) -> Result<(), CommandError> {
        if path.trim().is_empty() {
            return Err(CommandError::NothingToSend);
        }
        self.check_remote(&to, SelfAction::SendFilesTo)?;
        let id = self.transfers.mint_id();
        let key = self.transfers.mint_key(&mut self.io, &to);
        let config = self.transfers.config.clone();
        self.io.notice(format!("{id}: offering {path} to {to}"));
        let m = SendTransfer::offer(self.io.now, id, key, to, path, config);
        self.start_transfer(id, Machine::Send(m));
        Ok(())
    }

    /// `/transfers`.
    pub(crate) fn cmd_transfers(&mut self) {
        let transfers = self.transfers.statuses();
        self.io.event(PeerEvent::Transfers { transfers });
    }

    /// `/cancel ID`: stops it here and tells the other side.
    pub(crate) fn cmd_cancel(&mut self, id: TransferId) -> Result<(), CommandError> {
        if !self.transfers.machines.contains_key(&id) {
            return Err(CommandError::NoSuchTransfer(id));
        }
        self.drive_transfer(id, |m, now| m.get_mut().cancel(now));
        Ok(())
    }

    /// `/accept` or `/decline` of the offer of transfer `id`. An offer of
    /// a name another download is writing is saved under the first free
    /// `name (n).ext` instead: two downloads never share a `.part`.
    pub(crate) fn answer_offer(&mut self, id: TransferId, yes: bool) {
        self.transfers.offers.remove(&id);
        let root = match self.transfers.machines.get(&id) {
            Some(Machine::Receive(r)) if yes => r.offered_root().cloned(),
            _ => None,
        };
        let Some(root) = root.filter(|r| self.transfers.writing(r).is_some()) else {
            return self.drive_transfer(id, |m, now| {
                if let Machine::Receive(r) = m {
                    if yes {
                        r.accept(now);
                    } else {
                        r.decline(now);
                    }
                }
            });
        };
        let free = (1..=MAX_TRANSFERS as u32 + 1)
            .filter_map(|n| root.numbered(n))
            .find(|name| self.transfers.writing(name).is_none());
        let mut notice = None;
        self.drive_transfer(id, |m, now| {
            let Machine::Receive(r) = m else { return };
            let Some(free) = free else {
                notice = Some(format!("{root} cannot be given a free name; declined"));
                return r.decline(now);
            };
            notice = Some(match r.accept_as(now, free.clone()) {
                Ok(()) => format!("{root} is already being downloaded; saving this one as {free}"),
                Err(why) => {
                    r.decline(now);
                    format!("cannot save {root} as {free} ({why}); declined")
                }
            });
        });
        if let Some(n) = notice {
            self.io.notice(format!("{id}: {n}"));
        }
    }

    /// The registry says `name` is not online: its transfers wait.
    pub(crate) fn transfers_offline(&mut self, name: &Name) {
        if self.transfers.wants(name) {
            self.io.notice(format!(
                "{name} is not online; transfers with {name} wait until they are"
            ));
        }
    }

    /// The registry does not know `name`: its transfers can never run. They
    /// end here, with that reason, without waiting to tell anyone.
    pub(crate) fn transfers_unknown(&mut self, name: &Name, why: &str) {
        for id in self.transfers.of_peer(name) {
            let (Some(mut m), rid) = self.transfers.remove(id) else {
                continue;
            };
            if let Some(rid) = rid {
                self.questions.remove(rid);
            }
            self.io.timers.cancel(&Timer::Transfer(id));
            let m = m.get_mut();
            m.cancel(self.io.now);
            while m.poll_message().is_some() {}
            while let Some(out) = m.poll_output() {
                match out {
                    Output::Event(TransferEvent::Failed { .. }) => {
                        self.io.event(PeerEvent::TransferFailed {
                            id,
                            reason: why.to_owned(),
                        })
                    }
                    Output::Event(_) => {}
                    other => self.io.out.push_back(pass(other)),
                }
            }
        }
    }
}
