//! The wall clock, read once at an engine's start: engines take time in and
//! never read a clock themselves, and certificates (issued by a registry,
//! checked by peers) are dated in Unix time, so both roles are told it.

/// Milliseconds since the Unix epoch now (0 if the clock is before 1970).
pub fn unix_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}
