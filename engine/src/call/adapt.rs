//! What a sender makes of its receiver's reports: the JPEG quality it asks
//! its driver to encode at and the frame rate it lets through.
//!
//! Multiplicative decrease, additive increase: a report showing more than
//! [`BAD_LOSS_PCT`] of frames lost since the previous one cuts the rate by a
//! quarter and the quality by ten; two reports in a row under
//! [`GOOD_LOSS_PCT`] raise them by a step, up to where they started.

/// Loss (percent of frames, since the last report) that backs off.
pub const BAD_LOSS_PCT: u64 = 5;
/// Loss under which the sender may ask for more.
pub const GOOD_LOSS_PCT: u64 = 1;
/// The lowest quality and rate adaptation goes down to.
pub const MIN_QUALITY: u8 = 30;
pub const MIN_FPS: u32 = 5;

/// See the module documentation.
#[derive(Debug, Clone)]
pub struct Adapt {
    pub quality: u8,
    pub fps: u32,
    max_quality: u8,
    max_fps: u32,
    good: u32,
    last: (u64, u64),
    /// [`Self::pass`]: the credit, in microseconds, and the last capture
    /// time offered.
    credit_us: i64,
    last_us: Option<u64>,
}

impl Adapt {
    pub fn new(quality: u8, fps: u32) -> Self {
        Self {
            quality,
            fps,
            max_quality: quality,
            max_fps: fps,
            good: 0,
            last: (0, 0),
            credit_us: 0,
            last_us: None,
        }
    }

    /// The receiver's totals (`shown`, `lost`); true if quality or rate
    /// changed.
    pub fn on_report(&mut self, shown: u64, lost: u64) -> bool {
        let (ds, dl) = (
            shown.saturating_sub(self.last.0),
            lost.saturating_sub(self.last.1),
        );
        self.last = (shown.max(self.last.0), lost.max(self.last.1));
        if ds + dl == 0 {
            return false;
        }
        let pct = dl * 100 / (ds + dl);
        let before = (self.quality, self.fps);
        if pct > BAD_LOSS_PCT {
            self.good = 0;
            self.fps = (self.fps * 3 / 4).max(MIN_FPS);
            self.quality = self.quality.saturating_sub(10).max(MIN_QUALITY);
        } else if pct < GOOD_LOSS_PCT {
            self.good += 1;
            if self.good >= 2 {
                self.good = 0;
                self.fps = (self.fps + 5).min(self.max_fps);
                self.quality = (self.quality + 5).min(self.max_quality);
            }
        } else {
            self.good = 0;
        }
        before != (self.quality, self.fps)
    }

    /// Whether a frame captured at `captured_us` goes out at the current
    /// rate. Time between frames builds up a credit (at most two frames'
    /// worth) and each frame let through spends nine tenths of a frame's
    /// worth (a tenth of slack, so a source a little faster than its
    /// nominal rate is not thinned): a source at the rate is never thinned
    /// by its own jitter (a late frame leaves the credit that lets the
    /// next, early-looking, one through; a minimum gap between frames
    /// dropped those, about 1 % of frames on a loaded machine), a faster
    /// source is thinned to the rate and its tenth, and a burst after a
    /// pause is two frames.
    pub fn pass(&mut self, captured_us: u64) -> bool {
        let gap = 900_000 / i64::from(self.fps.max(1));
        let credit = match self.last_us {
            None => gap,
            Some(last) => {
                let since = captured_us.saturating_sub(last).min(u64::from(u32::MAX));
                (self.credit_us + since as i64).min(2 * gap)
            }
        };
        self.last_us = Some(self.last_us.map_or(captured_us, |l| l.max(captured_us)));
        let pass = credit >= gap;
        self.credit_us = if pass { credit - gap } else { credit };
        pass
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backs_off_on_loss_and_recovers() {
        let mut a = Adapt::new(80, 30);
        assert!(a.on_report(90, 10));
        assert_eq!((a.quality, a.fps), (70, 22));
        assert!(a.on_report(95, 20), "still losing");
        assert!(a.quality >= MIN_QUALITY && a.fps >= MIN_FPS);
        let (q, f) = (a.quality, a.fps);
        assert!(!a.on_report(200, 20), "one good report is not enough");
        assert!(a.on_report(300, 20));
        assert!(a.quality > q && a.fps > f);
        for i in 0..20 {
            a.on_report(400 + i * 100, 20);
        }
        assert_eq!((a.quality, a.fps), (80, 30), "never above the start");
    }

    #[test]
    fn the_rate_is_kept_without_thinning_a_jittery_source() {
        let mut a = Adapt::new(80, 30);
        let gap = 33_333u64;
        // At the rate, every other frame 10 ms late: every frame passes.
        let passed = (0..300u64)
            .filter(|n| a.pass(n * gap + if n % 2 == 1 { 10_000 } else { 0 }))
            .count();
        assert_eq!(passed, 300);
        // A little faster than the rate (33 ms apart): nothing thinned.
        let mut a = Adapt::new(80, 30);
        assert_eq!((0..300u64).filter(|n| a.pass(n * 33_000)).count(), 300);
        // Twice the rate: thinned to the rate and its tenth (10 s, 333).
        let mut a = Adapt::new(80, 30);
        let passed = (0..600u64).filter(|n| a.pass(n * gap / 2)).count();
        assert!((330..=336).contains(&passed), "{passed}");
        // After a pause, a burst of two at most.
        let t = 600 * gap;
        let burst = (0..5).filter(|_| a.pass(t)).count();
        assert_eq!(burst, 2);
        // A clock that goes back passes nothing extra.
        assert!(!a.pass(0));
    }

    #[test]
    fn no_news_changes_nothing() {
        let mut a = Adapt::new(80, 30);
        assert!(!a.on_report(0, 0));
        assert!(!a.on_report(0, 0));
    }
}
