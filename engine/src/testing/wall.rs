//! What a world's engines share as a real machine's would: one wall clock,
//! and keys that outlive a restart (as key files do).

use std::time::Instant;

use crate::registry::RegistryConfig;
use crate::rng::Rng;
use crate::secure::{SigningSecret, StaticSecret};

/// Milliseconds from `start` to `now`: what a wall clock set at `start`
/// has moved on by when an engine is (re)built at `now`.
pub fn wall_ms_since(start: Instant, now: Instant) -> u64 {
    now.saturating_duration_since(start).as_millis() as u64
}

/// Draws the keys `config` does not give, once, so that every restart of
/// the registry built from it keeps them.
pub fn keep_keys(config: &mut RegistryConfig, rng: &mut Rng) {
    let secure = &mut config.secure;
    if secure.signing_key.is_none() {
        secure.signing_key = Some(SigningSecret::generate(rng));
    }
    if secure.static_key.is_none() {
        secure.static_key = Some(StaticSecret::generate(rng));
    }
}
