//! [`Transfers`]: the file transfers of a peer, and how the role machine
//! drives them (see [`crate::transfer`] for the sub-machines themselves).
//! Owns the sub-machines, their keys, their `Timer::Transfer`s and which
//! connection each remote's transfers were told of; what goes to a link,
//! to the questions or into the peer's outputs comes back as
//! [`TransferOut`]s, in the order produced, for the role machine to carry
//! out right after the call.
//!
//! The peer owns one map from (remote name, [`TransferKey`]) to its
//! [`TransferId`] and one from `TransferId` to the sub-machine. Ids are
//! read off keys, so both sides of a transfer show the same one
//! ([`numbers`]). Everything
//! reaches a sub-machine through [`Transfers::drive`], which, right
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
//! `handle_disconnected` per remote by [`Transfers::sync`], which
//! compares the open connection to that remote with the one its transfers
//! were last told about (`told`). It runs before a transfer message is
//! routed (so a message never reaches a sub-machine that thinks it is
//! disconnected), when a link opens, and at the end of every entry point
//! (so a close, a replacement by a crossed dial, or a crash of the remote is
//! noticed whatever path closed the connection). While any transfer with a
//! remote `wants_connection`, the peer wants that remote, so the link's
//! usual redial and backoff apply.
//!
//! **Relayed remotes** ([`path`]): events say `via` which path a transfer's
//! bytes take, and a full relayed stream holds its remote's transfers back
//! (their messages wait in the sub-machine) until credit makes room.
//!
//! Invariants: `keys` and `machines` hold the same transfers; every
//! transfer with a deadline has exactly that deadline as its
//! `Timer::Transfer`; `offers[id]` is the question of a pending offer, on
//! the same [`Questions`](super::questions::Questions) queue as chat requests and
//! group invitations, removed with the offer.

mod kept;
mod numbers;
mod path;
mod report;

use std::collections::{BTreeMap, BTreeSet};
use std::time::Instant;

use crate::api::{ConnId, Input, Output, TransferId};
use crate::error::{CommandError, SelfAction};
use crate::ids::RequestId;
use crate::limits::{MAX_TRANSFERS, MAX_TRANSFERS_PER_PEER};
use crate::peer::event::{PeerEvent, TransferStatus, Via};
use crate::peer::io::{Io, Timer};
use crate::transfer::status::KeptPart;
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
    /// The other peer.
    pub fn peer(&self) -> &Name {
        self.get().peer()
    }

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

/// What transfers need done outside themselves, in this order.
#[derive(Debug)]
pub(crate) enum TransferOut {
    /// Send this over the remote's open link (lost if none: the transfer
    /// is told of the loss by [`Transfers::sync`]).
    Send(Name, TransferMessage),
    /// Pass this output on.
    Out(Output<PeerEvent>),
    /// An offer arrived: ask the user, then [`Transfers::offered`].
    Offered {
        id: TransferId,
        from: Name,
        name: String,
        size: u64,
        files: usize,
    },
    /// Transfer `id`'s offer, if still asked, is moot
    /// ([`Transfers::take_offer`]).
    Withdraw(TransferId),
    /// A transfer wants a connection to the remote: reach it if none is open.
    WantsLink(Name),
    /// Start reaching the remote.
    Reach(Name),
}

/// See the module documentation.
#[derive(Debug)]
pub(crate) struct Transfers {
    config: TransferConfig,
    /// Ids read off keys and handed out this run (see [`numbers`]).
    used: BTreeSet<TransferId>,
    /// The next id above those keys read as, for when the one a key reads
    /// as was used already (see [`numbers`]).
    next_unique: u64,
    machines: BTreeMap<TransferId, Machine>,
    keys: BTreeMap<(Name, TransferKey), TransferId>,
    /// The connection each remote's transfers were last told is up.
    told: BTreeMap<Name, ConnId>,
    /// Pending offers and their question.
    offers: BTreeMap<TransferId, RequestId>,
    /// Downloads that ended keeping their `.part` (paused, or cancelled
    /// late), for `/resume` and a second `/cancel`; at most
    /// [`MAX_TRANSFERS`], the oldest forgotten first.
    kept: BTreeMap<TransferId, (Name, KeptPart)>,
    /// The remotes whose connection goes through the registry's relay now
    /// (`via` on transfer events); the peer keeps it up to date.
    relayed: BTreeSet<Name>,
    /// Bytes the relayed stream to each remote may still take before it
    /// is full (see [`crate::limits::MAX_RELAY_WAITING`]); a remote not in
    /// it (reached directly) has no such bound. Spent as messages are
    /// polled, renewed by [`Transfers::set_room`].
    room: BTreeMap<Name, u64>,
    /// Remotes whose transfers stopped polling for want of `room`: they
    /// keep their next messages (their windows fill, so they read no more
    /// of the file) until room comes back.
    held: BTreeSet<Name>,
}

impl Transfers {
    pub fn new(config: TransferConfig) -> Self {
        Self {
            config,
            used: BTreeSet::new(),
            next_unique: 0,
            machines: BTreeMap::new(),
            keys: BTreeMap::new(),
            told: BTreeMap::new(),
            offers: BTreeMap::new(),
            kept: BTreeMap::new(),
            relayed: BTreeSet::new(),
            room: BTreeMap::new(),
            held: BTreeSet::new(),
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
        self.note_used(id);
        // A download that ended keeping its `.part` stays kept: listed,
        // and continued only by `/resume` or `/get`.
        if let Machine::Receive(r) = &m
            && r.is_over()
        {
            if let Some(k) = r.kept() {
                self.kept.insert(id, (r.peer().clone(), k.clone()));
            }
            return;
        }
        self.insert(id, m);
    }

    fn insert(&mut self, id: TransferId, m: Machine) {
        let t = m.get();
        self.keys.insert((t.peer().clone(), t.key()), id);
        self.machines.insert(id, m);
    }

    /// Forgets transfer `id` (its offer goes by [`TransferOut::Withdraw`]).
    fn remove(&mut self, id: TransferId) -> Option<Machine> {
        let m = self.machines.remove(&id);
        if let Some(m) = &m {
            let t = m.get();
            self.keys.remove(&(t.peer().clone(), t.key()));
        }
        m
    }

    /// The user was asked about transfer `id`'s offer: question `rid`.
    pub fn offered(&mut self, id: TransferId, rid: RequestId) {
        self.offers.insert(id, rid);
    }

    /// The question of transfer `id`'s offer, if it is still asked.
    pub fn take_offer(&mut self, id: TransferId) -> Option<RequestId> {
        self.offers.remove(&id)
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

    /// Whether [`Transfers::sync`] would do nothing for every remote of
    /// [`Transfers::remotes`], given the open connection to each (`conn_of`).
    /// Allocates nothing: it runs after every input (see `transfers_settle`).
    pub fn settled(&self, conn_of: impl Fn(&Name) -> Option<ConnId>) -> bool {
        self.told.iter().all(|(name, &c)| conn_of(name) == Some(c))
            && self.machines.values().all(|m| {
                let peer = m.get().peer();
                self.told.get(peer).copied() == conn_of(peer)
            })
    }

    /// Every remote with a transfer, or whose transfers were told of a link.
    pub fn remotes(&self) -> BTreeSet<Name> {
        let mut names: BTreeSet<Name> = self
            .machines
            .values()
            .map(|m| m.get().peer().clone())
            .collect();
        names.extend(self.told.keys().cloned());
        names
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

    /// What `/transfers` shows, by id: those under way, and the downloads
    /// that ended keeping their `.part`.
    pub fn statuses(&self) -> Vec<TransferStatus> {
        let mut all: Vec<TransferStatus> =
            self.machines.values().map(|m| m.get().status()).collect();
        all.extend(self.kept.iter().map(|(id, (peer, k))| k.status(*id, peer)));
        all.sort_by_key(|t| t.id);
        all
    }

    /// How many transfers exist (for tests and statistics).
    pub fn len(&self) -> usize {
        self.machines.len()
    }

    /// Runs `f` on transfer `id` (if it still exists), then drains what it
    /// produced. Every call into a sub-machine goes through here.
    pub fn drive(
        &mut self,
        io: &mut Io,
        id: TransferId,
        f: impl FnOnce(&mut Machine, Instant),
    ) -> Vec<TransferOut> {
        let mut outs = Vec::new();
        if let Some(m) = self.machines.get_mut(&id) {
            f(m, io.now);
            self.drain(io, id, &mut outs);
        }
        outs
    }

    fn drain(&mut self, io: &mut Io, id: TransferId, outs: &mut Vec<TransferOut>) {
        let Some(m) = self.machines.get_mut(&id) else {
            return;
        };
        let m = m.get_mut();
        let peer = m.peer().clone();
        let via = if self.relayed.contains(&peer) {
            Via::Relay
        } else {
            Via::Direct
        };
        // A full relayed stream: the messages wait in the sub-machine,
        // counted in its window, unless it is over.
        loop {
            if !m.is_over() && self.room.get(&peer) == Some(&0) {
                self.held.insert(peer.clone());
                break;
            }
            let Some(msg) = m.poll_message() else { break };
            if let Some(r) = self.room.get_mut(&peer) {
                *r = r.saturating_sub(Self::message_size(&msg));
            }
            outs.push(TransferOut::Send(peer.clone(), msg));
        }
        while let Some(out) = m.poll_output() {
            match out {
                Output::Event(e) => Self::report(outs, id, &peer, via, e),
                other => outs.push(TransferOut::Out(Self::pass(other))),
            }
        }
        match m.poll_timeout() {
            Some(at) => io.timers.set(Timer::Transfer(id), at),
            None => io.timers.cancel(&Timer::Transfer(id)),
        }
        if m.is_over() {
            io.timers.cancel(&Timer::Transfer(id));
            let kept = match self.remove(id) {
                Some(Machine::Receive(r)) => r.kept().cloned(),
                _ => None,
            };
            if let Some(k) = kept {
                self.keep(io, id, peer.clone(), k);
            }
            outs.push(TransferOut::Withdraw(id));
            return;
        }
        // A transfer may come to want a connection with none open and none
        // on the way: one that ended (cancelled, say) while its peer was
        // away has to tell it, and nothing else would dial for it.
        if m.wants_connection() {
            outs.push(TransferOut::WantsLink(peer));
        }
    }

    /// Tells `name`'s transfers whether a connection to `name` is up (`cur`),
    /// if that changed since they were last told (see the module documentation).
    pub fn sync(&mut self, io: &mut Io, name: &Name, cur: Option<ConnId>) -> Vec<TransferOut> {
        let mut outs = Vec::new();
        let prev = self.told.get(name).copied();
        if cur == prev {
            return outs;
        }
        match cur {
            Some(c) => self.told.insert(name.clone(), c),
            None => self.told.remove(name),
        };
        let ids = self.of_peer(name);
        if prev.is_some() {
            for &id in &ids {
                outs.extend(self.drive(io, id, |m, now| m.get_mut().handle_disconnected(now)));
            }
        }
        if cur.is_some() {
            for &id in &ids {
                outs.extend(self.drive(io, id, |m, now| m.get_mut().handle_connected(now)));
            }
        }
        outs
    }

    /// After a restart: sets each restored transfer's timer.
    pub fn restored(&mut self, io: &mut Io) -> Vec<TransferOut> {
        let mut outs = Vec::new();
        let ids: Vec<TransferId> = self.machines.keys().copied().collect();
        for id in ids {
            self.drain(io, id, &mut outs);
        }
        self.trim_kept(io);
        outs
    }

    /// A transfer message from `from` (`me` is this peer) on its verified
    /// link, after [`Transfers::sync`].
    pub fn on_message(
        &mut self,
        io: &mut Io,
        me: &Name,
        from: &Name,
        msg: TransferMessage,
    ) -> Vec<TransferOut> {
        let key = msg.key();
        if let Some(&id) = self.keys.get(&(from.clone(), key)) {
            return self.drive(io, id, |m, now| m.get_mut().handle_message(now, msg));
        }
        if !msg.starts_transfer() {
            // Never answer a Cancel: two sides that both forgot would
            // otherwise bounce it forever.
            if matches!(
                msg,
                TransferMessage::Cancel { .. } | TransferMessage::Pause { .. }
            ) {
                return Vec::new();
            }
            let why = format!(
                "{me} has no such transfer (over, or lost in a restart before it was accepted)"
            );
            return vec![refusal(from, key, &why)];
        }
        if let Err(why) = self.room_for(from) {
            io.notice(format!("refused a {} from {from}: {why}", msg.kind()));
            let why = format!("{me} is busy: {why}");
            return vec![refusal(from, key, &why)];
        }
        let id = self.answering_id(io, from, key);
        let now = io.now;
        let config = self.config.clone();
        let m =
            match msg {
                TransferMessage::Get { key, name } => {
                    io.notice(format!("{id}: {from} is downloading {name}"));
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
                _ => return Vec::new(),
            };
        // Made on a live connection: it starts connected.
        self.insert(id, m);
        let mut outs = Vec::new();
        self.drain(io, id, &mut outs);
        outs
    }

    /// A file answer: to the transfer it names.
    pub fn on_input(&mut self, io: &mut Io, input: Input<'_>) -> Vec<TransferOut> {
        let id = match &input {
            Input::SourceHashing { transfer, .. }
            | Input::SourceOpened { transfer, .. }
            | Input::PartOpened { transfer, .. }
            | Input::ChunkRead { transfer, .. }
            | Input::ChunkWritten { transfer, .. }
            | Input::FileFinished { transfer, .. }
            | Input::StorageFailed { transfer, .. } => *transfer,
            _ => return Vec::new(),
        };
        self.drive(io, id, |m, now| m.get_mut().handle_input(now, input))
    }

    /// `Timer::Transfer(id)` fired.
    pub fn on_timer(&mut self, io: &mut Io, id: TransferId) -> Vec<TransferOut> {
        self.drive(io, id, |m, now| m.get_mut().handle_timeout(now))
    }

    /// `/get NAME FILE` by `me`, to [`Transfers::start`] after a sync. A
    /// `.part` left by an earlier download of FILE is resumed, not started
    /// over (the receiver re-hashes it).
    pub fn get(
        &mut self,
        io: &mut Io,
        me: &Name,
        from: Name,
        file: FileName,
    ) -> Result<(TransferId, Machine), CommandError> {
        self.check_remote(me, &from, SelfAction::DownloadFrom)?;
        if let Some(id) = self.writing(&file) {
            return Err(CommandError::AlreadyDownloading { file, id });
        }
        // Its kept `.part` is this download's now: a `/cancel` of the old
        // id must not delete it, nor a restart list it.
        self.forget_kept(io, |k| k.fetch.as_ref() == Some(&file));
        let (id, key) = self.mint(io, &from);
        let config = self.config.clone();
        io.notice(format!("{id}: asking {from} for {file}"));
        let m = ReceiveTransfer::fetch(io.now, id, key, from, file, config);
        Ok((id, Machine::Receive(m)))
    }

    /// `/send NAME PATH` by `me`, to [`Transfers::start`] after a sync.
    pub fn send(
        &mut self,
        io: &mut Io,
        me: &Name,
        to: Name,
        path: String,
    ) -> Result<(TransferId, Machine), CommandError> {
        if path.trim().is_empty() {
            return Err(CommandError::NothingToSend);
        }
        self.check_remote(me, &to, SelfAction::SendFilesTo)?;
        let (id, key) = self.mint(io, &to);
        let config = self.config.clone();
        io.notice(format!("{id}: offering {path} to {to}"));
        let m = SendTransfer::offer(io.now, id, key, to, path, config);
        Ok((id, Machine::Send(m)))
    }

    fn check_remote(&self, me: &Name, name: &Name, what: SelfAction) -> Result<(), CommandError> {
        if name == me {
            return Err(CommandError::Yourself(what));
        }
        self.room_for(name)
    }

    /// Starts a transfer the user asked for: connected at once if a link
    /// to its peer is open (as last synced), otherwise once one is.
    pub fn start(&mut self, io: &mut Io, id: TransferId, m: Machine) -> Vec<TransferOut> {
        let name = m.get().peer().clone();
        self.insert(id, m);
        if self.told.contains_key(&name) {
            return self.drive(io, id, |m, now| m.get_mut().handle_connected(now));
        }
        let mut outs = Vec::new();
        self.drain(io, id, &mut outs);
        outs.push(TransferOut::Reach(name));
        outs
    }

    /// `/cancel ID`: stops it here and tells the other side; of a
    /// download that ended keeping its `.part`, deletes the `.part`.
    pub fn cancel(
        &mut self,
        io: &mut Io,
        id: TransferId,
    ) -> Result<Vec<TransferOut>, CommandError> {
        if !self.machines.contains_key(&id) {
            return self.delete_kept(io, id);
        }
        Ok(self.drive(io, id, |m, now| m.get_mut().cancel(now)))
    }

    /// `/accept` or `/decline` of the offer of transfer `id`. An offer of
    /// a name another download is writing is saved under the first free
    /// `name (n).ext` instead: two downloads never share a `.part`.
    pub fn answer(&mut self, io: &mut Io, id: TransferId, yes: bool) -> Vec<TransferOut> {
        self.offers.remove(&id);
        let root = match self.machines.get(&id) {
            Some(Machine::Receive(r)) if yes => r.offered_root().cloned(),
            _ => None,
        };
        let Some(root) = root.filter(|r| self.writing(r).is_some()) else {
            return self.drive(io, id, |m, now| {
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
            .find(|name| self.writing(name).is_none());
        let mut notice = None;
        let mut outs = self.drive(io, id, |m, now| {
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
            let message = format!("{id}: {n}");
            outs.push(TransferOut::Out(Output::Event(PeerEvent::Notice {
                message,
            })));
        }
        outs
    }

    /// The registry says `name` is not online: its transfers wait.
    pub fn offline(&self, io: &mut Io, name: &Name) {
        if self.wants(name) {
            io.notice(format!(
                "{name} is not online; transfers with {name} wait until they are"
            ));
        }
    }

    /// The registry does not know `name`: its transfers can never run. They
    /// end here, with that reason, without waiting to tell anyone.
    pub fn unknown(&mut self, io: &mut Io, name: &Name, why: &str) -> Vec<TransferOut> {
        let mut outs = Vec::new();
        for id in self.of_peer(name) {
            let Some(mut m) = self.remove(id) else {
                continue;
            };
            outs.push(TransferOut::Withdraw(id));
            io.timers.cancel(&Timer::Transfer(id));
            let m = m.get_mut();
            m.cancel(io.now);
            while m.poll_message().is_some() {}
            while let Some(out) = m.poll_output() {
                match out {
                    Output::Event(TransferEvent::Failed { .. }) => {
                        let e = PeerEvent::TransferFailed {
                            id,
                            reason: why.to_owned(),
                        };
                        outs.push(TransferOut::Out(Output::Event(e)));
                    }
                    Output::Event(_) => {}
                    other => outs.push(TransferOut::Out(Self::pass(other))),
                }
            }
        }
        outs
    }
}

fn refusal(to: &Name, key: TransferKey, why: &str) -> TransferOut {
    let msg = TransferMessage::Cancel {
        key,
        reason: Reason::truncate(why),
    };
    TransferOut::Send(to.clone(), msg)
}
