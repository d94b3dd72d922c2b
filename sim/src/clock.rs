//! Time inside the simulation.
//!
//! Engines get `now` from the host's paused tokio clock, which turmoil
//! advances tick by tick (and tokio auto-advances to the next timer within a
//! tick), so deadlines fire at their exact simulated instant. Instants are
//! only compared within one host incarnation; anything recorded across hosts
//! (the journal, checkers) uses [`sim_time`], the simulated time since the
//! start of the run, which is the same for every host.

use std::time::{Duration, Instant};

/// The current host's `now`, for its engine.
pub fn now() -> Instant {
    tokio::time::Instant::now().into_std()
}

/// Simulated time since the run began, from inside a host (zero outside).
pub fn sim_time() -> Duration {
    turmoil::sim_elapsed().unwrap_or_default()
}
