//! The attacker of LAN runs (`--lan`, issue 20): a host on segment 0 that
//! hears what the peers announce to the discovery group and, every
//! [`STRIKE_INTERVAL`], sends to the group:
//!
//! - a **forged** copy of a victim's announcement (another peer's name
//!   under the victim's signature), also passed on as a relayed entry;
//! - an **unsigned** one (a victim's name, a fresh key nothing binds, an
//!   all-zero signature): what the planted bug `AcceptUnsignedAnnouncement`
//!   takes;
//! - a **replay** of the oldest announcement it heard, unchanged;
//! - a **claim** of a victim's name properly signed by its own key, which
//!   peers may list under that key (a claim, not a forgery: the safety
//!   checker allows it, by [`LanForger::fingerprint`]), at a port nothing
//!   listens on.
//!
//! A sans-IO engine like the others, run by the same driver; it never
//! connects. Its draws come from its own seed.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use confab_engine::api::{CommandError, ConnId, Engine, Input, Output};
use confab_engine::rng::Rng;
use confab_engine::secure::StaticSecret;
use confab_engine::secure::claim;
use confab_engine::wire::discovery::{
    Announcement, AnnouncementBody, LAN_VERSION, LanDatagram, Passed,
};
use confab_engine::wire::identity::Signature;

use super::{AttackCommand, AttackEvent};

/// How often it strikes.
pub const STRIKE_INTERVAL: Duration = Duration::from_secs(2);
/// How many heard announcements it keeps to pick victims from.
const KEEP: usize = 64;

/// See the module documentation.
pub struct LanForger {
    secret: StaticSecret,
    group: SocketAddr,
    unix_ms_at_start: u64,
    started: Instant,
    heard: Vec<Announcement>,
    out: VecDeque<Output<AttackEvent>>,
    next: Instant,
    rng: Rng,
}

impl LanForger {
    /// A forger with key `secret` sending to `group`, whose wall clock read
    /// `unix_ms_at_start` at `now`.
    pub fn new(
        secret: StaticSecret,
        group: SocketAddr,
        unix_ms_at_start: u64,
        now: Instant,
        seed: u64,
    ) -> Self {
        Self {
            secret,
            group,
            unix_ms_at_start,
            started: now,
            heard: Vec::new(),
            out: VecDeque::new(),
            next: now + STRIKE_INTERVAL,
            rng: Rng::new(seed),
        }
    }

    /// The fingerprint of its own key (the one it signs its claims with).
    pub fn fingerprint(secret: &StaticSecret) -> String {
        secret.public().fingerprint().to_string()
    }

    fn send(&mut self, d: LanDatagram) {
        self.out.push_back(Output::SendDatagram {
            to: self.group,
            bytes: d.to_bytes(),
        });
    }

    fn strike(&mut self, now: Instant) {
        if self.heard.is_empty() {
            return;
        }
        let n = self.heard.len() as u64;
        let victim = self.heard[self.rng.below(n) as usize].clone();
        let other = self.heard[self.rng.below(n) as usize].clone();
        let unix = self.unix_ms_at_start + (now - self.started).as_millis() as u64;
        // Another name under the victim's signature, announced and relayed.
        let mut forged = victim.clone();
        forged.body.name = other.body.name.clone();
        forged.body.at_ms = unix;
        self.send(LanDatagram::Announce(forged.clone()));
        self.send(LanDatagram::Relay(Passed {
            ann: forged,
            addr: SocketAddr::from(([10, 9, 9, 9], 7000)),
            age_s: 0,
        }));
        // Unsigned: the victim's name with a key nothing binds.
        let mut unsigned = victim.clone();
        unsigned.body.key = StaticSecret::generate(&mut self.rng).public();
        unsigned.body.at_ms = unix;
        unsigned.signature = Signature([0; 64]);
        self.send(LanDatagram::Announce(unsigned));
        // A replay of the oldest copy heard.
        let old = self.heard[0].clone();
        self.send(LanDatagram::Announce(old));
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
            at_ms: unix,
        };
        self.send(LanDatagram::Announce(claim::sign_announcement(
            &identity, body,
        )));
    }
}

impl Engine for LanForger {
    type Command = AttackCommand;
    type Event = AttackEvent;

    fn accept(&mut self, _now: Instant, _remote: SocketAddr) -> ConnId {
        // Nothing dials it on purpose; the driver closes what it accepts
        // once the engine sends nothing on it.
        self.out.push_back(Output::Close { conn: ConnId(0) });
        ConnId(0)
    }

    fn handle_input(&mut self, now: Instant, input: Input<'_>) {
        if let Input::Datagram { bytes, .. } = input
            && let Ok(LanDatagram::Announce(a)) = LanDatagram::parse(bytes)
            && self.heard.len() < KEEP
        {
            self.heard.push(a);
        }
        self.handle_timeout(now);
    }

    fn handle_command(&mut self, _now: Instant, _cmd: AttackCommand) -> Result<(), CommandError> {
        Ok(())
    }

    fn handle_timeout(&mut self, now: Instant) {
        while now >= self.next {
            self.strike(now);
            self.next += STRIKE_INTERVAL;
        }
    }

    fn poll_output(&mut self) -> Option<Output<AttackEvent>> {
        self.out.pop_front()
    }

    fn poll_timeout(&self) -> Option<Instant> {
        Some(self.next)
    }
}
