//! Messages between two peers on their one direct connection.
//!
//! After both [`crate::wire::Hello`]s, each side sends its
//! [`PeerMessage::Session`], the acceptor checks the dialer's claimed name
//! (see `peer::link`) and answers [`PeerMessage::Verified`]; nothing else may
//! be sent before that. An open connection that falls silent is probed with
//! [`PeerMessage::Ping`] / [`PeerMessage::Pong`]. A later cryptographic handshake slots in between
//! the hellos and `Verified` without changing anything after it.
//!
//! Everything a person writes travels as [`PeerMessage::Data`] on a *stream*:
//! one sender, one receiver, one [`Conv`]. Each stream numbers its data from 1;
//! the receiver delivers `seq == delivered + 1` only, acknowledges
//! cumulatively with [`PeerMessage::Ack`], and drops what it has already
//! delivered. `low` lets the sender skip numbers it has abandoned (a closed
//! chat's unsent messages) without the receiver waiting for them forever.
//!
//! The enum routes by variant, so other families (file transfer) can join it
//! as new variants at the end.

use serde::{Deserialize, Serialize};

use crate::bounded::{List, Text};
use crate::limits::{MAX_EXCHANGE_ENTRIES, MAX_GROUP_MEMBERS, MAX_MESSAGE_LEN, MAX_SHARED_FILES};
pub use crate::wire::call::CallReport;
use crate::wire::common::Reason;
use crate::wire::discovery::Passed;
use crate::wire::names::{GroupName, Name};
use crate::wire::registry::{Profile, SharedFile};

/// Which conversation a stream belongs to.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Conv {
    /// The one-to-one chat between the two peers of the connection.
    Direct,
    /// A group both are in.
    Group(GroupName),
}

impl std::fmt::Display for Conv {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Conv::Direct => f.write_str("direct"),
            Conv::Group(g) => std::fmt::Display::fmt(g, f),
        }
    }
}

/// Chat message text.
pub type MessageText = Text<MAX_MESSAGE_LEN>;

/// A group's member list on the wire.
pub type Members = List<Name, MAX_GROUP_MEMBERS>;

/// What one numbered item of a stream carries.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Payload {
    /// Something a person wrote.
    Text(MessageText),
    /// Group only: `name` is now a member (sent by whoever let them in).
    Joined(Name),
    /// Group only: the sender has left the group.
    Left,
    /// Group only: to a new member, the full member list (its welcome).
    Members(Members),
}

/// A peer-to-peer message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum PeerMessage {
    /// Acceptor to dialer: your claimed name checks out; the connection is open.
    Verified,
    /// Please open a one-to-one chat with me.
    ChatRequest,
    /// I consider our chat open (an answer to a request, or a reminder after
    /// a reconnect).
    ChatAccept,
    /// Our chat is over, or will not start (declined, expired, closed).
    ChatClose { reason: Reason },
    /// One numbered item of the stream `conv` from the sender to the receiver.
    Data {
        conv: Conv,
        seq: u64,
        /// Every number below this is acknowledged or abandoned by the sender.
        low: u64,
        payload: Payload,
    },
    /// Everything of stream `conv` (from the receiver of this ack) up to and
    /// including `upto` is delivered.
    Ack { conv: Conv, upto: u64 },
    /// Would you join `group`? These are its members now.
    GroupInvite { group: GroupName, members: Members },
    /// The answer to a [`PeerMessage::GroupInvite`].
    GroupAnswer { group: GroupName, accept: bool },
    /// The invitation (or the acceptance) is void.
    GroupRefused { group: GroupName, reason: Reason },
    /// Both ways, once, right after the hellos: the sender's epoch for this
    /// pair of peers, a random number kept while it holds any connection to
    /// the receiver and drawn afresh after it held none. A new connection
    /// whose epoch differs from the open one's means the old one is dead at
    /// the sender's end (see `peer::link`).
    Session { epoch: u64 },
    /// Are you there? Sent on an open connection silent for a while.
    Ping,
    /// Yes: the answer to a [`PeerMessage::Ping`].
    Pong,
    /// The answer to an item of `group`'s stream from a peer that is not in
    /// the group (nor joining it): it left before it heard of the sender, so
    /// its `Left` never reached the sender, who should now count it gone.
    NotInGroup { group: GroupName },
    /// Will you take a video call? `call` is its id, `port` the UDP port
    /// (at the address of this link) its media comes from and goes to,
    /// `secret` the caller's half of the media keys (see `call::keys`).
    CallRequest {
        call: u64,
        port: u16,
        secret: [u8; 32],
    },
    /// Yes: the callee's port and half of the keys.
    CallAccept {
        call: u64,
        port: u16,
        secret: [u8; 32],
    },
    /// The call is over, or will not start (declined, hung up, busy).
    CallEnd { call: u64, reason: Reason },
    /// About once a second, from each side of a call that is up: what it
    /// received (see [`CallReport`]).
    CallReport { call: u64, report: CallReport },
    /// Peer exchange (issue 20): announcements the sender holds, its own
    /// first, each with where and how long ago it heard it; at most
    /// [`MAX_EXCHANGE_ENTRIES`]. Each is checked like one heard on the LAN.
    Known {
        entries: List<Passed, MAX_EXCHANGE_ENTRIES>,
    },
    /// Without a registry (issue 20): what do you share? (`/files NAME`)
    FilesAsk,
    /// The answer to [`PeerMessage::FilesAsk`]: the sender's shared list.
    FilesList {
        files: List<SharedFile, MAX_SHARED_FILES>,
    },
    /// Without a registry (issue 20): what is your profile? (`/whois NAME`)
    ProfileAsk,
    /// The answer to [`PeerMessage::ProfileAsk`]: the sender's profile,
    /// each field within its limit (`MAX_NICK_LEN`, `MAX_BIO_LEN`,
    /// `MAX_AVATAR_LEN`). The asker checks it against the digest of the
    /// sender's last announcement.
    ProfileAnswer { profile: Profile },
}

impl PeerMessage {
    /// The variant's name, for logs and error messages.
    pub fn kind(&self) -> &'static str {
        match self {
            PeerMessage::Verified => "Verified",
            PeerMessage::ChatRequest => "ChatRequest",
            PeerMessage::ChatAccept => "ChatAccept",
            PeerMessage::ChatClose { .. } => "ChatClose",
            PeerMessage::Data { .. } => "Data",
            PeerMessage::Ack { .. } => "Ack",
            PeerMessage::GroupInvite { .. } => "GroupInvite",
            PeerMessage::GroupAnswer { .. } => "GroupAnswer",
            PeerMessage::GroupRefused { .. } => "GroupRefused",
            PeerMessage::Session { .. } => "Session",
            PeerMessage::Ping => "Ping",
            PeerMessage::Pong => "Pong",
            PeerMessage::NotInGroup { .. } => "NotInGroup",
            PeerMessage::CallRequest { .. } => "CallRequest",
            PeerMessage::CallAccept { .. } => "CallAccept",
            PeerMessage::CallEnd { .. } => "CallEnd",
            PeerMessage::CallReport { .. } => "CallReport",
            PeerMessage::Known { .. } => "Known",
            PeerMessage::FilesAsk => "FilesAsk",
            PeerMessage::FilesList { .. } => "FilesList",
            PeerMessage::ProfileAsk => "ProfileAsk",
            PeerMessage::ProfileAnswer { .. } => "ProfileAnswer",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::{Message, decode, encode};

    #[test]
    fn round_trip_and_limits() {
        let msg = Message::Peer(PeerMessage::Data {
            conv: Conv::Group(GroupName::new("#g").unwrap()),
            seq: 7,
            low: 3,
            payload: Payload::Text(Text::new("hi").unwrap()),
        });
        let bytes = encode(&msg);
        assert_eq!(decode(&bytes[4..]).unwrap(), msg);
        let long = "x".repeat(MAX_MESSAGE_LEN + 1);
        let body = rmp_serde::to_vec(&long).unwrap();
        assert!(rmp_serde::from_slice::<MessageText>(&body).is_err());
    }

    #[test]
    fn a_profile_answer_round_trips_and_its_fields_keep_their_limits() {
        use crate::limits::MAX_BIO_LEN;
        let profile = Profile {
            nick: Text::new("Bobby").unwrap(),
            bio: Text::new("b".repeat(MAX_BIO_LEN)).unwrap(),
            avatar: crate::bounded::Blob::new(vec![7; 100]).unwrap(),
        };
        for msg in [
            PeerMessage::ProfileAsk,
            PeerMessage::ProfileAnswer { profile },
        ] {
            let msg = Message::Peer(msg);
            let bytes = encode(&msg);
            assert_eq!(decode(&bytes[4..]).unwrap(), msg);
        }
        let long = rmp_serde::to_vec(&"b".repeat(MAX_BIO_LEN + 1)).unwrap();
        assert!(rmp_serde::from_slice::<Text<MAX_BIO_LEN>>(&long).is_err());
    }
}
