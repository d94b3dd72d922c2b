//! Progress reporting at a bounded rate.
//!
//! Invariant: a [`Meter`] lets through at most one report per
//! `interval` (plus the final one when `done == total`), whatever the chunk
//! size, so a fast transfer of small chunks cannot flood its driver with
//! events. The rate is measured over the time since the previous report.

use std::time::{Duration, Instant};

/// See the module documentation.
#[derive(Debug, Clone)]
pub struct Meter {
    interval: Duration,
    last_at: Option<Instant>,
    last_done: u64,
    rate: u64,
    finished: bool,
}

impl Meter {
    /// A meter reporting at most every `interval`.
    pub fn new(interval: Duration) -> Self {
        Self {
            interval,
            last_at: None,
            last_done: 0,
            rate: 0,
            finished: false,
        }
    }

    /// The rate of the last report, bytes per second.
    pub fn rate(&self) -> u64 {
        self.rate
    }

    /// Starts measuring from `done` at `now` (after a pause, so the pause
    /// does not count as slowness and resumed bytes not as speed).
    pub fn restart(&mut self, now: Instant, done: u64) {
        self.last_at = Some(now);
        self.last_done = done;
        self.finished = false;
    }

    /// Whether to report `done` of `total` at `now`; if so, the rate to show.
    pub fn tick(&mut self, now: Instant, done: u64, total: u64) -> Option<u64> {
        let Some(last) = self.last_at else {
            self.restart(now, done);
            return None;
        };
        let elapsed = now.saturating_duration_since(last);
        let end = done >= total;
        if (elapsed < self.interval && !end) || (end && self.finished) {
            return None;
        }
        if done == self.last_done && !end {
            return None;
        }
        let moved = done.saturating_sub(self.last_done);
        let micros = elapsed.as_micros().max(1);
        self.rate = (u128::from(moved) * 1_000_000 / micros).min(u128::from(u64::MAX)) as u64;
        self.last_at = Some(now);
        self.last_done = done;
        self.finished = end;
        Some(self.rate)
    }
}

/// `bytes` for a person: "512 B", "12.0 KiB", "3.5 MiB", "1.2 GiB".
pub fn size_text(bytes: u64) -> String {
    const UNITS: [&str; 4] = ["KiB", "MiB", "GiB", "TiB"];
    if bytes < 1024 {
        return format!("{bytes} B");
    }
    let mut v = bytes as f64 / 1024.0;
    let mut unit = 0;
    while v >= 1024.0 && unit + 1 < UNITS.len() {
        v /= 1024.0;
        unit += 1;
    }
    format!("{v:.1} {}", UNITS[unit])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounded_rate_and_final_report() {
        let t0 = Instant::now();
        let mut m = Meter::new(Duration::from_millis(250));
        assert_eq!(m.tick(t0, 0, 100), None);
        let mut reports = 0;
        for i in 1..=99u64 {
            if m.tick(t0 + Duration::from_millis(i * 10), i, 100).is_some() {
                reports += 1;
            }
        }
        assert_eq!(reports, 3, "one per 250 ms over ~1 s");
        assert!(m.tick(t0 + Duration::from_millis(995), 100, 100).is_some());
        assert_eq!(m.tick(t0 + Duration::from_secs(5), 100, 100), None);
    }

    #[test]
    fn rate_is_bytes_per_second() {
        let t0 = Instant::now();
        let mut m = Meter::new(Duration::from_millis(100));
        m.restart(t0, 0);
        assert_eq!(
            m.tick(t0 + Duration::from_millis(500), 1000, 10_000),
            Some(2000)
        );
    }
}
