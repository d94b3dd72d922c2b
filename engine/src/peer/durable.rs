//! [`Durable`]: acknowledgements that wait until what they promise is on
//! disk.
//!
//! The driver numbers the records it is handed (`Output::Persist` and
//! `Output::Forget`, 1, 2, ... in the order polled from this engine) and
//! reports with [`crate::Input::RecordsDurable`] how far they would survive
//! the machine losing power (see the driver rules in `api.rs`). A receiver
//! shows a message as soon as it arrives, but its `Ack` says "kept", so it
//! is held here until every record output before it is durable, then sent.
//! Held acks of one stream are folded into one (the highest number), as an
//! ack covers everything up to its number.
//!
//! Counting: this engine counts records as they are polled, and counts the
//! ones still queued lazily with a cursor (`scanned`) over the front of the
//! output queue that is already counted, so holding an ack costs only a look
//! at the outputs queued since the last hold. Outputs are only ever pushed at
//! the back and popped at the front (by `poll_output`).
//!
//! Touches nothing but its own counters and the acks it holds; the role
//! machine sends what [`Durable::release`] returns.

use std::collections::VecDeque;

use crate::api::Output;
use crate::peer::event::PeerEvent;
use crate::wire::Name;
use crate::wire::peer::Conv;

/// An acknowledgement waiting for records up to `after` to be durable.
#[derive(Debug)]
struct Held {
    after: u64,
    to: Name,
    conv: Conv,
    upto: u64,
}

/// See the module documentation.
#[derive(Debug, Default)]
pub(crate) struct Durable {
    /// Records counted: all polled, plus those among the first `scanned`
    /// outputs still queued.
    counted: u64,
    /// How many outputs at the front of the queue are already counted.
    scanned: usize,
    /// Records up to this number are durable (the driver's word).
    durable: u64,
    held: VecDeque<Held>,
}

fn is_record<E>(o: &Output<E>) -> bool {
    matches!(o, Output::Persist(_) | Output::Forget(_))
}

impl Durable {
    /// `n` outputs that are not records were taken out of the queue from
    /// among its first `scanned` (the relay moves sends of relayed
    /// connections to the back, see `peer::relay`): the counted front is
    /// that much shorter.
    pub fn unqueued(&mut self, n: usize) {
        self.scanned = self.scanned.saturating_sub(n);
    }

    /// How many outputs at the front of the queue are already counted.
    pub fn scanned(&self) -> usize {
        self.scanned
    }

    /// `o` was just popped from the front of `out`'s queue.
    pub fn polled(&mut self, o: &Output<PeerEvent>) {
        if self.scanned > 0 {
            self.scanned -= 1;
        } else if is_record(o) {
            self.counted += 1;
        }
    }

    /// The number of the last record output so far, polled or still in `out`.
    fn last_record(&mut self, out: &VecDeque<Output<PeerEvent>>) -> u64 {
        let fresh = out.iter().skip(self.scanned).filter(|o| is_record(o));
        self.counted += fresh.count() as u64;
        self.scanned = out.len();
        self.counted
    }

    /// An `Ack { conv, upto }` to `to`: `Some` if it may go at once (every
    /// record output so far is durable), else it is held for
    /// [`Durable::release`].
    pub fn ack(
        &mut self,
        out: &VecDeque<Output<PeerEvent>>,
        to: &Name,
        conv: Conv,
        upto: u64,
    ) -> Option<(Name, Conv, u64)> {
        let after = self.last_record(out);
        if after <= self.durable && self.held.is_empty() {
            return Some((to.clone(), conv, upto));
        }
        // Fold into the newest held ack of the same stream when it waits for
        // the same records: one ack instead of one per message of a burst.
        if let Some(last) = self.held.back_mut()
            && last.after == after
            && last.to == *to
            && last.conv == conv
        {
            last.upto = last.upto.max(upto);
            return None;
        }
        self.held.push_back(Held {
            after,
            to: to.clone(),
            conv,
            upto,
        });
        None
    }

    /// The driver says records up to `upto` are durable: the acks that may go
    /// now, one per stream (its highest number), in the order first held.
    pub fn release(&mut self, upto: u64) -> Vec<(Name, Conv, u64)> {
        self.durable = self.durable.max(upto);
        let mut ready: Vec<(Name, Conv, u64)> = Vec::new();
        while self.held.front().is_some_and(|h| h.after <= self.durable) {
            let Some(h) = self.held.pop_front() else {
                break;
            };
            match ready.iter_mut().find(|r| r.0 == h.to && r.1 == h.conv) {
                Some(r) => r.2 = r.2.max(h.upto),
                None => ready.push((h.to, h.conv, h.upto)),
            }
        }
        ready
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::RecordKey;

    fn n(s: &str) -> Name {
        Name::new(s).unwrap()
    }

    fn forget() -> Output<PeerEvent> {
        Output::Forget(RecordKey("k".into()))
    }

    #[test]
    fn an_ack_waits_for_the_records_before_it() {
        let mut d = Durable::default();
        let mut out = VecDeque::new();
        // Nothing kept yet: goes at once.
        assert!(d.ack(&out, &n("a"), Conv::Direct, 1).is_some());
        out.push_back(forget());
        out.push_back(forget());
        assert!(d.ack(&out, &n("a"), Conv::Direct, 2).is_none());
        out.push_back(forget());
        assert!(d.ack(&out, &n("a"), Conv::Direct, 3).is_none());
        for o in out.drain(..) {
            d.polled(&o);
        }
        assert!(d.release(1).is_empty());
        assert_eq!(d.release(2), vec![(n("a"), Conv::Direct, 2)]);
        assert_eq!(d.release(3), vec![(n("a"), Conv::Direct, 3)]);
        // All durable and nothing held: at once again.
        assert!(d.ack(&out, &n("a"), Conv::Direct, 4).is_some());
    }

    #[test]
    fn acks_of_a_burst_fold_into_one_per_stream() {
        let mut d = Durable::default();
        let mut out = VecDeque::new();
        for i in 1..=3 {
            out.push_back(forget());
            assert!(d.ack(&out, &n("a"), Conv::Direct, i).is_none());
            out.push_back(forget());
            assert!(d.ack(&out, &n("b"), Conv::Direct, i).is_none());
        }
        // Records counted while polled match those counted while queued.
        for o in out.drain(..) {
            d.polled(&o);
        }
        out.push_back(forget());
        assert!(d.ack(&out, &n("a"), Conv::Direct, 9).is_none());
        assert_eq!(
            d.release(6),
            vec![(n("a"), Conv::Direct, 3), (n("b"), Conv::Direct, 3)]
        );
        assert_eq!(d.release(7), vec![(n("a"), Conv::Direct, 9)]);
    }
}
