//! Stopping a [`ReceiveTransfer`] without losing what arrived: `/pause`
//! (here or by the sender), a `/cancel` of a download that already holds
//! [`KEEP_PART_FROM`](crate::limits::KEEP_PART_FROM) bytes, and the notices
//! of an interrupted and a resumed download.
//!
//! A pause travels as its own message (`TransferMessage::Pause`). The
//! receiver keeps its `.part` and remembers it in `kept`, so a later `/get`
//! (or `/resume`) re-hashes it and fetches only the rest. Touches the phase
//! (through `stop`) and `kept`.

use std::time::Instant;

use super::{Phase, ReceiveTransfer};
use crate::transfer::Origin;
use crate::transfer::outbox::{Tell, TransferEvent};
use crate::transfer::progress::size_text;
use crate::transfer::status::KeptPart;
use crate::wire::transfer::RelPath;

impl ReceiveTransfer {
    /// `/pause`: stops here and tells the sender, keeping the `.part`.
    /// Refused, with why, when there is nothing to pause.
    pub fn pause(&mut self, now: Instant) -> Result<(), String> {
        match self.phase {
            Phase::Answer => return Err("it waits for your answer (/accept or /decline)".into()),
            Phase::Completing => return Err("it is complete".into()),
            _ if self.ended() => return Err("it is over".into()),
            _ => {}
        }
        self.paused_by(None, Some(Tell::Pause));
        self.arm(now);
        Ok(())
    }

    /// Ends it as paused (by the sender if `by`), keeping the `.part`.
    pub(super) fn paused_by(&mut self, by: Option<&str>, tell: Option<Tell>) {
        let mut reason = match by {
            Some(by) => format!("paused by {by}"),
            None => "paused".into(),
        };
        if let Some(part) = self.part_text() {
            reason.push_str(&format!("; kept {part}; "));
            reason.push_str(&match &self.origin {
                Origin::Fetch(_) => format!("/resume {} or /get continues", self.id),
                Origin::Offer => format!("{} can /send it again to continue", self.peer),
            });
        }
        self.stop(tell, true, TransferEvent::Paused { reason });
    }

    /// `/cancel` of a download holding enough to be worth keeping.
    pub(super) fn cancel_keeping(&mut self) {
        let mut reason = String::from("cancelled");
        if let Some(part) = self.part_text() {
            reason.push_str(&format!(
                "; kept {part}; /get resumes, /cancel {} again deletes it",
                self.id
            ));
        }
        self.stop(
            Some(Tell::cancel("cancelled")),
            true,
            TransferEvent::Failed { reason },
        );
    }

    /// "N bytes in PATH.part", if the current file has a `.part`.
    fn part_text(&self) -> Option<String> {
        match self.phase {
            Phase::Answer | Phase::Completing | Phase::Over | Phase::Telling { .. } => None,
            _ => {
                let path = self.local_path(self.next_file)?;
                Some(format!("{} in {path}.part", size_text(self.part_bytes())))
            }
        }
    }

    /// What it keeps when it ends with `bytes` in the `.part` of the
    /// current file, at `path`.
    pub(super) fn kept_part(&self, path: RelPath, bytes: u64, paused: bool) -> Option<KeptPart> {
        let m = self.manifest.as_ref()?;
        let before = m
            .entries
            .iter()
            .take(self.next_file as usize)
            .fold(0u64, |a, e| a.saturating_add(e.size));
        Some(KeptPart {
            name: self.name(),
            done: before.saturating_add(bytes),
            total: m.total(),
            paused,
            file: self.next_file,
            path,
            bytes,
            fetch: match &self.origin {
                Origin::Fetch(n) => Some(n.clone()),
                Origin::Offer => None,
            },
        })
    }

    /// The `.part` it ended with and kept, if any.
    pub fn kept(&self) -> Option<&KeptPart> {
        self.kept.as_deref()
    }

    /// Bytes the current file's `.part` holds, as far as known.
    pub(super) fn part_bytes(&self) -> u64 {
        match &self.phase {
            Phase::Receiving(r) => r.written,
            Phase::Rehash(r) => r.len,
            Phase::Finishing => self.entry_size(self.next_file).unwrap_or(0),
            _ => 0,
        }
    }

    /// Whether bytes are on their way (a lost connection interrupts it).
    pub(super) fn moving(&self) -> bool {
        !matches!(
            self.phase,
            Phase::Answer | Phase::Completing | Phase::Over | Phase::Telling { .. }
        )
    }

    /// Says, once, from where an interrupted download goes on (a `/get`
    /// of a `.part` and a restart are said by the driver, which sees them).
    pub(super) fn resuming_from(&mut self, at: u64) {
        self.interrupted = false;
        if at > 0 {
            self.boxed.event(TransferEvent::Notice(format!(
                "resuming from {}",
                size_text(at)
            )));
        }
    }
}
