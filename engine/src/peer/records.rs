//! What a peer keeps durably, as [`Record::Peer`](crate::record::Record::Peer) records.
//!
//! The types live in [`crate::record::peer`] (below the roles, so the
//! driver interface can name them); this module re-exports them.
//!
//! Keys are `kind/...` text built only from names (which hold no `/`), so
//! each piece of state has exactly one key and a later record replaces the
//! earlier one. Numbers in keys are zero-padded so a driver listing keys in
//! order lists history and outbox in order too.
//!
//! Exactly-once across restarts rests on three of these: the outbox
//! ([`PeerRecord::Outbox`]) and the next number of each outgoing stream
//! ([`PeerRecord::NextSeq`]) on the sender, and the delivered-up-to number of
//! each incoming stream ([`PeerRecord::Delivered`]) on the receiver, which is
//! persisted before the acknowledgement is sent.

pub use crate::record::peer::{
    GroupRecord, OutItem, PeerRecord, chat_key, friend_key, group_key, history_key, outbox_key,
};
