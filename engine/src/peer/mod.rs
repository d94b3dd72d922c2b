//! The peer role: a person's confab. It keeps a session with the registry,
//! opens direct connections to other peers, and runs the chats, groups,
//! friends and history that travel over them.
//!
//! [`Peer`] is the role machine: it owns one [`io::Io`] (outputs, the one
//! timer table, seeded randomness) and the sub-machines, routes every input
//! to the one it concerns, and turns what they report into events. Each
//! sub-machine lives in its own module:
//!
//! - [`registry_link`]: log-in, heartbeats, reconnection, registry requests;
//! - [`link`]: direct connections, the identity check, crossed dials;
//! - [`streams`]: numbered, acknowledged, exactly-once delivery;
//! - [`chat`]: one-to-one chats and their consent;
//! - [`group`]: groups, invitations and membership;
//! - [`friends`]: the friends list and presence;
//! - [`history`]: each conversation's stored messages;
//! - [`records`]: what is kept durably;
//! - `transfers`: file transfers (the [`crate::transfer`] sub-machines);
//! - `lookups`: what the peer does with the registry's answers.
//!
//! Rules every handler follows: due timers run first; a remote's protocol
//! violation closes that connection (with a goodbye) and is reported, never
//! returned as an error; `Err(CommandError)` means the caller asked for
//! something impossible, and then nothing has changed.
//!
//! **Friends and consent.** Putting someone on one's friends list is
//! standing consent to chat with them: a chat request from a friend is
//! accepted without asking. Messages to a friend without an open chat are
//! queued durably; when the friend is online the peer connects and asks for
//! the chat, and the queue is delivered once the friend accepts (at once if
//! they have us as a friend too). If the friend declines, or the request
//! expires, the queued messages are dropped and the sender is told so.

pub mod chat;
pub mod command;
pub mod config;
pub mod event;
pub mod friends;
pub mod group;
pub mod history;
pub(crate) mod io;
pub mod link;
mod lookups;
pub mod records;
pub mod registry_link;
pub mod streams;
mod transfers;

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::time::Instant;

pub use command::{PeerCommand, ProfileChange, RequestId, Target};
pub use config::PeerConfig;
pub use event::{Direction, FriendStatus, HistoryEntry, PeerEvent, TransferStatus};
pub use records::{GroupRecord, OutItem, PeerRecord};

use self::chat::{Chats, Questions};
use self::friends::Friends;
use self::group::Groups;
use self::history::History;
use self::io::{Io, Timer};
use self::link::{LinkOut, LinkTimes, Links};
use self::registry_link::RegistryLink;
use self::streams::{Received, Streams};
use self::transfers::Transfers;
use crate::api::{CommandError, ConnId, Engine, Input, Output};
use crate::bounded::Text;
use crate::limits::MAX_SEARCH_LEN;
use crate::record::Record;
use crate::wire::peer::{Conv, Payload, PeerMessage};
use crate::wire::registry::{FileEntry, PeerInfo, Profile, RequestBody, UserEntry};
use crate::wire::{ErrorCode, Name};

/// Why a registry request was made, with what its answer accumulates.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Query {
    Who {
        users: Vec<UserEntry>,
        pages: usize,
    },
    Search {
        text: Text<MAX_SEARCH_LEN>,
        users: Vec<UserEntry>,
        pages: usize,
    },
    Files {
        owner: Option<Name>,
        files: Vec<FileEntry>,
        pages: usize,
    },
    Whois(Name),
    WhoisFiles {
        info: PeerInfo,
        files: Vec<FileEntry>,
        pages: usize,
    },
    /// Where to dial this peer.
    Dial(Name),
    /// Where the registry says the claimed name of this connection is.
    Verify(ConnId, Name),
    /// This peer's own profile, when it has no local copy.
    OwnProfile,
    SetProfile,
    /// Who is online, for friends' presence.
    Roster {
        online: Vec<Name>,
        pages: usize,
    },
}

/// The peer engine. See the module documentation.
#[derive(Debug)]
pub struct Peer {
    config: PeerConfig,
    start: Instant,
    io: Io,
    reg: RegistryLink<Query>,
    links: Links,
    streams: Streams,
    chats: Chats,
    questions: Questions,
    groups: Groups,
    friends: Friends,
    history: History,
    transfers: Transfers,
    profile: Option<Profile>,
    online: BTreeSet<Name>,
    stopped: bool,
}

impl Peer {
    /// A peer with the state found in `records` (others are ignored). It
    /// starts connecting to the registry at once.
    pub fn new(config: PeerConfig, records: Vec<Record>, now: Instant, seed: u64) -> Self {
        let reconnect = (config.reconnect_min, config.reconnect_max);
        let mut peer = Self {
            reg: RegistryLink::new(
                config.registry,
                config.name.clone(),
                config.password.clone(),
                config.listen,
                config.shared.clone(),
                config.heartbeat_interval,
                config.registry_reply_timeout,
                reconnect,
            ),
            links: Links::new(
                config.name.clone(),
                LinkTimes {
                    handshake: config.handshake_timeout,
                    reconnect,
                    keepalive: (config.keepalive_interval, config.keepalive_timeout),
                },
            ),
            start: now,
            io: Io::new(now, seed),
            streams: Streams::default(),
            chats: Chats::default(),
            questions: Questions::default(),
            groups: Groups::default(),
            friends: Friends::default(),
            history: History::default(),
            transfers: Transfers::new(crate::transfer::TransferConfig::from_peer(&config)),
            profile: None,
            online: BTreeSet::new(),
            stopped: false,
            config,
        };
        for r in records {
            let r = match r {
                Record::Peer(r) => r,
                Record::Transfer(t) => {
                    peer.transfers.restore(now, t);
                    continue;
                }
                Record::Account(_) => continue,
            };
            peer.streams.restore(&r);
            peer.history.restore(&r);
            match r {
                PeerRecord::Profile(p) => peer.profile = Some(p),
                PeerRecord::Logins(s) => peer.reg.restore_stamp(s),
                PeerRecord::Friend(n) => peer.friends.restore(n),
                PeerRecord::Chat(n) => peer.chats.restore(n),
                PeerRecord::Group(g) => peer.groups.restore(g),
                _ => {}
            }
        }
        peer.transfers_restored();
        peer.reg.connect(&mut peer.io);
        peer
    }

    /// PLANTED BUG: switches `bug` on in this peer (tests only); bugs that
    /// are not the peer's do nothing here.
    #[cfg(feature = "planted-bugs")]
    pub fn plant_bug(&mut self, bug: crate::registry::PlantedBug) {
        if bug == crate::registry::PlantedBug::DeliverDuplicate {
            self.streams.planted_duplicate = true;
        }
    }

    /// This peer's name.
    pub fn name(&self) -> &Name {
        &self.config.name
    }

    /// Whether the registry session is up.
    pub fn is_logged_in(&self) -> bool {
        self.reg.is_up()
    }

    /// Whether a direct connection to `name` is open.
    pub fn is_connected_to(&self, name: &Name) -> bool {
        self.links.is_open(name)
    }

    /// How many peer connections have opened since start (a crossed dial
    /// that resolves cleanly opens at most two).
    pub fn connections_opened(&self) -> u64 {
        self.links.opened()
    }

    /// Whether a one-to-one chat with `name` is open.
    pub fn chat_is_open(&self, name: &Name) -> bool {
        self.chats.is_open(name)
    }

    /// The members of `group` as this peer knows them (empty if not in it).
    pub fn group_members(&self, group: &crate::wire::GroupName) -> Vec<Name> {
        self.groups.members(group)
    }

    /// How many file transfers this peer holds (finished ones are dropped).
    pub fn transfer_count(&self) -> usize {
        self.transfers.len()
    }

    /// How many questions (chat requests, invitations, offers) wait for an answer.
    pub fn pending_questions(&self) -> usize {
        self.questions.len()
    }

    /// How many items wait for `name`'s acknowledgement.
    pub fn waiting_for(&self, name: &Name) -> usize {
        self.streams.waiting_for(name)
    }

    fn me(&self) -> &Name {
        &self.config.name
    }

    fn at_ms(&self) -> u64 {
        let since = self.io.now.saturating_duration_since(self.start);
        self.config.unix_ms_at_start + since.as_millis() as u64
    }

    fn run_timers(&mut self, now: Instant) {
        self.io.now = self.io.now.max(now);
        while let Some(t) = self.io.timers.pop_due(self.io.now) {
            match t {
                Timer::RegistryRetry => self.reg.on_retry_timer(&mut self.io),
                Timer::Heartbeat => self.reg.on_heartbeat_timer(&mut self.io),
                Timer::RegistryReply => {
                    let outs = self.reg.on_reply_timer(&mut self.io);
                    self.on_registry(outs);
                }
                Timer::Handshake(conn) => self.links.on_handshake_timer(&mut self.io, conn),
                Timer::Keepalive(conn) => self.links.on_keepalive_timer(&mut self.io, conn),
                Timer::Dial(name) => self.ensure_link(&name),
                Timer::Retransmit(name) => self.retransmit(&name),
                Timer::ChatExpiry(name) => self.chat_expired(&name),
                Timer::QuestionExpiry(id) => self.question_expired(id),
                Timer::InviteExpiry(group, name) => self.invite_expired(&group, &name),
                Timer::Transfer(id) => self.transfer_timer(id),
            }
        }
    }

    // ---- connections ------------------------------------------------------

    /// Whether this peer has a reason to be connected to `name`.
    fn wants(&self, name: &Name) -> bool {
        name != self.me()
            && (self.chats.wants(name)
                || self.groups.wants(name)
                || self.transfers.wants(name)
                || self.streams.waiting_for(name) > 0)
    }

    /// Starts reaching `name` if it is wanted and nothing is under way.
    fn ensure_link(&mut self, name: &Name) {
        if !self.wants(name)
            || self.links.is_underway(name)
            || self.io.timers.get(&Timer::Dial(name.clone())).is_some()
        {
            return;
        }
        let body = RequestBody::Lookup { name: name.clone() };
        if self
            .reg
            .request(&mut self.io, Query::Dial(name.clone()), body)
        {
            self.links.set_looking_up(name, true);
        }
    }

    /// Everyone this peer has a reason to be connected to.
    fn wanted(&self) -> BTreeSet<Name> {
        let mut all: BTreeSet<Name> = self.chats.names();
        all.extend(self.groups.all_members());
        all.extend(self.streams.receivers());
        all.extend(self.transfers.wanted());
        all.retain(|n| n != self.me());
        all
    }

    fn on_link(&mut self, outs: Vec<LinkOut>) {
        for out in outs {
            match out {
                LinkOut::Verify { conn, name } => {
                    let body = RequestBody::Lookup { name: name.clone() };
                    self.reg
                        .request(&mut self.io, Query::Verify(conn, name), body);
                }
                LinkOut::Open { name } => self.link_opened(&name),
                LinkOut::Message { name, msg } => self.on_peer_message(&name, msg),
                LinkOut::Transfer { name, msg } => self.on_transfer_message(&name, msg),
            }
        }
    }

    fn link_opened(&mut self, name: &Name) {
        self.transfer_sync(name);
        self.chat_sync(name);
        self.group_sync(name);
        self.flush(name);
    }

    /// Sends everything waiting for `name` that may be sent now.
    fn flush(&mut self, name: &Name) {
        if !self.links.is_open(name) {
            return self.ensure_link(name);
        }
        let open = self.chats.is_open(name);
        let msgs = self
            .streams
            .pending(name, |c| matches!(c, Conv::Group(_)) || open);
        if msgs.is_empty() {
            return;
        }
        for m in msgs {
            self.links.send(&mut self.io, name, m);
        }
        let t = Timer::Retransmit(name.clone());
        if self.io.timers.get(&t).is_none() {
            self.io.set_timer(t, self.config.retransmit_interval);
        }
    }

    fn retransmit(&mut self, name: &Name) {
        self.flush(name);
    }

    /// Queues `payload` for `to` in `conv` and sends it if possible.
    fn enqueue(&mut self, to: &Name, conv: &Conv, user_seq: Option<u64>, payload: Payload) -> u64 {
        let seq = self
            .streams
            .enqueue(&mut self.io, to, conv, user_seq, payload);
        let sendable = matches!(conv, Conv::Group(_)) || self.chats.is_open(to);
        if sendable && self.links.is_open(to) {
            if let Some(m) = self.streams.data(to, conv, seq) {
                self.links.send(&mut self.io, to, m);
            }
            let t = Timer::Retransmit(to.clone());
            if self.io.timers.get(&t).is_none() {
                self.io.set_timer(t, self.config.retransmit_interval);
            }
        } else if self.links.is_open(to) {
            // A direct message with no chat (one queued for a friend) over a
            // link that is already open: `link_opened`, which asks for the
            // chat, will not run again for this link, so ask now. A chat
            // being asked for, or asked of us, needs nothing more.
            if matches!(conv, Conv::Direct) && self.chats.get(to).is_none() {
                self.chat_sync(to);
            }
        } else {
            self.ensure_link(to);
        }
        seq
    }

    fn on_peer_message(&mut self, from: &Name, msg: PeerMessage) {
        match msg {
            PeerMessage::ChatRequest => self.on_chat_request(from),
            PeerMessage::ChatAccept => self.on_chat_accept(from),
            PeerMessage::ChatClose { reason } => self.on_chat_close(from, reason.as_str()),
            PeerMessage::Data {
                conv,
                seq,
                low,
                payload,
            } => self.on_data(from, conv, seq, low, payload),
            PeerMessage::Ack { conv, upto } => {
                let target = match &conv {
                    Conv::Direct => Target::User(from.clone()),
                    Conv::Group(g) => Target::Group(g.clone()),
                };
                for seq in self.streams.on_ack(&mut self.io, from, &conv, upto) {
                    self.io.event(PeerEvent::Delivered {
                        to: target.clone(),
                        seq,
                    });
                }
            }
            PeerMessage::GroupInvite { group, members } => {
                self.on_group_invite(from, group, members.into_vec())
            }
            PeerMessage::GroupAnswer { group, accept } => {
                self.on_group_answer(from, &group, accept)
            }
            PeerMessage::GroupRefused { group, reason } => {
                self.on_group_refused(from, &group, reason.as_str())
            }
            PeerMessage::NotInGroup { group } => self.on_not_in_group(from, &group),
            // The links' own: they never come this far.
            PeerMessage::Verified
            | PeerMessage::Session { .. }
            | PeerMessage::Ping
            | PeerMessage::Pong => {}
        }
    }

    fn on_data(&mut self, from: &Name, conv: Conv, seq: u64, low: u64, payload: Payload) {
        let willing = match &conv {
            Conv::Direct => self.chats.is_open(from) && matches!(payload, Payload::Text(_)),
            Conv::Group(g) => self.groups.accepts(g, from, &payload),
        };
        if !willing {
            // Not yet (a member we have not heard of) or not at all: no ack,
            // so the sender keeps it and tries again later. A group this
            // peer is not in at all it has left, without the sender hearing
            // (it joined after the leaver's `Left` went out): say so.
            if let Conv::Group(g) = &conv {
                self.not_in_group(from, g);
            }
            return;
        }
        let (verdict, upto) = self.streams.receive(&mut self.io, from, &conv, seq, low);
        if verdict == Received::Deliver {
            match (&conv, payload) {
                (Conv::Direct, Payload::Text(text)) => {
                    let to = Target::User(self.me().clone());
                    self.record(Target::User(from.clone()), from.clone(), text.as_str());
                    self.io.event(PeerEvent::Message {
                        from: from.clone(),
                        to,
                        text: text.into_string(),
                    });
                }
                (Conv::Group(g), payload) => self.apply_group_payload(g, from, payload),
                (Conv::Direct, _) => {}
            }
        }
        self.links
            .send(&mut self.io, from, PeerMessage::Ack { conv, upto });
    }

    /// Stores a message in the history of `with`.
    fn record(&mut self, with: Target, from: Name, text: &str) {
        let entry = HistoryEntry {
            from,
            text: text.to_owned(),
            at: self.at_ms(),
        };
        self.history.add(&mut self.io, with, entry);
    }

    fn stop(&mut self, code: ErrorCode, reason: String) {
        if self.stopped {
            return;
        }
        self.stopped = true;
        self.links.close_all(
            &mut self.io,
            ErrorCode::ShuttingDown,
            "this peer is stopping",
        );
        self.reg.quit(&mut self.io);
        self.io.timers = Default::default();
        self.io.event(PeerEvent::Stopped { code, reason });
    }

    fn command(&mut self, cmd: PeerCommand) -> Result<(), CommandError> {
        let offline = || "not connected to the registry (reconnecting); try again shortly";
        match cmd {
            PeerCommand::Who => {
                let q = Query::Who {
                    users: Vec::new(),
                    pages: 0,
                };
                if !self
                    .reg
                    .request(&mut self.io, q, RequestBody::List { after: None })
                {
                    self.io.error(offline());
                }
            }
            PeerCommand::Search(text) => {
                let text: Text<MAX_SEARCH_LEN> = Text::new(text.to_lowercase()).map_err(|e| {
                    CommandError(format!(
                        "search text is at most {MAX_SEARCH_LEN} bytes: {e}"
                    ))
                })?;
                let body = RequestBody::Search {
                    text: text.clone(),
                    after: None,
                };
                let q = Query::Search {
                    text,
                    users: Vec::new(),
                    pages: 0,
                };
                if !self.reg.request(&mut self.io, q, body) {
                    self.io.error(offline());
                }
            }
            PeerCommand::Whois(name) => {
                let body = RequestBody::Lookup { name: name.clone() };
                if !self.reg.request(&mut self.io, Query::Whois(name), body) {
                    self.io.error(offline());
                }
            }
            PeerCommand::Files(owner) => {
                let body = RequestBody::Files {
                    owner: owner.clone(),
                    after: None,
                };
                let q = Query::Files {
                    owner,
                    files: Vec::new(),
                    pages: 0,
                };
                if !self.reg.request(&mut self.io, q, body) {
                    self.io.error(offline());
                }
            }
            PeerCommand::Chat(name) => self.cmd_chat(name)?,
            PeerCommand::Accept(id) => self.cmd_answer(id, true)?,
            PeerCommand::Decline(id) => self.cmd_answer(id, false)?,
            PeerCommand::Message { to, text } => self.cmd_message(to, text)?,
            PeerCommand::CloseChat(name) => self.cmd_close_chat(&name)?,
            PeerCommand::GroupCreate(g) => self.cmd_group_create(g)?,
            PeerCommand::Invite { group, name } => self.cmd_invite(group, name)?,
            PeerCommand::Leave(g) => self.cmd_leave(&g)?,
            PeerCommand::SendFile { to, path } => self.cmd_send_file(to, path)?,
            PeerCommand::Get { from, file } => self.cmd_get(from, file)?,
            PeerCommand::Transfers => self.cmd_transfers(),
            PeerCommand::Cancel(id) => self.cmd_cancel(id)?,
            PeerCommand::Friends => self.cmd_friends(),
            PeerCommand::FriendAdd(name) => self.cmd_friend_add(name)?,
            PeerCommand::FriendRemove(name) => self.cmd_friend_remove(&name)?,
            PeerCommand::History { with, last } => {
                let messages = self.history.last(&with, last);
                self.io.event(PeerEvent::History { with, messages });
            }
            PeerCommand::ShowProfile => {
                let profile = self.profile.clone().unwrap_or_default();
                self.io.event(PeerEvent::Profile { profile });
            }
            PeerCommand::SetProfile(change) => self.cmd_set_profile(change)?,
            PeerCommand::Quit => self.stop(ErrorCode::Normal, "quit".into()),
            PeerCommand::Publish(files) => self.reg.set_shared(&mut self.io, files),
        }
        Ok(())
    }

    fn cmd_set_profile(&mut self, change: ProfileChange) -> Result<(), CommandError> {
        let mut profile = self.profile.clone().unwrap_or_default();
        let too_long = |what: &str, e: crate::bounded::TooLong| {
            CommandError(format!(
                "a {what} is at most {} bytes, not {}",
                e.max, e.len
            ))
        };
        match change {
            ProfileChange::Nick(s) => {
                profile.nick = Text::new(s).map_err(|e| too_long("nickname", e))?
            }
            ProfileChange::Bio(s) => profile.bio = Text::new(s).map_err(|e| too_long("bio", e))?,
            ProfileChange::Avatar(b) => {
                profile.avatar = crate::bounded::Blob::new(b).map_err(|e| too_long("avatar", e))?
            }
        }
        self.profile = Some(profile.clone());
        self.io.persist(PeerRecord::Profile(profile.clone()));
        let body = RequestBody::SetProfile {
            profile: profile.clone(),
        };
        if !self.reg.request(&mut self.io, Query::SetProfile, body) {
            self.io
                .notice("the profile will be published when the registry is back");
        }
        self.io.event(PeerEvent::Profile { profile });
        Ok(())
    }
}

impl Engine for Peer {
    type Command = PeerCommand;
    type Event = PeerEvent;

    fn accept(&mut self, now: Instant, remote: SocketAddr) -> ConnId {
        self.run_timers(now);
        let conn = self.io.mint_conn();
        if self.stopped {
            self.io.out.push_back(Output::Close { conn });
        } else {
            self.links.accept(&mut self.io, conn, remote);
            self.transfers_settle();
        }
        conn
    }

    fn handle_input(&mut self, now: Instant, input: Input<'_>) {
        self.run_timers(now);
        if self.stopped {
            return;
        }
        match input {
            Input::Connected { conn } => {
                if self.reg.owns(conn) {
                    self.reg.on_connected(&mut self.io, conn);
                } else {
                    self.links.on_connected(&mut self.io, conn);
                }
            }
            Input::ConnectFailed { conn } | Input::Closed { conn } => {
                if self.reg.owns(conn) {
                    let outs = self.reg.on_closed(&mut self.io, conn);
                    self.on_registry(outs);
                } else {
                    self.links.on_closed(&mut self.io, conn);
                }
            }
            Input::Received { conn, bytes } => {
                if self.reg.owns(conn) {
                    let outs = self.reg.on_received(&mut self.io, conn, bytes);
                    self.on_registry(outs);
                } else if self.links.owns(conn) {
                    let outs = self.links.on_received(&mut self.io, conn, bytes);
                    self.on_link(outs);
                }
            }
            input @ (Input::ChunkRead { .. }
            | Input::ChunkWritten { .. }
            | Input::StorageFailed { .. }
            | Input::SourceHashing { .. }
            | Input::SourceOpened { .. }
            | Input::PartOpened { .. }
            | Input::FileFinished { .. }) => self.transfer_input(input),
            // Password work is a registry's.
            Input::PasswordDerived { .. } => {}
        }
        self.transfers_settle();
    }

    fn handle_command(&mut self, now: Instant, cmd: PeerCommand) -> Result<(), CommandError> {
        self.run_timers(now);
        if self.stopped {
            return Err(CommandError("this peer has stopped".into()));
        }
        let r = self.command(cmd);
        if !self.stopped {
            self.transfers_settle();
        }
        r
    }

    fn handle_timeout(&mut self, now: Instant) {
        self.run_timers(now);
        if !self.stopped {
            self.transfers_settle();
        }
    }

    fn poll_output(&mut self) -> Option<Output<PeerEvent>> {
        self.io.out.pop_front()
    }

    fn poll_timeout(&self) -> Option<Instant> {
        self.io.timers.next_deadline()
    }
}
