//! Two channels talking in memory: every check of the module documentation.

// The sans-IO scan skips what follows a `cfg(test)` attribute: this whole
// file is test code, which may read the clock.
#![cfg(test)]

use std::time::{Duration, Instant};

use super::*;
use crate::rng::Rng;
use crate::secure::certificate::{self, CertError, issue};
use crate::secure::keys::SigningSecret;
use crate::wire::Name;
use crate::wire::identity::{Certificate, Fingerprint};

const NOW: u64 = 1_700_000_000;

fn name(s: &str) -> Name {
    Name::new(s).unwrap()
}

struct Keys {
    registry: SigningSecret,
    registry_noise: StaticSecret,
    rng: Rng,
}

impl Keys {
    fn new(seed: u64) -> Self {
        let mut rng = Rng::new(seed);
        Self {
            registry: SigningSecret::generate(&mut rng),
            registry_noise: StaticSecret::generate(&mut rng),
            rng,
        }
    }

    fn entropy(&mut self) -> [u8; 32] {
        let mut e = [0u8; 32];
        self.rng.fill(&mut e);
        e
    }

    fn registry_local(&self) -> Local {
        Local {
            role: Role::Registry,
            secret: self.registry_noise.clone(),
            payload: HandshakePayload::Registry {
                signing_key: self.registry.public(),
                binding: certificate::bind(&self.registry, &self.registry_noise.public()),
            },
        }
    }

    /// A peer called `who` with a certificate from `signer` (lifetime 1 h).
    fn peer(&mut self, who: &str, signer: Option<&SigningSecret>) -> (Local, Option<Certificate>) {
        let secret = StaticSecret::generate(&mut self.rng);
        let cert = signer.map(|s| issue(s, name(who), secret.public(), NOW, 3600));
        let local = Local {
            role: Role::Peer,
            secret,
            payload: HandshakePayload::Peer {
                certificate: cert.clone(),
            },
        };
        (local, cert)
    }
}

/// Runs a handshake to the end (or the first error); returns both channels
/// and what each side proved or why it failed.
fn shake(
    mut a: Channel,
    mut b: Channel,
) -> (
    Channel,
    Channel,
    Result<Proven, ChannelError>,
    Result<Proven, ChannelError>,
) {
    let t = Instant::now();
    let (mut to_b, mut to_a) = (Vec::new(), Vec::new());
    b.start(&mut to_a);
    a.start(&mut to_b);
    let (mut pa, mut pb) = (None, None);
    for _ in 0..4 {
        if !to_b.is_empty() {
            match b.receive(&std::mem::take(&mut to_b), t, NOW) {
                Ok(r) => {
                    to_a.extend(r.send);
                    pb = pb.or(r.proven.map(Ok));
                }
                Err(e) => pb = Some(Err(e)),
            }
        }
        if !to_a.is_empty() {
            match a.receive(&std::mem::take(&mut to_a), t, NOW) {
                Ok(r) => {
                    to_b.extend(r.send);
                    pa = pa.or(r.proven.map(Ok));
                }
                Err(e) => pa = Some(Err(e)),
            }
        }
    }
    let pending = |p: Option<Result<Proven, ChannelError>>| {
        p.unwrap_or(Err(ChannelError::Handshake("did not finish".into())))
    };
    (a, b, pending(pa), pending(pb))
}

/// Sends `data` from `a` to `b`; what `b` read.
fn pass(a: &mut Channel, b: &mut Channel, data: &[u8]) -> Result<Vec<u8>, ChannelError> {
    let t = Instant::now();
    let mut wire = Vec::new();
    a.seal(data, t, &mut wire)?;
    Ok(b.receive(&wire, t, NOW)?.plain)
}

#[test]
fn a_peer_and_its_registry_agree_and_talk() {
    let mut k = Keys::new(1);
    let (peer, _) = k.peer("bob", None);
    let pin = Some(k.registry.public().fingerprint());
    let a = Channel::new(
        Side::Initiator,
        &peer,
        Expect::Registry { pin },
        k.entropy(),
    );
    let b = Channel::new(
        Side::Responder,
        &k.registry_local(),
        Expect::AnyKey,
        k.entropy(),
    );
    let (mut a, mut b, pa, pb) = shake(a, b);
    assert_eq!(
        pa,
        Ok(Proven::Registry {
            signing_key: k.registry.public()
        })
    );
    assert_eq!(
        pb,
        Ok(Proven::Key {
            key: peer.secret.public()
        })
    );
    assert!(a.is_secure() && b.is_secure());
    assert_eq!(
        pass(&mut a, &mut b, b"password hunter2").unwrap(),
        b"password hunter2"
    );
    assert_eq!(pass(&mut b, &mut a, b"welcome").unwrap(), b"welcome");
}

#[test]
fn nothing_readable_crosses_the_wire() {
    let mut k = Keys::new(2);
    let (peer, _) = k.peer("bob", None);
    let mut a = Channel::new(
        Side::Initiator,
        &peer,
        Expect::Registry { pin: None },
        k.entropy(),
    );
    let mut b = Channel::new(
        Side::Responder,
        &k.registry_local(),
        Expect::AnyKey,
        k.entropy(),
    );
    let t = Instant::now();
    let mut wire = Vec::new();
    // Queued before the handshake: held, then sent encrypted.
    a.seal(b"secret-text-1234", t, &mut wire).unwrap();
    let mut all = Vec::new();
    let mut to_a = Vec::new();
    b.start(&mut to_a);
    a.start(&mut wire);
    let mut got = Vec::new();
    for _ in 0..3 {
        all.extend_from_slice(&wire);
        let r = b.receive(&std::mem::take(&mut wire), t, NOW).unwrap();
        got.extend(r.plain);
        to_a.extend(r.send);
        all.extend_from_slice(&to_a);
        wire.extend(a.receive(&std::mem::take(&mut to_a), t, NOW).unwrap().send);
    }
    assert_eq!(got, b"secret-text-1234");
    assert!(
        !all.windows(6).any(|w| w == b"secret"),
        "plaintext on the wire"
    );
}

#[test]
fn peers_prove_their_certified_names() {
    let mut k = Keys::new(3);
    let reg = k.registry.clone();
    let trusted = reg.public();
    let (alice, _) = k.peer("alice", Some(&reg));
    let (bob, _) = k.peer("bob", Some(&reg));
    let expect = Expect::Peer {
        name: name("bob"),
        trusted,
    };
    let a = Channel::new(Side::Initiator, &alice, expect, k.entropy());
    let b = Channel::new(
        Side::Responder,
        &bob,
        Expect::AnyPeer { trusted },
        k.entropy(),
    );
    let (_, _, pa, pb) = shake(a, b);
    assert_eq!(
        pa,
        Ok(Proven::Peer {
            name: name("bob"),
            key: bob.secret.public()
        })
    );
    assert_eq!(
        pb,
        Ok(Proven::Peer {
            name: name("alice"),
            key: alice.secret.public()
        })
    );
}

/// alice dials "bob"; `mallory` answers. What alice's side says.
fn dial_bob_reach(k: &mut Keys, mallory: &Local) -> Result<Proven, ChannelError> {
    let trusted = k.registry.public();
    let reg = k.registry.clone();
    let (alice, _) = k.peer("alice", Some(&reg));
    let expect = Expect::Peer {
        name: name("bob"),
        trusted,
    };
    let a = Channel::new(Side::Initiator, &alice, expect, k.entropy());
    let b = Channel::new(
        Side::Responder,
        mallory,
        Expect::AnyPeer { trusted },
        k.entropy(),
    );
    shake(a, b).2
}

#[test]
fn impostors_are_refused_with_the_reason() {
    let mut k = Keys::new(4);
    let reg = k.registry.clone();
    // A valid certificate, for another name.
    let (carol, _) = k.peer("carol", Some(&reg));
    assert!(matches!(
        dial_bob_reach(&mut k, &carol),
        Err(ChannelError::Certificate(CertError::WrongName { .. }))
    ));
    // No certificate.
    let (none, _) = k.peer("bob", None);
    assert_eq!(
        dial_bob_reach(&mut k, &none),
        Err(ChannelError::Certificate(CertError::Missing))
    );
    // Signed by another registry.
    let mut rng = Rng::new(99);
    let other = SigningSecret::generate(&mut rng);
    let (foreign, _) = k.peer("bob", Some(&other));
    assert!(matches!(
        dial_bob_reach(&mut k, &foreign),
        Err(ChannelError::Certificate(CertError::OtherRegistry { .. }))
    ));
    // Bob's real certificate, presented with another Noise key.
    let (bob, cert) = k.peer("bob", Some(&reg));
    let (mut thief, _) = k.peer("bob", None);
    thief.payload = HandshakePayload::Peer { certificate: cert };
    assert_eq!(
        dial_bob_reach(&mut k, &thief),
        Err(ChannelError::Certificate(CertError::WrongKey))
    );
    // Expired.
    let mut old = bob.clone();
    old.payload = HandshakePayload::Peer {
        certificate: Some(issue(
            &reg,
            name("bob"),
            bob.secret.public(),
            NOW - 10 * 3600,
            3600,
        )),
    };
    assert!(matches!(
        dial_bob_reach(&mut k, &old),
        Err(ChannelError::Certificate(CertError::Expired { .. }))
    ));
    // The real bob gets through.
    assert!(dial_bob_reach(&mut k, &bob).is_ok());
}

#[test]
fn a_changed_registry_key_is_refused_naming_both() {
    let mut k = Keys::new(5);
    let (peer, _) = k.peer("bob", None);
    let pinned = Fingerprint([9; 16]);
    let a = Channel::new(
        Side::Initiator,
        &peer,
        Expect::Registry { pin: Some(pinned) },
        k.entropy(),
    );
    let b = Channel::new(
        Side::Responder,
        &k.registry_local(),
        Expect::AnyKey,
        k.entropy(),
    );
    let (_, _, pa, _) = shake(a, b);
    let got = k.registry.public().fingerprint();
    assert_eq!(pa, Err(ChannelError::RegistryKeyChanged { pinned, got }));
    let text = pa.unwrap_err().to_string();
    assert!(
        text.contains(&pinned.to_string()) && text.contains(&got.to_string()),
        "{text}"
    );
}

#[test]
fn a_peer_posing_as_the_registry_is_refused() {
    let mut k = Keys::new(6);
    let reg = k.registry.clone();
    let (peer, _) = k.peer("bob", None);
    let (fake, _) = k.peer("registry", Some(&reg));
    let mut fake = fake;
    fake.role = Role::Registry;
    let a = Channel::new(
        Side::Initiator,
        &peer,
        Expect::Registry { pin: None },
        k.entropy(),
    );
    let b = Channel::new(Side::Responder, &fake, Expect::AnyKey, k.entropy());
    assert_eq!(shake(a, b).2, Err(ChannelError::NotARegistry));
}

#[test]
fn a_replayed_handshake_does_not_complete() {
    let mut k = Keys::new(7);
    let (peer, _) = k.peer("bob", None);
    let t = Instant::now();
    let mut a = Channel::new(
        Side::Initiator,
        &peer,
        Expect::Registry { pin: None },
        k.entropy(),
    );
    let mut b = Channel::new(
        Side::Responder,
        &k.registry_local(),
        Expect::AnyKey,
        k.entropy(),
    );
    // Record everything the initiator sends in a real session.
    let (mut to_b, mut to_a, mut recorded) = (Vec::new(), Vec::new(), Vec::new());
    b.start(&mut to_a);
    a.start(&mut to_b);
    for _ in 0..3 {
        recorded.extend_from_slice(&to_b);
        to_a.extend(b.receive(&std::mem::take(&mut to_b), t, NOW).unwrap().send);
        let r = a.receive(&std::mem::take(&mut to_a), t, NOW).unwrap();
        to_b.extend(r.send);
    }
    let mut wire = Vec::new();
    a.seal(b"login bob", t, &mut wire).unwrap();
    recorded.extend_from_slice(&wire);
    // Replayed to a fresh registry connection: it never delivers a byte.
    let mut fresh = Channel::new(
        Side::Responder,
        &k.registry_local(),
        Expect::AnyKey,
        k.entropy(),
    );
    let r = fresh.receive(&recorded, t, NOW);
    assert!(matches!(r, Err(ChannelError::Handshake(_))), "{r:?}");
}

#[test]
fn a_tampered_record_ends_the_channel() {
    let mut k = Keys::new(8);
    let (peer, _) = k.peer("bob", None);
    let a = Channel::new(
        Side::Initiator,
        &peer,
        Expect::Registry { pin: None },
        k.entropy(),
    );
    let b = Channel::new(
        Side::Responder,
        &k.registry_local(),
        Expect::AnyKey,
        k.entropy(),
    );
    let (mut a, mut b, _, _) = shake(a, b);
    let t = Instant::now();
    let mut wire = Vec::new();
    a.seal(b"pay bob 10", t, &mut wire).unwrap();
    let last = wire.len() - 1;
    wire[last] ^= 1;
    assert!(matches!(
        b.receive(&wire, t, NOW),
        Err(ChannelError::BadRecord(_))
    ));
    // Sticky: even a good record is refused now.
    let mut good = Vec::new();
    a.seal(b"x", t, &mut good).unwrap();
    assert!(b.receive(&good, t, NOW).is_err());
}

#[test]
fn hostile_first_bytes_are_refused_early() {
    let mut k = Keys::new(9);
    let t = Instant::now();
    let new = |k: &mut Keys| {
        Channel::new(
            Side::Responder,
            &k.registry_local(),
            Expect::AnyKey,
            k.entropy(),
        )
    };
    // An HTTP request: its "length" is huge, refused before allocation.
    let mut c = new(&mut k);
    assert!(matches!(
        c.receive(b"GET / HTTP/1.1\r\n", t, NOW),
        Err(ChannelError::NotConfab(_))
    ));
    // A hello of protocol 1 (today's plaintext confab).
    let mut c = new(&mut k);
    let old = encode(&Message::Hello(Hello {
        version: 1,
        role: Role::Peer,
        name: None,
    }));
    let e = c.receive(&old, t, NOW).unwrap_err();
    assert_eq!(e, ChannelError::VersionMismatch { theirs: 1 });
    assert!(e.before_keys());
    // A good hello, then a handshake message claiming 60 KB.
    let mut c = new(&mut k);
    let mut bytes = encode(&Message::Hello(Hello {
        version: PROTOCOL_VERSION,
        role: Role::Peer,
        name: None,
    }));
    bytes.extend_from_slice(&[0xf0, 0x00]);
    assert!(matches!(
        c.receive(&bytes, t, NOW),
        Err(ChannelError::TooLong { .. })
    ));
    // Garbage where the handshake belongs.
    let mut c = new(&mut k);
    let mut bytes = encode(&Message::Hello(Hello {
        version: PROTOCOL_VERSION,
        role: Role::Peer,
        name: None,
    }));
    bytes.extend_from_slice(&[0, 5, 1, 2, 3, 4, 5]);
    assert!(matches!(
        c.receive(&bytes, t, NOW),
        Err(ChannelError::Handshake(_))
    ));
}

#[test]
fn bytes_split_anywhere_and_big_writes_arrive_whole() {
    let mut k = Keys::new(10);
    let (peer, _) = k.peer("bob", None);
    let a = Channel::new(
        Side::Initiator,
        &peer,
        Expect::Registry { pin: None },
        k.entropy(),
    );
    let b = Channel::new(
        Side::Responder,
        &k.registry_local(),
        Expect::AnyKey,
        k.entropy(),
    );
    let (mut a, mut b, _, _) = shake(a, b);
    let t = Instant::now();
    let data: Vec<u8> = (0..300_000u32).map(|i| (i % 251) as u8).collect();
    let mut wire = Vec::new();
    a.seal(&data, t, &mut wire).unwrap();
    let mut got = Vec::new();
    for piece in wire.chunks(777) {
        got.extend(b.receive(piece, t, NOW).unwrap().plain);
    }
    assert_eq!(got, data);
}

#[test]
fn senders_rekey_and_receivers_follow() {
    let mut k = Keys::new(11);
    let (peer, _) = k.peer("bob", None);
    let policy = RekeyPolicy {
        after_records: 3,
        after: Duration::from_secs(60),
    };
    let a = Channel::new(
        Side::Initiator,
        &peer,
        Expect::Registry { pin: None },
        k.entropy(),
    )
    .with_rekey(policy);
    let b = Channel::new(
        Side::Responder,
        &k.registry_local(),
        Expect::AnyKey,
        k.entropy(),
    );
    let (mut a, mut b, _, _) = shake(a, b);
    let t = Instant::now();
    for i in 0..10u8 {
        let mut wire = Vec::new();
        a.seal(&[i; 10], t, &mut wire).unwrap();
        assert_eq!(b.receive(&wire, t, NOW).unwrap().plain, vec![i; 10]);
    }
    // By time, too: a record an hour later goes under a new key.
    let later = t + Duration::from_secs(61);
    let mut wire = Vec::new();
    a.seal(b"later", later, &mut wire).unwrap();
    assert_eq!(b.receive(&wire, later, NOW).unwrap().plain, b"later");
    // A receiver that missed the rekey record cannot read on: the sender
    // has moved to the next key. Four records of one byte under a policy of
    // three go as data, data, rekey, data, data.
    let mut c_wire = Vec::new();
    for _ in 0..4 {
        a.seal(b"y", later, &mut c_wire).unwrap();
    }
    let mut records = Vec::new();
    let mut rest = &c_wire[..];
    while let [h, l, tail @ ..] = rest {
        let len = usize::from(u16::from_be_bytes([*h, *l]));
        records.push(&rest[..2 + len]);
        rest = &tail[len..];
    }
    let rekey = 2 + 1 + 16; // header, kind, tag
    assert_eq!(records.iter().filter(|r| r.len() == rekey).count(), 1);
    let without: Vec<u8> = records
        .into_iter()
        .filter(|r| r.len() != rekey)
        .flatten()
        .copied()
        .collect();
    assert!(matches!(
        b.receive(&without, later, NOW),
        Err(ChannelError::BadRecord(_))
    ));
}

#[test]
fn the_same_entropy_makes_the_same_bytes() {
    let run = || {
        let mut k = Keys::new(12);
        let (peer, _) = k.peer("bob", None);
        let mut a = Channel::new(
            Side::Initiator,
            &peer,
            Expect::Registry { pin: None },
            k.entropy(),
        );
        let mut out = Vec::new();
        a.start(&mut out);
        out
    };
    assert_eq!(run(), run());
}

#[test]
fn a_second_start_sends_nothing() {
    let mut k = Keys::new(13);
    let (peer, _) = k.peer("bob", None);
    let mut a = Channel::new(
        Side::Initiator,
        &peer,
        Expect::Registry { pin: None },
        k.entropy(),
    );
    let (mut first, mut second) = (Vec::new(), Vec::new());
    a.start(&mut first);
    a.start(&mut second);
    assert!(!first.is_empty());
    assert!(second.is_empty(), "found by the peer fuzz target");
}

#[test]
fn every_split_of_a_handshake_and_records_arrives_whole() {
    // Every position of a cut, from the first byte of the preamble on.
    for cut in [1usize, 2, 3, 4, 5, 7, 40, 100, 65_537] {
        let mut k = Keys::new(14);
        let (peer, _) = k.peer("bob", None);
        let mut a = Channel::new(
            Side::Initiator,
            &peer,
            Expect::Registry { pin: None },
            k.entropy(),
        );
        let mut b = Channel::new(
            Side::Responder,
            &k.registry_local(),
            Expect::AnyKey,
            k.entropy(),
        );
        let t = Instant::now();
        let data: Vec<u8> = (0..200_000u32).map(|i| (i % 253) as u8).collect();
        let (mut to_b, mut to_a) = (Vec::new(), Vec::new());
        a.seal(&data, t, &mut to_b).unwrap();
        b.start(&mut to_a);
        a.start(&mut to_b);
        let mut got = Vec::new();
        for _ in 0..4 {
            let wire = std::mem::take(&mut to_b);
            for piece in wire.chunks(cut) {
                let r = b.receive(piece, t, NOW).unwrap();
                got.extend(r.plain);
                to_a.extend(r.send);
            }
            let r = a.receive(&std::mem::take(&mut to_a), t, NOW).unwrap();
            to_b.extend(r.send);
        }
        assert_eq!(got.len(), data.len(), "cut {cut}");
        assert_eq!(got, data, "cut {cut}");
    }
}
