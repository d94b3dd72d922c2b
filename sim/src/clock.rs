//! Time inside the simulation.
//!
//! Engines get `now` from the host's paused tokio clock, which turmoil
//! advances tick by tick (and tokio auto-advances to the next timer within a
//! tick), so deadlines fire at their exact simulated instant. Instants are
//! only compared within one host incarnation; anything recorded across hosts
//! (the journal, checkers) uses [`sim_time`], the simulated time since the
//! start of the run, which is the same for every host.

use std::time::{Duration, Instant};

use crate::run::config::timing::UNIX_MS_AT_START;

/// The current host's `now`, for its engine.
pub fn now() -> Instant {
    tokio::time::Instant::now().into_std()
}

/// Simulated time since the run began, from inside a host (zero outside).
pub fn sim_time() -> Duration {
    turmoil::sim_elapsed().unwrap_or_default()
}

/// Unix milliseconds now on the simulated wall clock, which reads
/// `UNIX_MS_AT_START` when the run begins (turmoil's epoch): what a host's
/// software is given as its `unix_ms_at_start` when it starts, so that every
/// role dates and checks certificates by the same clock.
pub fn unix_ms() -> u64 {
    UNIX_MS_AT_START + sim_time().as_millis() as u64
}
