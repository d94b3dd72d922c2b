//! A registry that mangles the data it relays (alters, drops, duplicates or
//! reorders every few pieces, for windows of time: `--relay-fault on`) may
//! stall a relayed conversation or transfer, but never makes a peer show a
//! message or write a byte that differs from what was sent (the messages,
//! attribution and transfers checkers, every step), and after the heal
//! everything acknowledged is delivered and every transfer ends (their
//! liveness checks).
//!
//! The test also proves the fault bit: over its seeds, the registry relayed
//! streams and mangled pieces of them, read from the runs' reports.

mod common;

use confab_sim::faults::FaultLevel;
use confab_sim::run_many;

#[test]
fn a_relay_that_mangles_data_is_survived() {
    let mut config = common::quick();
    // Heavy faults, so partitions push peers onto the relay often.
    config.faults = FaultLevel::Heavy;
    config.relay_fault = Some(true);
    let seeds: Vec<u64> = (1..=6).collect();
    let outcomes = run_many(&seeds, &config, 2, |o| println!("{}", o.line()));
    let (mut relayed, mut pieces, mut mangled, mut shown, mut files) = (0, 0, 0, 0, 0);
    for o in &outcomes {
        common::assert_ok(o);
        let s = &o.stats;
        println!(
            "seed {}: {} relayed streams, mangled {} of {} pieces in {} windows; \
             {} messages shown, {} files received",
            o.seed,
            s.relayed,
            s.relay_mangled.mangled,
            s.relay_mangled.relayed,
            s.relay_mangled.windows,
            s.shown,
            s.xfer_received
        );
        relayed += s.relayed;
        pieces += s.relay_mangled.relayed;
        mangled += s.relay_mangled.mangled;
        shown += s.shown;
        files += s.xfer_received;
    }
    assert!(
        relayed > 0,
        "no seed relayed a stream: the fault had nothing to mangle"
    );
    assert!(
        mangled > 0,
        "the registry relayed {pieces} pieces under the fault but mangled none"
    );
    assert!(
        shown > 0 && files > 0,
        "nothing was delivered: {shown} messages, {files} files"
    );
}
