//! Messages of a relayed stream: two peers that cannot connect directly talk
//! through their registry, on the registry connections they already have.
//!
//! ```text
//! A                        registry                        B
//!   Open{ask, to: B}    ->
//!                       <- Opened{ask, stream}
//!                          Incoming{stream, from: A}   ->
//!   Data{stream, bytes} ->  Data{stream, bytes}        ->
//!                       <-  Credit{stream, bytes}      <-  Credit{stream, bytes}
//!   Close{stream}       ->  Close{stream}              ->
//! ```
//!
//! The bytes are the two peers' own end-to-end encrypted channel (the same
//! Noise session as a direct connection): the registry sees only who talks
//! to whom and how much. Each direction of a stream starts with
//! [`crate::limits::RELAY_WINDOW`] bytes of credit; a receiver grants credit
//! back as it consumes, a sender never exceeds what it has (the registry
//! closes a peer that does); `Capped` tells a sender its credit is held back
//! by the operator's caps. `DialMe` / `DialBack` are the reverse dial: a
//! peer that listens asks one that does not to dial it, before relaying.
//! `Refused` answers an `Open` the registry will
//! not carry, with the reason a user reads.

use std::net::SocketAddr;

use serde::{Deserialize, Serialize};

use crate::bounded::Blob;
use crate::limits::MAX_RELAY_PIECE;
use crate::wire::common::Reason;
use crate::wire::names::Name;

/// One piece of a relayed stream's bytes.
pub type RelayBytes = Blob<MAX_RELAY_PIECE>;

/// See the module documentation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum RelayMessage {
    /// Peer to registry: open a stream to `to`; `ask` is the peer's own
    /// number for this request, echoed in the answer.
    Open { ask: u32, to: Name },
    /// Registry to peer: the stream asked for as `ask` is open.
    Opened { ask: u32, stream: u64 },
    /// Registry to peer: the stream asked for as `ask` will not be carried.
    Refused { ask: u32, reason: Reason },
    /// Registry to peer: `from` opened `stream` to this peer.
    Incoming { stream: u64, from: Name },
    /// Either way: the next bytes of the stream.
    Data { stream: u64, bytes: RelayBytes },
    /// Either way: the sender of this consumed `bytes` more of the stream;
    /// the other side may send that many more.
    Credit { stream: u64, bytes: u64 },
    /// Either way: the stream is over (the registry also says why when it
    /// ends one itself).
    Close { stream: u64, reason: Reason },
    /// Registry to peer: the credit of `stream` is held back by the
    /// operator's caps (`reason` says which); the stream goes on as fast as
    /// they allow. Said at most once a minute per stream.
    Capped { stream: u64, reason: Reason },
    /// Peer to registry: `to` takes no connections (`--listen off`), this
    /// peer does: ask `to` to dial this peer (a reverse dial, before any
    /// relaying).
    DialMe { to: Name },
    /// Registry to peer: `from` asks to be dialed at `addr`, the address it
    /// logged in with.
    DialBack { from: Name, addr: SocketAddr },
}

impl RelayMessage {
    /// The variant's name, for logs and violations.
    pub fn kind(&self) -> &'static str {
        match self {
            RelayMessage::Open { .. } => "Open",
            RelayMessage::Opened { .. } => "Opened",
            RelayMessage::Refused { .. } => "Refused",
            RelayMessage::Incoming { .. } => "Incoming",
            RelayMessage::Data { .. } => "Data",
            RelayMessage::Credit { .. } => "Credit",
            RelayMessage::Close { .. } => "Close",
            RelayMessage::Capped { .. } => "Capped",
            RelayMessage::DialMe { .. } => "DialMe",
            RelayMessage::DialBack { .. } => "DialBack",
        }
    }
}
