//! The identifiers every room shares (connections, transfers, jobs, questions,
//! conversations): plain values, minted by their owner, below every role so
//! that any room may name them without importing another. Touches nothing
//! but `wire`'s name types.

use std::fmt;

use crate::wire::{GroupName, Name};

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident, $prefix:literal) => {
        $(#[$doc])*
        #[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
        pub struct $name(pub u64);

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, concat!($prefix, "{}"), self.0)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Display::fmt(self, f)
            }
        }
    };
}

id_type!(
    /// A connection, minted by the engine (for accepted and for outgoing
    /// connections alike) and never reused by that engine.
    ConnId,
    "c"
);
id_type!(
    /// A file transfer, minted by the engine that owns it.
    TransferId,
    "t"
);
id_type!(
    /// A piece of slow work (password hashing) the engine asked the driver for.
    JobId,
    "j"
);

/// A pending question to this peer (chat request, group invitation, file
/// offer), answered with [`PeerCommand::Accept`] or [`PeerCommand::Decline`].
#[derive(
    Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
pub struct RequestId(pub u64);

impl fmt::Display for RequestId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl fmt::Debug for RequestId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "r{}", self.0)
    }
}

/// Whom a message is for: one person, or a group.
#[derive(
    Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
pub enum Target {
    /// A one-to-one chat.
    User(Name),
    /// A group chat.
    Group(GroupName),
}

impl Target {
    /// Parses `NAME` or `#GROUP`.
    pub fn parse(s: &str) -> Result<Self, crate::wire::InvalidName> {
        if s.starts_with('#') {
            Ok(Target::Group(GroupName::new(s)?))
        } else {
            Ok(Target::User(Name::new(s)?))
        }
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Target::User(n) => fmt::Display::fmt(n, f),
            Target::Group(g) => fmt::Display::fmt(g, f),
        }
    }
}
