//! The peer role for the engine driver ([`crate::driver`]).
//!
//! The driver plays everyone the peer talks to: the registry (it answers the
//! peer's requests with plausible replies, so the peer logs in and its
//! look-ups and identity checks succeed) and the remote peers (it answers
//! what the peer sent them: chat requests, data, invitations, transfer
//! requests, wants with chunks of [`generate::content`], chunks with acks).
//! [`Op::Respond`](crate::ops::Op::Respond) picks what to answer and how.
//! Remote `NAME_POOL[k]` lives at `10.0.0.(k+1)`: a connection accepted from
//! remote number `k + 1` (see `driver::remote`) passes the identity check.
//!
//! The peer's own invariants, checked as outputs are drained and after every
//! operation:
//! - toward the registry only a hello, requests and a goodbye; toward a remote
//!   a hello naming this peer, and nothing but a goodbye before the link is
//!   verified (the acceptor sent `Verified`, or the dialer was sent it);
//! - every chunk sent, every `WriteChunk` and every `ReadChunk` holds at most
//!   the configured chunk size ([`CHUNK`]), never nothing; every `Want` asks
//!   for at most that chunk size and the configured window;
//! - progress never exceeds its total;
//! - at most [`MAX_TRANSFERS`] transfers held, every group within
//!   [`MAX_GROUP_MEMBERS`]; logged in only over an open registry connection.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::{Duration, Instant};

use arbitrary::Arbitrary;
use confab_engine::bounded::{Blob, List, Text};
use confab_engine::limits::{MAX_GROUP_MEMBERS, MAX_TRANSFERS};
use confab_engine::peer::{ProfileChange, RequestId, Target};
use confab_engine::wire::peer::{Conv, Payload, PeerMessage};
use confab_engine::wire::registry::{
    FileEntry, Password, PeerInfo, Profile, Reply, ReplyBody, RequestBody, SharedFile, UserEntry,
};
use confab_engine::wire::transfer::{Manifest, TransferKey, TransferMessage};
use confab_engine::wire::{ErrorCode, GroupName, Hello, Message, Name, PROTOCOL_VERSION, Refusal};
use confab_engine::peer::Backoff;
use confab_engine::{ConnId, Output, Peer, PeerCommand, PeerConfig, PeerEvent, Record, TransferId};

use crate::driver::{Model, Role};
use crate::generate::{
    self, Build, ERROR_CODES, GFileName, GGroupName, GName, NAME_POOL, SIZE_POOL,
};

/// Bytes per chunk in the peer target: tiny, so a file of a few hundred
/// bytes takes several chunks and windows.
pub const CHUNK: u32 = 64;

/// Chunks in flight per transfer in the peer target.
pub const WINDOW: u32 = 4;

/// The name of the peer under test.
pub const ME: &str = NAME_POOL[0];

/// Where the registry is.
pub const REGISTRY: SocketAddr = SocketAddr::new(IpAddr::V4(Ipv4Addr::new(10, 0, 0, 100)), 9000);

/// Where remote `name` listens: `10.0.0.(k+1):7000` for `NAME_POOL[k]`.
pub fn addr_of(name: &Name) -> SocketAddr {
    let k = NAME_POOL
        .iter()
        .position(|n| *n == name.as_str())
        .map_or(7, |k| k as u8 + 1);
    SocketAddr::new(IpAddr::V4(Ipv4Addr::new(10, 0, 0, k)), 7000)
}

/// The configuration of the peer under test: short timeouts, tiny chunks.
pub fn config() -> PeerConfig {
    let mut c = PeerConfig::new(
        Name::new(ME).expect("pool name"),
        Password(Text::new("hunter2").expect("short")),
        REGISTRY,
        "10.0.0.200:7000".parse().expect("addr"),
    );
    c.shared = vec![crate::samples::shared("a.txt", 200)];
    let reconnect = Backoff {
        min: Duration::from_millis(100),
        max: Duration::from_secs(1),
    };
    c.session.heartbeat_interval = Duration::from_secs(2);
    c.session.reconnect = reconnect;
    c.request_timeout = Duration::from_secs(5);
    c.link.reconnect = reconnect;
    c.link.handshake_timeout = Duration::from_secs(2);
    c.link.retransmit_interval = Duration::from_secs(1);
    c.transfer.offer_timeout = c.request_timeout;
    c.transfer.chunk_size = CHUNK;
    c.transfer.window = WINDOW;
    c
}

/// A message target.
#[derive(Debug, Arbitrary)]
pub enum GTarget {
    User(GName),
    Group(GGroupName),
}

impl Build for GTarget {
    type Out = Target;
    fn build(&self) -> Target {
        match self {
            GTarget::User(n) => Target::User(n.build()),
            GTarget::Group(g) => Target::Group(g.build()),
        }
    }
}

/// The peer's commands, as the fuzzer picks them (mirrors [`PeerCommand`]).
#[derive(Debug, Arbitrary)]
pub enum GPeerCommand {
    Who,
    Whois(GName),
    Search(String),
    Files(Option<GName>),
    Chat(GName),
    Accept(Option<u8>),
    Decline(Option<u8>),
    Message {
        to: GTarget,
        text: String,
    },
    CloseChat(GName),
    GroupCreate(GGroupName),
    Invite {
        group: GGroupName,
        name: GName,
    },
    Leave(GGroupName),
    SendFile {
        to: GName,
        path: GFileName,
    },
    Get {
        from: GName,
        file: GFileName,
    },
    Transfers,
    /// A transfer the driver saw file work of (by index), or a small id.
    Cancel {
        named: bool,
        i: u8,
    },
    Friends,
    FriendAdd(GName),
    FriendRemove(GName),
    History {
        with: GTarget,
        last: u8,
    },
    ShowProfile,
    Nick(String),
    Bio(String),
    Avatar(u16),
    Quit,
}

/// What one remote transfer stream the driver plays as sender stands at.
#[derive(Debug, Clone)]
struct Sending {
    round: u32,
    file: u32,
    next: u64,
    end: u64,
    chunk: u64,
}

/// What the peer's checks and responses remember.
#[derive(Debug, Default)]
pub struct PeerState {
    /// Connections the engine dialed: the registry and remotes.
    registry: Option<ConnId>,
    /// Connections the driver said hello on.
    greeted: BTreeSet<ConnId>,
    /// Connections over which peer messages may flow: the engine sent
    /// `Verified` (acceptor), or the driver delivered it (dialer).
    verified: BTreeSet<ConnId>,
    /// Who the driver claims to be on each connection.
    claimed: BTreeMap<ConnId, Name>,
    /// Registry requests not answered yet: connection, id, body.
    requests: VecDeque<(ConnId, u32, RequestBody)>,
    /// Peer-to-peer things the engine sent that a remote can answer.
    asks: VecDeque<(ConnId, Message)>,
    /// Wants the engine sent, as the remote sender serves them.
    sending: BTreeMap<(ConnId, TransferKey), Sending>,
    /// Manifests seen per key, either way.
    manifests: BTreeMap<TransferKey, Manifest>,
    /// The next sequence number the driver uses per (connection, stream).
    seqs: BTreeMap<(ConnId, Conv), u64>,
}

/// Most answerable things remembered.
const MAX_ASKS: usize = 64;

impl PeerState {
    fn ask(&mut self, conn: ConnId, msg: Message) {
        if self.asks.len() >= MAX_ASKS {
            self.asks.pop_front();
        }
        self.asks.push_back((conn, msg));
    }

    fn next_seq(&mut self, conn: ConnId, conv: &Conv) -> u64 {
        let s = self.seqs.entry((conn, conv.clone())).or_insert(0);
        *s += 1;
        *s
    }
}

fn refusal(how: u8) -> Refusal {
    Refusal::new(
        ERROR_CODES[usize::from(how >> 2) % ERROR_CODES.len()],
        "refused by the fuzz driver",
    )
}

/// A plausible reply to `body`, in the manner `how`.
fn reply_to(body: &RequestBody, how: u8) -> Result<ReplyBody, Refusal> {
    let bad = how & 0x03 == 3;
    let users = || {
        NAME_POOL[1..]
            .iter()
            .map(|n| {
                let name = Name::new(n).expect("pool name");
                UserEntry {
                    addr: addr_of(&name),
                    name,
                }
            })
            .collect::<Vec<_>>()
    };
    match body {
        RequestBody::Login { .. } if how & 0x03 == 2 => {
            Err(Refusal::new(ErrorCode::UnknownName, "no such account"))
        }
        RequestBody::Lookup { name } => match how & 0x03 {
            0 | 1 => Ok(ReplyBody::Peer(PeerInfo {
                name: name.clone(),
                addr: Some(addr_of(name)),
                profile: Profile::default(),
            })),
            2 => Ok(ReplyBody::Peer(PeerInfo {
                name: name.clone(),
                addr: if how & 0x10 != 0 {
                    Some("10.9.9.9:7000".parse().expect("addr"))
                } else {
                    None
                },
                profile: Profile::default(),
            })),
            _ => Err(refusal(how)),
        },
        _ if bad => Err(refusal(how)),
        RequestBody::List { .. } | RequestBody::Search { .. } => Ok(ReplyBody::Users {
            users: List::new(users()).expect("short"),
            more: how & 0x04 != 0,
        }),
        RequestBody::Files { .. } => Ok(ReplyBody::Files {
            files: List::new(vec![FileEntry {
                owner: Name::new(NAME_POOL[1]).expect("pool name"),
                file: SharedFile {
                    name: confab_engine::wire::FileName::new("a.txt").expect("valid"),
                    size: 200,
                    md5: generate::content_md5(200),
                },
            }])
            .expect("short"),
            more: how & 0x04 != 0,
        }),
        _ => Ok(ReplyBody::Done),
    }
}

impl PeerState {
    /// The answer of a remote to `msg`, which the engine sent on `conn`.
    fn answer(&mut self, conn: ConnId, msg: &Message, how: u8) -> Vec<Message> {
        let no = how & 0x03 == 3;
        let reason = || Text::truncate("declined by the fuzz driver");
        let m = match msg {
            Message::Peer(PeerMessage::ChatRequest) if no => {
                PeerMessage::ChatClose { reason: reason() }
            }
            Message::Peer(PeerMessage::ChatRequest) => PeerMessage::ChatAccept,
            Message::Peer(PeerMessage::Data { conv, seq, .. }) => PeerMessage::Ack {
                conv: conv.clone(),
                upto: *seq,
            },
            Message::Peer(PeerMessage::GroupInvite { group, .. }) => PeerMessage::GroupAnswer {
                group: group.clone(),
                accept: !no,
            },
            Message::Peer(PeerMessage::GroupAnswer {
                group,
                accept: true,
            }) => {
                // The inviter's welcome: the member list.
                let conv = Conv::Group(group.clone());
                let seq = self.next_seq(conn, &conv);
                let mut members: Vec<Name> = NAME_POOL[..1 + usize::from(how % 4)]
                    .iter()
                    .map(|n| Name::new(n).expect("pool name"))
                    .collect();
                if let Some(me) = self.claimed.get(&conn) {
                    members.push(me.clone());
                }
                members.sort();
                members.dedup();
                PeerMessage::Data {
                    conv,
                    seq,
                    low: 0,
                    payload: Payload::Members(List::new(members).expect("short")),
                }
            }
            Message::Transfer(t) => return self.answer_transfer(conn, t, how),
            _ => return Vec::new(),
        };
        vec![Message::Peer(m)]
    }

    fn answer_transfer(&mut self, conn: ConnId, t: &TransferMessage, how: u8) -> Vec<Message> {
        let no = how & 0x03 == 3;
        let key = t.key();
        let cancel = || {
            vec![Message::Transfer(TransferMessage::Cancel {
                key,
                reason: Text::truncate("cancelled by the fuzz driver"),
            })]
        };
        let m = match t {
            _ if no => return cancel(),
            TransferMessage::Get { name, .. } => {
                let size = SIZE_POOL[usize::from(how >> 4) % SIZE_POOL.len()];
                let manifest = crate::samples::single(name.as_str(), size);
                self.manifests.insert(key, manifest.clone());
                TransferMessage::Manifest { key, manifest }
            }
            TransferMessage::Resume { .. } => match self.manifests.get(&key) {
                Some(m) => TransferMessage::Manifest {
                    key,
                    manifest: m.clone(),
                },
                None => return cancel(),
            },
            TransferMessage::Offer { .. } => TransferMessage::Accept { key },
            TransferMessage::Manifest { .. } => TransferMessage::Want {
                key,
                round: u32::from(how >> 2),
                file: 0,
                offset: 0,
                chunk: CHUNK,
                window: WINDOW,
            },
            TransferMessage::Chunk {
                round,
                file,
                offset,
                data,
                ..
            } => {
                let upto = offset.saturating_add(data.len() as u64);
                let mut out = vec![Message::Transfer(TransferMessage::Ack {
                    key,
                    round: *round,
                    file: *file,
                    upto,
                })];
                // The whole transfer moved: the receiver says so, or asks
                // for the next file.
                if let Some(m) = self.manifests.get(&key) {
                    let i = *file as usize;
                    if m.entries.get(i).is_some_and(|e| e.size == upto) {
                        out.push(Message::Transfer(if i + 1 < m.entries.len() {
                            TransferMessage::Want {
                                key,
                                round: round.wrapping_add(1),
                                file: file.saturating_add(1),
                                offset: 0,
                                chunk: CHUNK,
                                window: WINDOW,
                            }
                        } else {
                            TransferMessage::Complete { key }
                        }));
                    }
                }
                return out;
            }
            TransferMessage::Want { .. } => return self.serve(conn, key, how),
            _ => return Vec::new(),
        };
        vec![Message::Transfer(m)]
    }

    /// The remote sender's next chunks for the engine's want of `key`.
    fn serve(&mut self, conn: ConnId, key: TransferKey, how: u8) -> Vec<Message> {
        let Some(s) = self.sending.get_mut(&(conn, key)) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for _ in 0..=(how & 0x03) {
            if s.next >= s.end {
                break;
            }
            let len = s.chunk.min(s.end - s.next);
            let mut data = generate::content(s.next, len as usize);
            if how & 0x80 != 0
                && let Some(b) = data.last_mut()
            {
                *b ^= 0x01;
            }
            out.push(Message::Transfer(TransferMessage::Chunk {
                key,
                round: s.round,
                file: s.file,
                offset: s.next,
                data: Blob::new(data).expect("within the chunk limit"),
            }));
            s.next = s.next.saturating_add(len);
        }
        out
    }
}

impl Role for Peer {
    type GenCommand = GPeerCommand;
    type State = PeerState;

    fn on_delivered(state: &mut PeerState, conn: ConnId, msg: &Message) {
        match msg {
            Message::Hello(h) => {
                state.greeted.insert(conn);
                if let Some(n) = &h.name {
                    state.claimed.insert(conn, n.clone());
                }
            }
            Message::Peer(PeerMessage::Verified) => {
                state.verified.insert(conn);
            }
            Message::Transfer(
                TransferMessage::Offer { key, manifest }
                | TransferMessage::Manifest { key, manifest },
            ) => {
                state.manifests.insert(*key, manifest.clone());
            }
            _ => {}
        }
    }

    fn check_sent(&self, state: &mut PeerState, conn: ConnId, msg: &Message, model: &Model) {
        if model.dialed.get(&conn) == Some(&REGISTRY) {
            state.registry = Some(conn);
            match msg {
                Message::Hello(h) => assert!(
                    h.name.is_none() && h.role == confab_engine::wire::Role::Peer,
                    "a bad hello to the registry: {h:?}"
                ),
                Message::Request(r) => {
                    state.requests.push_back((conn, r.id, r.body.clone()));
                    if state.requests.len() > MAX_ASKS {
                        state.requests.pop_front();
                    }
                }
                Message::Goodbye(_) => {}
                other => panic!("the peer sent the registry a {}", other.kind()),
            }
            return;
        }
        match msg {
            Message::Hello(h) => {
                assert_eq!(
                    h.name.as_ref().map(Name::as_str),
                    Some(ME),
                    "a peer hello that does not name this peer"
                );
                return;
            }
            Message::Goodbye(_) => return,
            Message::Peer(PeerMessage::Verified) => {
                assert!(
                    !model.dialed.contains_key(&conn),
                    "the dialer of {conn} sent Verified"
                );
                assert!(state.verified.insert(conn), "Verified sent twice on {conn}");
                return;
            }
            // Link control is part of the handshake: the session epoch follows
            // the hello, and keepalives may flow on any open connection.
            Message::Peer(PeerMessage::Session { .. } | PeerMessage::Ping | PeerMessage::Pong) => {
                return;
            }
            Message::Peer(_) | Message::Transfer(_) => assert!(
                state.verified.contains(&conn),
                "{} sent on {conn} before the link was verified",
                msg.kind()
            ),
            other => panic!("the peer sent a remote a {}", other.kind()),
        }
        match msg {
            Message::Transfer(TransferMessage::Chunk { data, .. }) => assert!(
                !data.is_empty() && data.len() <= CHUNK as usize,
                "a chunk of {} bytes (chunk size {CHUNK})",
                data.len()
            ),
            Message::Transfer(TransferMessage::Want {
                key,
                round,
                file,
                offset,
                chunk,
                window,
            }) => {
                assert!(
                    (1..=CHUNK).contains(chunk) && (1..=WINDOW).contains(window),
                    "a Want of chunk {chunk}, window {window}"
                );
                let end = state
                    .manifests
                    .get(key)
                    .and_then(|m| m.entries.get(*file as usize))
                    .map_or(*offset, |e| e.size);
                state.sending.insert(
                    (conn, *key),
                    Sending {
                        round: *round,
                        file: *file,
                        next: *offset,
                        end,
                        chunk: u64::from(*chunk),
                    },
                );
            }
            Message::Transfer(TransferMessage::Offer { key, manifest }) => {
                state.manifests.insert(*key, manifest.clone());
            }
            Message::Transfer(TransferMessage::Manifest { key, manifest }) => {
                state.manifests.insert(*key, manifest.clone());
            }
            _ => {}
        }
        let answerable = matches!(
            msg,
            Message::Peer(
                PeerMessage::ChatRequest
                    | PeerMessage::Data { .. }
                    | PeerMessage::GroupInvite { .. }
                    | PeerMessage::GroupAnswer { accept: true, .. }
            ) | Message::Transfer(
                TransferMessage::Get { .. }
                    | TransferMessage::Offer { .. }
                    | TransferMessage::Resume { .. }
                    | TransferMessage::Manifest { .. }
                    | TransferMessage::Want { .. }
                    | TransferMessage::Chunk { .. }
            )
        );
        if answerable {
            state.ask(conn, msg.clone());
        }
    }

    fn respond(
        &self,
        state: &mut PeerState,
        model: &Model,
        pick: u8,
        how: u8,
    ) -> Vec<(ConnId, Message)> {
        state.requests.retain(|(c, ..)| model.open.contains(c));
        state.asks.retain(|(c, _)| model.open.contains(c));
        let n = state.requests.len() + state.asks.len();
        let mut out = Vec::new();
        // Whoever the engine dialed says hello first (a remote then says
        // `Verified`; under `how`'s lowest bits 3, the wrong name answers).
        for (&conn, &addr) in &model.dialed {
            if !model.open.contains(&conn)
                || model.connecting.contains(&conn)
                || state.greeted.contains(&conn)
            {
                continue;
            }
            if addr == REGISTRY {
                let hello = Hello {
                    version: PROTOCOL_VERSION,
                    role: confab_engine::wire::Role::Registry,
                    name: None,
                };
                out.push((conn, Message::Hello(hello)));
                continue;
            }
            let k = NAME_POOL
                .iter()
                .position(|n| addr_of(&Name::new(n).expect("pool name")) == addr)
                .unwrap_or(1);
            let k = if how & 0x03 == 3 {
                (k + 1) % NAME_POOL.len()
            } else {
                k
            };
            out.push((conn, crate::samples::peer_hello(NAME_POOL[k])));
            // Both sides state their session epoch right after the hello.
            out.push((
                conn,
                Message::Peer(PeerMessage::Session {
                    epoch: u64::from(how),
                }),
            ));
            out.push((conn, Message::Peer(PeerMessage::Verified)));
        }
        if !out.is_empty() {
            return out;
        }
        if n == 0 {
            return out;
        }
        let i = usize::from(pick) % n;
        if i < state.requests.len() {
            let (conn, id, body) = state.requests.remove(i).expect("in range");
            let result = reply_to(&body, how);
            out.push((conn, Message::Reply(Reply { id, result })));
            return out;
        }
        let i = i - state.requests.len();
        let (conn, msg) = state.asks[i].clone();
        // A want is served chunk by chunk; anything else is answered once.
        let keep =
            matches!(msg, Message::Transfer(TransferMessage::Want { .. })) && how & 0x40 == 0;
        if !keep {
            state.asks.remove(i);
        }
        out.extend(state.answer(conn, &msg, how).into_iter().map(|m| (conn, m)));
        out
    }

    fn start(records: Vec<Record>, now: Instant) -> Self {
        Peer::new(config(), records, now, 0)
    }

    fn command(&self, g: &GPeerCommand, model: &Model) -> Option<PeerCommand> {
        Some(match g {
            GPeerCommand::Who => PeerCommand::Who,
            GPeerCommand::Whois(n) => PeerCommand::Whois(n.build()),
            GPeerCommand::Search(s) => PeerCommand::Search(s.clone()),
            GPeerCommand::Files(n) => PeerCommand::Files(n.build()),
            GPeerCommand::Chat(n) => PeerCommand::Chat(n.build()),
            GPeerCommand::Accept(i) => PeerCommand::Accept(i.map(|i| RequestId(i.into()))),
            GPeerCommand::Decline(i) => PeerCommand::Decline(i.map(|i| RequestId(i.into()))),
            GPeerCommand::Message { to, text } => PeerCommand::Message {
                to: to.build(),
                text: text.clone(),
            },
            GPeerCommand::CloseChat(n) => PeerCommand::CloseChat(n.build()),
            GPeerCommand::GroupCreate(g) => PeerCommand::GroupCreate(g.build()),
            GPeerCommand::Invite { group, name } => PeerCommand::Invite {
                group: group.build(),
                name: name.build(),
            },
            GPeerCommand::Leave(g) => PeerCommand::Leave(g.build()),
            GPeerCommand::SendFile { to, path } => PeerCommand::SendFile {
                to: to.build(),
                path: format!("/home/me/{}", path.build()),
            },
            GPeerCommand::Get { from, file } => PeerCommand::Get {
                from: from.build(),
                file: file.build(),
            },
            GPeerCommand::Transfers => PeerCommand::Transfers,
            GPeerCommand::Cancel { named, i } => {
                let named_ids = &model.files.named;
                PeerCommand::Cancel(if *named && !named_ids.is_empty() {
                    named_ids[usize::from(*i) % named_ids.len()]
                } else {
                    TransferId(u64::from(*i % 16))
                })
            }
            GPeerCommand::Friends => PeerCommand::Friends,
            GPeerCommand::FriendAdd(n) => PeerCommand::FriendAdd(n.build()),
            GPeerCommand::FriendRemove(n) => PeerCommand::FriendRemove(n.build()),
            GPeerCommand::History { with, last } => PeerCommand::History {
                with: with.build(),
                last: usize::from(*last),
            },
            GPeerCommand::ShowProfile => PeerCommand::ShowProfile,
            GPeerCommand::Nick(s) => PeerCommand::SetProfile(ProfileChange::Nick(s.clone())),
            GPeerCommand::Bio(s) => PeerCommand::SetProfile(ProfileChange::Bio(s.clone())),
            GPeerCommand::Avatar(len) => {
                PeerCommand::SetProfile(ProfileChange::Avatar(vec![7; usize::from(*len) * 2]))
            }
            GPeerCommand::Quit => PeerCommand::Quit,
        })
    }

    fn check_event(&self, event: &PeerEvent, model: &Model) {
        let _ = model;
        match event {
            PeerEvent::TransferProgress { done, total, .. } => {
                assert!(done <= total, "progress {done} of {total}")
            }
            PeerEvent::ChatRequest { from, .. }
            | PeerEvent::GroupInvite { from, .. }
            | PeerEvent::FileOffer { from, .. } => {
                assert_ne!(from.as_str(), ME, "a question from this peer itself")
            }
            PeerEvent::GroupJoined { members, .. } => {
                assert!(
                    members.len() <= MAX_GROUP_MEMBERS,
                    "a group of {}",
                    members.len()
                );
                assert!(
                    members.iter().any(|m| m.as_str() == ME),
                    "joined a group without this peer in it"
                );
            }
            _ => {}
        }
    }

    fn check_other_output(&self, output: &Output<PeerEvent>, _model: &Model) {
        match output {
            Output::ReadChunk { len, .. } => assert!(
                *len <= CHUNK,
                "a ReadChunk of {len} bytes (chunk size {CHUNK})"
            ),
            Output::WriteChunk { data, .. } => assert!(
                !data.is_empty() && data.len() <= CHUNK as usize,
                "a WriteChunk of {} bytes (chunk size {CHUNK})",
                data.len()
            ),
            Output::OpenSource { .. }
            | Output::OpenPart { .. }
            | Output::FinishFile { .. }
            | Output::DiscardPart { .. }
            | Output::ReleaseFiles { .. } => {}
            other => panic!("an unexpected output: {other:?}"),
        }
    }

    fn check(&self, model: &Model) {
        assert!(
            self.transfer_count() <= MAX_TRANSFERS,
            "{} transfers held",
            self.transfer_count()
        );
        for g in generate::GROUP_POOL {
            let g = GroupName::new(g).expect("pool group");
            assert!(self.group_members(&g).len() <= MAX_GROUP_MEMBERS);
        }
        if self.is_logged_in() {
            assert!(
                model
                    .dialed
                    .iter()
                    .any(|(c, a)| *a == REGISTRY && model.open.contains(c)),
                "logged in without an open registry connection"
            );
        }
        let remotes_open = model
            .open
            .iter()
            .any(|c| model.dialed.get(c) != Some(&REGISTRY));
        for n in NAME_POOL {
            let n = Name::new(n).expect("pool name");
            if self.is_connected_to(&n) {
                assert!(remotes_open, "connected to {n} without an open connection");
            }
        }
    }
}
