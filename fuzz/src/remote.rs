//! [`Remote`]: the far end of one connection, as the driver plays it.
//!
//! Since issue 17 an engine speaks only through its encrypted channel
//! (`confab_engine::secure::Channel`): a plaintext first frame, a Noise
//! handshake, then records. So the driver's remote holds a client-side
//! [`Channel`] of its own: what the script sends (frames, generated
//! messages, the role's answers) is sealed through it, and what the engine
//! sends is opened by it, so the driver's checks read the engine's stream
//! as before. A remote may also speak no channel at all ([`Speaks::Clear`]:
//! an old or foreign client, its bytes going out as they are) or a channel
//! with a forged or wrong identity (the role decides, see
//! [`crate::driver::Role::remote`]).
//!
//! Checked here, on what the engine sends:
//! - toward a remote with a channel, the channel accepts it: a hello of this
//!   version and of the engine's role first, a handshake that completes,
//!   records that decrypt in order. Once the remote's handshake is done,
//!   every byte must decrypt (a record that does not is an engine bug: a
//!   nonce reused, a record cut). Before that, a failure is a finding only
//!   toward an honest remote nobody tampered with, unless the role allows
//!   it (an honest remote may still refuse the engine's expired
//!   certificate);
//! - the decrypted stream is whole frames within [`MAX_FRAME_LEN`];
//! - toward a remote without a channel, the engine sends its plaintext
//!   hello first, then at most a handshake message and a goodbye: never
//!   anything of the protocol inside.
//!
//! Attacks ([`Remote::tamper`]) replay or corrupt what the remote sent.

use std::time::Instant;

use confab_engine::limits::{
    FRAME_HEADER_LEN, MAX_FRAME_LEN, MAX_HANDSHAKE_LEN, MAX_PREAMBLE_LEN, MAX_REASON_LEN,
};
use confab_engine::secure::{Channel, ChannelError, Expect, Local, Side};
use confab_engine::wire::{Message, PROTOCOL_VERSION, Role, decode};

/// How a remote speaks.
#[derive(Debug, Clone)]
pub enum Speaks {
    /// Through a channel of its own, proving `local` and expecting `expect`.
    Channel { local: Box<Local>, expect: Expect },
    /// Without a channel: the script's bytes go out as they are.
    Clear,
}

/// What the role says about the remote of a new connection.
#[derive(Debug, Clone)]
pub struct RemoteSpec {
    pub speaks: Speaks,
    /// Whether it proves exactly what the engine expects (then its
    /// channel must not fail on what the engine sends).
    pub honest: bool,
}

/// Most bytes an engine may send to a remote without a channel: its
/// first frame, a handshake message (a responder answers any 32 bytes
/// that look like an ephemeral key), and a goodbye saying why it stops.
const CLEAR_MAX: usize = FRAME_HEADER_LEN
    + MAX_PREAMBLE_LEN
    + 2
    + MAX_HANDSHAKE_LEN
    + FRAME_HEADER_LEN
    + MAX_REASON_LEN
    + 64;

/// What the engine's bytes meant to the remote.
#[derive(Debug, Default)]
pub struct FromEngine {
    /// Bytes the remote's channel answers with (handshake messages and
    /// what it held), for the driver to deliver.
    pub reply: Vec<u8>,
    /// The remote's handshake completed with these bytes.
    pub secured: bool,
    /// Whole frames of the engine's decrypted stream.
    pub frames: Vec<Vec<u8>>,
}

/// See the module documentation.
#[derive(Debug)]
pub struct Remote {
    channel: Option<Channel>,
    honest: bool,
    /// An attacker replayed or corrupted bytes toward the engine, or raw
    /// bytes went below the channel.
    tampered: bool,
    failed: Option<ChannelError>,
    /// Decrypted stream bytes not yet a whole frame.
    stream: Vec<u8>,
    /// What a remote without a channel got (the first frame, then a count).
    clear: Vec<u8>,
    clear_len: usize,
    /// The engine's role, as its hello must say.
    engine_role: Role,
    /// The first and the latest bytes this remote sent (for replays).
    first: Vec<u8>,
    last: Vec<u8>,
}

impl Remote {
    /// The remote of a connection on `side` (the engine is on the other).
    pub fn new(spec: RemoteSpec, side: Side, entropy: [u8; 32], engine_role: Role) -> Self {
        let channel = match spec.speaks {
            Speaks::Channel { local, expect } => Some(Channel::new(side, &local, expect, entropy)),
            Speaks::Clear => None,
        };
        Self {
            channel,
            honest: spec.honest,
            tampered: false,
            failed: None,
            stream: Vec::new(),
            clear: Vec::new(),
            clear_len: 0,
            engine_role,
            first: Vec::new(),
            last: Vec::new(),
        }
    }

    /// The connection is up: the remote's first bytes.
    pub fn start(&mut self) -> Vec<u8> {
        let mut out = Vec::new();
        if let Some(c) = &mut self.channel {
            c.start(&mut out);
        }
        self.first.clone_from(&out);
        self.last.clone_from(&out);
        out
    }

    /// Whether the remote's handshake completed (and has not failed since).
    pub fn is_secure(&self) -> bool {
        self.failed.is_none() && self.channel.as_ref().is_some_and(Channel::is_secure)
    }

    /// Whether stream bytes sent now can reach the engine's protocol
    /// machines: a live channel (a clear remote's never can).
    pub fn has_channel(&self) -> bool {
        self.channel.is_some() && self.failed.is_none()
    }

    /// Stream bytes from the script: sealed (or held for the handshake),
    /// or as they are without a channel. `None`: nothing goes out (the
    /// remote's channel has failed).
    pub fn seal(&mut self, plain: &[u8], now: Instant) -> Option<Vec<u8>> {
        let Some(c) = &mut self.channel else {
            self.last = plain.to_vec();
            return Some(plain.to_vec());
        };
        if self.failed.is_some() {
            return None;
        }
        let mut out = Vec::new();
        match c.seal(plain, now, &mut out) {
            Ok(()) => {
                if !out.is_empty() {
                    self.last.clone_from(&out);
                }
                Some(out)
            }
            Err(e) => {
                // Only `HeldTooMuch`: the script queued over a MiB before
                // the engine finished its handshake.
                assert!(out.is_empty(), "a failing seal produced bytes");
                self.failed = Some(e);
                None
            }
        }
    }

    /// Raw bytes went below the channel: from now on the engine may fail
    /// the connection, and the remote's errors are no findings.
    pub fn mark_tampered(&mut self) {
        self.tampered = true;
    }

    /// The bytes an attack delivers (see [`crate::ops::Op::Tamper`]), and
    /// whether the engine must end the connection at once: a replay of
    /// whole units on an established, untampered connection can never
    /// decrypt.
    pub fn tamper(&mut self, how: u8) -> (Vec<u8>, bool) {
        let established = self.is_secure() && !self.tampered;
        self.tampered = true;
        let last = self.last.clone();
        match how % 4 {
            0 => {
                let kill = established && !last.is_empty();
                (last, kill)
            }
            1 => {
                let mut b = last;
                if !b.is_empty() {
                    let at = usize::from(how >> 2) % b.len();
                    b[at] ^= 1 << (how >> 5);
                }
                (b, false)
            }
            2 => (last[..last.len() / 2].to_vec(), false),
            _ => {
                let kill = established && !self.first.is_empty();
                (self.first.clone(), kill)
            }
        }
    }

    /// The engine sent `bytes` to this remote; `tolerated` says which
    /// failures of an honest remote's channel are the engine's right.
    pub fn read(
        &mut self,
        bytes: &[u8],
        now: Instant,
        unix_now: u64,
        tolerated: fn(&ChannelError) -> bool,
    ) -> FromEngine {
        let mut got = FromEngine::default();
        let Some(c) = &mut self.channel else {
            self.read_clear(bytes);
            return got;
        };
        if self.failed.is_some() {
            return got;
        }
        let was_secure = c.is_secure();
        match c.receive(bytes, now, unix_now) {
            Ok(r) => {
                got.secured = r.proven.is_some();
                assert_eq!(
                    got.secured,
                    !was_secure && c.is_secure(),
                    "a channel proved its other side other than once, as its handshake ended"
                );
                got.reply = r.send;
                self.stream.extend_from_slice(&r.plain);
                while let Some(frame) = take_frame(&mut self.stream) {
                    got.frames.push(frame);
                }
            }
            Err(e) => {
                assert!(
                    !was_secure,
                    "the engine sent bytes that do not decrypt on an established channel: {e}"
                );
                assert!(
                    !self.honest || self.tampered || tolerated(&e),
                    "an honest remote's channel refused what the engine sent: {e}"
                );
                self.failed = Some(e);
            }
        }
        got
    }

    fn read_clear(&mut self, bytes: &[u8]) {
        self.clear_len += bytes.len();
        assert!(
            self.clear_len <= CLEAR_MAX,
            "{} bytes sent to a remote that never started a channel",
            self.clear_len
        );
        let had = self.clear.len();
        let want = FRAME_HEADER_LEN + MAX_PREAMBLE_LEN;
        self.clear
            .extend_from_slice(&bytes[..bytes.len().min(want.saturating_sub(had))]);
        let Some(head) = self.clear.get(..FRAME_HEADER_LEN) else {
            return;
        };
        let len = u32::from_be_bytes(head.try_into().expect("four bytes")) as usize;
        assert!(
            (1..=MAX_PREAMBLE_LEN).contains(&len),
            "a first frame of {len} bytes"
        );
        let Some(body) = self.clear.get(FRAME_HEADER_LEN..FRAME_HEADER_LEN + len) else {
            return;
        };
        if had >= FRAME_HEADER_LEN + len {
            return;
        }
        match decode(body) {
            Ok(Message::Hello(h)) => assert!(
                h.version == PROTOCOL_VERSION && h.role == self.engine_role && h.name.is_none(),
                "the first frame is not this engine's plaintext hello: {h:?}"
            ),
            other => panic!("the first frame is not a hello: {other:?}"),
        }
    }
}

/// A whole frame from the front of `stream`, if there is one.
fn take_frame(stream: &mut Vec<u8>) -> Option<Vec<u8>> {
    let head = stream.get(..FRAME_HEADER_LEN)?;
    let len = u32::from_be_bytes(head.try_into().expect("four bytes")) as usize;
    assert!(
        len <= MAX_FRAME_LEN,
        "the engine's stream holds a frame of {len} bytes, over the limit"
    );
    if stream.len() < FRAME_HEADER_LEN + len {
        return None;
    }
    let rest = stream.split_off(FRAME_HEADER_LEN + len);
    Some(std::mem::replace(stream, rest))
}
