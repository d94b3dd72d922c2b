//! [`Channel`]: one connection's encryption, from its first byte to its last.
//!
//! Bytes on a connection, in order, from each side:
//!
//! ```text
//! [u32 len][Hello{version, role, name: None}]   plaintext, both sides: which protocol follows
//! initiator  [u16 len][-> e]                    Noise XX, first message
//! responder  [u16 len][<- e, ee, s, es, payload]        its identity, encrypted
//! initiator  [u16 len][-> s, se, payload]               its identity, encrypted
//! both       [u16 len][record] ...              Noise transport messages
//! ```
//!
//! The first frame is the same [`Hello`] every confab version has sent, so
//! an older or newer confab on the other end reads it and says which
//! versions differ, instead of failing on garbage; a mismatch is answered
//! with a plaintext [`Goodbye`](crate::wire::Goodbye) saying so (nothing secret exists yet).
//! A record's plaintext is up to [`MAX_RECORD_DATA`] bytes of the stream
//! above, then one byte of kind (data, or rekey with no data): the frames of
//! [`crate::wire::frame`], cut wherever a record fills, so a frame of any
//! size crosses in as many records as it needs.
//!
//! **Why XX.** Both sides learn each other's static key during the
//! handshake and prove they hold it, and neither needs to know the other's
//! key beforehand: a peer dialing another peer knows only a name, and a new
//! peer does not know its registry's key. The initiator's key and payload
//! travel only under encryption to a responder already authenticated, so a
//! passive listener learns neither side's identity, and an active one
//! learns the responder's only. IK would save half a round trip on a
//! reconnect; one pattern everywhere is simpler to check.
//!
//! **What is checked.** Before anything above the channel is delivered, the
//! other side's payload must prove what [`Expect`] asks: a registry's
//! signing key that signed this Noise key (and matches the pinned one), or a
//! peer certificate from the trusted registry for this very Noise key, the
//! expected name, and now. Any failure is a [`ChannelError`] that sticks:
//! nothing more is read or sent, and the owner closes the connection.
//!
//! **Nonces and rekeying.** snow counts nonces itself and a channel never
//! goes back; before [`RekeyPolicy::after_records`] records or
//! [`RekeyPolicy::after`] of time under one key, the sender sends a rekey
//! record and moves to the next key (Noise's `REKEY`), and the receiver
//! follows when it reads it.
//!
//! Limits: a first frame over [`MAX_PREAMBLE_LEN`], a handshake message over
//! [`MAX_HANDSHAKE_LEN`], or a record length of 0 is refused as soon as its
//! length is read, before anything is allocated for it.

use std::fmt;
use std::time::{Duration, Instant};

use snow::{Builder, HandshakeState, TransportState};

pub use self::error::ChannelError;
pub use self::proof::{Expect, Proven};

use self::proof::prove;

use crate::limits::{
    FRAME_HEADER_LEN, MAX_HANDSHAKE_LEN, MAX_HELD_PLAINTEXT, MAX_PREAMBLE_LEN, MAX_RECORD_LEN,
};
use crate::planted::PlantedBugs;
use crate::secure::keys::StaticSecret;
use crate::secure::resolver::SeededResolver;
use crate::wire::identity::{HandshakePayload, KEY_LEN, PublicKey};
use crate::wire::{Hello, Message, PROTOCOL_VERSION, Role, decode, encode};

/// The Noise protocol every confab connection runs. AES-GCM and SHA-256 from
/// ring: on this project's machines (AES-NI, carry-less multiply) 6x the
/// pure-Rust ciphers on a transfer's 64 KiB records and 15x on a chat
/// message's (BENCHMARKS.md, "Noise: resolvers and ciphers").
pub const NOISE_PARAMS: &str = "Noise_XX_25519_AESGCM_SHA256";

/// Mixed into every handshake, so a handshake of another protocol or
/// version never completes with ours.
const PROLOGUE: &[u8] = b"confab protocol 2";

/// Bytes of a Noise authentication tag.
const TAG_LEN: usize = 16;

/// Bytes of a record's length prefix.
const RECORD_HEADER_LEN: usize = 2;

/// Most stream bytes one record carries.
pub const MAX_RECORD_DATA: usize = MAX_RECORD_LEN - TAG_LEN - 1;

/// Record kinds (the first plaintext byte of a record).
const KIND_DATA: u8 = 0;
const KIND_REKEY: u8 = 1;

/// Which end of the connection this is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// This side dialed.
    Initiator,
    /// This side accepted.
    Responder,
}

/// What this side is and proves.
#[derive(Debug, Clone)]
pub struct Local {
    /// What this side says it is in its first frame.
    pub role: Role,
    /// Its Noise static key.
    pub secret: StaticSecret,
    /// What it proves in its handshake payload.
    pub payload: HandshakePayload,
}

/// When a sender moves to a new key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RekeyPolicy {
    /// Records sent under one key.
    pub after_records: u64,
    /// Time under one key.
    pub after: Duration,
}

impl Default for RekeyPolicy {
    /// 2^32 records (a nonce never comes near its limit) or an hour.
    fn default() -> Self {
        Self {
            after_records: 1 << 32,
            after: Duration::from_secs(3600),
        }
    }
}

/// What one call of [`Channel::receive`] produced.
#[derive(Debug, Default, Clone)]
pub struct Received {
    /// Bytes to send on the connection now (handshake messages, and what
    /// was held for the handshake to end).
    pub send: Vec<u8>,
    /// What the other side proved, once, when the handshake ended.
    pub proven: Option<Proven>,
    /// The stream's bytes, decrypted and checked, in order.
    pub plain: Vec<u8>,
}

enum Stage {
    /// Waiting for the other side's first frame.
    Preamble(Box<HandshakeState>),
    Handshake(Box<HandshakeState>),
    Transport(Box<TransportState>),
    Failed(ChannelError),
}

impl fmt::Debug for Stage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Stage::Preamble(_) => "Preamble",
            Stage::Handshake(_) => "Handshake",
            Stage::Transport(_) => "Transport",
            Stage::Failed(_) => "Failed",
        })
    }
}

/// See the module documentation.
#[derive(Debug)]
pub struct Channel {
    side: Side,
    role: Role,
    expect: Expect,
    payload: Vec<u8>,
    stage: Stage,
    /// Bytes received and not yet consumed.
    inbuf: Vec<u8>,
    /// Stream bytes queued before the handshake ended.
    held: Vec<u8>,
    rekey: RekeyPolicy,
    sent_under_key: u64,
    /// When the current key has served [`RekeyPolicy::after`] (`None`:
    /// no key yet, or never within an `Instant`'s range).
    rekey_at: Option<Instant>,
    scratch: Vec<u8>,
    /// Whether [`Channel::start`] has run (it sends only once, whatever
    /// its caller does).
    started: bool,
    planted: PlantedBugs,
}

impl Channel {
    /// A channel for one side of a new connection.
    pub fn new(side: Side, local: &Local, expect: Expect, entropy: [u8; 32]) -> Self {
        let payload = rmp_serde::to_vec(&local.payload).unwrap_or_default();
        let stage = match build(side, &local.secret, entropy) {
            Ok(hs) => Stage::Preamble(Box::new(hs)),
            Err(e) => Stage::Failed(ChannelError::Handshake(e.to_string())),
        };
        Self {
            side,
            role: local.role,
            expect,
            payload,
            stage,
            inbuf: Vec::new(),
            held: Vec::new(),
            rekey: RekeyPolicy::default(),
            sent_under_key: 0,
            rekey_at: None,
            scratch: Vec::new(),
            started: false,
            planted: PlantedBugs::NONE,
        }
    }

    /// Uses `policy` instead of the default rekeying.
    pub fn with_rekey(mut self, policy: RekeyPolicy) -> Self {
        self.rekey = policy;
        self
    }

    /// Carries the bugs planted in its owner (tests only; see `prove`).
    pub fn with_planted(mut self, planted: PlantedBugs) -> Self {
        self.planted = planted;
        self
    }

    /// Whether the handshake ended and the stream is encrypted.
    pub fn is_secure(&self) -> bool {
        matches!(self.stage, Stage::Transport(_))
    }

    /// The error this channel ended with, if it did.
    pub fn error(&self) -> Option<&ChannelError> {
        match &self.stage {
            Stage::Failed(e) => Some(e),
            _ => None,
        }
    }

    /// The bytes this side sends as soon as the connection is up: its first
    /// frame, and the initiator's first handshake message.
    pub fn start(&mut self, out: &mut Vec<u8>) {
        if std::mem::replace(&mut self.started, true) {
            return;
        }
        let hello = Hello {
            version: PROTOCOL_VERSION,
            role: self.role,
            name: None,
        };
        out.extend(encode(&Message::Hello(hello)));
        if self.side == Side::Initiator
            && let Stage::Preamble(hs) = &mut self.stage
            && let Err(e) = write_handshake(hs, &[], out)
        {
            self.stage = Stage::Failed(e);
        }
    }

    /// Takes bytes that arrived (split anywhere). `unix_now` (seconds) is
    /// for certificate validity.
    pub fn receive(
        &mut self,
        bytes: &[u8],
        now: Instant,
        unix_now: u64,
    ) -> Result<Received, ChannelError> {
        let mut got = Received::default();
        self.receive_into(bytes, now, unix_now, &mut got)?;
        Ok(got)
    }

    /// [`Channel::receive`], appending to `got`: a caller that keeps one
    /// [`Received`] (cleared) for every read allocates nothing per record.
    pub fn receive_into(
        &mut self,
        bytes: &[u8],
        now: Instant,
        unix_now: u64,
        got: &mut Received,
    ) -> Result<(), ChannelError> {
        if let Stage::Failed(e) = &self.stage {
            return Err(e.clone());
        }
        // Whole items are read straight from `bytes`; only an item cut by
        // a read's end is copied: its first part, then just enough of the
        // next read to complete it.
        let result = self
            .complete_cut(bytes, now, unix_now, got)
            .and_then(|rest| {
                let used = self.consume(rest, now, unix_now, got)?;
                self.inbuf.extend_from_slice(&rest[used..]);
                Ok(())
            });
        match result {
            Ok(()) => Ok(()),
            Err(e) => {
                self.inbuf = Vec::new();
                self.held = Vec::new();
                self.stage = Stage::Failed(e.clone());
                Err(e)
            }
        }
    }

    /// Completes the item cut by the end of the last read (held in
    /// `inbuf`) from the front of `bytes`, and consumes it once whole.
    /// Returns what is left of `bytes` (all of it if nothing was held; none
    /// if the held item is still not whole).
    fn complete_cut<'b>(
        &mut self,
        mut bytes: &'b [u8],
        now: Instant,
        unix_now: u64,
        got: &mut Received,
    ) -> Result<&'b [u8], ChannelError> {
        while !self.inbuf.is_empty() && !bytes.is_empty() {
            let header = match self.stage {
                Stage::Preamble(_) => FRAME_HEADER_LEN,
                _ => RECORD_HEADER_LEN,
            };
            let want = match self.inbuf.get(..header) {
                Some(h) => header + h.iter().fold(0usize, |n, &b| (n << 8) | usize::from(b)),
                None => header,
            };
            // A length over its limit is refused by `consume` as soon as
            // the header is whole: never buffer towards it.
            let want = want.min(header + MAX_RECORD_LEN.max(MAX_PREAMBLE_LEN));
            let take = want.saturating_sub(self.inbuf.len()).min(bytes.len());
            self.inbuf.extend_from_slice(&bytes[..take]);
            bytes = &bytes[take..];
            if self.inbuf.len() >= header {
                let held = std::mem::take(&mut self.inbuf);
                let used = self.consume(&held, now, unix_now, got)?;
                self.inbuf = held;
                self.inbuf.drain(..used);
                if used == 0 && take == 0 {
                    break;
                }
            }
        }
        Ok(bytes)
    }

    /// Consumes every whole item at the front of `input`; returns how many
    /// bytes that was.
    fn consume(
        &mut self,
        input: &[u8],
        now: Instant,
        unix_now: u64,
        got: &mut Received,
    ) -> Result<usize, ChannelError> {
        let mut at = 0;
        while let Some(used) = self.step(&input[at..], now, unix_now, got)? {
            at += used;
        }
        Ok(at)
    }

    /// Consumes one frame, handshake message or record from the front of
    /// `input` if it is all there: `Some(bytes used)`, or `None` to wait
    /// for more.
    fn step(
        &mut self,
        input: &[u8],
        now: Instant,
        unix_now: u64,
        got: &mut Received,
    ) -> Result<Option<usize>, ChannelError> {
        match &mut self.stage {
            Stage::Failed(e) => Err(e.clone()),
            Stage::Preamble(_) => {
                let Some(body) = take(input, FRAME_HEADER_LEN, MAX_PREAMBLE_LEN, "a first frame")
                    .map_err(|_| {
                    ChannelError::NotConfab("its first frame is not a hello".into())
                })?
                else {
                    return Ok(None);
                };
                let used = FRAME_HEADER_LEN + body.len();
                self.on_preamble(decode(body))?;
                Ok(Some(used))
            }
            Stage::Handshake(hs) => {
                let Some(msg) = take(
                    input,
                    RECORD_HEADER_LEN,
                    MAX_HANDSHAKE_LEN,
                    "a handshake message",
                )?
                else {
                    return Ok(None);
                };
                let used = RECORD_HEADER_LEN + msg.len();
                let mut payload = vec![0u8; msg.len()];
                let n = hs
                    .read_message(msg, &mut payload)
                    .map_err(|e| ChannelError::Handshake(e.to_string()))?;
                payload.truncate(n);
                self.on_handshake_message(&payload, now, unix_now, got)?;
                Ok(Some(used))
            }
            Stage::Transport(t) => {
                let Some(record) = take(input, RECORD_HEADER_LEN, MAX_RECORD_LEN, "a record")?
                else {
                    return Ok(None);
                };
                let used = RECORD_HEADER_LEN + record.len();
                // Decrypted in place at the end of what is delivered; the
                // kind is the last byte, so dropping it is a truncate.
                let start = got.plain.len();
                got.plain.resize(start + record.len(), 0);
                let n = t
                    .read_message(record, &mut got.plain[start..])
                    .map_err(|e| ChannelError::BadRecord(e.to_string()))?;
                got.plain.truncate(start + n);
                match got.plain.pop() {
                    Some(KIND_DATA) => {}
                    Some(KIND_REKEY) if n == 1 => t.rekey_incoming(),
                    Some(kind) => {
                        return Err(ChannelError::BadRecord(format!("record kind {kind}")));
                    }
                    None => return Err(ChannelError::BadRecord("an empty record".into())),
                }
                Ok(Some(used))
            }
        }
    }

    fn on_preamble(
        &mut self,
        msg: Result<Message, crate::wire::WireError>,
    ) -> Result<(), ChannelError> {
        let hello = match msg {
            Ok(Message::Hello(h)) => h,
            Ok(Message::Goodbye(g)) => return Err(ChannelError::Refused(g)),
            Ok(other) => {
                return Err(ChannelError::NotConfab(format!(
                    "its first message is a {}",
                    other.kind()
                )));
            }
            Err(e) => return Err(ChannelError::NotConfab(e.to_string())),
        };
        if hello.version != PROTOCOL_VERSION {
            return Err(ChannelError::VersionMismatch {
                theirs: hello.version,
            });
        }
        let wanted = match self.expect {
            Expect::Registry { .. } => Role::Registry,
            _ => Role::Peer,
        };
        if hello.role != wanted {
            return Err(ChannelError::WrongRole { got: hello.role });
        }
        let stage = std::mem::replace(&mut self.stage, Stage::Failed(ChannelError::NotAPeer));
        if let Stage::Preamble(hs) = stage {
            self.stage = Stage::Handshake(hs);
        }
        Ok(())
    }

    fn on_handshake_message(
        &mut self,
        payload: &[u8],
        now: Instant,
        unix_now: u64,
        got: &mut Received,
    ) -> Result<(), ChannelError> {
        let Stage::Handshake(hs) = &mut self.stage else {
            return Ok(());
        };
        // The responder's first read is `-> e`, which carries no payload of
        // ours to check; every other read carries the other side's identity.
        let carries_identity = hs.get_remote_static().is_some();
        if carries_identity {
            let remote = remote_key(hs)?;
            let payload: HandshakePayload = rmp_serde::from_slice(payload)
                .map_err(|e| ChannelError::BadPayload(e.to_string()))?;
            let planted = self.planted;
            got.proven = Some(prove(&self.expect, payload, remote, unix_now, planted)?);
        }
        if !hs.is_handshake_finished() && hs.is_my_turn() {
            write_handshake(hs, &self.payload, &mut got.send)?;
        }
        if hs.is_handshake_finished() {
            let stage = std::mem::replace(&mut self.stage, Stage::Failed(ChannelError::NotAPeer));
            let Stage::Handshake(hs) = stage else {
                return Ok(());
            };
            let t = hs
                .into_transport_mode()
                .map_err(|e| ChannelError::Handshake(e.to_string()))?;
            self.stage = Stage::Transport(Box::new(t));
            self.rekey_at = now.checked_add(self.rekey.after);
            // What only the handshake needed goes (a registry holds many).
            self.payload = Vec::new();
            let held = std::mem::take(&mut self.held);
            self.seal(&held, now, &mut got.send)?;
            self.scratch = Vec::new();
        }
        Ok(())
    }

    /// Encrypts stream bytes into records appended to `out`, or holds them
    /// until the handshake ends.
    pub fn seal(
        &mut self,
        plain: &[u8],
        now: Instant,
        out: &mut Vec<u8>,
    ) -> Result<(), ChannelError> {
        let t = match &mut self.stage {
            Stage::Failed(e) => return Err(e.clone()),
            Stage::Preamble(_) | Stage::Handshake(_) => {
                if self.held.len() + plain.len() > MAX_HELD_PLAINTEXT {
                    let e = ChannelError::HeldTooMuch;
                    self.stage = Stage::Failed(e.clone());
                    return Err(e);
                }
                self.held.extend_from_slice(plain);
                return Ok(());
            }
            Stage::Transport(t) => t,
        };
        // Room for every record and a rekey record, so `out` grows once.
        let records = plain.len().div_ceil(MAX_RECORD_DATA) + 1;
        out.reserve(plain.len() + records * (RECORD_HEADER_LEN + 1 + TAG_LEN));
        for piece in plain.chunks(MAX_RECORD_DATA) {
            let due = self.sent_under_key >= self.rekey.after_records
                || self.rekey_at.is_some_and(|at| now >= at);
            if due {
                write_record(t, KIND_REKEY, &[], &mut self.scratch, out)?;
                t.rekey_outgoing();
                self.sent_under_key = 0;
                self.rekey_at = now.checked_add(self.rekey.after);
            }
            write_record(t, KIND_DATA, piece, &mut self.scratch, out)?;
            self.sent_under_key += 1;
        }
        Ok(())
    }
}

fn build(
    side: Side,
    secret: &StaticSecret,
    entropy: [u8; 32],
) -> Result<HandshakeState, snow::Error> {
    let params = NOISE_PARAMS.parse()?;
    let key = secret.to_bytes();
    let builder = Builder::with_resolver(params, Box::new(SeededResolver::new(entropy)))
        .local_private_key(&key)?
        .prologue(PROLOGUE)?;
    match side {
        Side::Initiator => builder.build_initiator(),
        Side::Responder => builder.build_responder(),
    }
}

/// The body of a length-prefixed item at the front of `input` (a `header`
/// of 4 or 2 big-endian bytes), `None` if not all there yet; an error as
/// soon as the length is over `max` or zero.
fn take<'a>(
    input: &'a [u8],
    header: usize,
    max: usize,
    what: &'static str,
) -> Result<Option<&'a [u8]>, ChannelError> {
    let Some(head) = input.get(..header) else {
        return Ok(None);
    };
    let len = head.iter().fold(0usize, |n, &b| (n << 8) | usize::from(b));
    if len > max || len == 0 {
        return Err(ChannelError::TooLong { what, len, max });
    }
    Ok(input.get(header..header + len))
}

fn write_handshake(
    hs: &mut HandshakeState,
    payload: &[u8],
    out: &mut Vec<u8>,
) -> Result<(), ChannelError> {
    let mut msg = vec![0u8; MAX_HANDSHAKE_LEN];
    let n = hs
        .write_message(payload, &mut msg)
        .map_err(|e| ChannelError::Handshake(e.to_string()))?;
    out.extend_from_slice(&(n as u16).to_be_bytes());
    out.extend_from_slice(&msg[..n]);
    Ok(())
}

fn write_record(
    t: &mut TransportState,
    kind: u8,
    data: &[u8],
    scratch: &mut Vec<u8>,
    out: &mut Vec<u8>,
) -> Result<(), ChannelError> {
    scratch.clear();
    scratch.extend_from_slice(data);
    scratch.push(kind);
    let len = scratch.len() + TAG_LEN;
    let start = out.len();
    out.extend_from_slice(&(len as u16).to_be_bytes());
    out.resize(start + RECORD_HEADER_LEN + len, 0);
    t.write_message(scratch, &mut out[start + RECORD_HEADER_LEN..])
        .map_err(|e| ChannelError::BadRecord(e.to_string()))?;
    Ok(())
}

fn remote_key(hs: &HandshakeState) -> Result<PublicKey, ChannelError> {
    let bytes = hs.get_remote_static().unwrap_or_default();
    let key: [u8; KEY_LEN] = bytes
        .try_into()
        .map_err(|_| ChannelError::Handshake("no static key".into()))?;
    Ok(PublicKey(key))
}

mod error;
mod proof;
#[cfg(test)]
mod tests;
