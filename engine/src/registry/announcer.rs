//! What a registry's announcing on the LAN is configured with
//! ([`AnnounceConfig`]) and the rate it answers queries at
//! ([`Announcer`]); `announce.rs` does the announcing. Values only.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use crate::limits::MAX_QUERY_ANSWERS_PER_SECOND;

/// Whether and where a registry announces itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AnnounceConfig {
    /// The multicast group and port (peers' `--discovery-group`).
    pub group: SocketAddr,
    /// About how often (± 25 %). Default 30 s.
    pub interval: Duration,
    /// The TCP port it listens on (announced; the address is the
    /// datagram's source).
    pub port: u16,
}

impl AnnounceConfig {
    /// The default group and interval, for a registry listening on `port`.
    pub fn new(port: u16) -> Self {
        Self {
            group: crate::peer::DiscoveryConfig::DEFAULT_GROUP,
            interval: Duration::from_secs(30),
            port,
        }
    }
}

/// Queries answered: since when, how many.
#[derive(Debug)]
pub(crate) struct Announcer {
    answers: (Instant, u32),
}

impl Announcer {
    pub fn new(now: Instant) -> Self {
        Self { answers: (now, 0) }
    }

    /// Whether one more query may be answered now.
    pub fn may_answer(&mut self, now: Instant) -> bool {
        if now.duration_since(self.answers.0) >= Duration::from_secs(1) {
            self.answers = (now, 0);
        }
        if self.answers.1 >= MAX_QUERY_ANSWERS_PER_SECOND {
            return false;
        }
        self.answers.1 += 1;
        true
    }
}
