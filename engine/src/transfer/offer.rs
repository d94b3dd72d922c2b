//! The offer handshake, shared by both sides: an offer waits for an answer
//! until its deadline, then expires on each side on its own (no message is
//! needed for it to end, so a lost connection cannot leave one side waiting
//! forever).
//!
//! Invariants: a pending offer has exactly one deadline; answering or
//! cancelling clears it; an expired offer never becomes accepted.

use std::time::{Duration, Instant};

/// Where an offer stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OfferState {
    /// Waiting for the receiver's answer until the deadline.
    Pending { deadline: Instant },
    /// Accepted: the transfer moves (or will, once connected).
    Accepted,
}

impl OfferState {
    /// A new offer made at `now`.
    pub fn new(now: Instant, timeout: Duration) -> Self {
        OfferState::Pending {
            deadline: now + timeout,
        }
    }

    /// The deadline, while pending.
    pub fn deadline(&self) -> Option<Instant> {
        match self {
            OfferState::Pending { deadline } => Some(*deadline),
            OfferState::Accepted => None,
        }
    }

    /// Whether a pending offer has run out at `now`.
    pub fn expired(&self, now: Instant) -> bool {
        self.deadline().is_some_and(|d| now >= d)
    }

    /// Whether accepted.
    pub fn accepted(&self) -> bool {
        matches!(self, OfferState::Accepted)
    }
}

/// The reason both sides give when an offer runs out.
pub fn expired_reason(name: &str, timeout: Duration) -> String {
    format!(
        "the offer of {name} expired unanswered after {} s",
        timeout.as_secs()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expires_only_while_pending() {
        let t0 = Instant::now();
        let s = OfferState::new(t0, Duration::from_secs(60));
        assert!(!s.expired(t0 + Duration::from_secs(59)));
        assert!(s.expired(t0 + Duration::from_secs(60)));
        assert!(!OfferState::Accepted.expired(t0 + Duration::from_secs(600)));
    }
}
