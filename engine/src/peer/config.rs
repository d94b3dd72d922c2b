//! How a peer is set up. The driver fills this in at start.

use std::net::SocketAddr;
use std::time::Duration;

use crate::wire::Name;
use crate::wire::registry::{Password, SharedFile};

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
    /// How often to heartbeat the registry (a third of its timeout).
    pub heartbeat_interval: Duration,
    /// How long the registry may take to accept the connection or to answer
    /// any request (log-in and heartbeats included) before the connection is
    /// taken for dead, dropped and made again. Default 20 s: two heartbeat
    /// intervals, far above a log-in's slow password hash on a busy registry,
    /// and short enough that a peer whose registry died silently is back
    /// within the registry's own timeout (30 s) of it returning.
    pub registry_reply_timeout: Duration,
    /// How long a chat request, group invitation or file offer waits for an answer.
    pub request_timeout: Duration,
    /// First wait before reconnecting to the registry or a peer; doubles up
    /// to `reconnect_max`.
    pub reconnect_min: Duration,
    /// Longest wait between reconnection attempts.
    pub reconnect_max: Duration,
    /// Bytes per file chunk.
    pub chunk_size: u32,
    /// Unacknowledged chunks in flight per transfer.
    pub window: u32,
    /// How long a new peer connection may take to say hello and prove who
    /// it is (the proof needs a registry round trip) before it is closed.
    pub handshake_timeout: Duration,
    /// How often unacknowledged messages are sent again on an open
    /// connection (a receiver holds back what it cannot take yet, such as a
    /// group message from a member it has not heard of).
    pub retransmit_interval: Duration,
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
            heartbeat_interval: Duration::from_secs(10),
            registry_reply_timeout: Duration::from_secs(20),
            request_timeout: Duration::from_secs(60),
            reconnect_min: Duration::from_millis(250),
            reconnect_max: Duration::from_secs(10),
            chunk_size: 64 * 1024,
            window: 16,
            handshake_timeout: Duration::from_secs(10),
            retransmit_interval: Duration::from_secs(3),
            keepalive_interval: Duration::from_secs(10),
            keepalive_timeout: Duration::from_secs(30),
        }
    }
}
