//! The operation script an engine target plays: what a driver can do to an
//! engine, in a byte format of our own.
//!
//! Why not `#[derive(Arbitrary)]` on the whole script: the seed corpus must be
//! *written* by a generator (valid sessions: hello, register, log in, ...), and
//! `arbitrary`'s byte layout has no inverse. Here every operation is a tag byte
//! and plain fields, [`encode`] is the exact inverse of [`parse`], and libFuzzer's
//! mutations of a tag or a length stay local. Where a structured value is
//! wanted (a generated message, a role's command) the operation carries a byte
//! string that is decoded with `arbitrary` when it runs.
//!
//! The operations cover the [`Input`](confab_engine::Input)s of the engine API;
//! a registry ignores the ones about outgoing connections and transfers,
//! which is itself worth checking. File work the engine asked for is answered
//! by [`Op::File`] (the driver models the file contract, see
//! [`crate::driver`]); [`Op::Respond`] lets the role play the other end of a
//! conversation (the peer target answers the peer's registry requests and
//! its remotes' transfer requests with plausible replies).

use std::time::Duration;

/// Most operations one input may hold, so one input cannot run for seconds.
pub const MAX_OPS: usize = 400;

/// A connection, by position in the list of ids the engine has handed out
/// (modulo its length); [`ConnRef::UNKNOWN`] is an id the engine never minted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnRef(pub u8);

impl ConnRef {
    /// An id that was never handed out.
    pub const UNKNOWN: ConnRef = ConnRef(u8::MAX);
}

/// One thing the driver does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Op {
    /// A connection comes in from remote number `remote`, whose end speaks
    /// as `mode` says (see [`crate::driver::Role::remote`]: 0 honest, 1 no
    /// encryption at all, others a forged or wrong identity).
    Accept { remote: u8, mode: u8 },
    /// These bytes arrive on `conn`, as they are: below the encryption,
    /// where only an attacker writes.
    Raw { conn: ConnRef, bytes: Vec<u8> },
    /// `body` arrives on `conn` behind a correct length header, in pieces of
    /// `split` bytes (0: in one piece), sealed by the remote's channel (or
    /// in clear from a remote without one).
    Frame {
        conn: ConnRef,
        split: u8,
        body: Vec<u8>,
    },
    /// A valid message, generated from `seed` by [`crate::generate::GMessage`],
    /// arrives on `conn` as a frame, in pieces of `split` bytes.
    Message {
        conn: ConnRef,
        split: u8,
        seed: Vec<u8>,
    },
    /// `conn` is closed by the remote.
    Close { conn: ConnRef },
    /// The outstanding password job number `job` (modulo their count) is
    /// answered: with its real digest, or with an error if `fail`.
    Password { job: u8, fail: bool },
    /// Time passes, then the timers run.
    Advance { by: Duration },
    /// Time jumps to the engine's next deadline, then the timers run.
    Tick,
    /// A role-specific command, generated from `seed`.
    Command { seed: Vec<u8> },
    /// The host crashes and restarts from its persisted records.
    Restart,
    /// An outgoing connection is up; its far end speaks as `mode` says (as
    /// in [`Op::Accept`]).
    Connected { conn: ConnRef, mode: u8 },
    /// An outgoing connection failed.
    ConnectFailed { conn: ConnRef },
    /// File work for transfer number `transfer` (modulo the transfers the
    /// engine asked file work for; [`u8::MAX`]: one it never named) failed.
    StorageFailed { transfer: u8 },
    /// The role answers something the engine sent, number `pick` among what
    /// it can answer, in the manner `how` (see [`crate::driver::Role::respond`]).
    Respond { pick: u8, how: u8 },
    /// Outstanding file work number `work` (modulo their count) is answered,
    /// in the manner `how` (see [`crate::driver`]: correctly, short,
    /// corrupted, or with an error).
    File { work: u8, how: u8 },
    /// These stream bytes arrive on `conn`, sealed by the remote's channel
    /// as they are (not framed): a remote that encrypts garbage.
    Plain { conn: ConnRef, bytes: Vec<u8> },
    /// An attacker on the path of `conn` tampers, in the manner `how`
    /// (see [`crate::driver`]): replays or corrupts what was sent.
    Tamper { conn: ConnRef, how: u8 },
}

const ACCEPT: u8 = 0;
const RAW: u8 = 1;
const FRAME: u8 = 2;
const MESSAGE: u8 = 3;
const CLOSE: u8 = 4;
const PASSWORD: u8 = 5;
const ADVANCE: u8 = 6;
const TICK: u8 = 7;
const COMMAND: u8 = 8;
const RESTART: u8 = 9;
const CONNECTED: u8 = 10;
const CONNECT_FAILED: u8 = 11;
const STORAGE_FAILED: u8 = 12;
const RESPOND: u8 = 13;
const FILE: u8 = 14;
const PLAIN: u8 = 15;
const TAMPER: u8 = 16;
const KINDS: u8 = 17;

/// Advance durations: values below this are milliseconds; from it on, tenths
/// of a second above it (up to about 55 minutes), so both "just before the
/// deadline" and "long after" are two bytes away.
const COARSE: u16 = 0x8000;

fn duration_of(v: u16) -> Duration {
    if v < COARSE {
        Duration::from_millis(v.into())
    } else {
        Duration::from_millis(u64::from(v - COARSE) * 100)
    }
}

fn duration_code(d: Duration) -> u16 {
    let ms = d.as_millis();
    if ms < u128::from(COARSE) {
        ms as u16
    } else {
        COARSE + (ms / 100).min(u128::from(u16::MAX - COARSE)) as u16
    }
}

/// Reads fields, yielding zeros and empty strings once the input runs out, so
/// every input parses (a truncated operation still does something).
struct Reader<'a>(&'a [u8]);

impl Reader<'_> {
    fn u8(&mut self) -> u8 {
        match self.0.split_first() {
            Some((b, rest)) => {
                self.0 = rest;
                *b
            }
            None => 0,
        }
    }
    fn u16(&mut self) -> u16 {
        u16::from_be_bytes([self.u8(), self.u8()])
    }
    /// A u16 length, then that many bytes (or what is left).
    fn bytes(&mut self) -> Vec<u8> {
        let len = (self.u16() as usize).min(self.0.len());
        let (b, rest) = self.0.split_at(len);
        self.0 = rest;
        b.to_vec()
    }
}

/// Reads an operation script. Never fails: unknown tags wrap around.
pub fn parse(data: &[u8]) -> Vec<Op> {
    let mut r = Reader(data);
    let mut ops = Vec::new();
    while !r.0.is_empty() && ops.len() < MAX_OPS {
        let op = match r.u8() % KINDS {
            ACCEPT => Op::Accept {
                remote: r.u8(),
                mode: r.u8(),
            },
            RAW => Op::Raw {
                conn: ConnRef(r.u8()),
                bytes: r.bytes(),
            },
            FRAME => Op::Frame {
                conn: ConnRef(r.u8()),
                split: r.u8(),
                body: r.bytes(),
            },
            MESSAGE => Op::Message {
                conn: ConnRef(r.u8()),
                split: r.u8(),
                seed: r.bytes(),
            },
            CLOSE => Op::Close {
                conn: ConnRef(r.u8()),
            },
            PASSWORD => {
                let b = r.u8();
                Op::Password {
                    job: b >> 1,
                    fail: b & 1 == 1,
                }
            }
            ADVANCE => Op::Advance {
                by: duration_of(r.u16()),
            },
            TICK => Op::Tick,
            COMMAND => Op::Command { seed: r.bytes() },
            RESTART => Op::Restart,
            CONNECTED => Op::Connected {
                conn: ConnRef(r.u8()),
                mode: r.u8(),
            },
            CONNECT_FAILED => Op::ConnectFailed {
                conn: ConnRef(r.u8()),
            },
            STORAGE_FAILED => Op::StorageFailed { transfer: r.u8() },
            RESPOND => Op::Respond {
                pick: r.u8(),
                how: r.u8(),
            },
            FILE => Op::File {
                work: r.u8(),
                how: r.u8(),
            },
            PLAIN => Op::Plain {
                conn: ConnRef(r.u8()),
                bytes: r.bytes(),
            },
            TAMPER => Op::Tamper {
                conn: ConnRef(r.u8()),
                how: r.u8(),
            },
            _ => unreachable!("tag reduced modulo KINDS"),
        };
        ops.push(op);
    }
    ops
}

fn put_bytes(out: &mut Vec<u8>, b: &[u8]) {
    let len = u16::try_from(b.len()).expect("an operation's bytes fit in 64 KiB");
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(b);
}

/// Writes an operation script; [`parse`] reads it back unchanged (durations
/// are rounded to what the format can say).
pub fn encode(ops: &[Op]) -> Vec<u8> {
    let mut out = Vec::new();
    for op in ops {
        match op {
            Op::Accept { remote, mode } => out.extend([ACCEPT, *remote, *mode]),
            Op::Raw { conn, bytes } => {
                out.extend([RAW, conn.0]);
                put_bytes(&mut out, bytes);
            }
            Op::Frame { conn, split, body } => {
                out.extend([FRAME, conn.0, *split]);
                put_bytes(&mut out, body);
            }
            Op::Message { conn, split, seed } => {
                out.extend([MESSAGE, conn.0, *split]);
                put_bytes(&mut out, seed);
            }
            Op::Close { conn } => out.extend([CLOSE, conn.0]),
            Op::Password { job, fail } => out.extend([PASSWORD, (job << 1) | u8::from(*fail)]),
            Op::Advance { by } => {
                out.push(ADVANCE);
                out.extend(duration_code(*by).to_be_bytes());
            }
            Op::Tick => out.push(TICK),
            Op::Command { seed } => {
                out.push(COMMAND);
                put_bytes(&mut out, seed);
            }
            Op::Restart => out.push(RESTART),
            Op::Connected { conn, mode } => out.extend([CONNECTED, conn.0, *mode]),
            Op::ConnectFailed { conn } => out.extend([CONNECT_FAILED, conn.0]),
            Op::StorageFailed { transfer } => out.extend([STORAGE_FAILED, *transfer]),
            Op::Respond { pick, how } => out.extend([RESPOND, *pick, *how]),
            Op::File { work, how } => out.extend([FILE, *work, *how]),
            Op::Plain { conn, bytes } => {
                out.extend([PLAIN, conn.0]);
                put_bytes(&mut out, bytes);
            }
            Op::Tamper { conn, how } => out.extend([TAMPER, conn.0, *how]),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encode_is_the_inverse_of_parse() {
        let ops = vec![
            Op::Accept { remote: 3, mode: 1 },
            Op::Raw {
                conn: ConnRef(0),
                bytes: vec![1, 2, 3],
            },
            Op::Frame {
                conn: ConnRef::UNKNOWN,
                split: 7,
                body: vec![0x90],
            },
            Op::Message {
                conn: ConnRef(1),
                split: 0,
                seed: vec![9; 40],
            },
            Op::Close { conn: ConnRef(2) },
            Op::Password { job: 5, fail: true },
            Op::Advance {
                by: Duration::from_millis(1234),
            },
            Op::Advance {
                by: Duration::from_secs(40),
            },
            Op::Tick,
            Op::Command { seed: vec![] },
            Op::Restart,
            Op::Connected {
                conn: ConnRef(4),
                mode: 2,
            },
            Op::ConnectFailed { conn: ConnRef(4) },
            Op::StorageFailed { transfer: 0 },
            Op::Respond { pick: 1, how: 2 },
            Op::File { work: 3, how: 4 },
            Op::Plain {
                conn: ConnRef(1),
                bytes: vec![0, 0, 0, 1],
            },
            Op::Tamper {
                conn: ConnRef(0),
                how: 5,
            },
        ];
        assert_eq!(parse(&encode(&ops)), ops);
    }

    #[test]
    fn truncated_input_still_parses() {
        assert_eq!(
            parse(&[RAW, 0, 0, 9, 1]),
            vec![Op::Raw {
                conn: ConnRef(0),
                bytes: vec![1]
            }]
        );
    }
}
