//! [`Attack`]: what one strike of the attacker tries, and [`draw`], which
//! picks one from the attacker's seeded rng among what it can do now.
//!
//! A strike is one connection. Until the attacker has an account (the
//! registry's key, a certificate of its own) it has nothing to impersonate
//! with, so it logs in first; after that every kind is drawn by weight:
//! replays of what it recorded, garbage, an old protocol version, a
//! handshake held open, probes for certificates to copy, and attempts to
//! pass for another peer.
//!
//! Pure: data and draws.

use std::time::Duration;

use super::forge::Credential;
use crate::draw::{self, Rng};

/// Where a strike connects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dest {
    /// The registry.
    Registry,
    /// The `n`th peer.
    Peer(usize),
}

/// What comes before the garbage of [`Attack::Garbage`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Prefix {
    /// Nothing: garbage where the first frame should be.
    Nothing,
    /// A valid first frame: garbage where the handshake should be.
    Preamble,
    /// A first frame and a valid first handshake message.
    HandshakeStart,
    /// A first frame claiming 4 GiB.
    HugeFrame,
    /// A first frame, then a handshake message claiming 64 KiB.
    HugeHandshake,
}

/// See the module documentation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Attack {
    /// Log in to its own account, for a certificate and the registry key.
    Account,
    /// Dial a peer to copy its certificate from the handshake.
    Probe { peer: usize },
    /// Send what an earlier connection carried (what it sent, or what it
    /// received), whole or cut short.
    Replay {
        to: Dest,
        recording: usize,
        received: bool,
        cut: Option<usize>,
    },
    /// Random bytes after `prefix`.
    Garbage {
        to: Dest,
        prefix: Prefix,
        len: usize,
    },
    /// A plaintext hello of protocol version 1.
    OldVersion { to: Dest },
    /// A first frame and the first handshake message, then silence.
    Stall { to: Dest },
    /// Reach peer `victim` claiming to be peer `claimed`.
    Impersonate {
        victim: usize,
        claimed: usize,
        credential: Credential,
    },
}

impl Attack {
    /// A short name for counts.
    pub fn label(&self) -> &'static str {
        match self {
            Attack::Account => "account",
            Attack::Probe { .. } => "probe",
            Attack::Replay { .. } => "replay",
            Attack::Garbage { .. } => "garbage",
            Attack::OldVersion { .. } => "old-version",
            Attack::Stall { .. } => "stall",
            Attack::Impersonate { .. } => "false-name",
        }
    }

    /// How long the attacker keeps the connection open, unless the other
    /// side closes it first. A stalled handshake is held well past every
    /// handshake deadline, so the other side must be the one to close it.
    pub fn hold(&self, rng: &mut Rng) -> Duration {
        match self {
            Attack::Account => Duration::from_secs(10),
            Attack::Stall { .. } => Duration::from_secs(12),
            _ => Duration::from_millis(draw::between(rng, 500, 4000)),
        }
    }
}

/// What the attacker can draw from.
#[derive(Debug)]
pub struct Means {
    /// How many peers there are.
    pub peers: usize,
    /// How many connections it has recorded.
    pub recordings: usize,
    /// Whether it has an account: the registry's key and a certificate.
    pub ready: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Pick {
    Account,
    Probe,
    Replay,
    Garbage,
    OldVersion,
    Stall,
    Impersonate,
}

const WEIGHTS: [(Pick, u32); 7] = [
    (Pick::Account, 1),
    (Pick::Probe, 2),
    (Pick::Replay, 3),
    (Pick::Garbage, 3),
    (Pick::OldVersion, 1),
    (Pick::Stall, 1),
    (Pick::Impersonate, 6),
];

/// A strike drawn from `rng`; `can(credential, claimed)` says whether a
/// credential for claiming peer `claimed` is at hand.
pub fn draw(rng: &mut Rng, means: &Means, can: impl Fn(Credential, usize) -> bool) -> Attack {
    if !means.ready || means.peers < 2 {
        return Attack::Account;
    }
    let peer = |rng: &mut Rng| rng.below(means.peers as u64) as usize;
    let dest = |rng: &mut Rng| {
        if draw::chance(rng, 0.3) {
            Dest::Registry
        } else {
            Dest::Peer(rng.below(means.peers as u64) as usize)
        }
    };
    match draw::weighted(rng, &WEIGHTS) {
        Pick::Account => Attack::Account,
        Pick::Probe => Attack::Probe { peer: peer(rng) },
        Pick::Replay if means.recordings > 0 => Attack::Replay {
            to: dest(rng),
            recording: rng.below(means.recordings as u64) as usize,
            received: draw::chance(rng, 0.25),
            cut: draw::chance(rng, 0.5).then(|| draw::between(rng, 1, 400) as usize),
        },
        Pick::Replay | Pick::Garbage => {
            let prefixes = [
                Prefix::Nothing,
                Prefix::Preamble,
                Prefix::HandshakeStart,
                Prefix::HugeFrame,
                Prefix::HugeHandshake,
            ];
            Attack::Garbage {
                to: dest(rng),
                prefix: prefixes[rng.below(prefixes.len() as u64) as usize],
                len: draw::between(rng, 1, 3000) as usize,
            }
        }
        Pick::OldVersion => Attack::OldVersion { to: dest(rng) },
        Pick::Stall => Attack::Stall { to: dest(rng) },
        Pick::Impersonate => {
            let victim = peer(rng);
            let other = rng.below(means.peers as u64 - 1) as usize;
            let claimed = if other >= victim { other + 1 } else { other };
            let mut credential = Credential::ALL[rng.below(Credential::ALL.len() as u64) as usize];
            if !can(credential, claimed) {
                credential = Credential::SelfSigned;
            }
            Attack::Impersonate {
                victim,
                claimed,
                credential,
            }
        }
    }
}
