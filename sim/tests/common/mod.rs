//! Helpers shared by the simulator's tests.

#![allow(dead_code)]

use std::time::Duration;

use confab_sim::{Outcome, SimConfig};

/// A small, quick shape for debug-mode tests.
pub fn quick() -> SimConfig {
    SimConfig {
        peers: 6,
        duration: Duration::from_secs(40),
        heal: Duration::from_secs(30),
        ..SimConfig::default()
    }
}

/// A LAN run (no registry, segments, discovery) for debug-mode tests:
/// past the liveness bound (`confab_sim::lan::bound`, 30 s) with time to
/// spare, so the safety checker also sees a settled swarm under attack.
pub fn lan_quick() -> SimConfig {
    SimConfig {
        peers: 6,
        duration: Duration::from_secs(30),
        heal: Duration::from_secs(10),
        lan: true,
        ..SimConfig::default()
    }
}

/// Panics with the failure report (seed, what broke, trace tail, replay
/// command) if the run failed.
pub fn assert_ok(outcome: &Outcome) {
    if let Some(report) = outcome.failure_report() {
        panic!("{report}");
    }
}
