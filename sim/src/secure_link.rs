//! [`SecureLink`]: one encrypted connection as the simulator's own scripted
//! roles speak it (the registry clients, and the attacker when it plays by
//! the rules): the engine's [`Channel`] for the bytes, a [`Deframer`] for
//! the stream inside.
//!
//! A scripted role speaks the same protocol as the engines, so it goes
//! through the very channel the engines use: nothing here re-implements the
//! encryption, and a change to it reaches the clients too. Entropy for the
//! handshake comes from the caller's seeded rng, so a run stays byte for
//! byte the same from its seed.
//!
//! Touches nothing but its own channel and deframer.

use std::time::Instant;

use confab_engine::secure::{Channel, ChannelError, Expect, Local, Proven, Side};
use confab_engine::wire::{Deframer, Message, WireError, encode};

use crate::draw::Rng;

/// The Unix clock of a scripted role: `unix_ms_at_start` at `start`, on
/// the simulated clock after that (as a driver gives the engines).
#[derive(Debug, Clone, Copy)]
pub struct WallClock {
    /// Unix milliseconds when the role started.
    pub unix_ms_at_start: u64,
    /// The role's `now` when it started.
    pub start: Instant,
}

impl WallClock {
    /// Unix seconds at `now`.
    pub fn unix_secs(&self, now: Instant) -> u64 {
        let since = now.saturating_duration_since(self.start);
        (self.unix_ms_at_start + since.as_millis() as u64) / 1000
    }
}

/// What arrived on a link, once opened.
#[derive(Debug, Default)]
pub struct Opened {
    /// Bytes to send back at once (handshake messages, held records).
    pub send: Vec<u8>,
    /// What the other side proved, when its handshake ended.
    pub proven: Option<Proven>,
}

/// See the module documentation.
#[derive(Debug)]
pub struct SecureLink {
    channel: Channel,
    deframer: Deframer,
}

impl SecureLink {
    /// A link for the side that dialed, proving `local`, holding the other
    /// side to `expect`, with handshake entropy drawn from `rng`.
    pub fn dial(local: &Local, expect: Expect, rng: &mut Rng) -> Self {
        let mut entropy = [0u8; 32];
        rng.fill(&mut entropy);
        Self {
            channel: Channel::new(Side::Initiator, local, expect, entropy),
            deframer: Deframer::new(),
        }
    }

    /// The first bytes, once the connection is up.
    pub fn start(&mut self) -> Vec<u8> {
        let mut out = Vec::new();
        self.channel.start(&mut out);
        out
    }

    /// The bytes that carry `msg` (none while the handshake is under way:
    /// the channel holds them and sends them when it ends).
    pub fn send(&mut self, msg: &Message, now: Instant) -> Result<Vec<u8>, ChannelError> {
        self.send_plain(&encode(msg), now)
    }

    /// The bytes that carry stream bytes `plain`, framed or not.
    pub fn send_plain(&mut self, plain: &[u8], now: Instant) -> Result<Vec<u8>, ChannelError> {
        let mut out = Vec::new();
        self.channel.seal(plain, now, &mut out)?;
        Ok(out)
    }

    /// Takes bytes that arrived; the messages they complete wait in
    /// [`SecureLink::next_message`].
    pub fn receive(
        &mut self,
        bytes: &[u8],
        now: Instant,
        unix_secs: u64,
    ) -> Result<Opened, ChannelError> {
        let got = self.channel.receive(bytes, now, unix_secs)?;
        self.deframer.push(&got.plain);
        Ok(Opened {
            send: got.send,
            proven: got.proven,
        })
    }

    /// The next whole message received, if any.
    pub fn next_message(&mut self) -> Result<Option<Message>, WireError> {
        self.deframer.next_message()
    }
}
