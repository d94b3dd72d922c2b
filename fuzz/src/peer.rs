//! The peer role for the engine driver ([`crate::driver`]).
//!
//! The driver plays everyone the peer talks to: the registry (it answers the
//! peer's requests with plausible replies, so the peer logs in, is issued
//! a certificate for its key, and its look-ups succeed) and the remote
//! peers (each proving its name with a certificate from that registry, see
//! [`keys`]; or, as the script's `mode` says, with none, an expired one,
//! one for another name or key, one from another registry, or no
//! encryption at all; the registry too may show another key, a bad
//! binding, or no encryption). It answers
//! what the peer sent them: chat requests, data, invitations, transfer
//! requests, wants with chunks of [`generate::content`], chunks with acks).
//! [`Op::Respond`](crate::ops::Op::Respond) picks what to answer and how.
//! Remote `NAME_POOL[k]` lives at `10.0.0.(k+1)`, and a connection accepted
//! from remote number `k + 1` (see `driver::remote`) is `NAME_POOL[k]`.
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
//!   [`MAX_GROUP_MEMBERS`]; logged in only over an open registry connection
//!   whose encrypted handshake completed, connected to a peer only over
//!   such a connection.
//!
//! An honest remote's channel may refuse the peer's own certificate (none
//! yet, or expired as time passed): that is the peer's right, not a finding.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Duration;

use arbitrary::Arbitrary;
use confab_engine::bounded::Text;
use confab_engine::peer::{Backoff, Target};
use confab_engine::wire::peer::Conv;
use confab_engine::wire::registry::{Password, RequestBody};
use confab_engine::wire::transfer::{Manifest, TransferKey};
use confab_engine::wire::{Message, Name};
use confab_engine::{ConnId, PeerConfig};

mod answer;
pub mod keys;
mod role;
use crate::generate::{Build, GFileName, GGroupName, GName, NAME_POOL};

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

/// The configuration of the peer under test: short timeouts, tiny chunks,
/// its own key (the same every run), its wall clock reading `unix_ms` now.
pub fn config(unix_ms: u64) -> PeerConfig {
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
    c.secure = confab_engine::secure::SecureConfig {
        static_key: Some(keys::static_of(0)),
        signing_key: None,
        registry_pin: None,
        entropy: Some([0x55; 32]),
    };
    c.unix_ms_at_start = unix_ms;
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
    Forget(GName),
    /// `/trust NAME FINGERPRINT`, with any fingerprint.
    Trust {
        name: GName,
        fingerprint: [u8; 16],
    },
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
