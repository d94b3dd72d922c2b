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
//!   written (not the source's) or on the receiver's failed verification.

mod common;

use confab_engine::registry::PlantedBug;
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
fn the_same_seeds_pass_without_the_bug() {
    let config = common::quick();
    let seeds: Vec<u64> = (1..=4).collect();
    for o in run_many(&seeds, &config, 2, |_| {}) {
        common::assert_ok(&o);
    }
}
