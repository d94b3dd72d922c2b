//! [`Probe`]: how the attacker gets a copy of a peer's certificate, as
//! anyone on the network can: dial the peer and read the responder's
//! handshake message, which carries its certificate (encrypted, but to
//! whoever dialed). The probe never finishes the handshake.
//!
//! It speaks Noise directly with snow (the engine's channel checks the
//! certificate but does not hand it out), with the engine's pattern and
//! the prologue every confab connection mixes in; its ephemeral key comes
//! from the attacker's seeded rng, so a run stays the same from its seed.
//!
//! Bounded: it reads one first frame of at most [`MAX_PREAMBLE_LEN`] bytes
//! and one handshake message of at most [`MAX_HANDSHAKE_LEN`], then stops.

use confab_engine::limits::{FRAME_HEADER_LEN, MAX_HANDSHAKE_LEN, MAX_PREAMBLE_LEN};
use confab_engine::secure::StaticSecret;
use confab_engine::secure::channel::NOISE_PARAMS;
use confab_engine::wire::identity::{Certificate, HandshakePayload};
use confab_engine::wire::{Hello, Message, PROTOCOL_VERSION, Role, encode};
use snow::params::{CipherChoice, DHChoice, HashChoice};
use snow::resolvers::{CryptoResolver, DefaultResolver};
use snow::types::{Cipher, Dh, Hash, Random};
use snow::{Builder, HandshakeState};

use crate::draw::Rng;

/// The prologue of `confab_engine::secure::channel` (private there): a
/// handshake with another prologue fails, so if the engine changes it the
/// probe reports every read as failed and captures nothing.
const PROLOGUE: &[u8] = b"confab protocol 2";

/// Bytes of a handshake message's length prefix.
const LEN: usize = 2;

/// See the module documentation.
pub struct Probe {
    hs: HandshakeState,
    inbuf: Vec<u8>,
    preamble_read: bool,
}

impl std::fmt::Debug for Probe {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Probe")
    }
}

/// What one read of the probe found.
#[derive(Debug)]
pub enum Found {
    /// Not all there yet.
    Waiting,
    /// The peer's certificate.
    Certificate(Box<Certificate>),
    /// The peer showed none, or the bytes were not what a peer sends.
    Nothing(String),
}

impl Probe {
    /// A probe holding `secret`, with its ephemeral key drawn from `rng`.
    pub fn new(secret: &StaticSecret, rng: &mut Rng) -> Result<Self, String> {
        let seed = rng.next_u64();
        let params = NOISE_PARAMS.parse().map_err(|e| format!("{e:?}"))?;
        let key = secret.to_bytes();
        let hs = Builder::with_resolver(params, Box::new(Seeded(seed)))
            .local_private_key(&key)
            .and_then(|b| b.prologue(PROLOGUE))
            .and_then(|b| b.build_initiator())
            .map_err(|e| e.to_string())?;
        Ok(Self {
            hs,
            inbuf: Vec::new(),
            preamble_read: false,
        })
    }

    /// The first bytes: a peer's first frame and the handshake's first
    /// message.
    pub fn start(&mut self) -> Result<Vec<u8>, String> {
        let hello = Hello {
            version: PROTOCOL_VERSION,
            role: Role::Peer,
            name: None,
        };
        let mut out = encode(&Message::Hello(hello));
        let mut msg = vec![0u8; MAX_HANDSHAKE_LEN];
        let n = self
            .hs
            .write_message(&[], &mut msg)
            .map_err(|e| e.to_string())?;
        out.extend_from_slice(&(n as u16).to_be_bytes());
        out.extend_from_slice(&msg[..n]);
        Ok(out)
    }

    /// Takes bytes that arrived.
    pub fn receive(&mut self, bytes: &[u8]) -> Found {
        self.inbuf.extend_from_slice(bytes);
        if !self.preamble_read {
            match take(&self.inbuf, FRAME_HEADER_LEN, MAX_PREAMBLE_LEN) {
                Err(why) => return Found::Nothing(why),
                Ok(None) => return Found::Waiting,
                Ok(Some(used)) => {
                    self.inbuf.drain(..used);
                    self.preamble_read = true;
                }
            }
        }
        let used = match take(&self.inbuf, LEN, MAX_HANDSHAKE_LEN) {
            Err(why) => return Found::Nothing(why),
            Ok(None) => return Found::Waiting,
            Ok(Some(used)) => used,
        };
        let mut payload = vec![0u8; used];
        let n = match self.hs.read_message(&self.inbuf[LEN..used], &mut payload) {
            Ok(n) => n,
            Err(e) => return Found::Nothing(format!("its handshake did not read: {e}")),
        };
        match rmp_serde::from_slice::<HandshakePayload>(&payload[..n]) {
            Ok(HandshakePayload::Peer {
                certificate: Some(cert),
            }) => Found::Certificate(Box::new(cert)),
            Ok(other) => Found::Nothing(format!("it proved {other:?}")),
            Err(e) => Found::Nothing(format!("its payload did not decode: {e}")),
        }
    }
}

/// The length of the item at the front of `input` (a `header` of 4 or 2
/// big-endian bytes, then that many), if it is all there.
fn take(input: &[u8], header: usize, max: usize) -> Result<Option<usize>, String> {
    let Some(head) = input.get(..header) else {
        return Ok(None);
    };
    let len = head.iter().fold(0usize, |n, &b| (n << 8) | usize::from(b));
    if len == 0 || len > max {
        return Err(format!("a length of {len} (at most {max})"));
    }
    Ok((input.len() >= header + len).then_some(header + len))
}

/// snow's primitives, with randomness from a seed.
struct Seeded(u64);

struct SeededRandom(Rng);

impl Random for SeededRandom {
    fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), snow::Error> {
        self.0.fill(dest);
        Ok(())
    }
}

impl CryptoResolver for Seeded {
    fn resolve_rng(&self) -> Option<Box<dyn Random>> {
        Some(Box::new(SeededRandom(Rng::new(self.0))))
    }

    fn resolve_dh(&self, choice: &DHChoice) -> Option<Box<dyn Dh>> {
        DefaultResolver.resolve_dh(choice)
    }

    fn resolve_hash(&self, choice: &HashChoice) -> Option<Box<dyn Hash>> {
        DefaultResolver.resolve_hash(choice)
    }

    fn resolve_cipher(&self, choice: &CipherChoice) -> Option<Box<dyn Cipher>> {
        DefaultResolver.resolve_cipher(choice)
    }
}
