//! The receiver of one call's video: reassembly of fragments into frames
//! and a small jitter buffer that decides when each frame is shown.
//!
//! The rule: frames leave in strictly increasing numbers. A complete frame
//! that is the next one expected leaves at once. A complete frame behind a
//! gap (an earlier frame incomplete or missing) waits until its deadline,
//! then leaves, and everything before it is given up as lost; nothing ever
//! waits for a retransmission (there are none). A frame completed after its
//! deadline, or after a later frame left, is late: dropped and counted lost.
//!
//! A frame's deadline is its capture time mapped onto this side's clock
//! plus the playout delay. The mapping is the smallest transit seen
//! (arrival minus capture, which includes the unknown clock offset), taken
//! afresh each period so that clocks that drift apart are followed. The
//! playout delay follows the measured jitter (RFC 3550's estimator, on
//! whole frames) between [`MIN_PLAYOUT`] and [`MAX_PLAYOUT`].
//!
//! Memory is bounded: at most [`MAX_JITTER_FRAMES`] frames are held (the
//! oldest goes first), each of at most [`MAX_FRAGMENTS`] fragments.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use crate::call::datagram::{Fragment, MAX_FRAGMENTS};
use crate::limits::MAX_JITTER_FRAMES;

/// The shortest playout delay: what a complete frame behind a gap waits.
pub const MIN_PLAYOUT: Duration = Duration::from_millis(20);
/// The longest playout delay, however bad the jitter.
pub const MAX_PLAYOUT: Duration = Duration::from_millis(250);
/// Capture times are taken up to this (about 8.9 years of call), so the
/// clock arithmetic on them cannot overflow whatever a sender claims
/// (found by the `datagram` fuzz target).
const MAX_CAPTURE_US: u64 = 1 << 48;
/// One frame's transit difference counts for the jitter up to this.
const MAX_JITTER_STEP_US: i64 = 10_000_000;

/// A frame to show.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shown {
    pub frame: u32,
    /// Microseconds since the sender's call start.
    pub captured_us: u64,
    pub jpeg: Vec<u8>,
}

/// Counts since the call started, or over one period.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    /// Frames shown.
    pub shown: u64,
    /// Frames given up (missing, incomplete, or late).
    pub lost: u64,
    /// JPEG bytes received (shown or not).
    pub bytes: u64,
    /// Sum of the time shown frames waited here after their first fragment.
    pub held_us: u64,
}

#[derive(Debug)]
struct Partial {
    captured_us: u64,
    parts: Vec<Option<Vec<u8>>>,
    have: usize,
    first: Instant,
    /// When the last fragment came, and whether that was after the deadline.
    done: Option<(Instant, bool)>,
}

/// See the module documentation.
#[derive(Debug)]
pub struct Receiver {
    start: Instant,
    /// Frames below this have been shown or given up (wide, so that frame
    /// `u32::MAX` cannot wrap it back to 0).
    next: u64,
    frames: BTreeMap<u32, Partial>,
    offset_us: Option<i64>,
    period_min: Option<i64>,
    /// RFC 3550 jitter, in microseconds times 16.
    jitter16: i64,
    last_transit: Option<i64>,
    pub total: Counts,
    period: Counts,
}

impl Receiver {
    pub fn new(start: Instant) -> Self {
        Self {
            start,
            next: 0,
            frames: BTreeMap::new(),
            offset_us: None,
            period_min: None,
            jitter16: 0,
            last_transit: None,
            total: Counts::default(),
            period: Counts::default(),
        }
    }

    fn us(&self, t: Instant) -> i64 {
        t.saturating_duration_since(self.start).as_micros() as i64
    }

    /// The current jitter estimate.
    pub fn jitter(&self) -> Duration {
        Duration::from_micros((self.jitter16 / 16).max(0) as u64)
    }

    /// How long a frame behind a gap may wait.
    pub fn playout(&self) -> Duration {
        (self.jitter() * 3 + MIN_PLAYOUT).min(MAX_PLAYOUT)
    }

    fn deadline(&self, captured_us: u64) -> Instant {
        let offset = self.offset_us.unwrap_or(0);
        let at = captured_us as i64 + offset + self.playout().as_micros() as i64;
        self.start + Duration::from_micros(at.max(0) as u64)
    }

    /// Takes one fragment that arrived at `now`.
    pub fn push(&mut self, now: Instant, f: Fragment<'_>) {
        let captured_us = f.captured_us.min(MAX_CAPTURE_US);
        if u64::from(f.frame) < self.next {
            return; // late: its frame was shown past or given up
        }
        self.period.bytes += f.payload.len() as u64;
        self.total.bytes += f.payload.len() as u64;
        if !self.frames.contains_key(&f.frame) {
            if self.frames.len() >= MAX_JITTER_FRAMES {
                let Some(&oldest) = self.frames.keys().next() else {
                    return;
                };
                if oldest > f.frame {
                    return;
                }
                self.frames.remove(&oldest);
            }
            let count = (f.count as usize).min(MAX_FRAGMENTS);
            self.frames.insert(
                f.frame,
                Partial {
                    captured_us,
                    parts: vec![None; count],
                    have: 0,
                    first: now,
                    done: None,
                },
            );
        }
        let Some(p) = self.frames.get_mut(&f.frame) else {
            return;
        };
        let i = f.index as usize;
        // A fragment that disagrees with the ones before it is dropped.
        if p.parts.len() != f.count as usize || p.captured_us != captured_us || p.parts[i].is_some()
        {
            return;
        }
        p.parts[i] = Some(f.payload.to_vec());
        p.have += 1;
        if p.have < p.parts.len() {
            return;
        }
        let captured = p.captured_us;
        let transit = self.us(now) - captured as i64;
        if let Some(last) = self.last_transit {
            let d = (transit - last).abs().min(MAX_JITTER_STEP_US);
            self.jitter16 += d - (self.jitter16 + 8) / 16;
        }
        self.last_transit = Some(transit);
        self.period_min = Some(self.period_min.map_or(transit, |m| m.min(transit)));
        if self.offset_us.is_none_or(|o| transit < o) {
            self.offset_us = Some(transit);
        }
        let late = now > self.deadline(captured);
        if let Some(p) = self.frames.get_mut(&f.frame) {
            p.done = Some((now, late));
        }
    }

    /// The frames to show now, oldest first.
    pub fn poll(&mut self, now: Instant) -> Vec<Shown> {
        let mut shown = vec![];
        while let Some((&n, p)) = self.frames.iter().find(|(_, p)| p.done.is_some()) {
            let Some((_, late)) = p.done else {
                break;
            };
            if u64::from(n) != self.next && now < self.deadline(p.captured_us) {
                break;
            }
            let skipped = u64::from(n) - self.next;
            self.give_up(skipped);
            self.frames.retain(|&k, _| k >= n);
            let Some(p) = self.frames.remove(&n) else {
                break;
            };
            self.next = u64::from(n) + 1;
            if late {
                self.give_up(1);
                continue;
            }
            let held = now.saturating_duration_since(p.first).as_micros() as u64;
            self.period.shown += 1;
            self.total.shown += 1;
            self.period.held_us += held;
            self.total.held_us += held;
            let jpeg = p.parts.into_iter().flatten().flatten().collect();
            shown.push(Shown {
                frame: n,
                captured_us: p.captured_us,
                jpeg,
            });
        }
        shown
    }

    fn give_up(&mut self, n: u64) {
        self.period.lost += n;
        self.total.lost += n;
    }

    /// When [`Receiver::poll`] may have something to show that it did not
    /// have before: the deadline of the first complete frame behind a gap.
    pub fn next_deadline(&self) -> Option<Instant> {
        let (_, p) = self.frames.iter().find(|(_, p)| p.done.is_some())?;
        Some(self.deadline(p.captured_us))
    }

    /// The counts of the period now ending; a new one starts. The clock
    /// mapping moves to the period's smallest transit (see the module
    /// documentation).
    pub fn take_period(&mut self) -> Counts {
        if let Some(m) = self.period_min.take() {
            self.offset_us = Some(m);
        }
        std::mem::take(&mut self.period)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::call::fragment::split;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    /// Frame `n` captured at `n * 33` ms, with `len` bytes of `n`.
    fn frame(n: u32, len: usize) -> (u64, Vec<u8>) {
        ((n as u64) * 33_000, vec![n as u8; len])
    }

    fn push_all(r: &mut Receiver, at: Instant, n: u32, len: usize, skip: Option<usize>) {
        let (cap, jpeg) = frame(n, len);
        for (i, f) in split(n, cap, &jpeg).unwrap().into_iter().enumerate() {
            if Some(i) != skip {
                r.push(at, f);
            }
        }
    }

    #[test]
    fn in_order_frames_show_at_once_and_whole() {
        let t0 = Instant::now();
        let mut r = Receiver::new(t0);
        for n in 0..5 {
            let at = t0 + ms(33 * n as u64 + 5);
            push_all(&mut r, at, n, 5000, None);
            let out = r.poll(at);
            assert_eq!(out.len(), 1);
            assert_eq!(out[0].frame, n);
            assert_eq!(out[0].jpeg, frame(n, 5000).1);
        }
        assert_eq!(r.total.shown, 5);
        assert_eq!(r.total.lost, 0);
    }

    #[test]
    fn a_gap_waits_for_the_deadline_then_is_lost() {
        let t0 = Instant::now();
        let mut r = Receiver::new(t0);
        push_all(&mut r, t0 + ms(5), 0, 3000, None);
        assert_eq!(r.poll(t0 + ms(5)).len(), 1);
        // Frame 1 loses a fragment; frame 2 is complete but waits.
        push_all(&mut r, t0 + ms(38), 1, 3000, Some(1));
        push_all(&mut r, t0 + ms(71), 2, 3000, None);
        assert!(r.poll(t0 + ms(71)).is_empty());
        let due = r.next_deadline().unwrap();
        assert!(due > t0 + ms(71) && due <= t0 + ms(71) + MAX_PLAYOUT);
        let out = r.poll(due);
        assert_eq!(out.iter().map(|s| s.frame).collect::<Vec<_>>(), vec![2]);
        assert_eq!(r.total.lost, 1);
        // Frame 1's missing fragment now comes: too late, nothing shown.
        let (cap, jpeg) = frame(1, 3000);
        let parts = split(1, cap, &jpeg).unwrap();
        r.push(due, parts[1]);
        assert!(r.poll(due).is_empty());
        assert_eq!(r.total.shown, 2);
    }

    #[test]
    fn reordered_fragments_and_frames_show_in_order() {
        let t0 = Instant::now();
        let mut r = Receiver::new(t0);
        // Two frames 1 ms apart whose datagrams cross on the way.
        let (_, j1) = frame(1, 4000);
        let (_, j0) = frame(0, 4000);
        let p1 = split(1, 1000, &j1).unwrap();
        let p0 = split(0, 0, &j0).unwrap();
        for f in p1.iter().rev() {
            r.push(t0 + ms(2), *f);
        }
        assert!(r.poll(t0 + ms(2)).is_empty(), "1 waits for 0");
        for f in p0.iter().rev() {
            r.push(t0 + ms(3), *f);
        }
        let out = r.poll(t0 + ms(3));
        assert_eq!(out.iter().map(|s| s.frame).collect::<Vec<_>>(), vec![0, 1]);
        assert_eq!(out[1].jpeg, j1);
    }

    #[test]
    fn duplicates_and_disagreeing_fragments_change_nothing() {
        let t0 = Instant::now();
        let mut r = Receiver::new(t0);
        let (c, j) = frame(0, 3000);
        let parts = split(0, c, &j).unwrap();
        r.push(t0, parts[0]);
        r.push(t0, parts[0]);
        let mut liar = parts[1];
        liar.count = 7;
        r.push(t0, liar);
        for f in &parts[1..] {
            r.push(t0, *f);
        }
        let out = r.poll(t0);
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].jpeg, j);
    }

    #[test]
    fn the_last_frame_number_is_shown_once() {
        let t0 = Instant::now();
        let mut r = Receiver::new(t0);
        for _ in 0..2 {
            for f in split(u32::MAX, 0, &[1; 10]).unwrap() {
                r.push(t0, f);
            }
        }
        // Behind a gap of 2^32 - 1 frames: it waits for its deadline.
        let due = r.next_deadline().unwrap();
        assert_eq!(r.poll(due).len(), 1);
        assert_eq!(r.total.lost, u64::from(u32::MAX));
        for f in split(u32::MAX, 0, &[1; 10]).unwrap() {
            r.push(due, f);
        }
        assert!(r.poll(due).is_empty());
        assert!(r.next_deadline().is_none());
    }

    #[test]
    fn holds_at_most_the_limit() {
        let t0 = Instant::now();
        let mut r = Receiver::new(t0);
        for n in 1..100 {
            push_all(&mut r, t0, n, 3000, Some(0));
        }
        assert!(r.frames.len() <= MAX_JITTER_FRAMES);
    }
}
