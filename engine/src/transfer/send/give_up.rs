//! [`GiveUp`]: when a sender stops waiting for its receiver.
//!
//! A sender cannot be told for sure that its receiver has forgotten the
//! transfer. The receiver's last word about it (its `Cancel`, or the "no
//! such transfer" answer to a description it no longer knows) goes out on
//! the receiver's open connection, and is lost with that connection if this
//! side had already replaced it (a crossed dial, a redial racing a close) or
//! if it was half-open. Nothing says it again, so every wait of an accepted
//! transfer is bounded by one of two clocks:
//!
//! - **away**: disconnected, a fetch gives up after `idle_timeout`. Fetches
//!   are not saved: a receiver that comes back later asks again, and its
//!   `Get` makes a new sender. An accepted offer is saved, and waits for its
//!   receiver's `Resume` however long the receiver is away.
//! - **unasked**: on each new connection, the receiver must speak of the
//!   transfer within `resume_timeout`. A receiver that holds the transfer
//!   does so first thing on every connection (its `handle_connected` sends
//!   `Get`, `Resume`, `Complete`, or the `Cancel` it kept), so silence
//!   beyond the time a live connection takes to carry that first word means
//!   the receiver has forgotten the transfer. Once it has
//!   spoken on a connection no clock runs: a slow receiver (re-hashing a
//!   large `.part` before its `Want`) is never cut off, and one that forgets
//!   the transfer later says so on that connection, or the connection
//!   changes and the clock starts again.
//!
//! Giving up tells the receiver nothing: it has forgotten the transfer, or
//! (its first word slower than `resume_timeout`) it is answered "no such
//! transfer" when that word arrives, and for a fetch that `Get` simply makes
//! a new sender, which resumes where the `.part` ends.
//!
//! Invariant: at most one clock runs; *away* only while disconnected,
//! *unasked* only while connected and nothing was heard on that connection.

use std::time::Instant;

use crate::transfer::config::TransferConfig;
use crate::wire::Name;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Clock {
    Away,
    Unasked,
}

/// See the module documentation.
#[derive(Debug, Default)]
pub(super) struct GiveUp {
    at: Option<(Instant, Clock)>,
}

impl GiveUp {
    /// The connection to the receiver is gone. `fetch`: the sender serves a
    /// fetch (an offer waits for its receiver however long it takes).
    pub fn disconnected(&mut self, now: Instant, fetch: bool, config: &TransferConfig) {
        self.at = fetch.then(|| (now + config.idle_timeout, Clock::Away));
    }

    /// A connection to the receiver is up. `accepted`: the receiver has
    /// taken the transfer (an offer not yet answered expires on its own).
    pub fn connected(&mut self, now: Instant, accepted: bool, config: &TransferConfig) {
        self.at = accepted.then(|| (now + config.resume_timeout, Clock::Unasked));
    }

    /// The receiver said something about the transfer: it still holds it.
    pub fn heard(&mut self) {
        if matches!(self.at, Some((_, Clock::Unasked))) {
            self.at = None;
        }
    }

    /// When a clock runs out.
    pub fn deadline(&self) -> Option<Instant> {
        self.at.map(|(at, _)| at)
    }

    /// Why the sender gives up at `now`, if a clock has run out.
    pub fn due(&self, now: Instant, peer: &Name, config: &TransferConfig) -> Option<String> {
        let (at, clock) = self.at?;
        if now < at {
            return None;
        }
        Some(match clock {
            Clock::Away => format!("{peer} did not come back to resume"),
            Clock::Unasked => format!(
                "{peer} no longer has this transfer: it did not ask to resume within {} s of reconnecting",
                config.resume_timeout.as_secs_f64()
            ),
        })
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn config() -> TransferConfig {
        TransferConfig {
            idle_timeout: Duration::from_secs(100),
            resume_timeout: Duration::from_secs(10),
            ..TransferConfig::default()
        }
    }

    #[test]
    fn unasked_runs_until_heard() {
        let (c, t0, peer) = (config(), Instant::now(), Name::new("bob").unwrap());
        let mut g = GiveUp::default();
        g.connected(t0, true, &c);
        assert_eq!(g.deadline(), Some(t0 + c.resume_timeout));
        assert!(g.due(t0 + Duration::from_secs(9), &peer, &c).is_none());
        assert!(g.due(t0 + c.resume_timeout, &peer, &c).is_some());
        g.heard();
        assert_eq!(g.deadline(), None);
    }

    #[test]
    fn away_runs_for_fetches_only() {
        let (c, t0) = (config(), Instant::now());
        let mut g = GiveUp::default();
        g.disconnected(t0, false, &c);
        assert_eq!(g.deadline(), None, "an offer waits however long");
        g.disconnected(t0, true, &c);
        assert_eq!(g.deadline(), Some(t0 + c.idle_timeout));
        g.connected(t0, false, &c);
        assert_eq!(g.deadline(), None, "an unanswered offer has its own expiry");
    }
}
