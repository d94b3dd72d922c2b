//! What a [`ReceiveTransfer`] tells about itself: its `/transfers` line and
//! the progress numbers its events carry. Read-only views of its state.

use crate::transfer::Origin;
use crate::transfer::outbox::Tell;
use crate::transfer::status::{Direction, TransferStatus};

use super::{Phase, ReceiveTransfer};

impl ReceiveTransfer {
    /// What `/transfers` shows.
    pub fn status(&self) -> TransferStatus {
        let (done, total) = self.progress();
        let state = match &self.phase {
            Phase::Answer => "waiting for your answer",
            _ if !self.connected && !self.is_over() => "paused: reconnecting",
            Phase::Idle | Phase::Opening => "starting",
            Phase::Rehash(_) => "checking what is already there",
            Phase::Receiving(_) => "receiving",
            Phase::Finishing => "finishing",
            Phase::Completing | Phase::Over => "over",
            Phase::Telling {
                tell: Tell::Pause, ..
            } => "paused; telling the sender",
            Phase::Telling { .. } => "cancelled; telling the sender",
        };
        TransferStatus {
            id: self.id,
            direction: Direction::Receive,
            peer: self.peer.clone(),
            name: self.name(),
            done,
            total,
            rate: self.meter.rate(),
            state: state.into(),
            via: crate::transfer::status::Via::Direct,
        }
    }

    pub(super) fn name(&self) -> String {
        match (&self.manifest, &self.origin) {
            (Some(m), _) => m.name.to_string(),
            (None, Origin::Fetch(n)) => n.to_string(),
            (None, Origin::Offer) => "an offer".into(),
        }
    }

    pub(super) fn entry_size(&self, file: u32) -> Option<u64> {
        self.manifest
            .as_ref()?
            .entries
            .get(file as usize)
            .map(|e| e.size)
    }

    pub(super) fn progress(&self) -> (u64, u64) {
        let Some(m) = &self.manifest else {
            return (0, 0);
        };
        let before = m
            .entries
            .iter()
            .take(self.next_file as usize)
            .fold(0u64, |a, e| a.saturating_add(e.size));
        let current = match &self.phase {
            Phase::Receiving(r) => r.written,
            Phase::Rehash(r) => r.hashed,
            _ => 0,
        };
        (before.saturating_add(current), m.total())
    }
}
