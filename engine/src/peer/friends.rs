//! The friends list ([`Friends`]): kept durably (`friend/<name>` records),
//! shown with each friend's presence and how many messages wait for them.
//!
//! Being on this peer's friends list is standing consent: a chat request
//! from a friend opens the chat without asking the user, and messages to a
//! friend may be written while no chat is open (they are queued durably and
//! delivered once the friend is online and has accepted; see the `peer`
//! module documentation). Presence comes from the registry's pushes and the
//! online list fetched at every log-in.

use std::collections::BTreeSet;

use crate::api::CommandError;
use crate::error::SelfAction;
use crate::peer::Peer;
use crate::peer::event::{FriendStatus, PeerEvent};
use crate::peer::records::{PeerRecord, friend_key};
use crate::record::RecordKey;
use crate::wire::Name;
use crate::wire::peer::Conv;

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
}

impl Peer {
    pub(crate) fn cmd_friends(&mut self) {
        let friends = self
            .friends
            .names
            .iter()
            .map(|n| FriendStatus {
                name: n.clone(),
                online: self.online.contains(n),
                queued: self.streams.waiting(n, &Conv::Direct),
            })
            .collect();
        self.io.event(PeerEvent::Friends { friends });
    }

    pub(crate) fn cmd_friend_add(&mut self, name: Name) -> Result<(), CommandError> {
        if &name == self.me() {
            return Err(CommandError::Yourself(SelfAction::Befriend));
        }
        if self.friends.names.insert(name.clone()) {
            self.io.persist(PeerRecord::Friend(name.clone()));
        }
        self.cmd_friends();
        Ok(())
    }

    pub(crate) fn cmd_friend_remove(&mut self, name: &Name) -> Result<(), CommandError> {
        if !self.friends.names.remove(name) {
            return Err(CommandError::NotAFriend(name.clone()));
        }
        self.io.forget(RecordKey(friend_key(name)));
        self.cmd_friends();
        Ok(())
    }
}
