//! The parts of the wire format every role shares: the opening [`Hello`],
//! the closing [`Goodbye`], refusals and their [`ErrorCode`]s, and the
//! [`PROTOCOL_VERSION`]. Leaf types: they import only names and bounded
//! text, so every message module can use them (the envelope,
//! [`crate::wire::message::Message`], sits above all of them).
//!
//! Moved here verbatim from `message.rs`: rmp-serde is positional, so never
//! reorder a field or a variant. [`Hello`] never changes shape (see
//! [`crate::wire::message`]).

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::bounded::Text;
use crate::limits::MAX_REASON_LEN;
use crate::wire::names::Name;

/// The protocol version this build speaks. Peers of another version are told so
/// and disconnected. 1: plaintext (before issue 17); 2: every connection
/// encrypted and authenticated (`crate::secure`).
pub const PROTOCOL_VERSION: u16 = 2;

/// Human-readable text of a refusal or goodbye.
pub type Reason = Text<MAX_REASON_LEN>;

/// What the sender of a connection is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Role {
    /// The registry that tracks who is online.
    Registry,
    /// A person's confab.
    Peer,
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Role::Registry => "registry",
            Role::Peer => "peer",
        })
    }
}

/// The opening frame. Never change its shape (see the module documentation).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hello {
    /// [`PROTOCOL_VERSION`] of the sender.
    pub version: u16,
    /// What the sender is.
    pub role: Role,
    /// The name a peer claims to be on a peer-to-peer connection; `None` toward
    /// and from the registry, where the name is proven by logging in.
    pub name: Option<Name>,
}

/// The closing frame: why the sender is about to close the connection.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Goodbye {
    /// What kind of ending this is.
    pub code: ErrorCode,
    /// What a user should know about it.
    pub reason: Reason,
}

/// Machine-readable kinds of refusal and goodbye. Each comes with a reason
/// written for a person.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum ErrorCode {
    /// The two sides speak different protocol versions.
    VersionMismatch,
    /// The other side broke the protocol (bad frame, bad message, wrong order).
    ProtocolViolation,
    /// A name broke the naming rules.
    InvalidName,
    /// Registration of a name that already has an account.
    NameTaken,
    /// Log-in or look-up of a name with no account.
    UnknownName,
    /// The password does not match the account.
    WrongPassword,
    /// The password is empty or otherwise unusable.
    InvalidPassword,
    /// A request that needs a logged-in session, on a connection without one.
    NotLoggedIn,
    /// A log-in on a connection that already has a session.
    AlreadyLoggedIn,
    /// Another request of the same kind is still being worked on.
    Busy,
    /// The request is well-formed but not acceptable (duplicate file names, ...).
    InvalidRequest,
    /// The thing asked about does not exist or is not online.
    NotFound,
    /// The same name logged in elsewhere; this session is over.
    SessionReplaced,
    /// The session missed its heartbeats.
    TimedOut,
    /// The sender is shutting down.
    ShuttingDown,
    /// The sender ended the conversation normally.
    Normal,
    /// A log-in overtaken by a later one from the same installation (see
    /// [`crate::wire::registry::LoginStamp`]): the peer that sent it has
    /// logged in again since.
    StaleLogin,
    /// The other side's key is not the one this side trusts (a registry
    /// whose key changed since it was pinned).
    UntrustedKey,
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

/// A request that was refused, with what to do about it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Refusal {
    /// The kind of refusal.
    pub code: ErrorCode,
    /// What a user should do.
    pub message: Reason,
}

impl Refusal {
    /// A refusal whose message is cut to [`MAX_REASON_LEN`] if needed.
    pub fn new(code: ErrorCode, message: &str) -> Self {
        Self {
            code,
            message: Text::truncate(message),
        }
    }
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.message, self.code)
    }
}
