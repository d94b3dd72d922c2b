//! The wire format: frames, the message enum, and the bounded, validated types
//! its fields are made of. Nothing here does I/O; bytes in, messages out.

pub mod frame;
pub mod md5;
pub mod message;
pub mod names;
pub mod peer;
pub mod registry;
pub mod transfer;

pub use frame::{Deframer, WireError, decode, encode};
pub use md5::Md5;
pub use message::{ErrorCode, Goodbye, Hello, Message, PROTOCOL_VERSION, Reason, Refusal, Role};
pub use names::{FileName, GroupName, InvalidName, Name};
pub use transfer::{Manifest, ManifestEntry, RelPath, TransferKey, TransferMessage};
