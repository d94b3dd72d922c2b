//! [`GMessage`]: the envelope, one variant per [`Message`] variant, built
//! from the generators of each protocol family.

use arbitrary::Arbitrary;
use confab_engine::bounded::Text;
use confab_engine::wire::registry::{Presence, Reply, Request};
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
        }
    }
}
