//! [`GMessage`]: the envelope, one variant per [`Message`] variant, built
//! from the generators of each protocol family.

use arbitrary::Arbitrary;
use confab_engine::bounded::{Blob, Text};
use confab_engine::limits::MAX_RELAY_PIECE;
use confab_engine::wire::registry::{Presence, Reply, Request};
use confab_engine::wire::relay::RelayMessage;
use confab_engine::wire::{Goodbye, Message};

use super::common::*;
use super::peer::*;
use super::registry::*;
use super::transfer::*;

/// A message, one variant per [`Message`] variant.
#[derive(Debug, Arbitrary)]
pub enum GMessage {
    Hello(GHello),
    Goodbye {
        code: GCode,
        reason: String,
    },
    Request {
        id: u32,
        body: GRequestBody,
    },
    Reply {
        id: u32,
        result: Result<GReplyBody, GRefusal>,
    },
    Presence {
        name: GName,
        online: bool,
        addr: Option<GAddr>,
    },
    Peer(GPeerMessage),
    Transfer(GTransferMessage),
    Relay(GRelayMessage),
}

/// A relayed-stream message, one variant per [`RelayMessage`] variant.
/// Stream ids are small, so that they name the streams a registry mints
/// (1, 2, ...) often.
#[derive(Debug, Arbitrary)]
pub enum GRelayMessage {
    Open {
        ask: u32,
        to: GName,
    },
    Opened {
        ask: u32,
        stream: u8,
    },
    Refused {
        ask: u32,
        reason: String,
    },
    Incoming {
        stream: u8,
        from: GName,
    },
    Data {
        stream: u8,
        bytes: Vec<u8>,
    },
    /// A piece of exactly the largest size.
    DataLargest {
        stream: u8,
        fill: u8,
    },
    Credit {
        stream: u8,
        bytes: u64,
    },
    Close {
        stream: u8,
        reason: String,
    },
    Capped {
        stream: u8,
        reason: String,
    },
    DialMe {
        to: GName,
    },
    DialBack {
        from: GName,
        addr: GAddr,
    },
}

impl Build for GRelayMessage {
    type Out = RelayMessage;
    fn build(&self) -> RelayMessage {
        match self {
            GRelayMessage::Open { ask, to } => RelayMessage::Open {
                ask: *ask,
                to: to.build(),
            },
            GRelayMessage::Opened { ask, stream } => RelayMessage::Opened {
                ask: *ask,
                stream: u64::from(*stream),
            },
            GRelayMessage::Refused { ask, reason } => RelayMessage::Refused {
                ask: *ask,
                reason: Text::truncate(reason),
            },
            GRelayMessage::Incoming { stream, from } => RelayMessage::Incoming {
                stream: u64::from(*stream),
                from: from.build(),
            },
            GRelayMessage::Data { stream, bytes } => {
                let mut bytes = bytes.clone();
                bytes.truncate(MAX_RELAY_PIECE);
                RelayMessage::Data {
                    stream: u64::from(*stream),
                    bytes: Blob::new(bytes).expect("cut to the limit"),
                }
            }
            GRelayMessage::DataLargest { stream, fill } => RelayMessage::Data {
                stream: u64::from(*stream),
                bytes: Blob::new(vec![*fill; MAX_RELAY_PIECE]).expect("at the limit"),
            },
            GRelayMessage::Credit { stream, bytes } => RelayMessage::Credit {
                stream: u64::from(*stream),
                bytes: *bytes,
            },
            GRelayMessage::Close { stream, reason } => RelayMessage::Close {
                stream: u64::from(*stream),
                reason: Text::truncate(reason),
            },
            GRelayMessage::Capped { stream, reason } => RelayMessage::Capped {
                stream: u64::from(*stream),
                reason: Text::truncate(reason),
            },
            GRelayMessage::DialMe { to } => RelayMessage::DialMe { to: to.build() },
            GRelayMessage::DialBack { from, addr } => RelayMessage::DialBack {
                from: from.build(),
                addr: addr.build(),
            },
        }
    }
}

impl Build for GMessage {
    type Out = Message;
    fn build(&self) -> Message {
        match self {
            GMessage::Hello(h) => Message::Hello(h.build()),
            GMessage::Goodbye { code, reason } => Message::Goodbye(Goodbye {
                code: code.build(),
                reason: Text::truncate(reason),
            }),
            GMessage::Request { id, body } => Message::Request(Request {
                id: *id,
                body: body.build(),
            }),
            GMessage::Reply { id, result } => Message::Reply(Reply {
                id: *id,
                result: match result {
                    Ok(body) => Ok(body.build()),
                    Err(refusal) => Err(refusal.build()),
                },
            }),
            GMessage::Presence { name, online, addr } => Message::Presence(Presence {
                name: name.build(),
                online: *online,
                addr: addr.build(),
            }),
            GMessage::Peer(p) => Message::Peer(p.build()),
            GMessage::Transfer(t) => Message::Transfer(t.build()),
            GMessage::Relay(r) => Message::Relay(r.build()),
        }
    }
}
