//! The announcement forger of the LAN tests (issue 20), in one place: the
//! engine's swarm test (`tests/lan_swarm.rs`) and the simulator's attacker
//! host (`confab-sim`'s `attacker/lan.rs`) each wrap it in their own
//! harness's node. It hears what peers announce and, on each
//! [`AnnouncementForger::strike`], makes what a hostile host on the segment
//! would send:
//!
//! - a **forged** copy of a victim's announcement (another peer's name
//!   under the victim's signature), also passed on as a relayed entry;
//! - an **unsigned** one (a victim's name, a fresh key nothing binds, an
//!   all-zero signature): what the planted bug `AcceptUnsignedAnnouncement`
//!   takes;
//! - a **replay** of the oldest announcement it heard, unchanged;
//! - a **claim** of a victim's name properly signed by its own key, which
//!   peers may list under that key (a claim, not a forgery: checkers allow
//!   it, by [`AnnouncementForger::fingerprint`]), at a port nothing listens
//!   on.
//!
//! Pure: bytes in, datagrams out, the wall clock passed in; its draws come
//! from its own seed. Feature `testing` only.

use std::net::SocketAddr;

use crate::rng::Rng;
use crate::secure::StaticSecret;
use crate::secure::claim;
use crate::wire::discovery::{Announcement, AnnouncementBody, LAN_VERSION, LanDatagram, Passed};
use crate::wire::identity::Signature;

/// How many heard announcements it keeps to pick victims from.
const KEEP: usize = 64;

/// See the module documentation.
pub struct AnnouncementForger {
    secret: StaticSecret,
    heard: Vec<Announcement>,
    rng: Rng,
}

impl AnnouncementForger {
    /// A forger with its own key `secret`, drawing from `seed`.
    pub fn new(secret: StaticSecret, seed: u64) -> Self {
        Self {
            secret,
            heard: Vec::new(),
            rng: Rng::new(seed),
        }
    }

    /// The fingerprint of its own key (the one it signs its claims with).
    pub fn fingerprint(&self) -> String {
        self.secret.public().fingerprint().to_string()
    }

    /// A datagram arrived: keeps it if it is an announcement and there is
    /// room.
    pub fn hear(&mut self, bytes: &[u8]) {
        if let Ok(LanDatagram::Announce(a)) = LanDatagram::parse(bytes)
            && self.heard.len() < KEEP
        {
            self.heard.push(a);
        }
    }

    /// What to send to the group now, dated `unix_ms` (nothing until it
    /// has heard someone).
    pub fn strike(&mut self, unix_ms: u64) -> Vec<LanDatagram> {
        if self.heard.is_empty() {
            return Vec::new();
        }
        let mut out = Vec::new();
        let n = self.heard.len() as u64;
        let victim = self.heard[self.rng.below(n) as usize].clone();
        let other = self.heard[self.rng.below(n) as usize].clone();
        // Another name under the victim's signature, announced and relayed.
        let mut forged = victim.clone();
        forged.body.name = other.body.name.clone();
        forged.body.at_ms = unix_ms;
        out.push(LanDatagram::Announce(forged.clone()));
        out.push(LanDatagram::Relay(Passed {
            ann: forged,
            addr: SocketAddr::from(([10, 9, 9, 9], 7000)),
            age_s: 0,
        }));
        // Unsigned: the victim's name with a key nothing binds.
        let mut unsigned = victim.clone();
        unsigned.body.key = StaticSecret::generate(&mut self.rng).public();
        unsigned.body.at_ms = unix_ms;
        unsigned.signature = Signature([0; 64]);
        out.push(LanDatagram::Announce(unsigned));
        // A replay of the oldest copy heard.
        out.push(LanDatagram::Announce(self.heard[0].clone()));
        // Its own key, claiming the victim's name.
        let identity = claim::identity_of(&self.secret);
        let key = self.secret.public();
        let body = AnnouncementBody {
            version: LAN_VERSION,
            key,
            identity: identity.public(),
            binding: claim::bind(&identity, &key),
            name: victim.body.name.clone(),
            port: 7000,
            digest: 0,
            at_ms: unix_ms,
        };
        out.push(LanDatagram::Announce(claim::sign_announcement(
            &identity, body,
        )));
        out
    }
}
