//! The same seed gives the same run: two seeds, each run twice, give the same
//! trace hash (and different seeds give different ones). The runs have peers
//! chatting and moving files, so the hash covers their traffic, events and
//! file operations too; and a run with the attacker (its keys, handshakes
//! and forgeries are drawn from the seed like everything else).

mod common;

use confab_sim::run;

#[test]
fn same_seed_same_trace() {
    assert!(
        confab_sim::deterministic(),
        "confab-sim was built without --cfg tokio_unstable; build from the workspace root"
    );
    let config = common::quick();
    let mut hashes = Vec::new();
    // Seeds whose runs both show messages and write files.
    for seed in [12, 15] {
        let a = run(seed, &config);
        let b = run(seed, &config);
        common::assert_ok(&a);
        assert_eq!(
            a.trace_hash,
            b.trace_hash,
            "seed {seed} ran twice gave different traces; replay: {}",
            a.replay()
        );
        assert_eq!(a.trace_lines, b.trace_lines);
        assert!(
            a.stats.sent > 0 && a.stats.shown > 0,
            "seed {seed}: the peers exchanged no messages, so the trace does not cover them"
        );
        assert!(
            a.stats.xfer_received > 0 && a.stats.xfer_bytes > 0,
            "seed {seed}: no file moved, so the trace does not cover transfers"
        );
        hashes.push(a.trace_hash);
    }
    assert_ne!(hashes[0], hashes[1], "two seeds gave the same trace");
}

#[test]
fn same_seed_same_trace_with_the_attacker() {
    let mut config = common::quick();
    config.attacker = Some(true);
    let a = run(12, &config);
    let b = run(12, &config);
    common::assert_ok(&a);
    assert!(
        a.stats.attacks > 1 && a.stats.captured + a.stats.violations > 0,
        "seed 12: the attacker did too little to cover it ({}); replay: {}",
        a.stats.attacks_line(),
        a.replay()
    );
    assert_eq!(
        a.trace_hash,
        b.trace_hash,
        "seed 12 with the attacker ran twice gave different traces; replay: {}",
        a.replay()
    );
}
