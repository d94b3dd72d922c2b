//! The peer role: a person's confab. It keeps a session with the registry,
//! opens direct connections to other peers, and runs the chats, groups,
//! friends, history and transfers that travel over them.
//!
//! This module so far defines the peer's contract with its driver: the
//! commands it takes ([`PeerCommand`]), the events it reports ([`PeerEvent`])
//! and its configuration ([`PeerConfig`]). The engine itself is issue 3.

pub mod command;
pub mod config;
pub mod event;

pub use command::{PeerCommand, ProfileChange, RequestId, Target};
pub use config::PeerConfig;
pub use event::{Direction, FriendStatus, HistoryEntry, PeerEvent, TransferStatus};
