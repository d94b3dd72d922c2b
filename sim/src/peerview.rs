//! What each peer knows of its own chats, groups and questions, rebuilt from
//! its observations only (events and the commands it carried out).
//!
//! The workload reads it to choose sensible commands (message an open chat,
//! answer a question that is waiting) and the messages checker reads group
//! membership from it (to whom a group message went). It never reads an
//! engine, so it is exactly what the trace records.
//!
//! Invariants, mirroring what the peer persists: open chats and group
//! membership survive a crash or restart (the engine restores them from its
//! records without reporting them again); questions waiting for an answer do
//! not (they live in memory only), nor does being stopped. Transfers under
//! way are known from their events (a `tN: ` notice, progress) until they
//! end; a restart forgets them until a restored one reports again. A
//! question the engine refused to have answered (it expired meanwhile) is
//! dropped too, so it cannot block the questions behind it.

use std::collections::{BTreeMap, BTreeSet};

use confab_engine::peer::{PeerCommand, RequestId};
use confab_engine::wire::{GroupName, Name};
use confab_engine::{PeerEvent, TransferId};

use crate::observe::{HostIx, Observation, Observed, SimCommand, SimEvent};

/// A question waiting for the user's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Question {
    /// A chat request from this peer.
    Chat(Name),
    /// An invitation into this group.
    Group(GroupName),
    /// A file offered by this peer.
    File(Name),
    /// A video call from this peer.
    Call(Name),
}

/// One peer's view of itself. See the module documentation.
#[derive(Debug, Clone, Default)]
pub struct PeerView {
    /// The software is running and has not quit (or been stopped).
    pub running: bool,
    /// Chats reported open and not closed since.
    pub open_chats: BTreeSet<Name>,
    /// Groups this peer is a full member of, with the members it knows.
    pub groups: BTreeMap<GroupName, BTreeSet<Name>>,
    /// Questions waiting, oldest first.
    pub questions: BTreeMap<RequestId, Question>,
    /// Friends, as this peer's commands made them.
    pub friends: BTreeSet<Name>,
    /// Transfers under way (either side), as far as events tell.
    pub transfers: BTreeSet<TransferId>,
    /// Video calls up, with whom (a call lives in memory only: a restart
    /// ends it without a word).
    pub calls: BTreeSet<Name>,
}

impl PeerView {
    fn event(&mut self, e: &PeerEvent) {
        match e {
            PeerEvent::ChatOpened { with, .. } => {
                self.open_chats.insert(with.clone());
                self.questions
                    .retain(|_, q| *q != Question::Chat(with.clone()));
            }
            PeerEvent::ChatClosed { with, .. } => {
                self.open_chats.remove(with);
                self.questions
                    .retain(|_, q| *q != Question::Chat(with.clone()));
            }
            PeerEvent::ChatRequest { id, from } => {
                self.questions.insert(*id, Question::Chat(from.clone()));
            }
            PeerEvent::GroupInvite { id, group, .. } => {
                self.questions.insert(*id, Question::Group(group.clone()));
            }
            PeerEvent::GroupJoined { group, members } => {
                self.groups
                    .insert(group.clone(), members.iter().cloned().collect());
            }
            PeerEvent::MemberJoined { group, name } => {
                if let Some(m) = self.groups.get_mut(group) {
                    m.insert(name.clone());
                }
            }
            PeerEvent::MemberLeft { group, name } => {
                if let Some(m) = self.groups.get_mut(group) {
                    m.remove(name);
                }
            }
            PeerEvent::FileOffer { id, from, .. } => {
                self.questions.insert(*id, Question::File(from.clone()));
            }
            PeerEvent::TransferProgress { id, .. } => {
                self.transfers.insert(*id);
            }
            PeerEvent::TransferDone { id, .. } | PeerEvent::TransferFailed { id, .. } => {
                self.transfers.remove(id);
            }
            PeerEvent::Notice { message } => {
                if let Some(id) = notice_transfer(message) {
                    self.transfers.insert(id);
                }
            }
            PeerEvent::CallRequest { id, from } => {
                self.questions.insert(*id, Question::Call(from.clone()));
            }
            PeerEvent::CallStarted { with } | PeerEvent::CallEnded { with, .. } => {
                if matches!(e, PeerEvent::CallStarted { .. }) {
                    self.calls.insert(with.clone());
                } else {
                    self.calls.remove(with);
                }
                self.questions
                    .retain(|_, q| *q != Question::Call(with.clone()));
            }
            PeerEvent::Stopped { .. } => {
                self.running = false;
                self.questions.clear();
                self.calls.clear();
            }
            _ => {}
        }
    }

    fn command(&mut self, cmd: &PeerCommand) {
        match cmd {
            PeerCommand::Accept(Some(id)) | PeerCommand::Decline(Some(id)) => {
                self.questions.remove(id);
            }
            PeerCommand::Leave(g) => {
                self.groups.remove(g);
            }
            PeerCommand::FriendAdd(n) => {
                self.friends.insert(n.clone());
            }
            PeerCommand::FriendRemove(n) => {
                self.friends.remove(n);
            }
            _ => {}
        }
    }
}

/// The views of every peer; peer `i` is host `first + i`.
#[derive(Debug, Clone)]
pub struct PeerViews {
    first: HostIx,
    views: Vec<PeerView>,
}

impl PeerViews {
    /// Views of `n` peers on hosts `first..first + n`.
    pub fn new(first: HostIx, n: usize) -> Self {
        Self {
            first,
            views: vec![PeerView::default(); n],
        }
    }

    /// The peer on `host`, if it is one.
    pub fn peer_of(&self, host: HostIx) -> Option<usize> {
        host.checked_sub(self.first)
            .filter(|&i| i < self.views.len())
    }

    /// Peer `i`'s view.
    pub fn get(&self, i: usize) -> &PeerView {
        &self.views[i]
    }

    /// How many peers.
    pub fn len(&self) -> usize {
        self.views.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.views.is_empty()
    }

    /// Takes one observation into account.
    pub fn observe(&mut self, obs: &Observation) {
        let Some(i) = self.peer_of(obs.host) else {
            return;
        };
        let v = &mut self.views[i];
        match &obs.what {
            Observed::Started { .. } => {
                v.running = true;
                v.questions.clear();
                v.transfers.clear();
                v.calls.clear();
            }
            Observed::Crashed { .. } => {
                v.running = false;
                v.questions.clear();
                v.transfers.clear();
                v.calls.clear();
            }
            Observed::Event(SimEvent::Peer(e)) => v.event(e),
            Observed::Command {
                cmd: SimCommand::Peer(cmd),
                refused: None,
            } => v.command(cmd),
            Observed::Command {
                cmd:
                    SimCommand::Peer(PeerCommand::Accept(Some(id)) | PeerCommand::Decline(Some(id))),
                refused: Some(_),
            } => {
                v.questions.remove(id);
            }
            _ => {}
        }
    }
}

/// The transfer a peer's notice is about: the engine starts those with
/// `tN: ` (`"t3: asking peer-002 for x"`, `"t4: peer-001 is downloading y"`).
pub fn notice_transfer(message: &str) -> Option<TransferId> {
    let (id, _) = message.split_once(": ")?;
    let n = id.strip_prefix('t')?;
    if n.is_empty() || !n.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    n.parse().ok().map(TransferId)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transfer_notices() {
        assert_eq!(
            notice_transfer("t12: asking peer-002 for a.bin"),
            Some(TransferId(12))
        );
        assert_eq!(notice_transfer("refused a Get from peer-002: busy"), None);
        assert_eq!(notice_transfer("to: x"), None);
    }
}
