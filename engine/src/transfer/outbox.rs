//! What a transfer reports ([`TransferEvent`]) and the queues both sides
//! put their outputs and messages in ([`Outbox`]), below both sides so that
//! neither imports the other or their parent for them.

use std::collections::VecDeque;

use crate::api::{Output, TransferId};
use crate::record::Record;
use crate::record::transfer::TransferRecord;
use crate::transfer::status::Direction;
use crate::wire::transfer::{TransferKey, TransferMessage};
use crate::wire::{Md5, Reason};

/// What a transfer reports; the peer turns these into its own events.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TransferEvent {
    /// Receiver: an offer arrived and waits for `accept` or `decline`.
    Offered {
        name: String,
        size: u64,
        files: usize,
        folder: bool,
    },
    /// Bytes moved (and, receiving, written and hashed) so far.
    Progress { done: u64, total: u64, rate: u64 },
    /// Something a person should know that does not end the transfer
    /// ("the source changed; starting over").
    Notice(String),
    /// Finished and verified. `path`: receiver, where the file (or the
    /// folder) was written, as the driver named it; sender, what was read. `md5`: the file's, or for a folder its
    /// [`crate::wire::folder_digest`]. `files` and `size`: how many files
    /// and bytes (1 and the file's size for a file).
    Done {
        direction: Direction,
        name: String,
        path: String,
        md5: Md5,
        folder: bool,
        files: u64,
        size: u64,
    },
    /// Ended without a verified file.
    Failed { reason: String },
    /// Stopped by `/pause` on either side; a receiver kept its `.part`, so a
    /// later `/get` (or `/resume`) continues from it.
    Paused { reason: String },
}

/// What a side that ends a transfer tells the other: a `Cancel` with its
/// reason, or a `Pause`. Kept while the other side is away, and told on the
/// next connection.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Tell {
    Cancel(Reason),
    Pause,
}

impl Tell {
    /// A `Cancel` saying `why`.
    pub fn cancel(why: &str) -> Self {
        Tell::Cancel(Reason::truncate(why))
    }

    /// The message about transfer `key`.
    pub fn message(&self, key: TransferKey) -> TransferMessage {
        match self {
            Tell::Cancel(reason) => TransferMessage::Cancel {
                key,
                reason: reason.clone(),
            },
            Tell::Pause => TransferMessage::Pause { key },
        }
    }
}

/// Output queues shared by both sides.
#[derive(Debug, Default)]
pub(crate) struct Outbox {
    pub out: VecDeque<Output<TransferEvent>>,
    pub msgs: VecDeque<TransferMessage>,
}

impl Outbox {
    pub fn event(&mut self, e: TransferEvent) {
        self.out.push_back(Output::Event(e));
    }
    pub fn persist(&mut self, r: TransferRecord) {
        self.out.push_back(Output::Persist(Record::Transfer(r)));
    }
    pub fn forget(&mut self, id: TransferId) {
        self.out
            .push_back(Output::Forget(TransferRecord::key_of(id)));
    }
}
