//! What an engine asks its driver to keep durably ([`crate::Output::Persist`])
//! and gets back at construction after a restart.
//!
//! Each record has a [`RecordKey`]; a later record with the same key replaces
//! the earlier one, and [`crate::Output::Forget`] deletes it. Keys are text of
//! the form `kind/identifier` so a driver can store them in any key-value store
//! and list them in order. No record ever holds a password in clear.
//!
//! Each role's records live in their own file below this one
//! ([`peer`], [`transfer`]), importing nothing from the roles, so the driver
//! interface ([`crate::api`]) can name [`Record`] without depending on them.

use serde::{Deserialize, Serialize};

pub mod key;
pub mod peer;
pub mod transfer;

pub use key::RecordKey;
pub use peer::PeerRecord;
pub use transfer::TransferRecord;

use crate::password::{PasswordCost, PasswordDigest, Salt};
use crate::wire::Name;
use crate::wire::registry::Profile;

/// A durable record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Record {
    /// A registry account.
    Account(AccountRecord),
    /// Something a peer keeps: friends, open chats, groups, the outbox,
    /// stream counters and history (see [`PeerRecord`]).
    Peer(PeerRecord),
    /// A peer's file transfer that must survive a restart to resume.
    Transfer(TransferRecord),
}

impl Record {
    /// Where this record is stored.
    pub fn key(&self) -> RecordKey {
        match self {
            Record::Account(a) => RecordKey(format!("account/{}", a.name)),
            Record::Peer(p) => p.key(),
            Record::Transfer(t) => TransferRecord::key_of(t.id),
        }
    }

    /// Encodes the record for storage (MessagePack).
    pub fn to_bytes(&self) -> Vec<u8> {
        rmp_serde::to_vec(self).unwrap_or_default()
    }

    /// Decodes a stored record; `None` if the bytes are not a record of this
    /// version (the driver should report, not crash).
    pub fn from_bytes(bytes: &[u8]) -> Option<Self> {
        rmp_serde::from_slice(bytes).ok()
    }
}

/// A registry account: the name, how to check its password, and its profile.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AccountRecord {
    /// The account's name.
    pub name: Name,
    /// Its salt.
    pub salt: Salt,
    /// The cost its digest was made with.
    pub cost: PasswordCost,
    /// argon2id(password, salt, cost).
    pub digest: PasswordDigest,
    /// What others see in a look-up.
    pub profile: Profile,
}
