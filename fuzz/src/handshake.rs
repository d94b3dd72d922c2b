//! The `handshake` target: two [`Channel`]s (an initiator A and a
//! responder B, as a real connection has) and an attacker on the wire
//! between them, driven by a script.
//!
//! Every call's output is cut into its wire units (the plaintext first
//! frame, each handshake message, each record) and queued toward the
//! other side; the script delivers them (in pieces), or tampers with the
//! queue first (bit flips, drops, reorders, duplicates, truncations), or
//! injects raw bytes, or replays the units of a recorded earlier session.
//! So hostile bytes reach each role at every stage: as the first frame, as
//! handshake messages after a valid first frame, as records after a real
//! handshake.
//!
//! Checked, besides "no panic" and the allocation guard:
//! - every unit a channel emits is within its limit ([`MAX_PREAMBLE_LEN`],
//!   [`MAX_HANDSHAKE_LEN`], [`MAX_RECORD_LEN`]);
//! - what a side delivers as `plain`, all calls together, is a prefix of
//!   what the other side sealed: nothing that did not authenticate (a
//!   flipped, replayed, reordered or injected record) is ever delivered,
//!   and nothing before the other side proved who it is;
//! - `proven` comes once, exactly as the handshake ends, and says what the
//!   other side is; a side whose identity is forged (a certificate for
//!   another name or key, expired, from another registry, none) is never
//!   proven, nor is a side replaying a recorded session;
//! - errors are sticky (the same error again, whatever comes), a failed
//!   channel sends nothing more, seals nothing, and is not secure;
//! - queuing over [`MAX_HELD_PLAINTEXT`] before the handshake ends fails
//!   with `HeldTooMuch`, and anything up to it does not;
//! - with no attacker and honest identities, nothing fails at all.

use std::sync::OnceLock;
use std::time::{Duration, Instant};

use confab_engine::limits::{
    FRAME_HEADER_LEN, MAX_HANDSHAKE_LEN, MAX_HELD_PLAINTEXT, MAX_PREAMBLE_LEN, MAX_RECORD_LEN,
};
use confab_engine::secure::certificate::{CLOCK_SKEW, bind, issue};
use confab_engine::secure::{
    Channel, ChannelError, Expect, Local, Proven, RekeyPolicy, Side, SigningSecret, StaticSecret,
};
use confab_engine::wire::identity::{Certificate, HandshakePayload, PublicKey};
use confab_engine::wire::{Name, Role};

/// The wall clock when a run starts (Unix seconds).
const UNIX_START: u64 = 1_700_000_000;

/// Certificates here last a day: longer than a script's time can pass,
/// so an honest handshake never meets an expired one.
const LIFETIME: u64 = 86_400;

/// Most plaintext one side seals in a run: the record of it stays well
/// under the allocation guard (a `Vec` past this may double to 4 MiB).
const MAX_SEALED: usize = 2 << 20;

/// Most units a duplication grows a queue to.
const MAX_QUEUE: usize = 256;

/// Most time a script may let pass: certificates stay valid.
const MAX_ELAPSED: Duration = Duration::from_secs(20 * 3600);

/// Most script operations per input.
const MAX_OPS: usize = 256;

struct Keys {
    registry: SigningSecret,
    other_registry: SigningSecret,
    statics: [StaticSecret; 3],
    publics: [PublicKey; 3],
}

fn keys() -> &'static Keys {
    static KEYS: OnceLock<Keys> = OnceLock::new();
    KEYS.get_or_init(|| {
        let statics = [0x71, 0x72, 0x73].map(|b| StaticSecret::from_bytes([b; 32]));
        let publics = [0, 1, 2].map(|i| statics[i].public());
        Keys {
            registry: SigningSecret::from_bytes([0x70; 32]),
            other_registry: SigningSecret::from_bytes([0x6f; 32]),
            statics,
            publics,
        }
    })
}

fn name(s: &str) -> Name {
    Name::new(s).expect("a valid name")
}

/// A peer's certificate for static key number `k`, forged as `fault` says
/// (0: honest; 1 another name; 2 expired; 3 another registry; 4 none;
/// 5 another key).
fn peer_payload(who: &str, k: usize, fault: u8) -> HandshakePayload {
    let keys = keys();
    let mut by = &keys.registry;
    let mut cert_name = who;
    let mut key = keys.publics[k];
    let mut from = UNIX_START;
    match fault {
        1 => cert_name = "mallory",
        2 => from = UNIX_START - 2 * LIFETIME - CLOCK_SKEW - 60,
        3 => by = &keys.other_registry,
        4 => return HandshakePayload::Peer { certificate: None },
        5 => key = keys.publics[2],
        _ => {}
    }
    let certificate: Certificate = issue(by, name(cert_name), key, from, LIFETIME);
    HandshakePayload::Peer {
        certificate: Some(certificate),
    }
}

/// The two ends of one connection, and what each must end up proving.
struct Pairing {
    a: (Local, Expect),
    b: (Local, Expect),
    /// What A must prove to B (`None`: B must never accept it).
    a_proves: Option<Proven>,
    /// What B must prove to A.
    b_proves: Option<Proven>,
}

/// `cfg % 4`: 0 a peer dialing its registry (no pin), 1 the same with the
/// registry's key pinned, 2 a peer dialing a peer, 3 the same with one side
/// forged (`cfg >> 2`: which side, and how).
fn pairing(cfg: u8) -> Pairing {
    let keys = keys();
    let trusted = keys.registry.public();
    match cfg % 4 {
        kind @ (0 | 1) => {
            let pin = (kind == 1).then(|| trusted.fingerprint());
            let a = Local {
                role: Role::Peer,
                secret: keys.statics[0].clone(),
                payload: HandshakePayload::Peer { certificate: None },
            };
            let b = Local {
                role: Role::Registry,
                secret: keys.statics[1].clone(),
                payload: HandshakePayload::Registry {
                    signing_key: trusted,
                    binding: bind(&keys.registry, &keys.publics[1]),
                },
            };
            Pairing {
                a: (a, Expect::Registry { pin }),
                b: (b, Expect::AnyKey),
                a_proves: Some(Proven::Key {
                    key: keys.publics[0],
                }),
                b_proves: Some(Proven::Registry {
                    signing_key: trusted,
                }),
            }
        }
        kind => {
            let fault = if kind == 3 { 1 + (cfg >> 2) % 5 } else { 0 };
            let forged_a = kind == 3 && cfg & 0x80 != 0;
            let (fault_a, fault_b) = if forged_a { (fault, 0) } else { (0, fault) };
            let a = Local {
                role: Role::Peer,
                secret: keys.statics[0].clone(),
                payload: peer_payload("bob", 0, fault_a),
            };
            let b = Local {
                role: Role::Peer,
                secret: keys.statics[1].clone(),
                payload: peer_payload("alice", 1, fault_b),
            };
            Pairing {
                a: (
                    a,
                    Expect::Peer {
                        name: name("alice"),
                        trusted,
                    },
                ),
                b: (b, Expect::AnyPeer { trusted }),
                // The responder takes any name the registry certified: a
                // certificate for "mallory" proves A is mallory.
                a_proves: match fault_a {
                    0 => Some(Proven::Peer {
                        name: name("bob"),
                        key: keys.publics[0],
                    }),
                    1 => Some(Proven::Peer {
                        name: name("mallory"),
                        key: keys.publics[0],
                    }),
                    _ => None,
                },
                b_proves: (fault_b == 0).then(|| Proven::Peer {
                    name: name("alice"),
                    key: keys.publics[1],
                }),
            }
        }
    }
}

/// Cuts what one side emitted into its wire units; checks each length.
fn units(bytes: &[u8], preamble_done: &mut bool) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let mut rest = bytes;
    while !rest.is_empty() {
        let (header, max, what) = if *preamble_done {
            (
                2,
                MAX_RECORD_LEN.max(MAX_HANDSHAKE_LEN),
                "a handshake message or record",
            )
        } else {
            (FRAME_HEADER_LEN, MAX_PREAMBLE_LEN, "a first frame")
        };
        assert!(rest.len() >= header, "{what} cut inside its length");
        let len = rest[..header]
            .iter()
            .fold(0usize, |n, &b| (n << 8) | usize::from(b));
        assert!((1..=max).contains(&len), "{what} of {len} bytes");
        assert!(rest.len() >= header + len, "{what} cut short");
        out.push(rest[..header + len].to_vec());
        rest = &rest[header + len..];
        *preamble_done = true;
    }
    out
}

/// One end and what the checks know of it.
struct End {
    ch: Channel,
    side: Side,
    /// Units emitted toward the other end, not delivered yet.
    queue: Vec<Vec<u8>>,
    preamble_done: bool,
    /// Plaintext sealed successfully, and how much of it the other end
    /// has delivered (must match, in order).
    sealed: Vec<u8>,
    /// Plaintext sealed before this end's handshake ended.
    held: usize,
    proven: bool,
    failed: Option<ChannelError>,
    /// What this end must prove to the other.
    proves: Option<Proven>,
}

impl End {
    fn new(
        side: Side,
        local: &Local,
        expect: Expect,
        entropy: u8,
        rekey: RekeyPolicy,
        proves: Option<Proven>,
    ) -> Self {
        let mut ch = Channel::new(side, local, expect, [entropy; 32]).with_rekey(rekey);
        let mut first = Vec::new();
        ch.start(&mut first);
        let mut preamble_done = false;
        let queue = units(&first, &mut preamble_done);
        Self {
            ch,
            side,
            queue,
            preamble_done,
            sealed: Vec::new(),
            held: 0,
            proven: false,
            failed: None,
            proves,
        }
    }

    fn emit(&mut self, bytes: &[u8]) {
        self.queue.extend(units(bytes, &mut self.preamble_done));
    }

    fn seal(&mut self, plain: &[u8], now: Instant) {
        if self.sealed.len() + plain.len() > MAX_SEALED {
            return;
        }
        let secure = self.ch.is_secure();
        let mut out = Vec::new();
        let r = self.ch.seal(plain, now, &mut out);
        if let Some(e) = &self.failed {
            assert_eq!(r.as_ref().err(), Some(e), "a failed channel sealed");
            assert!(out.is_empty(), "a failed channel produced bytes to send");
            return;
        }
        match r {
            Ok(()) => {
                if !secure {
                    self.held += plain.len();
                    assert!(
                        self.held <= MAX_HELD_PLAINTEXT,
                        "{} bytes held before the handshake ended",
                        self.held
                    );
                    assert!(out.is_empty(), "bytes sent before the handshake ended");
                }
                self.sealed.extend_from_slice(plain);
                self.emit(&out);
            }
            Err(e) => {
                assert_eq!(e, ChannelError::HeldTooMuch, "a seal failed otherwise");
                assert!(
                    !secure && self.held + plain.len() > MAX_HELD_PLAINTEXT,
                    "HeldTooMuch with {} + {} bytes held",
                    self.held,
                    plain.len()
                );
                assert!(out.is_empty(), "a failing seal produced bytes");
                self.fail(e);
            }
        }
    }

    fn fail(&mut self, e: ChannelError) {
        assert_eq!(self.ch.error(), Some(&e), "the error is not the channel's");
        assert!(!self.ch.is_secure(), "a failed channel is still secure");
        self.failed = Some(e);
    }
}

/// What the other end delivered so far, checked against what was sealed.
struct Pair {
    ends: [End; 2],
    /// Bytes each end delivered as plain (index: the receiving end).
    delivered: [usize; 2],
    /// An attacker touched the connection (whatever one end got wrong, it
    /// may answer with something the other cannot take either).
    attacked: bool,
    now: Instant,
    start: Instant,
}

impl Pair {
    fn unix_now(&self) -> u64 {
        UNIX_START + (self.now - self.start).as_secs()
    }

    /// `bytes` reach end `to`, in pieces of `split` (0: whole). `replay`:
    /// they come from a recorded other session, so nothing may be proven.
    fn receive(&mut self, to: usize, bytes: &[u8], split: usize, replay: bool) {
        let piece = if split == 0 {
            bytes.len().max(1)
        } else {
            split
        };
        for chunk in bytes.chunks(piece) {
            self.receive_one(to, chunk, replay);
        }
    }

    fn receive_one(&mut self, to: usize, chunk: &[u8], replay: bool) {
        let (now, unix) = (self.now, self.unix_now());
        let other_proves = self.ends[1 - to].proves.clone();
        let attacked = self.attacked;
        let end = &mut self.ends[to];
        let was_secure = end.ch.is_secure();
        let r = end.ch.receive(chunk, now, unix);
        if let Some(e) = &end.failed {
            assert_eq!(r.as_ref().err(), Some(e), "an error that did not stick");
            return;
        }
        let got = match r {
            Ok(got) => got,
            Err(e) => {
                assert!(
                    attacked || other_proves.is_none(),
                    "{:?} failed with no attacker and honest identities: {e}",
                    end.side
                );
                end.fail(e);
                return;
            }
        };
        if let Some(p) = &got.proven {
            assert!(!end.proven, "proven twice");
            assert!(!replay, "a recorded session's handshake was accepted");
            assert_eq!(
                Some(p),
                other_proves.as_ref(),
                "{:?} accepted an identity it must not",
                end.side
            );
            end.proven = true;
            assert!(!was_secure && end.ch.is_secure(), "proven but not secure");
        } else {
            assert_eq!(was_secure, end.ch.is_secure(), "secure without a proof");
        }
        if !got.plain.is_empty() {
            assert!(
                end.proven,
                "plaintext delivered before the other side proved itself"
            );
        }
        end.emit(&got.send);
        let at = self.delivered[to];
        let sealed = &self.ends[1 - to].sealed;
        assert!(
            sealed.get(at..at + got.plain.len()) == Some(&got.plain[..]),
            "{:?} delivered bytes the other side did not seal there",
            self.ends[to].side
        );
        self.delivered[to] += got.plain.len();
    }
}

/// The units an honest initiator sent in a complete, earlier session of
/// this pairing (other ephemeral keys), with a little data: what an
/// attacker recorded and now replays.
fn recorded(cfg: u8) -> &'static [Vec<u8>] {
    static RECORDED: OnceLock<Vec<Vec<Vec<u8>>>> = OnceLock::new();
    let all = RECORDED.get_or_init(|| {
        (0..4u8)
            .map(|kind| {
                // Case 3 forges an identity: its recording is case 2's.
                let p = pairing(kind.min(2));
                let now = Instant::now();
                let rekey = RekeyPolicy::default();
                let a = End::new(Side::Initiator, &p.a.0, p.a.1, 0xa1, rekey, p.a_proves);
                let b = End::new(Side::Responder, &p.b.0, p.b.1, 0xb1, rekey, p.b_proves);
                let mut pair = Pair {
                    ends: [a, b],
                    delivered: [0, 0],
                    attacked: false,
                    now,
                    start: now,
                };
                pair.ends[0].seal(b"recorded session", now);
                let mut transcript = Vec::new();
                for _ in 0..4 {
                    for from in 0..2 {
                        for u in std::mem::take(&mut pair.ends[from].queue) {
                            if from == 0 {
                                transcript.push(u.clone());
                            }
                            pair.receive(1 - from, &u, 0, false);
                        }
                    }
                }
                assert!(pair.ends[1].proven, "the recorded session completed");
                transcript
            })
            .collect()
    });
    &all[usize::from(cfg % 4)]
}

/// Reads fields; zeros once the input runs out.
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
    fn bytes(&mut self) -> Vec<u8> {
        let len = usize::from(self.u8()).min(self.0.len());
        let (b, rest) = self.0.split_at(len);
        self.0 = rest;
        b.to_vec()
    }
}

/// Runs one input (see the module documentation).
pub fn run(data: &[u8]) {
    let mut r = Reader(data);
    let cfg = r.u8();
    let rekey_byte = r.u8();
    let rekey = if rekey_byte & 0x80 != 0 {
        RekeyPolicy {
            after_records: u64::from(rekey_byte & 0x07) + 1,
            after: Duration::from_secs(u64::from(rekey_byte & 0x78) * 10 + 1),
        }
    } else {
        RekeyPolicy::default()
    };
    let p = pairing(cfg);
    let start = Instant::now();
    let a = End::new(Side::Initiator, &p.a.0, p.a.1, 0x0a, rekey, p.a_proves);
    let b = End::new(Side::Responder, &p.b.0, p.b.1, 0x0b, rekey, p.b_proves);
    let mut pair = Pair {
        ends: [a, b],
        delivered: [0, 0],
        attacked: false,
        now: start,
        start,
    };
    let mut counter = 0u8;
    let mut ops = 0;
    while !r.0.is_empty() && ops < MAX_OPS {
        ops += 1;
        let op = r.u8();
        // The end the operation is about (its queue, or what it receives).
        let from = usize::from(op >> 7);
        let to = 1 - from;
        match op & 0x0f {
            // Seal some bytes (a pattern, distinct per seal).
            0 | 1 => {
                let len = usize::from(r.u16());
                counter = counter.wrapping_add(1);
                let plain: Vec<u8> = (0..len).map(|i| counter ^ (i as u8)).collect();
                pair.ends[from].seal(&plain, pair.now);
            }
            // Seal a lot: past what may be held before the handshake ends.
            2 => {
                let len = usize::from(r.u8() % 160) * 8192;
                pair.ends[from].seal(&vec![0xab; len], pair.now);
            }
            // Deliver the next units, in pieces.
            3..=5 => {
                let n = usize::from(r.u8() % 8) + 1;
                let split = usize::from(r.u8());
                let take = n.min(pair.ends[from].queue.len());
                let units: Vec<Vec<u8>> = pair.ends[from].queue.drain(..take).collect();
                for u in units {
                    pair.receive(to, &u, split, false);
                }
            }
            // Raw bytes toward an end.
            6 => {
                let bytes = r.bytes();
                pair.attacked = true;
                pair.receive(to, &bytes, 0, false);
            }
            // Flip a bit in a queued unit.
            7 => {
                let (i, at, bit) = (r.u8(), r.u16(), r.u8());
                let q = &mut pair.ends[from].queue;
                if !q.is_empty() {
                    let n = q.len();
                    let u = &mut q[usize::from(i) % n];
                    if !u.is_empty() {
                        let at = usize::from(at) % u.len();
                        u[at] ^= 1 << (bit % 8);
                        pair.attacked = true;
                    }
                }
            }
            // Drop a queued unit.
            8 => {
                let i = r.u8();
                let q = &mut pair.ends[from].queue;
                if !q.is_empty() {
                    q.remove(usize::from(i) % q.len());
                    pair.attacked = true;
                }
            }
            // Swap two queued units.
            9 => {
                let (i, j) = (r.u8(), r.u8());
                let q = &mut pair.ends[from].queue;
                if q.len() > 1 {
                    let (i, j) = (usize::from(i) % q.len(), usize::from(j) % q.len());
                    q.swap(i, j);
                    pair.attacked |= i != j;
                }
            }
            // Duplicate a queued unit (a replay within the session).
            10 => {
                let i = r.u8();
                let q = &mut pair.ends[from].queue;
                if !q.is_empty() && q.len() < MAX_QUEUE {
                    let i = usize::from(i) % q.len();
                    let u = q[i].clone();
                    q.insert(i + 1, u);
                    pair.attacked = true;
                }
            }
            // Truncate a queued unit.
            11 => {
                let (i, len) = (r.u8(), r.u16());
                let q = &mut pair.ends[from].queue;
                if !q.is_empty() {
                    let n = q.len();
                    let u = &mut q[usize::from(i) % n];
                    if !u.is_empty() {
                        let keep = usize::from(len) % u.len();
                        u.truncate(keep);
                        pair.attacked = true;
                    }
                }
            }
            // Time passes (rekeying by time; certificates stay valid).
            12 => {
                let by = Duration::from_secs(u64::from(r.u16()));
                pair.now = (pair.now + by).min(start + MAX_ELAPSED);
            }
            // Replay a recorded earlier session's initiator toward B.
            13 => {
                let split = usize::from(r.u8());
                pair.attacked = true;
                for u in recorded(cfg) {
                    pair.receive(1, u, split, true);
                }
            }
            // Deliver everything queued both ways, whole.
            _ => {
                for _ in 0..4 {
                    for from in 0..2 {
                        let units = std::mem::take(&mut pair.ends[from].queue);
                        for u in units {
                            pair.receive(1 - from, &u, 0, false);
                        }
                    }
                }
            }
        }
    }
    // Honest identities and no attacker: the handshake completes and every
    // byte sealed arrives, once everything queued is delivered.
    let honest = !pair.attacked
        && pair
            .ends
            .iter()
            .all(|e| e.proves.is_some() && e.failed.is_none());
    if honest {
        for _ in 0..4 {
            for from in 0..2 {
                let units = std::mem::take(&mut pair.ends[from].queue);
                for u in units {
                    pair.receive(1 - from, &u, 0, false);
                }
            }
        }
        for to in 0..2 {
            let end = &pair.ends[to];
            if end.failed.is_some() {
                continue;
            }
            assert!(end.proven, "an honest handshake did not complete");
            assert_eq!(
                pair.delivered[to],
                pair.ends[1 - to].sealed.len(),
                "sealed bytes were lost on an honest connection"
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_pairing_completes_when_honest_and_refuses_a_forgery() {
        for cfg in 0..=255u8 {
            // Seal on both sides, then deliver everything.
            run(&[cfg, 0, 0x00, 0, 40, 0x80, 0, 10, 0x0e]);
        }
    }

    #[test]
    fn attacks_are_refused() {
        for cfg in 0..4u8 {
            // Flip a bit of the first unit; a raw first frame; a replay.
            run(&[cfg, 0, 0x07, 0, 0, 3, 1, 0x0e]);
            run(&[cfg, 0, 0x86, 4, 0, 0, 0, 9, 0x0e]);
            run(&[cfg, 0, 0x0d, 0, 0x0e]);
            // Established, then a record duplicated.
            run(&[cfg, 0x81, 0x0e, 0x00, 0, 9, 0x0a, 0, 0x0e]);
        }
    }

    #[test]
    fn holding_over_the_limit_fails() {
        run(&[0, 0, 0x02, 130, 0x02, 10, 0x0e]);
    }
}
