//! Proof that the checkers bite: with a bug planted in the registry, some
//! seed within a fixed bound fails, and it fails for the right reason.
//!
//! Planted, each behind the engine's `planted-bugs` feature as a
//! `PlantedBug` variant handed to every engine through its configuration:
//! - `NeverExpireHeartbeat`: the registry's Silence timer does nothing;
//! - `DeliverDuplicate`: a peer's receiving stream shows a resent copy of
//!   the item it delivered last; the messages checker must fail with
//!   "delivered twice";
//! - `SkipChunk`: a sender skips the read of a file's second chunk and sends
//!   its empty buffer instead; the transfers checker must fail on the bytes
//!   written (not the source's) or on the receiver's failed verification;
//! - `SkipCertificateCheck`: a peer's channel takes any certificate for the
//!   name it claims; with the attacker on, the attribution checker must
//!   fail (something shown as from a peer that never sent it, or a peer
//!   answering a false name with `Verified`). The bug reaches a peer's
//!   channels only once the peer hands its planted set to its keyring
//!   (`Keyring::set_planted`); the channel alone is tested here too;
//! - `AcceptUnsignedAnnouncement`: in a LAN run (no registry) with the
//!   forger on, a peer takes an announcement whatever its signature; the
//!   `lan-safety` checker must fail (a name listed under a key that never
//!   signed it);
//! - `LookupsIgnoreOutage`: a peer with a registry and discovery sends
//!   its look-ups to the registry even while it is away; only a hybrid
//!   run (`--hybrid`) catches it, with the `lan-fallback` checker (a
//!   `/who` taken with the registry away and not answered from the LAN):
//!   ordinary runs have no discovery, LAN runs no registry, and both pass
//!   with it.

mod common;

use std::time::Instant;

use confab_engine::registry::PlantedBug;
use confab_engine::rng::Rng;
use confab_engine::secure::certificate::issue;
use confab_engine::secure::{
    Channel, ChannelError, Expect, Local, Proven, Side, SigningSecret, StaticSecret,
};
use confab_engine::wire::identity::HandshakePayload;
use confab_engine::wire::{Name, Role};
use confab_sim::{Outcome, run_many};

/// Seeds tried: the bug must be caught by at least one of them.
const BOUND: u64 = 20;

#[test]
fn never_expiring_a_heartbeat_is_caught() {
    let mut config = common::quick();
    config.plant = Some(PlantedBug::NeverExpireHeartbeat);
    let seeds: Vec<u64> = (1..=BOUND).collect();
    let outcomes = run_many(&seeds, &config, 2, |_| {});
    let caught: Vec<&Outcome> = outcomes.iter().filter(|o| !o.ok()).collect();
    for o in &caught {
        let v = o.failure.as_ref().expect("failed runs have a violation");
        assert!(
            v.checker == "sessions" || v.checker == "liveness",
            "seed {} failed, but not for silence: {v}\nreplay: {}",
            o.seed,
            o.replay()
        );
        println!("seed {}: caught {v}", o.seed);
    }
    println!("caught by {} of {BOUND} seeds", caught.len());
    assert!(
        !caught.is_empty(),
        "no seed in 1..={BOUND} caught a registry that never expires heartbeats"
    );
}

#[test]
fn delivering_a_duplicate_is_caught() {
    let mut config = common::quick();
    config.plant = Some(PlantedBug::DeliverDuplicate);
    let seeds: Vec<u64> = (1..=BOUND).collect();
    let outcomes = run_many(&seeds, &config, 2, |_| {});
    let caught: Vec<&Outcome> = outcomes.iter().filter(|o| !o.ok()).collect();
    for o in &caught {
        let v = o.failure.as_ref().expect("failed runs have a violation");
        assert!(
            v.checker == "messages" && v.what.contains("delivered twice"),
            "seed {} failed, but not for a duplicate: {v}\nreplay: {}",
            o.seed,
            o.replay()
        );
        println!("seed {}: caught {v}", o.seed);
    }
    println!("caught by {} of {BOUND} seeds", caught.len());
    assert!(
        !caught.is_empty(),
        "no seed in 1..={BOUND} caught a peer that shows a message twice"
    );
}

#[test]
fn skipping_a_chunk_is_caught() {
    let mut config = common::quick();
    config.plant = Some(PlantedBug::SkipChunk);
    let seeds: Vec<u64> = (1..=BOUND).collect();
    let outcomes = run_many(&seeds, &config, 2, |_| {});
    let caught: Vec<&Outcome> = outcomes.iter().filter(|o| !o.ok()).collect();
    for o in &caught {
        let v = o.failure.as_ref().expect("failed runs have a violation");
        assert!(
            v.checker == "transfers"
                && (v.what.contains("not the source's") || v.what.contains("verification")),
            "seed {} failed, but not for a skipped chunk: {v}\nreplay: {}",
            o.seed,
            o.replay()
        );
        println!("seed {}: caught {v}", o.seed);
    }
    println!("caught by {} of {BOUND} seeds", caught.len());
    assert!(
        !caught.is_empty(),
        "no seed in 1..={BOUND} caught a sender that skips a chunk"
    );
}

#[test]
fn skipping_the_certificate_check_is_caught() {
    let mut config = common::quick();
    config.plant = Some(PlantedBug::SkipCertificateCheck);
    config.attacker = Some(true);
    let seeds: Vec<u64> = (1..=BOUND).collect();
    let outcomes = run_many(&seeds, &config, 2, |_| {});
    let caught: Vec<&Outcome> = outcomes.iter().filter(|o| !o.ok()).collect();
    for o in &caught {
        let v = o.failure.as_ref().expect("failed runs have a violation");
        assert!(
            v.checker == "attribution",
            "seed {} failed, but not for a false name: {v}\nreplay: {}",
            o.seed,
            o.replay()
        );
        println!("seed {}: caught {v}", o.seed);
    }
    println!("caught by {} of {BOUND} seeds", caught.len());
    assert!(
        !caught.is_empty(),
        "no seed in 1..={BOUND} caught a peer that takes any certificate"
    );
}

#[test]
fn accepting_an_unsigned_announcement_is_caught() {
    let mut config = common::lan_quick();
    config.plant = Some(PlantedBug::AcceptUnsignedAnnouncement);
    config.attacker = Some(true);
    let seeds: Vec<u64> = (1..=4).collect();
    let outcomes = run_many(&seeds, &config, 2, |_| {});
    let caught: Vec<&Outcome> = outcomes.iter().filter(|o| !o.ok()).collect();
    for o in &caught {
        let v = o.failure.as_ref().expect("failed runs have a violation");
        assert!(
            v.checker == "lan-safety",
            "seed {} failed, but not for an unsigned announcement: {v}\nreplay: {}",
            o.seed,
            o.replay()
        );
        println!("seed {}: caught {v}", o.seed);
    }
    println!("caught by {} of 4 seeds", caught.len());
    assert!(
        !caught.is_empty(),
        "no seed in 1..=4 caught a peer that takes unsigned announcements"
    );
}

#[test]
fn looking_up_on_a_registry_that_is_away_is_caught_by_hybrid_runs_only() {
    let bug = PlantedBug::LookupsIgnoreOutage;
    let mut config = common::hybrid_quick();
    config.plant = Some(bug);
    let seeds: Vec<u64> = (1..=4).collect();
    let outcomes = run_many(&seeds, &config, 2, |_| {});
    let caught: Vec<&Outcome> = outcomes.iter().filter(|o| !o.ok()).collect();
    for o in &caught {
        let v = o.failure.as_ref().expect("failed runs have a violation");
        assert!(
            v.checker == "lan-fallback",
            "seed {} failed, but not for a look-up that ignored the outage: {v}\nreplay: {}",
            o.seed,
            o.replay()
        );
        println!("seed {}: caught {v}", o.seed);
    }
    assert!(
        !caught.is_empty(),
        "no seed in 1..=4 caught look-ups going to a registry that is away"
    );
    // The other worlds cannot see it.
    for mut other in [common::quick(), common::lan_quick()] {
        other.plant = Some(bug);
        let outcomes = run_many(&[1, 2], &other, 2, |_| {});
        let failures: Vec<String> = outcomes.iter().filter_map(|o| o.failure_report()).collect();
        assert!(failures.is_empty(), "{}", failures.join("\n"));
    }
}

/// One handshake between a peer dialing `bob` and a responder holding
/// `bob_cert`'s certificate; what the dialer's channel concluded.
fn dial_bob(planted: bool, forged: bool) -> Result<Proven, ChannelError> {
    let mut rng = Rng::new(7);
    let registry = SigningSecret::generate(&mut rng);
    let forger = SigningSecret::generate(&mut rng);
    let (alice_key, bob_key) = (
        StaticSecret::generate(&mut rng),
        StaticSecret::generate(&mut rng),
    );
    let bob = Name::new("bob").unwrap();
    let signer = if forged { &forger } else { &registry };
    let cert = issue(signer, bob.clone(), bob_key.public(), 1_000, 3_600);
    let local = |secret: &StaticSecret, certificate| Local {
        role: Role::Peer,
        secret: secret.clone(),
        payload: HandshakePayload::Peer { certificate },
    };
    let trusted = registry.public();
    let mut planted_set = confab_engine::planted::PlantedBugs::NONE;
    if planted {
        planted_set = PlantedBug::SkipCertificateCheck.into();
    }
    let expect = Expect::Peer { name: bob, trusted };
    let mut a = Channel::new(Side::Initiator, &local(&alice_key, None), expect, [1; 32])
        .with_planted(planted_set);
    let mut b = Channel::new(
        Side::Responder,
        &local(&bob_key, Some(cert)),
        Expect::AnyKey,
        [2; 32],
    );
    let now = Instant::now();
    let (mut to_b, mut to_a) = (Vec::new(), Vec::new());
    a.start(&mut to_b);
    b.start(&mut to_a);
    for _ in 0..4 {
        let got = a.receive(&std::mem::take(&mut to_a), now, 2_000)?;
        if let Some(p) = got.proven {
            return Ok(p);
        }
        to_b.extend(got.send);
        if let Ok(got) = b.receive(&std::mem::take(&mut to_b), now, 2_000) {
            to_a.extend(got.send);
        }
    }
    panic!("the handshake never ended");
}

#[test]
fn the_planted_channel_takes_a_forged_certificate_and_only_then() {
    let bob = Name::new("bob").unwrap();
    assert!(matches!(dial_bob(false, false), Ok(Proven::Peer { name, .. }) if name == bob));
    assert!(
        matches!(dial_bob(false, true), Err(ChannelError::Certificate(_))),
        "a correct channel refuses a certificate from another signer"
    );
    assert!(
        matches!(dial_bob(true, true), Ok(Proven::Peer { name, .. }) if name == bob),
        "the planted bug takes it"
    );
}

#[test]
fn the_same_seeds_pass_without_the_bug() {
    let config = common::quick();
    let seeds: Vec<u64> = (1..=4).collect();
    for o in run_many(&seeds, &config, 2, |_| {}) {
        common::assert_ok(&o);
    }
}

#[test]
fn the_same_seeds_pass_with_the_attacker_and_no_bug() {
    let mut config = common::quick();
    config.attacker = Some(true);
    let seeds: Vec<u64> = (1..=4).collect();
    for o in run_many(&seeds, &config, 2, |_| {}) {
        common::assert_ok(&o);
        assert!(
            o.stats.attacks > 0,
            "seed {}: the attacker never struck; replay: {}",
            o.seed,
            o.replay()
        );
    }
}
