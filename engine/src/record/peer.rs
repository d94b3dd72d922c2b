//! A peer's durable records ([`PeerRecord`]) and their keys; see
//! `crate::peer::records` for what they are for. Plain values: this file
//! imports nothing from the roles.

use crate::wire::identity::PublicKey;
use serde::{Deserialize, Serialize};

use crate::ids::Target;
use crate::record::key::RecordKey;
use crate::wire::peer::{Conv, Payload};
use crate::wire::registry::{LoginStamp, Profile};
use crate::wire::{GroupName, Name};

/// One stored message, as `/history` shows it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct HistoryEntry {
    /// Who wrote it.
    pub from: Name,
    /// What they wrote.
    pub text: String,
    /// When, in milliseconds since the Unix epoch (see
    /// `PeerConfig::unix_ms_at_start`).
    pub at: u64,
}

/// One numbered item waiting for its acknowledgement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutItem {
    /// The receiver.
    pub to: Name,
    /// The stream's conversation.
    pub conv: Conv,
    /// Its number in the stream to `to`.
    pub seq: u64,
    /// The number the user was told (`Sent`): the stream number for a direct
    /// chat, the sender's group counter for a group.
    pub user_seq: u64,
    /// What it carries.
    pub payload: Payload,
}

/// A group this peer is in (or has accepted an invitation into).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupRecord {
    /// The group.
    pub group: GroupName,
    /// Its members as this peer knows them, itself included.
    pub members: Vec<Name>,
    /// `Some(inviter)` while this peer has accepted but not yet been sent
    /// the member list.
    pub joining: Option<Name>,
    /// The members this peer let in (it welcomed them), still in the group:
    /// it tells each later newcomer about them, in case the newcomer's
    /// inviter had not heard of them yet. Last, and defaulted, so a record
    /// saved without it still reads.
    #[serde(default)]
    pub let_in: Vec<Name>,
}

/// A durable piece of a peer's state. See the module documentation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum PeerRecord {
    /// This peer's own profile, re-published at every log-in.
    Profile(Profile),
    /// A friend.
    Friend(Name),
    /// An open one-to-one chat.
    Chat(Name),
    /// A group.
    Group(GroupRecord),
    /// An unacknowledged or queued item.
    Outbox(OutItem),
    /// The number the next item of the stream to `to` in `conv` gets.
    NextSeq { to: Name, conv: Conv, next: u64 },
    /// The last number delivered of the stream from `from` in `conv`.
    Delivered { from: Name, conv: Conv, upto: u64 },
    /// The next user-visible number of this peer's messages to `group`.
    GroupSeq { group: GroupName, next: u64 },
    /// The `n`th message of the conversation `with`.
    History {
        with: Target,
        n: u64,
        entry: HistoryEntry,
    },
    /// The stamp of this peer's last log-in (see
    /// [`crate::wire::registry::LoginStamp`]).
    Logins(LoginStamp),
    /// The key `name` proved the last time this peer talked to it (to warn
    /// when it changes). Appended after issue 17; older stores have none.
    PeerKey { name: Name, key: PublicKey },
}

impl PeerRecord {
    /// Where this record is stored.
    pub fn key(&self) -> RecordKey {
        RecordKey(match self {
            PeerRecord::Profile(_) => "profile".to_owned(),
            PeerRecord::Logins(_) => "logins".to_owned(),
            PeerRecord::Friend(n) => friend_key(n),
            PeerRecord::Chat(n) => chat_key(n),
            PeerRecord::Group(g) => group_key(&g.group),
            PeerRecord::Outbox(o) => return outbox_key(&o.to, &o.conv, o.seq),
            PeerRecord::NextSeq { to, conv, .. } => format!("seq/out/{to}/{conv}"),
            PeerRecord::Delivered { from, conv, .. } => format!("seq/in/{from}/{conv}"),
            PeerRecord::GroupSeq { group, .. } => format!("seq/group/{group}"),
            PeerRecord::History { with, n, .. } => return history_key(with, *n),
            PeerRecord::PeerKey { name, .. } => format!("key/{name}"),
        })
    }
}

pub fn friend_key(n: &Name) -> String {
    format!("friend/{n}")
}

pub fn chat_key(n: &Name) -> String {
    format!("chat/{n}")
}

pub fn group_key(g: &GroupName) -> String {
    format!("group/{g}")
}

/// `outbox/{to}/{conv}/{seq:020}`. Built by hand, not with `format!`: one is
/// forgotten for every message acknowledged, and `format!`'s padding was a
/// tenth of the engine's time per message (BENCHMARKS.md, issue 18).
pub fn outbox_key(to: &Name, conv: &Conv, seq: u64) -> RecordKey {
    let conv = match conv {
        Conv::Direct => "direct",
        Conv::Group(g) => g.as_str(),
    };
    numbered_key(&["outbox/", to.as_str(), "/", conv, "/"], seq)
}

/// `history/{with}/{n:020}`, built by hand as [`outbox_key`] is.
pub fn history_key(with: &Target, n: u64) -> RecordKey {
    let with = match with {
        Target::User(u) => u.as_str(),
        Target::Group(g) => g.as_str(),
    };
    numbered_key(&["history/", with, "/"], n)
}

/// The `parts` joined, then `n` in decimal, zero-padded to 20 digits (every
/// `u64` fits, so keys list in numeric order).
fn numbered_key(parts: &[&str], n: u64) -> RecordKey {
    const DIGITS: usize = 20;
    let len: usize = parts.iter().map(|p| p.len()).sum();
    let mut key = String::with_capacity(len + DIGITS);
    for p in parts {
        key.push_str(p);
    }
    let mut digits = [b'0'; DIGITS];
    let mut rest = n;
    for d in digits.iter_mut().rev() {
        *d = b'0' + (rest % 10) as u8;
        rest /= 10;
        if rest == 0 {
            break;
        }
    }
    // ASCII digits: always UTF-8.
    if let Ok(digits) = std::str::from_utf8(&digits) {
        key.push_str(digits);
    }
    RecordKey(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_distinct_and_ordered() {
        let a = Name::new("alice").unwrap();
        let k1 = outbox_key(&a, &Conv::Direct, 9);
        let k2 = outbox_key(&a, &Conv::Direct, 10);
        assert!(k1 < k2, "zero-padded numbers sort");
        let g = GroupName::new("#g").unwrap();
        assert_ne!(
            PeerRecord::NextSeq {
                to: a.clone(),
                conv: Conv::Direct,
                next: 1
            }
            .key(),
            PeerRecord::NextSeq {
                to: a,
                conv: Conv::Group(g),
                next: 1
            }
            .key()
        );
    }

    #[test]
    fn numbered_keys_are_what_format_wrote() {
        let a = Name::new("alice").unwrap();
        let g = GroupName::new("#g").unwrap();
        for n in [0, 1, 9, 10, 12_345, u64::MAX / 3, u64::MAX] {
            for conv in [Conv::Direct, Conv::Group(g.clone())] {
                assert_eq!(
                    outbox_key(&a, &conv, n).0,
                    format!("outbox/{a}/{conv}/{n:020}")
                );
            }
            for with in [Target::User(a.clone()), Target::Group(g.clone())] {
                assert_eq!(history_key(&with, n).0, format!("history/{with}/{n:020}"));
            }
        }
    }
}
