//! [`Rates`]: transfer speeds and times left, measured by the line interface
//! from the progress it is shown, over a sliding window of the last few
//! seconds; pure (the caller passes the time). The progress bar and
//! `/transfers` both show this figure, so they agree, and a rate is shown
//! only once the window spans enough time: a first sample over almost no
//! time says nothing (it is how `800 GiB/s` came about).

use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};

use confab_engine::TransferId;
use indicatif::{HumanBytes, HumanDuration};

/// How far back the rate looks.
pub const WINDOW: Duration = Duration::from_secs(3);

/// The least time a rate is measured over.
pub const MIN_SPAN: Duration = Duration::from_millis(500);

/// One transfer's recent (time, bytes done) samples.
#[derive(Debug, Default, Clone)]
pub struct Window {
    samples: VecDeque<(Instant, u64)>,
}

impl Window {
    /// `done` bytes at `at` (times never go backwards).
    pub fn record(&mut self, at: Instant, done: u64) {
        if self.samples.back().is_some_and(|&(_, d)| done < d) {
            // Started over (a resume from less than we saw): old speed is moot.
            self.samples.clear();
        }
        self.samples.push_back((at, done));
        // Keep one sample at or before the window's start, to measure the
        // whole window.
        while self.samples.len() > 2 && at.saturating_duration_since(self.samples[1].0) >= WINDOW {
            self.samples.pop_front();
        }
    }

    /// Bytes per second over the window ending `now`; `None` until the
    /// samples span [`MIN_SPAN`]. A transfer that has stalled falls to 0.
    pub fn rate(&self, now: Instant) -> Option<u64> {
        let &(last_at, last_done) = self.samples.back()?;
        // The newest sample at or before the window's start, else the oldest.
        let start = now.checked_sub(WINDOW);
        let &(base_at, base_done) = self
            .samples
            .iter()
            .rev()
            .find(|(t, _)| start.is_some_and(|s| *t <= s))
            .unwrap_or(&self.samples[0]);
        if last_at.saturating_duration_since(base_at) < MIN_SPAN
            && now.saturating_duration_since(last_at) < WINDOW
        {
            return None;
        }
        let span = now.saturating_duration_since(base_at).as_micros().max(1);
        let moved = u128::from(last_done.saturating_sub(base_done));
        Some((moved * 1_000_000 / span).min(u128::from(u64::MAX)) as u64)
    }
}

/// Every transfer's window, by id.
#[derive(Debug, Default)]
pub struct Rates(HashMap<TransferId, Window>);

impl Rates {
    /// Progress of `id`.
    pub fn record(&mut self, id: TransferId, at: Instant, done: u64) {
        self.0.entry(id).or_default().record(at, done);
    }

    /// The rate of `id` at `now`, if known.
    pub fn rate(&self, id: TransferId, now: Instant) -> Option<u64> {
        self.0.get(&id).and_then(|w| w.rate(now))
    }

    /// Forgets `id` (it ended).
    pub fn forget(&mut self, id: TransferId) {
        self.0.remove(&id);
    }

    /// `12.5 MiB/s, 40s left`, or what is known of it.
    pub fn shown(&self, id: TransferId, now: Instant, done: u64, total: u64) -> String {
        match self.rate(id, now) {
            None => "-- B/s".into(),
            Some(0) if done < total => "0 B/s, stalled".into(),
            Some(r) if done < total => {
                let left = Duration::from_secs((total - done).div_ceil(r));
                format!("{}/s, {} left", HumanBytes(r), HumanDuration(left))
            }
            Some(r) => format!("{}/s", HumanBytes(r)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(t0: Instant, ms: u64) -> Instant {
        t0 + Duration::from_millis(ms)
    }

    #[test]
    fn no_rate_from_a_first_sample() {
        let t0 = Instant::now();
        let mut w = Window::default();
        w.record(t0, 0);
        assert_eq!(w.rate(t0), None);
        w.record(ms(t0, 1), 5 << 30);
        assert_eq!(w.rate(ms(t0, 1)), None, "5 GiB in 1 ms says nothing yet");
        w.record(ms(t0, 600), 6 << 30);
        assert!(w.rate(ms(t0, 600)).is_some());
    }

    #[test]
    fn the_rate_is_over_the_last_seconds() {
        let t0 = Instant::now();
        let mut w = Window::default();
        // 1 MB/s for 5 s, then 4 MB/s for 3 s.
        for i in 0..=20 {
            w.record(ms(t0, i * 250), i * 250_000);
        }
        let at5 = ms(t0, 5000);
        assert_eq!(w.rate(at5), Some(1_000_000));
        for i in 1..=12 {
            w.record(ms(t0, 5000 + i * 250), 5_000_000 + i * 1_000_000);
        }
        let at8 = ms(t0, 8000);
        assert_eq!(w.rate(at8), Some(4_000_000), "the slow start is forgotten");
        assert!(w.samples.len() <= 14, "{}", w.samples.len());
    }

    #[test]
    fn a_stall_falls_to_zero_and_a_restart_starts_over() {
        let t0 = Instant::now();
        let mut w = Window::default();
        w.record(t0, 0);
        w.record(ms(t0, 1000), 1_000_000);
        assert_eq!(w.rate(ms(t0, 1000)), Some(1_000_000));
        assert_eq!(w.rate(ms(t0, 2000)), Some(500_000));
        assert_eq!(w.rate(ms(t0, 10_000)), Some(0), "nothing moved for 9 s");
        w.record(ms(t0, 10_000), 10);
        assert_eq!(w.rate(ms(t0, 10_000)), None);
    }

    #[test]
    fn shown_with_time_left() {
        let t0 = Instant::now();
        let mut r = Rates::default();
        let id = TransferId(7);
        assert_eq!(r.shown(id, t0, 0, 100), "-- B/s");
        r.record(id, t0, 0);
        r.record(id, ms(t0, 1000), 1 << 20);
        assert_eq!(
            r.shown(id, ms(t0, 1000), 1 << 20, 11 << 20),
            "1.00 MiB/s, 10 seconds left"
        );
        assert_eq!(
            r.shown(id, ms(t0, 9000), 1 << 20, 2 << 20),
            "0 B/s, stalled"
        );
    }
}
