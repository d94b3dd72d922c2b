//! The friends list ([`Friends`]): kept durably (`friend/<name>` records),
//! shown with each friend's presence and how many messages wait for them
//! (facts the role machine passes in). Owns the list and its records only.
//!
//! Being on this peer's friends list is standing consent: a chat request
//! from a friend opens the chat without asking the user, and messages to a
//! friend may be written while no chat is open (they are queued durably and
//! delivered once the friend is online and has accepted; see the `peer`
//! module documentation). Presence comes from the `presence` room.

use std::collections::BTreeSet;

use crate::error::{CommandError, SelfAction};
use crate::peer::event::{FriendStatus, PeerEvent};
use crate::peer::io::Io;
use crate::peer::records::{PeerRecord, friend_key};
use crate::record::RecordKey;
use crate::wire::Name;

/// See the module documentation.
#[derive(Debug, Default)]
pub(crate) struct Friends {
    names: BTreeSet<Name>,
}

impl Friends {
    pub fn restore(&mut self, name: Name) {
        self.names.insert(name);
    }

    pub fn contains(&self, name: &Name) -> bool {
        self.names.contains(name)
    }

    /// `/friends`: each friend, whether it is `online`, and how many
    /// messages wait for it (`queued`).
    pub fn report(&self, io: &mut Io, online: &BTreeSet<Name>, queued: impl Fn(&Name) -> usize) {
        let friends = self
            .names
            .iter()
            .map(|n| FriendStatus {
                name: n.clone(),
                online: online.contains(n),
                queued: queued(n),
            })
            .collect();
        io.event(PeerEvent::Friends { friends });
    }

    /// `/friend add NAME` (`me` is this peer).
    pub fn add(&mut self, io: &mut Io, me: &Name, name: Name) -> Result<(), CommandError> {
        if name == *me {
            return Err(CommandError::Yourself(SelfAction::Befriend));
        }
        if self.names.insert(name.clone()) {
            io.persist(PeerRecord::Friend(name));
        }
        Ok(())
    }

    /// `/friend remove NAME`.
    pub fn remove(&mut self, io: &mut Io, name: &Name) -> Result<(), CommandError> {
        if !self.names.remove(name) {
            return Err(CommandError::NotAFriend(name.clone()));
        }
        io.forget(RecordKey(friend_key(name)));
        Ok(())
    }
}
