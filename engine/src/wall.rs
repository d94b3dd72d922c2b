//! [`WallClock`]: wall-clock time without reading a clock. A driver says
//! what the wall clock read when the engine was built; every later reading
//! is that plus the monotonic time the engine has been given since. History
//! entries are dated from it, certificates issued and checked against it.

use std::time::Instant;

/// See the module documentation.
#[derive(Debug, Clone, Copy)]
pub struct WallClock {
    start: Instant,
    unix_ms_at_start: u64,
}

impl WallClock {
    /// A clock that read `unix_ms_at_start` (milliseconds since the Unix
    /// epoch) at `start`.
    pub fn new(start: Instant, unix_ms_at_start: u64) -> Self {
        Self {
            start,
            unix_ms_at_start,
        }
    }

    /// Milliseconds since the Unix epoch at `now`.
    pub fn ms(&self, now: Instant) -> u64 {
        let since = now.saturating_duration_since(self.start);
        self.unix_ms_at_start + since.as_millis() as u64
    }

    /// Seconds since the Unix epoch at `now`.
    pub fn secs(&self, now: Instant) -> u64 {
        self.ms(now) / 1000
    }
}
