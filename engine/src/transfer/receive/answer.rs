//! The user's side of a [`ReceiveTransfer`]: answering an offer (accept,
//! accept under another name, decline), cancelling, and the name a download
//! writes under in the downloads folder.
//!
//! Touches only the offer state, the phase and `local_root`; the file flow
//! that an accepted offer starts is [`super::files`].

use std::time::Instant;

use super::{Phase, ReceiveTransfer};
use crate::limits::KEEP_PART_FROM;
use crate::transfer::Origin;
use crate::transfer::offer::OfferState;
use crate::wire::FileName;
use crate::wire::transfer::{RelPath, TransferMessage};

impl ReceiveTransfer {
    /// What an accepted offer would be written under, with no other name
    /// given: the sender's name for it. `None` unless it waits for an
    /// answer.
    pub fn offered_root(&self) -> Option<&FileName> {
        match self.phase {
            Phase::Answer => self.manifest.as_ref().map(|m| &m.name),
            _ => None,
        }
    }

    /// The name this download writes under in the downloads folder (its
    /// file's, or its folder's), while it may write at all: `None` while an
    /// offer waits for an answer, once every file is in place, and once it
    /// has ended. The peer keeps two live downloads from ever sharing one,
    /// or they would share `.part`s.
    pub fn writes_under(&self) -> Option<&FileName> {
        if matches!(self.phase, Phase::Answer | Phase::Completing) || self.ended() {
            return None;
        }
        if let Some(root) = &self.local_root {
            return Some(root);
        }
        match &self.origin {
            Origin::Fetch(name) => Some(name),
            Origin::Offer => self.manifest.as_ref().map(|m| &m.name),
        }
    }

    /// Accepts the offer, to be written under `root` instead of the
    /// sender's name for it (which another download is writing). Refused,
    /// with why, if some path of the offer would be too long under `root`.
    pub fn accept_as(&mut self, now: Instant, root: FileName) -> Result<(), String> {
        let Some(m) = self.manifest.as_ref() else {
            return Err("no offer to accept".into());
        };
        let files = m.entries.len() as u32;
        let saved = self.local_root.replace(root);
        if let Some(bad) = (0..files).find(|&f| self.local_path(f).is_none()) {
            let path = self
                .manifest
                .as_ref()
                .map(|m| m.entries[bad as usize].path.to_string());
            self.local_root = saved;
            return Err(format!(
                "{} would have too long a name",
                path.unwrap_or_default()
            ));
        }
        self.accept(now);
        Ok(())
    }

    /// Where file `file` is written, relative to the downloads folder: the
    /// sender's path, under `local_root` if it has one.
    pub(super) fn local_path(&self, file: u32) -> Option<RelPath> {
        let entry = self.manifest.as_ref()?.entries.get(file as usize)?;
        let Some(root) = &self.local_root else {
            return Some(entry.path.clone());
        };
        match entry.path.as_str().split_once('/') {
            Some((_, rest)) => RelPath::new(&format!("{root}/{rest}")).ok(),
            None => RelPath::new(root.as_str()).ok(),
        }
    }

    /// Accepts the offer.
    pub fn accept(&mut self, now: Instant) {
        if !matches!(self.phase, Phase::Answer) {
            return;
        }
        self.offer = OfferState::Accepted;
        self.phase = Phase::Idle;
        self.meter.restart(now, 0);
        let key = self.key;
        self.send(TransferMessage::Accept { key });
        self.save();
        self.advance();
    }

    /// Declines the offer.
    pub fn decline(&mut self, now: Instant) {
        if matches!(self.phase, Phase::Answer) {
            self.fail("declined".into(), true);
        }
        self.arm(now);
    }

    /// The user cancels (`/cancel`). Once every file is in place and `Done`
    /// reported, only telling the sender is left: there is nothing to
    /// cancel, and failing then would report one transfer both done and
    /// failed (and have the sender fail a transfer that was delivered).
    pub fn cancel(&mut self, now: Instant) {
        if matches!(self.phase, Phase::Completing) {
            return;
        }
        if self.part_bytes() >= KEEP_PART_FROM {
            self.cancel_keeping();
        } else {
            self.fail("cancelled".into(), true);
        }
        self.arm(now);
    }
}
