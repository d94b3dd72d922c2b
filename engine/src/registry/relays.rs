//! The registry relay's state (see `relay` for what it does): the
//! operator's caps, each relayed stream's two ends with their bytes in
//! flight and credit owed, the round-robin ring of streams owed credit, the
//! token buckets, and the counts an operator sees. Plain values; touches
//! nothing else.
//!
//! Invariants: a stream is in `by_conn` under both of its ends'
//! connections and nowhere else; for each end, `inflight <= RELAY_WINDOW`
//! (checked by `relay` before it forwards).

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::time::{Duration, Instant};

use crate::api::ConnId;
use crate::wire::Name;

/// What the operator allows (`confab registry --relay`, `--relay-peer-rate`,
/// `--relay-total-rate`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RelayConfig {
    /// Whether this registry relays at all.
    pub on: bool,
    /// Most bytes per second one peer may send through the relay, all its
    /// streams together (0: no cap). Default 16 MiB/s.
    pub peer_rate: u64,
    /// Most bytes per second relayed for everyone together (0: no cap).
    /// Default 128 MiB/s.
    pub total_rate: u64,
}

impl Default for RelayConfig {
    fn default() -> Self {
        Self {
            on: true,
            peer_rate: 16 * 1024 * 1024,
            total_rate: 128 * 1024 * 1024,
        }
    }
}

/// One end of a stream.
#[derive(Debug)]
pub(super) struct End {
    pub conn: ConnId,
    pub name: Name,
    /// Bytes forwarded toward this end and not yet credited back by it.
    pub inflight: u64,
    /// Credit this end (as a sender) is owed and has not been given yet
    /// (held back by a cap).
    pub owed: u64,
    /// When this end was last told its credit is capped.
    pub capped_told: Option<Instant>,
}

#[derive(Debug)]
pub(super) struct Stream {
    pub ends: [End; 2],
    /// Bytes carried, both ways.
    pub bytes: u64,
}

/// A token bucket: `rate` bytes a second, at most one second's worth saved.
#[derive(Debug, Clone, Copy)]
pub(super) struct Bucket {
    pub tokens: u64,
    pub at: Instant,
}

impl Bucket {
    pub fn fill(&mut self, now: Instant, rate: u64) -> u64 {
        let dt = now.saturating_duration_since(self.at);
        let add = (dt.as_nanos() * u128::from(rate) / 1_000_000_000).min(u128::from(rate)) as u64;
        if add > 0 {
            self.tokens = (self.tokens + add).min(rate);
            self.at = now;
        }
        self.tokens
    }
}

/// See the module documentation.
#[derive(Debug, Default)]
pub(super) struct Relays {
    pub next: u64,
    pub streams: BTreeMap<u64, Stream>,
    pub by_conn: BTreeMap<ConnId, BTreeSet<u64>>,
    /// Streams and ends owed credit, in the order they will be served.
    pub ring: VecDeque<(u64, usize)>,
    pub peer_buckets: BTreeMap<Name, Bucket>,
    pub total_bucket: Option<Bucket>,
    /// Streams opened since start, and bytes carried by closed ones.
    pub opened: u64,
    carried: u64,
    /// A misbehaving relay (tests only), pieces relayed so far, and a
    /// piece held back for `Reorder`.
    #[cfg(feature = "testing")]
    pub fault: Option<FaultState>,
}

/// How often the relay's counts go to the log while it carries streams
/// ([`crate::registry::RegistryEvent::RelayStatus`]).
pub const RELAY_REPORT_EVERY: Duration = Duration::from_secs(60);

/// What an operator sees of the relay (`/who`-style, and the log).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RelayStatus {
    /// Streams open now: (stream, one end, the other, bytes so far).
    pub streams: Vec<(u64, Name, Name, u64)>,
    /// Streams opened since start.
    pub opened: u64,
    /// Bytes relayed since start, both ways, all streams.
    pub bytes: u64,
    /// Streams whose sender is held back by a cap now (owed credit).
    pub capped: usize,
}

impl Relays {
    pub fn end_of(&self, stream: u64, conn: ConnId) -> Option<usize> {
        let s = self.streams.get(&stream)?;
        s.ends.iter().position(|e| e.conn == conn)
    }

    pub fn count_of(&self, conn: ConnId) -> usize {
        self.by_conn.get(&conn).map_or(0, BTreeSet::len)
    }

    pub fn remove(&mut self, stream: u64) -> Option<Stream> {
        let s = self.streams.remove(&stream)?;
        for e in &s.ends {
            if let Some(set) = self.by_conn.get_mut(&e.conn) {
                set.remove(&stream);
                if set.is_empty() {
                    self.by_conn.remove(&e.conn);
                }
            }
        }
        self.ring.retain(|(id, _)| *id != stream);
        self.carried += s.bytes;
        Some(s)
    }

    /// What an operator sees.
    pub fn status(&self) -> RelayStatus {
        let streams: Vec<_> = self
            .streams
            .iter()
            .map(|(id, s)| (*id, s.ends[0].name.clone(), s.ends[1].name.clone(), s.bytes))
            .collect();
        let open: u64 = streams.iter().map(|s| s.3).sum();
        let capped: BTreeSet<u64> = self.ring.iter().map(|(id, _)| *id).collect();
        RelayStatus {
            streams,
            opened: self.opened,
            bytes: self.carried + open,
            capped: capped.len(),
        }
    }
}

/// A [`RelayFault`], the pieces relayed so far, and a piece held back for
/// `Reorder`.
#[cfg(feature = "testing")]
pub(super) type FaultState = (
    RelayFault,
    u64,
    Option<(u64, crate::wire::relay::RelayBytes)>,
);

/// A misbehaving relay, for tests (feature `testing`): what the registry
/// does to every `every`-th piece it relays.
#[cfg(feature = "testing")]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RelayFault {
    /// Flips a bit of it.
    Alter { every: u64 },
    /// Drops it.
    Drop { every: u64 },
    /// Sends it twice.
    Duplicate { every: u64 },
    /// Holds it back and sends it after the next piece of its stream.
    Reorder { every: u64 },
}
