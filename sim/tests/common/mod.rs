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

/// A LAN run (no registry, segments, discovery, the workload) for
/// debug-mode tests: the faulty phase past the liveness bound
/// (`confab_sim::lan::bound`, 30 s), so the safety checker also sees a
/// settled swarm under attack; the heal longer than the bound and two
/// `/who` rounds, so a peer the heal starts again is judged too.
pub fn lan_quick() -> SimConfig {
    SimConfig {
        peers: 6,
        duration: Duration::from_secs(40),
        heal: Duration::from_secs(36),
        lan: true,
        ..SimConfig::default()
    }
}

/// A hybrid run (registry and discovery, the registry coming and going)
/// for debug-mode tests: the ordinary quick shape with `hybrid` on.
pub fn hybrid_quick() -> SimConfig {
    SimConfig {
        hybrid: true,
        ..quick()
    }
}

/// Panics with the failure report (seed, what broke, trace tail, replay
/// command) if the run failed.
pub fn assert_ok(outcome: &Outcome) {
    if let Some(report) = outcome.failure_report() {
        panic!("{report}");
    }
}
