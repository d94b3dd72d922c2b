//! Many random seeds. In a debug build (`cargo test`) a few, to stay under a
//! minute; in release, 200:
//!
//! ```sh
//! cargo test -p confab-sim --release --test many_seeds -- --nocapture
//! ```
//!
//! `CONFAB_SIM_SEEDS` overrides the count and `CONFAB_SIM_SEED_BASE` the first
//! seed (default: from the clock, printed). A failure prints each failing
//! seed with the command that replays it.
//!
//! LAN runs (`--lan`, issue 20: no registry, broadcast segments, the
//! forger, and the ordinary workload on top) from the same base: 6 in
//! debug, 60 in release (was 200 before LAN runs carried the workload: one
//! now takes about 1.4 s of release wall time on a shared core, so 60 keep
//! the test near its old time); `CONFAB_SIM_LAN_SEEDS` overrides.
//!
//! Hybrid runs (`--hybrid`, issue 20 item 5: registry and discovery, the
//! registry down for seconds at a time) from the same base: 2 in debug,
//! 40 in release (6 peers, 40 + 30 s: about 1 s of release wall time
//! each); `CONFAB_SIM_HYBRID_SEEDS` overrides.

mod common;

use std::time::{Instant, SystemTime, UNIX_EPOCH};

use confab_sim::{SimConfig, run_many};

fn env(name: &str) -> Option<u64> {
    std::env::var(name).ok()?.parse().ok()
}

#[test]
fn random_seeds_pass() {
    let count = env("CONFAB_SIM_SEEDS").unwrap_or(if cfg!(debug_assertions) { 40 } else { 200 });
    let base = env("CONFAB_SIM_SEED_BASE").unwrap_or_else(|| {
        let t = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        t.as_secs() % 1_000_000 * 1000
    });
    let config = if cfg!(debug_assertions) {
        common::quick()
    } else {
        SimConfig::default()
    };
    println!("{count} seeds from {base} (CONFAB_SIM_SEED_BASE={base} replays this set)");
    let seeds: Vec<u64> = (base..base + count).collect();
    let wall = Instant::now();
    let outcomes = run_many(&seeds, &config, 2, |o| println!("{}", o.line()));
    let failures: Vec<String> = outcomes.iter().filter_map(|o| o.failure_report()).collect();
    let wall = wall.elapsed().as_secs_f64();
    println!(
        "{count} seeds in {wall:.1} s: {:.2} seeds per second",
        count as f64 / wall
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Issue 19: partitions between two peers (not between a peer and the
/// registry) send their conversations and transfers through the registry's
/// relay, and every checker (messages delivered once and in order, transfers
/// done and verified, liveness after the heal) still passes.
#[test]
fn partitions_between_peers_go_through_the_relay_and_every_checker_passes() {
    let config = common::quick();
    let seeds: Vec<u64> = (500..520).collect();
    let outcomes = run_many(&seeds, &config, 2, |_| {});
    let failures: Vec<String> = outcomes.iter().filter_map(|o| o.failure_report()).collect();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    let relayed: u64 = outcomes.iter().map(|o| o.stats.relayed).sum();
    println!("{relayed} relayed streams over {} seeds", seeds.len());
    assert!(relayed > 0, "no seed in 500..520 relayed anything");
}

#[test]
fn random_lan_seeds_pass() {
    let count = env("CONFAB_SIM_LAN_SEEDS").unwrap_or(if cfg!(debug_assertions) { 6 } else { 60 });
    let base = env("CONFAB_SIM_SEED_BASE").unwrap_or_else(|| {
        let t = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        t.as_secs() % 1_000_000 * 1000
    });
    let config = common::lan_quick();
    println!("{count} LAN seeds from {base} (CONFAB_SIM_SEED_BASE={base} replays this set)");
    let seeds: Vec<u64> = (base..base + count).collect();
    let outcomes = run_many(&seeds, &config, 2, |o| println!("{}", o.line()));
    let failures: Vec<String> = outcomes.iter().filter_map(|o| o.failure_report()).collect();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn random_hybrid_seeds_pass() {
    let count =
        env("CONFAB_SIM_HYBRID_SEEDS").unwrap_or(if cfg!(debug_assertions) { 2 } else { 40 });
    let base = env("CONFAB_SIM_SEED_BASE").unwrap_or_else(|| {
        let t = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        t.as_secs() % 1_000_000 * 1000
    });
    let config = common::hybrid_quick();
    println!("{count} hybrid seeds from {base} (CONFAB_SIM_SEED_BASE={base} replays this set)");
    let seeds: Vec<u64> = (base..base + count).collect();
    let outcomes = run_many(&seeds, &config, 2, |o| println!("{}", o.line()));
    let failures: Vec<String> = outcomes.iter().filter_map(|o| o.failure_report()).collect();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
