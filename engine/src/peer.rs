//! The peer role: a person's confab. It keeps a session with the registry,
//! opens direct connections to other peers, and runs the chats, groups,
//! friends and history that travel over them.
//!
//! [`Peer`] is the role machine: it owns one [`io::Io`] (outputs, the one
//! timer table, seeded randomness, connection ids) and the rooms, routes
//! every input to the room it concerns, and carries out, in order and right
//! after each call, the effects a room returns for its siblings (`ChatOut`,
//! `GroupOut`, `TransferOut`, a look-up's `Answer`). A room owns its state
//! behind private fields and is lent only the `Io` and facts about its
//! siblings as values; it never reaches into another room. This file holds
//! the fields, construction, timer dispatch, commands and the [`Engine`]
//! impl; the routing lives beside it, one file per concern: `route` (peer
//! messages, links, connections, chats), `group_route`, `transfer_route`,
//! `registry_route` (the session's reports and look-up answers),
//! `relay_route`, `lan_route`, `lan_registry_route` and `call_route`. The
//! rooms:
//!
//! - [`registry_link`]: log-in, heartbeats, reconnection, registry requests;
//! - `registry_lan`: registries announced on the LAN, and the one
//!   `--registry lan` logs in to and follows;
//! - [`link`]: direct connections, the identity check, crossed dials;
//! - [`streams`]: numbered, acknowledged, exactly-once delivery;
//! - `durable`: acknowledgements held until their records are durable;
//! - [`chat`]: one-to-one chats and their consent;
//! - [`group`]: groups, invitations and membership;
//! - [`friends`]: the friends list;
//! - `presence`: who is online, and which changes are news (only the
//!   registry's word that a session ended makes a peer offline);
//! - `questions`: the prompts waiting for `/accept` or `/decline`;
//! - [`history`]: each conversation's stored messages;
//! - [`records`]: what is kept durably;
//! - `transfers`: file transfers (the [`crate::transfer`] sub-machines);
//! - `lookups`: registry requests and what their answers accumulate;
//! - [`misbehaved`]: the typed protocol violations that close a connection.
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

mod call_route;
pub mod calls;
pub mod chat;
pub mod command;
pub mod config;
mod discovery;
mod durable;
pub mod event;
pub mod friends;
pub mod group;
mod group_route;
pub mod history;
pub(crate) mod io;
mod keyring;
mod known_keys;
mod lan_profile;
mod lan_registry_route;
mod lan_route;
pub mod link;
mod lookups;
pub mod misbehaved;
mod presence;
mod questions;
pub mod records;
mod registry_lan;
pub mod registry_link;
mod registry_route;
mod relay;
mod relay_route;
mod route;
pub mod streams;
mod transfer_route;
mod transfers;

use std::net::SocketAddr;
use std::time::Instant;

pub use command::{PeerCommand, ProfileChange, RequestId, Target};
pub use config::{
    Backoff, DiscoveryConfig, LanRegistryConfig, LinkConfig, PeerConfig, SessionConfig,
    TransferConfig,
};
pub use event::{
    CallStats, DigestCheck, Direction, FoundBy, FoundPeer, FriendStatus, HistoryEntry, PeerEvent,
    TransferStatus, Via, WhoisFrom,
};
pub use records::{GroupRecord, OutItem, PeerRecord};

use self::calls::Calls;
use self::chat::Chats;
use self::discovery::Discovery;
use self::durable::Durable;
use self::friends::Friends;
use self::group::Groups;
use self::history::History;
use self::io::{Io, Timer};
use self::known_keys::KnownKeys;
use self::link::Links;
use self::lookups::Query;
use self::presence::Presence;
use self::questions::Questions;
use self::registry_link::{Login, RegistryLink};
use self::streams::Streams;
use self::transfers::Transfers;
use crate::api::{CommandError, ConnId, Engine, Input, Output};
use crate::bounded::Text;
use crate::error::ProfileField;
use crate::limits::MAX_SEARCH_LEN;
use crate::record::Record;
use crate::wall::WallClock;
use crate::wire::discovery::LanDatagram;
use crate::wire::peer::PeerMessage;
use crate::wire::registry::{Profile, RequestBody};
use crate::wire::{ErrorCode, Name};

/// The peer engine. See the module documentation.
#[derive(Debug)]
pub struct Peer {
    config: PeerConfig,
    /// The wall clock history entries are dated from.
    clock: WallClock,
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
    presence: Presence,
    known_keys: KnownKeys,
    /// Acknowledgements waiting for their records to be durable.
    durable: Durable,
    calls: Calls,
    /// LAN discovery and peer exchange (issue 20), when on.
    discovery: Option<Discovery>,
    /// `/whois NAME` asked of the peer itself, without a registry.
    profile_asks: lan_profile::ProfileAsks,
    /// Registries announced on the LAN, with discovery on and no
    /// `--registry ADDR` (see `registry_lan`).
    lan_registries: Option<registry_lan::LanRegistries>,
    /// Streams relayed through the registry (see `relay`).
    relays: relay::Relays,
    stopped: bool,
}

impl Peer {
    /// A peer with the state found in `records` (others are ignored). It
    /// starts connecting to the registry at once.
    pub fn new(config: PeerConfig, records: Vec<Record>, now: Instant, seed: u64) -> Self {
        let login = Login {
            registry: config.registry,
            name: config.name.clone(),
            password: config.password.clone(),
            listen: config.listen,
            shared: config.shared.clone(),
        };
        let transfer = TransferConfig {
            planted: config.planted,
            ..config.transfer.clone()
        };
        let mut peer = Self {
            reg: RegistryLink::new(login, config.session),
            links: Links::new(config.name.clone(), config.link),
            clock: WallClock::new(now, config.unix_ms_at_start),
            io: Io::with_keys(now, seed, &config.secure, config.unix_ms_at_start),
            streams: Streams::new(config.planted),
            durable: Durable::default(),
            chats: Chats::new(config.name.clone(), config.request_timeout),
            questions: Questions::default(),
            groups: Groups::default(),
            friends: Friends::default(),
            history: History::default(),
            transfers: Transfers::new(transfer),
            profile: None,
            presence: Presence::default(),
            known_keys: KnownKeys::default(),
            calls: Calls::new(config.call, config.listen.port()),
            discovery: config
                .discovery
                .map(|d| Discovery::new(d, config.planted, now).bridging(config.lan_bridge)),
            profile_asks: lan_profile::ProfileAsks::default(),
            lan_registries: registry_lan::LanRegistries::for_config(&config),
            relays: relay::Relays::default(),
            stopped: false,
            config,
        };
        peer.io.keys.set_planted(peer.config.planted);
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
            peer.known_keys.restore(&r);
            match r {
                PeerRecord::Profile(p) => peer.profile = Some(p),
                PeerRecord::Logins(s) => peer.reg.restore_stamp(s),
                PeerRecord::Friend(n) => peer.friends.restore(n),
                PeerRecord::Chat(n) => peer.chats.restore(n),
                PeerRecord::Group(g) => peer.groups.restore(g),
                _ => {}
            }
        }
        let outs = peer.transfers.restored(&mut peer.io);
        peer.apply_transfer(outs);
        // `--registry lan` connects once a registry is announced.
        if !peer.config.without_registry && peer.config.registry_lan.is_none() {
            peer.reg.connect(&mut peer.io);
        }
        peer.lan_start();
        peer
    }

    /// This peer's name.
    pub fn name(&self) -> &Name {
        &self.config.name
    }

    /// This peer's Noise static public key (its identity; `/whois` and
    /// `ready` show its fingerprint).
    pub fn public_key(&self) -> crate::wire::identity::PublicKey {
        self.io.keys.public()
    }

    /// The registry key this peer trusts, once its registry proved one.
    pub fn registry_key(&self) -> Option<crate::wire::identity::PublicKey> {
        self.io.keys.trusted()
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
        self.clock.ms(self.io.now)
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
                Timer::Handshake(conn) => {
                    let direct = self.links.unopened_dial(conn);
                    self.links.on_handshake_timer(&mut self.io, conn);
                    if let Some(name) = direct {
                        self.direct_failed(&name);
                    }
                }
                Timer::Keepalive(conn) => self.links.on_keepalive_timer(&mut self.io, conn),
                Timer::Dial(name) => self.ensure_link(&name),
                Timer::DirectRetry(name) => self.direct_retry(&name),
                Timer::Retransmit(name) => self.retransmit(&name),
                Timer::ChatExpiry(name) => {
                    let outs = self.chats.expired(&mut self.io, &name);
                    self.apply_chat(outs);
                }
                Timer::QuestionExpiry(id) => self.question_expired(id),
                Timer::InviteExpiry(group, name) => {
                    self.groups.invite_expired(&mut self.io, &group, &name)
                }
                Timer::Transfer(id) => {
                    let outs = self.transfers.on_timer(&mut self.io, id);
                    self.apply_transfer(outs);
                }
                Timer::PresenceGrace => self.presence.on_grace_timer(&mut self.io),
                Timer::CallRing(name) => self.on_call_ring_timer(&name),
                Timer::CallTick(name) => self.on_call_tick(&name),
                Timer::CallPlayout(name) => self.calls.play(&mut self.io, &name),
                Timer::Announce => self.on_announce_timer(),
                Timer::ProfileAsk(name) => self.on_profile_ask_timer(&name),
                Timer::FilesAsk(name) => self.on_files_ask_timer(&name),
            }
        }
    }

    fn stop(&mut self, code: ErrorCode, reason: String) {
        if self.stopped {
            return;
        }
        self.end_calls("the other side stopped");
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
        match cmd {
            PeerCommand::Who if self.lan_who(None, None) => {}
            PeerCommand::Who => self.ask_registry(Query::who()),
            PeerCommand::Search(text) => {
                let text: Text<MAX_SEARCH_LEN> =
                    Text::new(text.to_lowercase()).map_err(|e| CommandError::SearchTooLong {
                        len: e.len,
                        max: e.max,
                    })?;
                if !self.lan_who(Some(text.as_str()), None) {
                    self.ask_registry(Query::search(text));
                }
            }
            PeerCommand::Whois(name) if self.lan_whois(&name) => {}
            PeerCommand::Whois(name) => {
                self.ask_registry(Query::lookup(Query::Whois(name.clone()), &name))
            }
            PeerCommand::Files(owner) if self.lan_files(owner.as_ref()) => {}
            PeerCommand::Files(owner) => self.ask_registry(Query::files(owner)),
            PeerCommand::Chat(name) => {
                let via = self.via_to(&name);
                let outs = self.chats.cmd_chat(&mut self.io, name, via)?;
                self.apply_chat(outs);
            }
            PeerCommand::Accept(id) => self.cmd_answer(id, true)?,
            PeerCommand::Decline(id) => self.cmd_answer(id, false)?,
            PeerCommand::Message { to, text } => self.cmd_message(to, text)?,
            PeerCommand::CloseChat(name) => {
                let outs = self.chats.cmd_close(&mut self.io, &name)?;
                self.apply_chat(outs);
            }
            PeerCommand::GroupCreate(g) => {
                self.groups.create(&mut self.io, &self.config.name, g)?
            }
            PeerCommand::Invite { group, name } => {
                let timeout = self.config.request_timeout;
                let outs = self.groups.invite(&mut self.io, group, name, timeout)?;
                self.apply_group(outs);
            }
            PeerCommand::Leave(g) => self.cmd_leave(&g)?,
            PeerCommand::SendFile { to, path } => {
                let started = self
                    .transfers
                    .send(&mut self.io, &self.config.name, to, path)?;
                self.start_transfer(started);
            }
            PeerCommand::Get { from, file } => {
                let started = self
                    .transfers
                    .get(&mut self.io, &self.config.name, from, file)?;
                self.start_transfer(started);
            }
            PeerCommand::Transfers => self.report_transfers(),
            PeerCommand::Cancel(id) => {
                let outs = self.transfers.cancel(&mut self.io, id)?;
                self.apply_transfer(outs);
            }
            PeerCommand::Friends => self.report_friends(),
            PeerCommand::FriendAdd(name) => {
                self.friends.add(&mut self.io, &self.config.name, name)?;
                self.report_friends();
            }
            PeerCommand::FriendRemove(name) => {
                self.friends.remove(&mut self.io, &name)?;
                self.report_friends();
            }
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
            PeerCommand::Publish(files) => {
                self.config.shared = files.clone();
                self.reg.set_shared(&mut self.io, files);
                self.lan_announce_changed();
            }
            PeerCommand::Forget(name) => self.cmd_forget(&name),
            PeerCommand::Trust { name, fingerprint } => self.cmd_trust(&name, &fingerprint),
            PeerCommand::Pause(id) => {
                let outs = self.transfers.pause(&mut self.io, id)?;
                self.apply_transfer(outs);
            }
            PeerCommand::Resume(id) => {
                let started = self.transfers.resume(&mut self.io, &self.config.name, id)?;
                self.start_transfer(started);
            }
            PeerCommand::Call(name) => self.cmd_call(name)?,
            PeerCommand::Hangup(name) => self.cmd_hangup(name)?,
            PeerCommand::CallFrame {
                with,
                jpeg,
                captured,
            } => self.cmd_call_frame(with, &jpeg, captured)?,
        }
        Ok(())
    }

    fn cmd_set_profile(&mut self, change: ProfileChange) -> Result<(), CommandError> {
        let mut profile = self.profile.clone().unwrap_or_default();
        let too_long = |field, e: crate::bounded::TooLong| CommandError::ProfileTooLong {
            field,
            len: e.len,
            max: e.max,
        };
        match change {
            ProfileChange::Nick(s) => {
                profile.nick = Text::new(s).map_err(|e| too_long(ProfileField::Nick, e))?
            }
            ProfileChange::Bio(s) => {
                profile.bio = Text::new(s).map_err(|e| too_long(ProfileField::Bio, e))?
            }
            ProfileChange::Avatar(b) => {
                profile.avatar =
                    crate::bounded::Blob::new(b).map_err(|e| too_long(ProfileField::Avatar, e))?
            }
        }
        self.profile = Some(profile.clone());
        self.io.persist(PeerRecord::Profile(profile.clone()));
        let body = RequestBody::SetProfile {
            profile: profile.clone(),
        };
        if !self.reg.request(&mut self.io, Query::SetProfile, body) && !self.config.without_registry
        {
            self.io
                .notice("the profile will be published when the registry is back");
        }
        self.lan_announce_changed();
        self.io.event(PeerEvent::Profile { profile });
        Ok(())
    }
}

impl Engine for Peer {
    type Command = PeerCommand;
    type Event = PeerEvent;
    const WAITS_FOR_DURABLE: bool = true;

    fn accept(&mut self, now: Instant, remote: SocketAddr) -> ConnId {
        self.run_timers(now);
        let conn = self.io.mint_conn();
        if self.stopped {
            self.io.out.push_back(Output::Close { conn });
        } else {
            self.links.accept(&mut self.io, conn, remote);
            self.transfers_settle();
            self.relay_settle();
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
                self.io.keys.start(conn, &mut self.io.out);
                if self.reg.owns(conn) {
                    self.reg.on_connected(&mut self.io, conn);
                } else {
                    self.links.on_connected(&mut self.io, conn);
                }
            }
            Input::ConnectFailed { conn } | Input::Closed { conn } => {
                self.io.keys.remove(conn);
                if self.reg.owns(conn) {
                    let outs = self.reg.on_closed(&mut self.io, conn);
                    self.on_registry(outs);
                } else {
                    let failed = matches!(input, Input::ConnectFailed { .. });
                    let direct = self.links.unopened_dial(conn).filter(|_| failed);
                    self.links.on_closed(&mut self.io, conn);
                    if let Some(name) = direct {
                        self.direct_failed(&name);
                    }
                }
            }
            Input::Received { conn, bytes } => self.on_bytes(conn, bytes),
            input @ (Input::ChunkRead { .. }
            | Input::ChunkWritten { .. }
            | Input::StorageFailed { .. }
            | Input::SourceHashing { .. }
            | Input::SourceOpened { .. }
            | Input::PartOpened { .. }
            | Input::FileFinished { .. }) => {
                let outs = self.transfers.on_input(&mut self.io, input);
                self.apply_transfer(outs);
            }
            Input::RecordsDurable { upto } => {
                for (to, conv, upto) in self.durable.release(upto) {
                    self.links
                        .send(&mut self.io, &to, PeerMessage::Ack { conv, upto });
                }
            }
            Input::Datagram { from, bytes } if LanDatagram::is_lan(bytes) => {
                self.on_lan_datagram(from, bytes)
            }
            Input::Datagram { from, bytes } => self.on_datagram(from, bytes),
            // Password work is a registry's.
            Input::PasswordDerived { .. } => {}
        }
        self.transfers_settle();
        self.relay_settle();
    }

    fn handle_command(&mut self, now: Instant, cmd: PeerCommand) -> Result<(), CommandError> {
        self.run_timers(now);
        if self.stopped {
            return Err(CommandError::Stopped);
        }
        let r = self.command(cmd);
        if !self.stopped {
            self.transfers_settle();
        }
        self.relay_settle();
        r
    }

    fn handle_timeout(&mut self, now: Instant) {
        self.run_timers(now);
        if !self.stopped {
            self.transfers_settle();
        }
        self.relay_settle();
    }

    fn poll_output(&mut self) -> Option<Output<PeerEvent>> {
        let o = self.io.out.pop_front()?;
        self.durable.polled(&o);
        if let Output::Close { conn } = &o {
            self.io.keys.remove(*conn);
        }
        Some(o)
    }

    fn poll_timeout(&self) -> Option<Instant> {
        self.io.timers.next_deadline()
    }
}
