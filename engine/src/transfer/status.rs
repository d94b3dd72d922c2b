//! What a transfer is, seen from outside: which way it moves
//! ([`Direction`]), what `/transfers` shows ([`TransferStatus`], with the
//! path its bytes take, [`Via`]) and the
//! `.part` a stopped download kept ([`KeptPart`]). Plain
//! values below the transfer machines and the peer, which both name them.

use crate::ids::TransferId;
use crate::wire::transfer::RelPath;
use crate::wire::{FileName, Name};

/// Which way a transfer moves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Direction {
    /// From this peer.
    Send,
    /// To this peer.
    Receive,
}

/// One transfer, as `/transfers` lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransferStatus {
    /// Its id.
    pub id: TransferId,
    /// Which way.
    pub direction: Direction,
    /// The other peer.
    pub peer: Name,
    /// The file (or folder) name.
    pub name: String,
    /// Bytes moved and verified.
    pub done: u64,
    /// Bytes in all.
    pub total: u64,
    /// Bytes per second, recently.
    pub rate: u64,
    /// What it is doing ("waiting for accept", "moving", "paused: reconnecting").
    pub state: String,
    /// How its bytes travel now (the transfer machines say `Direct`; the
    /// peer, which knows its links, says `Relay` where it is).
    pub via: Via,
}

/// A `.part` a download ended with and kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeptPart {
    /// The file (or folder) name the user sees.
    pub name: String,
    /// Bytes of the whole transfer already here, and in all.
    pub done: u64,
    pub total: u64,
    /// Paused (`true`), or cancelled late.
    pub paused: bool,
    /// Which file of the transfer it is.
    pub file: u32,
    /// Its file's path in the downloads folder (the `.part` is beside it).
    pub path: RelPath,
    /// Bytes it holds.
    pub bytes: u64,
    /// The shared file asked for, if it was a `/get` (which `/resume` asks
    /// for again); `None` for an accepted offer.
    pub fetch: Option<FileName>,
}

impl KeptPart {
    /// Its `/transfers` line, as download `id` from `peer`.
    pub fn status(&self, id: TransferId, peer: &Name) -> TransferStatus {
        let state = match (&self.fetch, self.paused) {
            (Some(_), true) => format!("paused: /resume {id} continues"),
            (None, true) => format!("paused: {peer} can /send it again"),
            (Some(_), false) => {
                format!("cancelled, .part kept: /get resumes, /cancel {id} deletes it")
            }
            (None, false) => format!("cancelled, .part kept: /cancel {id} deletes it"),
        };
        TransferStatus {
            id,
            direction: Direction::Receive,
            peer: peer.clone(),
            name: self.name.clone(),
            done: self.done,
            total: self.total,
            rate: 0,
            state,
            via: Via::Direct,
        }
    }
}

/// How the bytes between two peers travel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Via {
    /// Straight between the two peers.
    Direct,
    /// Through the registry's relay (see `peer::relay`).
    Relay,
}

impl Via {
    /// Its word in events and listings: `direct` or `relay`.
    pub fn word(self) -> &'static str {
        match self {
            Via::Direct => "direct",
            Via::Relay => "relay",
        }
    }
}
