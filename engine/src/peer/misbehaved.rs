//! Why a peer closes a connection on its remote's fault, after rustls's
//! `PeerMisbehaved`: [`LinkViolation`] for a direct link,
//! [`RegistryViolation`] for the registry session. Typed, so code and tests
//! name the fault; `Display` gives the words the other side and the user
//! read (the goodbye's reason, the notice). Plain values: touches only `wire`.

use std::fmt;

use crate::wire::{Name, Role, WireError};

/// A direct link's remote broke the protocol; the link closes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LinkViolation {
    /// Its bytes are not frames of messages.
    BadBytes(WireError),
    /// `Verified` on a link already open.
    SecondVerified,
    /// `Session` on a link already open.
    SecondSession,
    /// A message of this kind at this stage of the handshake.
    Unexpected {
        kind: &'static str,
        stage: &'static str,
    },
    /// A hello that is not a peer's, or claims this peer's own name.
    BadHello { role: Role, name: Option<Name> },
    /// A hello claiming another name than the channel's handshake proved.
    NotProven { claimed: Name, proven: Option<Name> },
}

impl fmt::Display for LinkViolation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LinkViolation::BadBytes(e) => fmt::Display::fmt(e, f),
            LinkViolation::SecondVerified => f.write_str("a second Verified"),
            LinkViolation::SecondSession => f.write_str("a second Session"),
            LinkViolation::Unexpected { kind, stage } => {
                write!(f, "unexpected {kind} while {stage}")
            }
            LinkViolation::BadHello { role, name } => {
                write!(f, "bad hello: {role} claiming {name:?}")
            }
            LinkViolation::NotProven { claimed, proven } => match proven {
                Some(p) => write!(f, "claims to be {claimed}, but its certificate is {p}'s"),
                None => write!(f, "claims to be {claimed} before proving any name"),
            },
        }
    }
}

/// The registry broke the protocol; the session closes and is made again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RegistryViolation {
    /// Its bytes are not frames of messages.
    BadBytes(WireError),
    /// Its first message is not its hello (nor a goodbye).
    NoHello { got: &'static str },
    /// A message a registry never sends a peer.
    Unexpected { kind: &'static str },
    /// A reply to a request id never asked (or already answered).
    UnaskedReply(u32),
}

impl fmt::Display for RegistryViolation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RegistryViolation::BadBytes(e) => write!(f, "the registry sent bad bytes: {e}"),
            RegistryViolation::NoHello { got } => {
                write!(f, "expected the registry's hello, got {got}")
            }
            RegistryViolation::Unexpected { kind } => write!(f, "the registry sent a {kind}"),
            RegistryViolation::UnaskedReply(id) => {
                write!(f, "the registry answered request {id} that was never asked")
            }
        }
    }
}
