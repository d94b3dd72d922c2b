//! The envelope: the message enum every frame carries. It sits above every
//! other wire module and imports their messages; none of them imports it.
//! The parts all roles share (the opening [`Hello`], the closing
//! [`Goodbye`], the [`ErrorCode`]s) live in [`crate::wire::common`] and are
//! re-exported here under their old paths.
//!
//! Compatibility rule: `Hello` is the first variant of [`Message`] and its
//! fields never change shape, so any two versions of confab can always read
//! each other's hello and say "version mismatch" instead of "garbage".

use serde::{Deserialize, Serialize};

pub use crate::wire::common::{ErrorCode, Goodbye, Hello, PROTOCOL_VERSION, Reason, Refusal, Role};
use crate::wire::peer::PeerMessage;
use crate::wire::registry::{Presence, Reply, Request};
use crate::wire::relay::RelayMessage;
use crate::wire::transfer::TransferMessage;

/// One frame's body.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Message {
    /// First frame on every connection, from both sides.
    Hello(Hello),
    /// Last frame before a deliberate close, saying why.
    Goodbye(Goodbye),
    /// Peer to registry: a request to be answered with a [`Reply`] of the same id.
    Request(Request),
    /// Registry to peer: the answer to a [`Request`].
    Reply(Reply),
    /// Registry to peer: someone came online or went offline.
    Presence(Presence),
    /// Peer to peer, on a direct connection.
    Peer(PeerMessage),
    /// Peer to peer: about one file transfer (see [`crate::wire::transfer`]).
    Transfer(TransferMessage),
    /// Peer to registry and back: a stream relayed between two peers that
    /// cannot connect directly (see [`crate::wire::relay`]).
    Relay(RelayMessage),
}

impl Message {
    /// The variant's name, for error messages and logs (never the contents,
    /// which may hold a password).
    pub fn kind(&self) -> &'static str {
        match self {
            Message::Hello(_) => "Hello",
            Message::Goodbye(_) => "Goodbye",
            Message::Request(_) => "Request",
            Message::Reply(_) => "Reply",
            Message::Presence(_) => "Presence",
            Message::Peer(p) => p.kind(),
            Message::Transfer(_) => "Transfer",
            Message::Relay(_) => "Relay",
        }
    }
}
