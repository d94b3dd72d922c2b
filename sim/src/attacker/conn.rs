//! [`StrikeConn`]: one strike's connection, as it speaks: what it sends once
//! it is up, what it makes of what comes back, and what it carried (kept,
//! bounded, for later replays). The attacker turns each [`Turn`] into its
//! events and its knowledge (the registry's key, its certificate, copied
//! certificates).
//!
//! Touches only the connection's own state.

use std::time::Instant;

use confab_engine::wire::identity::{Certificate, PublicKey};
use confab_engine::wire::peer::PeerMessage;
use confab_engine::wire::{Message, Name, decode};

use super::account::Account;
use super::probe::{Found, Probe};
use crate::secure_link::SecureLink;

/// Bytes kept of each direction of a connection, for replays.
const RECORDED_BYTES: usize = 16 * 1024;

/// What a strike's connection does.
#[derive(Debug)]
pub enum Doing {
    /// Logs in to the attacker's account.
    Account(Box<Account>),
    /// Copies the certificate of the peer named.
    Probe(Box<Probe>, Name),
    /// Sends these bytes as soon as it is up; reads nothing.
    Raw(Vec<u8>),
    /// Claims to be `claimed` to `victim`, then sends `stream`.
    False {
        link: Box<SecureLink>,
        victim: Name,
        claimed: Name,
        stream: Vec<Message>,
    },
}

/// What one turn of a connection came to.
#[derive(Debug, Default)]
pub struct Turn {
    /// Bytes to send.
    pub send: Vec<u8>,
    /// A log-in of the attacker's account went out.
    pub login_sent: bool,
    /// The registry proved this signing key.
    pub registry_key: Option<PublicKey>,
    /// The registry certified the attacker's account.
    pub certificate: Option<Certificate>,
    /// A peer's certificate, copied.
    pub captured: Option<(Name, Certificate)>,
    /// `(victim, claimed)`: the victim answered the false name `Verified`.
    pub believed: Option<(Name, Name)>,
    /// The strike is over (how); close the connection.
    pub over: Option<String>,
}

/// See the module documentation.
#[derive(Debug)]
pub struct StrikeConn {
    /// What it does.
    pub doing: Doing,
    /// When the strike began.
    pub opened: Instant,
    /// Whether the connection came up.
    pub up: bool,
    /// What it sent (the first bytes of it).
    pub sent: Vec<u8>,
    /// What it received (the first bytes of it).
    pub received: Vec<u8>,
}

impl StrikeConn {
    /// A strike doing `doing`, begun at `now`.
    pub fn new(doing: Doing, now: Instant) -> Self {
        Self {
            doing,
            opened: now,
            up: false,
            sent: Vec::new(),
            received: Vec::new(),
        }
    }

    /// Whether it may be replayed: it spoke the protocol, or tried to.
    pub fn legit_looking(&self) -> bool {
        !matches!(self.doing, Doing::Raw(_)) && !self.sent.is_empty()
    }

    /// The connection is up (`registered`: the attacker's account exists).
    pub fn connected(&mut self, now: Instant, registered: bool) -> Turn {
        self.up = true;
        let mut turn = Turn::default();
        match &mut self.doing {
            Doing::Account(a) => {
                let step = a.start(now, registered);
                turn.login_sent = step.login_sent;
                turn.over = step.over;
                turn.send = step.send;
            }
            Doing::Probe(p, _) => match p.start() {
                Ok(bytes) => turn.send = bytes,
                Err(why) => turn.over = Some(why),
            },
            Doing::Raw(bytes) => turn.send = std::mem::take(bytes),
            Doing::False { link, stream, .. } => {
                turn.send = link.start();
                // Held by the channel until its handshake ends, then sent
                // in one go right behind the attacker's last handshake
                // message.
                for msg in stream.drain(..) {
                    match link.send(&msg, now) {
                        Ok(b) => turn.send.extend(b),
                        Err(e) => turn.over = Some(format!("its own channel failed: {e}")),
                    }
                }
            }
        }
        keep(&mut self.sent, &turn.send);
        turn
    }

    /// Bytes arrived (`unix_now`: Unix seconds, for certificates).
    pub fn received(&mut self, bytes: &[u8], now: Instant, unix_now: u64) -> Turn {
        keep(&mut self.received, bytes);
        let mut turn = Turn::default();
        match &mut self.doing {
            Doing::Account(a) => {
                let step = a.receive(bytes, now, unix_now);
                turn.send = step.send;
                turn.login_sent = step.login_sent;
                turn.registry_key = step.registry_key;
                turn.certificate = step.certificate;
                turn.over = step.over;
            }
            Doing::Probe(p, name) => match p.receive(bytes) {
                Found::Waiting => {}
                Found::Certificate(cert) => {
                    turn.captured = Some((name.clone(), *cert));
                    turn.over = Some("copied its certificate".into());
                }
                Found::Nothing(why) => turn.over = Some(why),
            },
            Doing::Raw(_) => {}
            Doing::False {
                link,
                victim,
                claimed,
                ..
            } => match link.receive(bytes, now, unix_now) {
                Ok(opened) => {
                    turn.send = opened.send;
                    while turn.over.is_none() {
                        match link.next_message() {
                            Ok(Some(Message::Peer(PeerMessage::Verified))) => {
                                turn.believed = Some((victim.clone(), claimed.clone()));
                            }
                            Ok(Some(Message::Goodbye(g))) => {
                                turn.over = Some(format!("goodbye: {} ({})", g.reason, g.code));
                            }
                            Ok(Some(_)) => {}
                            Ok(None) => break,
                            Err(e) => turn.over = Some(format!("bad bytes: {e}")),
                        }
                    }
                }
                Err(e) => turn.over = Some(format!("the channel failed: {e}")),
            },
        }
        keep(&mut self.sent, &turn.send);
        turn
    }

    /// `how` it ended, with what the other side said in plaintext, if a raw
    /// strike was told anything.
    pub fn ending(&self, how: String) -> String {
        match (&self.doing, plaintext_goodbye(&self.received)) {
            (Doing::Raw(_), Some(bye)) => format!("{how}; it said: {bye}"),
            _ => how,
        }
    }
}

/// Appends `bytes` to a recording, up to its bound.
fn keep(into: &mut Vec<u8>, bytes: &[u8]) {
    let room = RECORDED_BYTES.saturating_sub(into.len());
    into.extend_from_slice(&bytes[..bytes.len().min(room)]);
}

/// The reason of a plaintext goodbye among the first frames of `bytes`, if
/// one is there (what a peer or the registry says, after its own first
/// frame, to a connection that is not confab or not this version, before
/// any key exists).
fn plaintext_goodbye(mut bytes: &[u8]) -> Option<String> {
    for _ in 0..2 {
        let len = u32::from_be_bytes(bytes.get(..4)?.try_into().ok()?) as usize;
        if let Ok(Message::Goodbye(g)) = decode(bytes.get(4..4 + len)?) {
            return Some(format!("{} ({})", g.reason, g.code));
        }
        bytes = &bytes[4 + len..];
    }
    None
}
