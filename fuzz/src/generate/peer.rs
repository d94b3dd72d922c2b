//! Generators of the peer protocol: group names, conversations, payloads and
//! peer messages.

use arbitrary::Arbitrary;
use confab_engine::bounded::Text;
use confab_engine::wire::GroupName;
use confab_engine::wire::peer::{Conv, Payload, PeerMessage};

use super::common::*;

/// Group names the peer target shares.
pub const GROUP_POOL: [&str; 3] = ["#team", "#g", "#z0123456789.-_abcdefghijklmnopqr"];

/// A group name: from the pool, or `#` and a generated user name.
#[derive(Debug, Arbitrary)]
pub enum GGroupName {
    Pool(u8),
    Made(GName),
}

impl Build for GGroupName {
    type Out = GroupName;
    fn build(&self) -> GroupName {
        match self {
            GGroupName::Pool(i) => {
                GroupName::new(GROUP_POOL[*i as usize % GROUP_POOL.len()]).expect("valid")
            }
            GGroupName::Made(n) => GroupName::new(&format!("#{}", n.build()))
                .unwrap_or_else(|_| GroupName::new(GROUP_POOL[0]).expect("valid")),
        }
    }
}

/// A conversation.
#[derive(Debug, Arbitrary)]
pub enum GConv {
    Direct,
    Group(GGroupName),
}

impl Build for GConv {
    type Out = Conv;
    fn build(&self) -> Conv {
        match self {
            GConv::Direct => Conv::Direct,
            GConv::Group(g) => Conv::Group(g.build()),
        }
    }
}

/// A stream item.
#[derive(Debug, Arbitrary)]
pub enum GPayload {
    Text(String),
    /// The longest text allowed, of this character.
    Longest(u8),
    Joined(GName),
    Left,
    Members(Vec<GName>),
}

impl Build for GPayload {
    type Out = Payload;
    fn build(&self) -> Payload {
        use confab_engine::limits::MAX_MESSAGE_LEN;
        match self {
            GPayload::Text(s) => Payload::Text(Text::truncate(s)),
            GPayload::Longest(c) => Payload::Text(
                Text::new(
                    char::from(b'a' + c % 26)
                        .to_string()
                        .repeat(MAX_MESSAGE_LEN),
                )
                .expect("at the limit"),
            ),
            GPayload::Joined(n) => Payload::Joined(n.build()),
            GPayload::Left => Payload::Left,
            GPayload::Members(m) => Payload::Members(list(m)),
        }
    }
}

/// A peer-to-peer message, one variant per [`PeerMessage`] variant.
#[derive(Debug, Arbitrary)]
pub enum GPeerMessage {
    Verified,
    Session {
        epoch: u64,
    },
    Ping,
    Pong,
    ChatRequest,
    ChatAccept,
    ChatClose {
        reason: String,
    },
    Data {
        conv: GConv,
        /// Small sequence numbers mostly, so data lines up with what was delivered.
        seq: u8,
        low: u8,
        payload: GPayload,
    },
    /// Sequence numbers anywhere.
    DataFar {
        conv: GConv,
        seq: u64,
        low: u64,
        payload: GPayload,
    },
    Ack {
        conv: GConv,
        upto: u64,
    },
    GroupInvite {
        group: GGroupName,
        members: Vec<GName>,
    },
    GroupAnswer {
        group: GGroupName,
        accept: bool,
    },
    GroupRefused {
        group: GGroupName,
        reason: String,
    },
    NotInGroup {
        group: GGroupName,
    },
}

impl Build for GPeerMessage {
    type Out = PeerMessage;
    fn build(&self) -> PeerMessage {
        match self {
            GPeerMessage::Verified => PeerMessage::Verified,
            GPeerMessage::Session { epoch } => PeerMessage::Session { epoch: *epoch },
            GPeerMessage::Ping => PeerMessage::Ping,
            GPeerMessage::Pong => PeerMessage::Pong,
            GPeerMessage::ChatRequest => PeerMessage::ChatRequest,
            GPeerMessage::ChatAccept => PeerMessage::ChatAccept,
            GPeerMessage::ChatClose { reason } => PeerMessage::ChatClose {
                reason: Text::truncate(reason),
            },
            GPeerMessage::Data {
                conv,
                seq,
                low,
                payload,
            } => PeerMessage::Data {
                conv: conv.build(),
                seq: (*seq).into(),
                low: (*low).into(),
                payload: payload.build(),
            },
            GPeerMessage::DataFar {
                conv,
                seq,
                low,
                payload,
            } => PeerMessage::Data {
                conv: conv.build(),
                seq: *seq,
                low: *low,
                payload: payload.build(),
            },
            GPeerMessage::Ack { conv, upto } => PeerMessage::Ack {
                conv: conv.build(),
                upto: *upto,
            },
            GPeerMessage::GroupInvite { group, members } => PeerMessage::GroupInvite {
                group: group.build(),
                members: list(members),
            },
            GPeerMessage::GroupAnswer { group, accept } => PeerMessage::GroupAnswer {
                group: group.build(),
                accept: *accept,
            },
            GPeerMessage::GroupRefused { group, reason } => PeerMessage::GroupRefused {
                group: group.build(),
                reason: Text::truncate(reason),
            },
            GPeerMessage::NotInGroup { group } => PeerMessage::NotInGroup {
                group: group.build(),
            },
        }
    }
}
