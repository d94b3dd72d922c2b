//! What a transfer is, seen from outside: which way it moves
//! ([`Direction`]) and what `/transfers` shows ([`TransferStatus`]). Plain
//! values below the transfer machines and the peer, which both name them.

use crate::ids::TransferId;
use crate::wire::Name;

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
}
