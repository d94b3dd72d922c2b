//! One-to-one chats and their consent ([`Chats`]). Owns each chat's state,
//! its `Timer::ChatExpiry` and its `chat/<name>` record; what touches the
//! links, the streams or the questions comes back as [`ChatOut`]s, which the
//! role machine carries out in order right after the call.
//!
//! A chat with a peer is in one of three states: `Asking` (we asked, waiting
//! for their answer, bounded by `request_timeout`), `Asked` (they asked, the
//! user has not answered, bounded the same way) or `Open`. Nothing is
//! delivered on a chat that is not open: the receiver takes direct messages
//! only while its side is open, and the sender sends them only while its side
//! is (queued messages wait in the outbox). Both sides report every end with
//! `ChatClosed` and a reason.
//!
//! Only `Open` is persisted, so a restarted peer resumes its chats. After a
//! reconnect each side reminds the other of an open chat (`ChatAccept`), and
//! a side that no longer has it answers `ChatClose`: chats heal after lost
//! messages without either side having to be told twice. Two peers asking
//! each other at once both get an open chat.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use crate::bounded::Text;
use crate::error::{CommandError, SelfAction};
use crate::ids::RequestId;
use crate::limits::MAX_OUTBOX_PER_PEER;
use crate::peer::event::{PeerEvent, Via};
use crate::peer::io::{Io, Timer};
use crate::peer::records::{PeerRecord, chat_key};
use crate::record::RecordKey;
use crate::wire::Name;
use crate::wire::peer::PeerMessage;

/// Where a chat with one peer stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ChatState {
    Asking,
    Asked(RequestId),
    Open,
}

/// What a chat needs done outside itself, in this order.
#[derive(Debug)]
pub(crate) enum ChatOut {
    /// Send this to the peer over its open link (lost if none).
    Send(Name, PeerMessage),
    /// Send the peer `ChatRequest`, or start reaching it.
    Request(Name),
    /// Ask the user (a question, which expires); then [`Chats::asked`].
    AskUser(Name),
    /// Question `id` is moot.
    Withdraw(RequestId),
    /// Open the chat ([`Chats::open`]), then send what waits for the peer.
    Open(Name),
    /// The chat ended: drop what waits for the peer, then report `reason`.
    Closed { with: Name, reason: String },
}

/// See the module documentation.
#[derive(Debug)]
pub(crate) struct Chats {
    me: Name,
    timeout: Duration,
    state: BTreeMap<Name, ChatState>,
}

impl Chats {
    /// No chats; requests wait `timeout` for an answer.
    pub fn new(me: Name, timeout: Duration) -> Self {
        Self {
            me,
            timeout,
            state: BTreeMap::new(),
        }
    }

    pub fn restore(&mut self, name: Name) {
        self.state.insert(name, ChatState::Open);
    }

    pub fn get(&self, name: &Name) -> Option<ChatState> {
        self.state.get(name).copied()
    }

    pub fn is_open(&self, name: &Name) -> bool {
        self.get(name) == Some(ChatState::Open)
    }

    /// Whether this chat needs a connection.
    pub fn wants(&self, name: &Name) -> bool {
        matches!(self.get(name), Some(ChatState::Asking | ChatState::Open))
    }

    pub fn names(&self) -> BTreeSet<Name> {
        self.state
            .iter()
            .filter(|(_, s)| !matches!(s, ChatState::Asked(_)))
            .map(|(n, _)| n.clone())
            .collect()
    }

    fn set(&mut self, name: &Name, s: ChatState) {
        self.state.insert(name.clone(), s);
    }

    fn remove(&mut self, name: &Name) -> Option<ChatState> {
        self.state.remove(name)
    }

    fn secs(&self) -> u64 {
        self.timeout.as_secs()
    }

    /// Opens the chat with `name` (see [`ChatOut::Open`]).
    pub fn open(&mut self, io: &mut Io, name: &Name, via: Via) {
        self.set(name, ChatState::Open);
        io.timers.cancel(&Timer::ChatExpiry(name.clone()));
        io.persist(PeerRecord::Chat(name.clone()));
        io.event(PeerEvent::ChatOpened {
            with: name.clone(),
            via,
        });
    }

    /// `from` asked and the user was asked: question `id` (see [`ChatOut::AskUser`]).
    pub fn asked(&mut self, io: &mut Io, from: &Name, id: RequestId) {
        self.set(from, ChatState::Asked(id));
        io.event(PeerEvent::ChatRequest {
            id,
            from: from.clone(),
        });
    }

    /// Ends the chat with `name` on this side; tells them `tell` if given.
    fn end(
        &mut self,
        io: &mut Io,
        name: &Name,
        reason: String,
        tell: Option<&str>,
    ) -> Vec<ChatOut> {
        let Some(state) = self.remove(name) else {
            return Vec::new();
        };
        io.timers.cancel(&Timer::ChatExpiry(name.clone()));
        let mut outs = Vec::new();
        if let ChatState::Asked(id) = state {
            outs.push(ChatOut::Withdraw(id));
        }
        if state == ChatState::Open {
            io.forget(RecordKey(chat_key(name)));
        }
        if let Some(why) = tell {
            let msg = PeerMessage::ChatClose {
                reason: Text::truncate(why),
            };
            outs.push(ChatOut::Send(name.clone(), msg));
        }
        outs.push(ChatOut::Closed {
            with: name.clone(),
            reason,
        });
        outs
    }

    /// `/chat NAME`.
    pub fn cmd_chat(
        &mut self,
        io: &mut Io,
        name: Name,
        via: Via,
    ) -> Result<Vec<ChatOut>, CommandError> {
        if name == self.me {
            return Err(CommandError::Yourself(SelfAction::Chat));
        }
        Ok(match self.get(&name) {
            Some(ChatState::Open) => {
                io.event(PeerEvent::ChatOpened { with: name, via });
                Vec::new()
            }
            Some(ChatState::Asking) => {
                io.notice(format!("already waiting for {name} to answer"));
                Vec::new()
            }
            Some(ChatState::Asked(id)) => vec![
                ChatOut::Withdraw(id),
                ChatOut::Send(name.clone(), PeerMessage::ChatAccept),
                ChatOut::Open(name),
            ],
            None => self.ask(io, &name),
        })
    }

    /// Asks `name` for a chat, now if connected, else once connected.
    fn ask(&mut self, io: &mut Io, name: &Name) -> Vec<ChatOut> {
        self.set(name, ChatState::Asking);
        io.set_timer(Timer::ChatExpiry(name.clone()), self.timeout);
        vec![ChatOut::Request(name.clone())]
    }

    /// The user answered `name`'s chat request.
    pub fn answer(&mut self, io: &mut Io, name: Name, yes: bool) -> Vec<ChatOut> {
        if yes {
            return vec![
                ChatOut::Send(name.clone(), PeerMessage::ChatAccept),
                ChatOut::Open(name),
            ];
        }
        let tell = format!("{} declined the chat", self.me);
        self.end(io, &name, "you declined".into(), Some(&tell))
    }

    /// `/close NAME`.
    pub fn cmd_close(&mut self, io: &mut Io, name: &Name) -> Result<Vec<ChatOut>, CommandError> {
        if self.get(name).is_none() {
            return Err(CommandError::NoChat(name.clone()));
        }
        let tell = format!("{} closed the chat", self.me);
        Ok(self.end(io, name, "you closed it".into(), Some(&tell)))
    }

    /// Whether a message may be written to `name` now: `friend` if `name` is
    /// on the friends list, `waiting` what already waits for them.
    pub fn may_message(
        &self,
        name: &Name,
        friend: bool,
        waiting: usize,
    ) -> Result<(), CommandError> {
        if *name == self.me {
            return Err(CommandError::Yourself(SelfAction::Message));
        }
        match (self.get(name), friend) {
            (Some(ChatState::Open | ChatState::Asking), _) | (None, true) => {}
            (Some(ChatState::Asked(id)), _) => {
                return Err(CommandError::AnswerFirst {
                    name: name.clone(),
                    id,
                });
            }
            (None, false) => return Err(CommandError::NoChatAskFirst(name.clone())),
        }
        if waiting >= MAX_OUTBOX_PER_PEER {
            return Err(CommandError::OutboxFull(name.clone()));
        }
        Ok(())
    }

    /// After a (re)connection: remind, ask, or start asking for the
    /// `waiting` queued messages.
    pub fn sync(&mut self, io: &mut Io, name: &Name, waiting: usize) -> Vec<ChatOut> {
        match self.get(name) {
            Some(ChatState::Open) => vec![ChatOut::Send(name.clone(), PeerMessage::ChatAccept)],
            Some(ChatState::Asking) => vec![ChatOut::Send(name.clone(), PeerMessage::ChatRequest)],
            Some(ChatState::Asked(_)) => Vec::new(),
            None if waiting > 0 => self.ask(io, name),
            None => Vec::new(),
        }
    }

    /// `from` asks for a chat; `friend` if it is on the friends list.
    pub fn on_request(&mut self, from: &Name, friend: bool) -> Vec<ChatOut> {
        let accept = || ChatOut::Send(from.clone(), PeerMessage::ChatAccept);
        match self.get(from) {
            Some(ChatState::Open) => vec![accept()],
            // Crossed requests: both asked, so both consent.
            Some(ChatState::Asking) => vec![accept(), ChatOut::Open(from.clone())],
            Some(ChatState::Asked(_)) => Vec::new(),
            None if friend => vec![accept(), ChatOut::Open(from.clone())],
            None => vec![ChatOut::AskUser(from.clone())],
        }
    }

    /// `from` accepted (or reminds us of) a chat.
    pub fn on_accept(&mut self, from: &Name) -> Vec<ChatOut> {
        match self.get(from) {
            Some(ChatState::Asking) => vec![ChatOut::Open(from.clone())],
            Some(ChatState::Open | ChatState::Asked(_)) => Vec::new(),
            None => {
                let msg = PeerMessage::ChatClose {
                    reason: Text::truncate(&format!("{} has no chat open with you", self.me)),
                };
                vec![ChatOut::Send(from.clone(), msg)]
            }
        }
    }

    /// `from` ended the chat.
    pub fn on_close(&mut self, io: &mut Io, from: &Name, reason: &str) -> Vec<ChatOut> {
        self.end(io, from, reason.to_owned(), None)
    }

    /// `Timer::ChatExpiry(name)` fired.
    pub fn expired(&mut self, io: &mut Io, name: &Name) -> Vec<ChatOut> {
        if self.get(name) != Some(ChatState::Asking) {
            return Vec::new();
        }
        let why = format!("{name} did not answer within {} s", self.secs());
        let tell = format!("the chat request from {} expired", self.me);
        self.end(io, name, why, Some(&tell))
    }

    /// The user did not answer question `id`, `name`'s chat request.
    pub fn question_expired(&mut self, io: &mut Io, name: &Name, id: RequestId) -> Vec<ChatOut> {
        if self.get(name) != Some(ChatState::Asked(id)) {
            return Vec::new();
        }
        let why = format!("the chat request from {name} expired unanswered");
        let tell = format!("{} did not answer within {} s", self.me, self.secs());
        self.end(io, name, why, Some(&tell))
    }

    /// The registry says `name` is not online; `friend` and `waiting` as in
    /// [`Chats::may_message`].
    pub fn offline(
        &mut self,
        io: &mut Io,
        name: &Name,
        friend: bool,
        waiting: usize,
    ) -> Vec<ChatOut> {
        if self.get(name) != Some(ChatState::Asking) {
            return Vec::new();
        }
        if friend && waiting > 0 {
            // Queued messages for a friend wait for them to come online.
            self.remove(name);
            io.timers.cancel(&Timer::ChatExpiry(name.clone()));
            io.notice(format!(
                "{name} is not online; your messages wait until they are"
            ));
            Vec::new()
        } else {
            self.end(io, name, format!("{name} is not online"), None)
        }
    }

    /// The registry does not know `name`.
    pub fn unknown(&mut self, io: &mut Io, name: &Name, why: &str) -> Vec<ChatOut> {
        if self.get(name) != Some(ChatState::Asking) {
            return Vec::new();
        }
        self.end(io, name, why.to_owned(), None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(s: &str) -> Name {
        Name::new(s).unwrap()
    }

    #[test]
    fn chat_states_and_wants() {
        let mut c = Chats::new(n("me"), Duration::from_secs(1));
        c.set(&n("a"), ChatState::Asking);
        c.set(&n("b"), ChatState::Asked(RequestId(1)));
        c.restore(n("c"));
        assert!(c.wants(&n("a")) && !c.wants(&n("b")) && c.wants(&n("c")));
        assert!(c.is_open(&n("c")) && !c.is_open(&n("a")));
        assert_eq!(c.names().len(), 2);
    }
}
