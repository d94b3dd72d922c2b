//! How a peer is set up: the driver fills this in at start. The parts each
//! sub-machine reads are nested ([`LinkConfig`], [`SessionConfig`],
//! [`TransferConfig`]), so each is handed its own part, never a copy of
//! fields picked out of the whole. Touches nothing but value types.

use std::net::SocketAddr;
use std::time::Duration;

use crate::planted::PlantedBugs;
use crate::secure::SecureConfig;
use crate::wire::Name;
use crate::wire::identity::Fingerprint;
use crate::wire::registry::{Password, SharedFile};

pub use crate::peer::calls::CallConfig;
pub use crate::transfer::TransferConfig;

/// Waits before reconnecting: `min` first, doubling up to `max`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    /// First wait.
    pub min: Duration,
    /// Longest wait between attempts.
    pub max: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Self {
            min: Duration::from_millis(250),
            max: Duration::from_secs(10),
        }
    }
}

/// The registry session's timing (see `peer::registry_link`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionConfig {
    /// How often to heartbeat the registry (a third of its timeout).
    pub heartbeat_interval: Duration,
    /// How long the registry may take to accept the connection or to answer
    /// any request (log-in and heartbeats included) before the connection is
    /// taken for dead, dropped and made again. Default 20 s: two heartbeat
    /// intervals, far above a log-in's slow password hash on a busy registry,
    /// and short enough that a peer whose registry died silently is back
    /// within the registry's own timeout (30 s) of it returning.
    pub reply_timeout: Duration,
    /// Waits before reconnecting to the registry.
    pub reconnect: Backoff,
}

impl Default for SessionConfig {
    fn default() -> Self {
        Self {
            heartbeat_interval: Duration::from_secs(10),
            reply_timeout: Duration::from_secs(20),
            reconnect: Backoff::default(),
        }
    }
}

/// Direct peer connections' timing (see `peer::link`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LinkConfig {
    /// How long a new peer connection may take to say hello and prove who
    /// it is (the proof needs a registry round trip) before it is closed.
    pub handshake_timeout: Duration,
    /// Waits before redialing a peer.
    pub reconnect: Backoff,
    /// How long an open peer connection may be silent before it is sent a
    /// `Ping` (and again every interval while silent). Default 10 s: a few
    /// dozen bytes per idle connection per interval.
    pub keepalive_interval: Duration,
    /// How long an open peer connection may be silent (nothing at all
    /// received, pings unanswered) before it is taken for dead and closed,
    /// so that a half-open connection left by a silent crash or a lost close
    /// is noticed even with nothing to send. Default 30 s: three intervals,
    /// so two lost pings are not enough to drop a connection.
    pub keepalive_timeout: Duration,
    /// How often unacknowledged messages are sent again on an open
    /// connection (a receiver holds back what it cannot take yet, such as a
    /// group message from a member it has not heard of).
    pub retransmit_interval: Duration,
    /// While a peer is reached through the registry's relay, how often a
    /// direct connection is tried again (one that opens takes over, see
    /// `peer::relay`). Default 30 s.
    pub direct_retry: Duration,
}

impl Default for LinkConfig {
    fn default() -> Self {
        Self {
            handshake_timeout: Duration::from_secs(10),
            reconnect: Backoff::default(),
            keepalive_interval: Duration::from_secs(10),
            keepalive_timeout: Duration::from_secs(30),
            retransmit_interval: Duration::from_secs(3),
            direct_retry: Duration::from_secs(30),
        }
    }
}

/// LAN discovery (issue 20; see `peer::discovery`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DiscoveryConfig {
    /// The multicast group and port announcements go to (default
    /// [`DiscoveryConfig::DEFAULT_GROUP`]).
    pub group: SocketAddr,
    /// About how often a peer announces itself (± 25 %, jittered so peers
    /// started together do not announce together). Default 30 s.
    pub interval: Duration,
    /// How long a peer not heard of is still listed. Default 95 s: three
    /// intervals and a bit, so two lost announcements do not drop it.
    pub expiry: Duration,
}

impl DiscoveryConfig {
    /// The default group: 239.255.67.66 (organisation-local scope,
    /// RFC 2365), port 6767.
    pub const DEFAULT_GROUP: SocketAddr = SocketAddr::new(
        std::net::IpAddr::V4(std::net::Ipv4Addr::new(239, 255, 67, 66)),
        6767,
    );

    /// The default IPv6 group, joined beside [`Self::DEFAULT_GROUP`]:
    /// `ff12::6767` (link-local scope, transient), port 6767.
    pub const DEFAULT_GROUP_V6: SocketAddr = SocketAddr::new(
        std::net::IpAddr::V6(std::net::Ipv6Addr::new(0xff12, 0, 0, 0, 0, 0, 0, 0x6767)),
        6767,
    );
}

impl Default for DiscoveryConfig {
    fn default() -> Self {
        Self {
            group: Self::DEFAULT_GROUP,
            interval: Duration::from_secs(30),
            expiry: Duration::from_secs(95),
        }
    }
}

/// `--registry lan` (issue 20): log in to a registry announced on the LAN
/// (see `peer::registry_lan`). The key it must show is
/// `secure.registry_pin` (`--registry-key`) if given, else the one `known`
/// gives for the address it is announced at, else the one it shows first
/// (trust on first use, reported as `RegistryKey`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LanRegistryConfig {
    /// Registry keys already trusted, by address (`known_registries`).
    pub known: Vec<(SocketAddr, Fingerprint)>,
}

/// A peer's configuration.
#[derive(Debug, Clone)]
pub struct PeerConfig {
    /// Who this peer is.
    pub name: Name,
    /// The account password (first log-in of a new name registers it).
    pub password: Password,
    /// Where the registry listens.
    pub registry: SocketAddr,
    /// The address other peers reach this one at (the driver has bound it).
    pub listen: SocketAddr,
    /// What this peer shares, from the driver's shared-folder index.
    pub shared: Vec<SharedFile>,
    /// Wall-clock time at construction, in milliseconds since the Unix epoch.
    /// The engine never reads a clock: it dates history entries from this
    /// and the `now` it is given.
    pub unix_ms_at_start: u64,
    /// How long a chat request or group invitation waits for an answer (a
    /// file offer waits `transfer.offer_timeout`; by default the same).
    pub request_timeout: Duration,
    /// The registry session.
    pub session: SessionConfig,
    /// Direct connections to other peers.
    pub link: LinkConfig,
    /// File transfers. Its `resume_timeout` should stay above the link's
    /// keepalive timeout (see [`TransferConfig::resume_timeout`]).
    pub transfer: TransferConfig,
    /// Bugs planted on purpose (tests only; empty by default). The peer
    /// hands them to its streams and its transfers.
    pub planted: PlantedBugs,
    /// Keys and entropy for its encrypted connections (see
    /// [`SecureConfig`]; empty: drawn from the seed, for tests).
    pub secure: SecureConfig,
    /// Video calls (issue 21); their media use UDP on `listen`'s port.
    pub call: CallConfig,
    /// LAN discovery and peer exchange (issue 20); `None`: off.
    pub discovery: Option<DiscoveryConfig>,
    /// Peers to ask who is there at start and at every announce tick
    /// (`--join`: their listen address, whose UDP port answers), and keep
    /// linked for peer exchange: one is enough to enter a network that
    /// multicast does not reach.
    pub join: Vec<SocketAddr>,
    /// Never dial the registry (`registry` is ignored): peers are found
    /// by discovery and exchange only, and names are claims.
    pub without_registry: bool,
    /// This peer hears the LAN on two or more interfaces (segments): it
    /// also passes on what it heard there by multicast, so the peers of
    /// each segment learn of the others' (see `Discovery::relays`).
    pub lan_bridge: bool,
    /// Log in to a registry announced on the LAN (`registry` is ignored);
    /// needs `discovery`. Until one is heard, as `without_registry`.
    pub registry_lan: Option<LanRegistryConfig>,
}

impl PeerConfig {
    /// A configuration with the defaults for everything but identity and addresses.
    pub fn new(name: Name, password: Password, registry: SocketAddr, listen: SocketAddr) -> Self {
        Self {
            name,
            password,
            registry,
            listen,
            shared: Vec::new(),
            unix_ms_at_start: 0,
            request_timeout: Duration::from_secs(60),
            session: SessionConfig::default(),
            link: LinkConfig::default(),
            transfer: TransferConfig::default(),
            secure: SecureConfig::default(),
            planted: PlantedBugs::NONE,
            call: CallConfig::default(),
            discovery: None,
            join: Vec::new(),
            without_registry: false,
            lan_bridge: false,
            registry_lan: None,
        }
    }
}
