//! [`ChannelError`]: why a channel ended, typed (as rustls types its
//! errors) so that owners decide by variant (a changed registry key stops a
//! peer; a tampered record only closes the connection) and users read the
//! `Display`.

use std::fmt;

use crate::secure::certificate::CertError;
use crate::wire::identity::Fingerprint;
use crate::wire::{Goodbye, PROTOCOL_VERSION, Role};

/// Why a channel ended. Every variant but [`ChannelError::HeldTooMuch`] is
/// the other side's doing (or an attacker's).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChannelError {
    /// The first frame is not a confab hello.
    NotConfab(String),
    /// The other side speaks another protocol version.
    VersionMismatch {
        /// The other side's version.
        theirs: u16,
    },
    /// The other side is not what was dialed (a peer where a registry was
    /// expected, or the other way round).
    WrongRole {
        /// What it says it is.
        got: Role,
    },
    /// The other side said goodbye before the handshake.
    Refused(Goodbye),
    /// A length prefix over its limit.
    TooLong {
        /// What was too long.
        what: &'static str,
        /// The length claimed.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// The Noise handshake failed: tampered, replayed or not ours.
    Handshake(String),
    /// The handshake payload is not what confab sends.
    BadPayload(String),
    /// A registry was dialed but something else answered.
    NotARegistry,
    /// A peer was expected but the other side proved something else.
    NotAPeer,
    /// The registry's signing key did not sign its Noise key.
    BadRegistryBinding,
    /// A peer without a registry did not bind its Noise key to the identity
    /// key it showed.
    BadClaimBinding,
    /// A peer without a registry is not the one dialed: another name, or
    /// another key than the one its announcement named.
    NotTheAnnounced {
        /// What was dialed.
        expected: String,
        /// What it showed.
        got: String,
    },
    /// The registry's key is not the pinned one.
    RegistryKeyChanged {
        /// The key this peer pinned.
        pinned: Fingerprint,
        /// The key the registry showed.
        got: Fingerprint,
    },
    /// The other side's certificate did not check.
    Certificate(CertError),
    /// A record that does not decrypt, or of an unknown kind.
    BadRecord(String),
    /// This side queued more than [`MAX_HELD_PLAINTEXT`] before the
    /// handshake ended (a bug in confab).
    HeldTooMuch,
}

impl ChannelError {
    /// Whether this happened before any key was agreed, so that a goodbye
    /// saying why can only go in plaintext.
    pub fn before_keys(&self) -> bool {
        matches!(
            self,
            ChannelError::NotConfab(_)
                | ChannelError::VersionMismatch { .. }
                | ChannelError::WrongRole { .. }
        )
    }
}

impl fmt::Display for ChannelError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ChannelError::NotConfab(why) => write!(f, "not a confab connection ({why})"),
            ChannelError::VersionMismatch { theirs } => write!(
                f,
                "the other side speaks confab protocol {theirs}, this one speaks \
                 {PROTOCOL_VERSION} (encrypted); use the same confab version on both sides"
            ),
            ChannelError::WrongRole { got } => write!(f, "the other side is a {got}"),
            ChannelError::Refused(g) => write!(f, "{} ({})", g.reason, g.code),
            ChannelError::TooLong { what, len, max } => {
                write!(f, "{what} of {len} bytes is over the limit of {max}")
            }
            ChannelError::Handshake(why) => {
                write!(
                    f,
                    "the encrypted handshake failed ({why}): tampered with or replayed"
                )
            }
            ChannelError::BadPayload(why) => write!(f, "a malformed handshake payload ({why})"),
            ChannelError::NotARegistry => f.write_str("the other side is not a registry"),
            ChannelError::NotAPeer => f.write_str("the other side is not a peer"),
            ChannelError::BadRegistryBinding => {
                f.write_str("the registry's key did not sign its connection key")
            }
            ChannelError::BadClaimBinding => {
                f.write_str("its identity key did not sign its connection key")
            }
            ChannelError::NotTheAnnounced { expected, got } => {
                write!(f, "dialed {expected}, but the other side is {got}")
            }
            ChannelError::RegistryKeyChanged { pinned, got } => write!(
                f,
                "the registry's key is {got}, not the key {pinned} this peer trusts"
            ),
            ChannelError::Certificate(e) => e.fmt(f),
            ChannelError::BadRecord(why) => {
                write!(
                    f,
                    "an encrypted record did not check ({why}): tampered with"
                )
            }
            ChannelError::HeldTooMuch => f.write_str("too much queued before the handshake ended"),
        }
    }
}

impl std::error::Error for ChannelError {}
