//! The wire format: frames, the message enum, and the bounded, validated types
//! its fields are made of. Nothing here does I/O; bytes in, messages out.
//!
//! One way down: [`frame`] encodes the envelope [`message::Message`], which
//! imports the role messages ([`registry`], [`peer`], [`transfer`]); those
//! build on [`common`] (hello, goodbye, refusals), [`names`], [`md5`] and
//! [`identity`] (keys, certificates and what a handshake carries).

pub mod call;
pub mod common;
pub mod discovery;
pub mod frame;
pub mod identity;
pub mod md5;
pub mod message;
pub mod names;
pub mod peer;
pub mod registry;
pub mod relay;
pub mod transfer;

pub use common::{ErrorCode, Goodbye, Hello, PROTOCOL_VERSION, Reason, Refusal, Role};
pub use frame::{Deframer, WireError, decode, encode, encode_into};
pub use md5::{Md5, folder_digest};
pub use message::Message;
pub use names::{FileName, GroupName, InvalidName, Name};
pub use transfer::{Manifest, ManifestEntry, RelPath, TransferKey, TransferMessage};
