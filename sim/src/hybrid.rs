//! Hybrid runs (`--hybrid`, issue 20 item 5: "the registry comes and
//! goes") as a configuration of the one world ([`crate::run::world`]): the
//! ordinary world (the registry host, scripted clients, the fault
//! injector's faults, every checker) plus the LAN's segments, joins and
//! datagram faults ([`crate::lan::Lan`]) with discovery on every peer, and
//! registry outages long enough to matter.
//!
//! While a peer's registry session is down its look-ups (`/who`,
//! `/search`, `/whois`) and dials go to what it heard on the LAN or through
//! peer exchange; when the registry is back it logs in again on its own.
//! The checkers judge both sides of each switch: every message shown once
//! and in order, files intact, calls, attribution, the registry's
//! sessions and online list after the heal, and `lan-safety` on every
//! `/who` answered from the LAN (no name under a key that did not sign
//! it). `lan-liveness` judges the lists that outages produce (every peer
//! knows every other a bound after both are up) but owes none at the end,
//! when the registry answers `/who`.
//!
//! The outages are the injector's registry crashes ([`FaultKind::CrashRegistry`]),
//! forced on in every hybrid run with their down time drawn from
//! [`DOWN`] (the ordinary runs' draw is 0.3 to 15 s, mostly short), the
//! first one between [`FIRST`] and half the faulty phase so that every run
//! has the registry down for seconds while chats, groups and transfers
//! are under way. Half the crashes are silent (the injector's draw: its
//! goodbyes lost), so peers learn of it only by their reply timeouts; and
//! after the first, half the outages are no crash but a partition away
//! (the registry, still running, cut off from every host for as long;
//! its sessions expire by heartbeat, and peers log in again when it is
//! reachable). The forger of LAN runs is left out (the ordinary
//! attacker, which needs a registry account, strikes as the plan draws).
//!
//! [`FaultKind::CrashRegistry`]: crate::faults::FaultKind::CrashRegistry

use std::time::Duration;

use crate::draw::{self, Rng};

/// Mixed into the seed for the outages' own draws.
const HYBRID_STREAM: u64 = 0x6879_6272_6964_0001;
/// The first outage starts no earlier than this (the workload is under
/// way: peers are logged in, chats and transfers asked for).
pub const FIRST: Duration = Duration::from_secs(5);
/// How long the registry stays down each time (log-uniform between).
pub const DOWN: (Duration, Duration) = (Duration::from_secs(3), Duration::from_secs(12));
/// Mean time between registry crashes when the fault plan drew none.
pub const EVERY: Duration = Duration::from_secs(20);

/// When the first registry outage of `seed` starts, in a faulty phase of
/// `duration`: between [`FIRST`] and half of it.
pub fn first_outage(seed: u64, duration: Duration) -> Duration {
    let mut rng = Rng::new(seed ^ HYBRID_STREAM);
    let hi = (duration / 2).max(FIRST + Duration::from_secs(1));
    Duration::from_millis(draw::between(
        &mut rng,
        FIRST.as_millis() as u64,
        hi.as_millis() as u64,
    ))
}
