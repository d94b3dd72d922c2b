//! Hybrid runs (issue 20, item 5: "the registry comes and goes"): the
//! ordinary world with its registry and scripted clients, plus the LAN's
//! segments and discovery on every peer, the registry crashing for 3 to
//! 12 s at a time (or, after the first time, partitioned away from every
//! host as long) while chats, groups and transfers run. Every checker
//! passes (messages once and in order from their real senders, files
//! intact, calls, the registry's sessions and online list after the heal,
//! `lan-safety` on every list answered from the LAN), and the run really
//! switched: the registry was down for seconds while messages were sent
//! and shown and chunks written, peers answered `/who` from the LAN
//! meanwhile, and restored their registry sessions on their own after.
//!
//! `CONFAB_SIM_HYBRID_SEEDS` runs more seeds than the default 4 (fixed
//! seeds from 1; `many_seeds` runs random ones).

mod common;

use confab_sim::run_many;

#[test]
fn the_registry_goes_away_and_comes_back_and_nothing_is_lost_or_repeated() {
    let count: u64 = std::env::var("CONFAB_SIM_HYBRID_SEEDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(4);
    let config = common::hybrid_quick();
    let seeds: Vec<u64> = (1..1 + count).collect();
    let outcomes = run_many(&seeds, &config, 2, |o| println!("{}", o.line()));
    let failures: Vec<String> = outcomes.iter().filter_map(|o| o.failure_report()).collect();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    for o in &outcomes {
        // Every seed's first outage falls in the workload and lasts 3 s
        // at least.
        assert!(
            o.stats.registry_down_ms >= 3_000,
            "seed {}: the registry was down only {} ms",
            o.seed,
            o.stats.registry_down_ms
        );
        assert!(
            o.stats.lan_lookups > 0,
            "seed {}: no /who was answered from the LAN while the registry was down",
            o.seed
        );
        assert!(
            o.stats.registry_back > 0,
            "seed {}: no peer restored its registry session",
            o.seed
        );
    }
    let sum = |f: fn(&confab_sim::Outcome) -> u64| outcomes.iter().map(f).sum::<u64>();
    assert!(
        sum(|o| o.stats.sent_registry_down) > 0,
        "no message was sent while the registry was down"
    );
    assert!(
        sum(|o| o.stats.shown_registry_down) > 0,
        "no message was shown while the registry was down"
    );
    assert!(
        sum(|o| o.stats.chunks_registry_down) > 0,
        "no file chunk was written while the registry was down"
    );
    assert!(
        sum(|o| o.stats.registry_away) > 0,
        "the registry was never partitioned away"
    );
    assert!(
        outcomes.iter().any(|o| o.describe.contains("joins")),
        "no seed drew two segments"
    );
}

/// A hybrid run replays: the same seed gives the same trace.
#[test]
fn a_hybrid_run_replays() {
    let config = common::hybrid_quick();
    let a = confab_sim::run(2, &config);
    let b = confab_sim::run(2, &config);
    common::assert_ok(&a);
    assert_eq!(a.trace_hash, b.trace_hash, "seed 2 did not replay");
}
