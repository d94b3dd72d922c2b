//! `arbitrary` generator types that always build a valid [`Message`].
//!
//! Raw bytes almost never decode, so an engine fed only raw bytes never gets
//! past its first frame. These types mirror the message enum, derive
//! `Arbitrary`, and [`Build`] a message that is valid by construction: names
//! obey the naming rules, texts and lists are cut to their limits. The engine
//! stays free of an `arbitrary` dependency.
//!
//! Names and passwords come mostly from small pools, so that a register, a
//! log-in and a look-up in one input are likely to be about the same account:
//! that is what reaches the interesting states (a session replaced by a second
//! log-in, a look-up of an online peer, a wrong password).
//!
//! One file per protocol family (`registry`, `peer`, `transfer`) below the
//! envelope (`message`); `common` holds what they share. Everything is
//! re-exported here, so users name `generate::X`.

mod common;
mod message;
mod peer;
mod registry;
mod transfer;

pub use self::common::*;
pub use self::message::*;
pub use self::peer::*;
pub use self::registry::*;
pub use self::transfer::*;
