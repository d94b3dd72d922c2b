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

    /// The shortest gap between two frames let through, in microseconds
    /// (a tenth shorter than the rate, so a source at exactly the rate is
    /// never thinned by its own jitter).
    pub fn min_gap_us(&self) -> u64 {
        900_000 / u64::from(self.fps.max(1))
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
    fn no_news_changes_nothing() {
        let mut a = Adapt::new(80, 30);
        assert!(!a.on_report(0, 0));
        assert!(!a.on_report(0, 0));
    }
}
