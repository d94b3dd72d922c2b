//! The attacker of LAN runs (`--lan`, issue 20): a host on segment 0 that
//! hears what the peers announce to the discovery group and, every
//! [`STRIKE_INTERVAL`], sends to the group what the engine's shared
//! [`AnnouncementForger`] makes: a forged copy of a victim's announcement
//! (also relayed), an unsigned one, a replay, and a claim of a victim's name
//! under its own key (see that type for each).
//!
//! This file is only the simulator's wrapper: a sans-IO engine like the
//! others, run by the same driver, with the strike timer and the wall
//! clock; it never connects. Its draws come from its own seed.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use confab_engine::api::{CommandError, ConnId, Engine, Input, Output};
use confab_engine::secure::StaticSecret;
use confab_engine::testing::AnnouncementForger;

use super::{AttackCommand, AttackEvent};

/// How often it strikes.
pub const STRIKE_INTERVAL: Duration = Duration::from_secs(2);

/// See the module documentation.
pub struct LanForger {
    forger: AnnouncementForger,
    group: SocketAddr,
    unix_ms_at_start: u64,
    started: Instant,
    out: VecDeque<Output<AttackEvent>>,
    next: Instant,
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
            forger: AnnouncementForger::new(secret, seed),
            group,
            unix_ms_at_start,
            started: now,
            out: VecDeque::new(),
            next: now + STRIKE_INTERVAL,
        }
    }

    /// The fingerprint of its own key (the one it signs its claims with).
    pub fn fingerprint(secret: &StaticSecret) -> String {
        secret.public().fingerprint().to_string()
    }

    fn strike(&mut self, now: Instant) {
        let unix = self.unix_ms_at_start + (now - self.started).as_millis() as u64;
        for d in self.forger.strike(unix) {
            self.out.push_back(Output::SendDatagram {
                to: self.group,
                bytes: d.to_bytes(),
            });
        }
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
        if let Input::Datagram { bytes, .. } = input {
            self.forger.hear(bytes);
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
