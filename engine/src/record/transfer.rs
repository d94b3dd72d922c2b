//! A transfer's durable record ([`TransferRecord`]); see
//! [`crate::transfer`] for how it is used. Plain values: this file imports
//! nothing from the roles.

use serde::{Deserialize, Serialize};

use crate::ids::TransferId;
use crate::record::key::RecordKey;
use crate::source::Source;
use crate::wire::transfer::{Manifest, TransferKey};
use crate::wire::{FileName, Md5, Name};

/// How a receive transfer began.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Origin {
    /// `/get NAME FILE`.
    Fetch(FileName),
    /// An accepted offer.
    Offer,
}

/// What a transfer persists to resume after a restart, under
/// `transfer/<id>`. Written when it starts moving, before a file is renamed
/// and once it is; forgotten when it is over, except a download that ended
/// keeping its `.part` (marked `kept`), forgotten once that is deleted or
/// taken over.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TransferRecord {
    /// Its local id.
    pub id: TransferId,
    /// Its key on the wire.
    pub key: TransferKey,
    /// The other peer.
    pub peer: Name,
    /// Which side, and that side's state.
    pub side: SavedSide,
}

/// A side's saved state; see [`TransferRecord`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum SavedSide {
    /// An accepted offer being sent (fetches are not saved: the receiver
    /// asks again).
    Send {
        /// What the user offered.
        source: Source,
        /// What was offered.
        manifest: Manifest,
    },
    /// A download.
    Receive {
        /// How it began.
        origin: Origin,
        /// What it moves, once known.
        manifest: Option<Manifest>,
        /// Files before this one are finished and renamed.
        next_file: u32,
        /// Where the first finished file went.
        first_path: Option<String>,
        /// Every file is in place and `Done` was reported; only telling the
        /// sender (`Complete`, echoed back) is left.
        complete: bool,
        /// The MD5 state at a point of the current file known written, so a
        /// restart re-reads only the `.part` bytes after it.
        checkpoint: Option<HashCheckpoint>,
        /// File `next_file` is verified and `FinishFile` was asked for it: its
        /// `.part` may already be renamed. Saved before `FinishFile` goes out,
        /// so a restart can tell "renamed, only not yet noted" from "never
        /// finished" (see `transfer/receive/finish.rs`). Last, and defaulted,
        /// so a record saved without it still reads.
        #[serde(default)]
        finishing: bool,
        /// The name its files are written under here, when not the
        /// sender's (see `ReceiveTransfer::accept_as`). Last, and defaulted,
        /// for the same reason as `finishing`.
        #[serde(default)]
        local_root: Option<FileName>,
        /// It ended keeping the `.part` of file `next_file` (`/pause`, or a
        /// late `/cancel`): after a restart it is listed, not resumed, until
        /// `/resume` (or `/get`). Last, and defaulted, for the same reason
        /// as `finishing`.
        #[serde(default)]
        kept: Option<KeptRecord>,
    },
}

/// How a download that kept its `.part` ended; see `SavedSide::Receive`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeptRecord {
    /// Bytes the `.part` held then.
    pub bytes: u64,
    /// Paused (`true`), or cancelled late.
    pub paused: bool,
}

/// The MD5 state of the bytes `0..offset` of file `file`, whose manifest
/// entry had this `size` and `md5` (a checkpoint of another version of the
/// file is never used). `state` is md-5's serialized state; one that does not
/// deserialize is ignored (the prefix is then re-read from the start).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HashCheckpoint {
    /// The file's index.
    pub file: u32,
    /// Bytes hashed and written.
    pub offset: u64,
    /// The entry's size.
    pub size: u64,
    /// The entry's digest.
    pub md5: Md5,
    /// The hasher's serialized state.
    pub state: Vec<u8>,
}

impl TransferRecord {
    /// The key a transfer's record is stored under.
    pub fn key_of(id: TransferId) -> RecordKey {
        RecordKey(format!("transfer/{}", id.0))
    }
}
