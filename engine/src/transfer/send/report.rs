//! What a [`SendTransfer`] tells about itself: its `/transfers` line, its
//! name and its progress. Read-only views of its state.

use super::{Phase, SendTransfer};
use crate::api::Source;
use crate::transfer::outbox::Tell;
use crate::transfer::status::{Direction, TransferStatus};

impl SendTransfer {
    /// What `/transfers` shows.
    pub fn status(&self) -> TransferStatus {
        let (done, total) = self.progress();
        let state = match &self.phase {
            Phase::Opening => "opening the source",
            Phase::Waiting if !self.offer.accepted() => "waiting for accept",
            Phase::Waiting if !self.connected => "paused: reconnecting",
            Phase::Waiting => "waiting for the receiver",
            Phase::Streaming(_) => "sending",
            Phase::Over => "over",
            Phase::Telling {
                tell: Tell::Pause, ..
            } => "paused; telling the receiver",
            Phase::Telling { .. } => "cancelled; telling the receiver",
        };
        TransferStatus {
            id: self.id,
            direction: Direction::Send,
            peer: self.peer.clone(),
            name: self.display_name(),
            done,
            total,
            rate: self.meter.rate(),
            state: state.into(),
            via: crate::transfer::status::Via::Direct,
        }
    }

    pub(super) fn display_name(&self) -> String {
        match (&self.manifest, &self.source) {
            (Some(m), _) => m.name.to_string(),
            (None, Source::Shared(n)) => n.to_string(),
            (None, Source::Local(p)) => p.clone(),
        }
    }

    pub(super) fn progress(&self) -> (u64, u64) {
        let Some(m) = &self.manifest else {
            return (0, 0);
        };
        let total = m.total();
        let done = match &self.phase {
            Phase::Streaming(s) => m
                .entries
                .iter()
                .take(s.file as usize)
                .fold(0u64, |a, e| a.saturating_add(e.size))
                .saturating_add(s.acked),
            _ => 0,
        };
        (done, total)
    }
}
