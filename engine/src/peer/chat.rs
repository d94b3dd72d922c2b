//! One-to-one chats and their consent ([`Chats`]), and the questions waiting
//! for the user's answer ([`Questions`]).
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

use crate::api::{CommandError, TransferId};
use crate::bounded::Text;
use crate::error::SelfAction;
use crate::limits::{MAX_MESSAGE_LEN, MAX_OUTBOX_PER_PEER};
use crate::peer::Peer;
use crate::peer::command::{RequestId, Target};
use crate::peer::event::PeerEvent;
use crate::peer::io::Timer;
use crate::peer::records::{PeerRecord, chat_key};
use crate::record::RecordKey;
use crate::wire::peer::{Conv, Payload, PeerMessage};
use crate::wire::{GroupName, Name};

/// Where a chat with one peer stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ChatState {
    Asking,
    Asked(RequestId),
    Open,
}

/// See the module documentation.
#[derive(Debug, Default)]
pub(crate) struct Chats {
    state: BTreeMap<Name, ChatState>,
}

impl Chats {
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
}

/// A question waiting for `/accept` or `/decline`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Question {
    Chat(Name),
    Group {
        group: GroupName,
        from: Name,
        members: Vec<Name>,
    },
    /// An offer of a file or folder: the receive transfer waiting for it.
    File(TransferId),
}

/// The questions waiting for the user, oldest first.
#[derive(Debug, Default)]
pub(crate) struct Questions {
    next: u64,
    pending: BTreeMap<RequestId, Question>,
}

impl Questions {
    pub fn add(&mut self, q: Question) -> RequestId {
        self.next += 1;
        let id = RequestId(self.next);
        self.pending.insert(id, q);
        id
    }

    /// The question `id`, or the oldest one.
    pub fn take(&mut self, id: Option<RequestId>) -> Option<(RequestId, Question)> {
        let id = match id {
            Some(id) => id,
            None => *self.pending.keys().next()?,
        };
        self.pending.remove(&id).map(|q| (id, q))
    }

    pub fn remove(&mut self, id: RequestId) -> Option<Question> {
        self.pending.remove(&id)
    }

    /// How many group invitations from `from` are waiting.
    pub fn invites_from(&self, from: &Name) -> usize {
        self.pending
            .values()
            .filter(|q| matches!(q, Question::Group { from: f, .. } if f == from))
            .count()
    }

    /// How many questions are waiting, of every kind.
    pub fn len(&self) -> usize {
        self.pending.len()
    }

    pub fn has_group(&self, group: &GroupName, from: &Name) -> bool {
        self.pending.values().any(
            |q| matches!(q, Question::Group { group: g, from: f, .. } if g == group && f == from),
        )
    }
}

impl Peer {
    fn secs(&self) -> u64 {
        self.config.request_timeout.as_secs()
    }

    fn open_chat(&mut self, name: &Name) {
        self.chats.set(name, ChatState::Open);
        self.io.timers.cancel(&Timer::ChatExpiry(name.clone()));
        self.io.persist(PeerRecord::Chat(name.clone()));
        self.io.event(PeerEvent::ChatOpened { with: name.clone() });
        self.flush(name);
    }

    /// Ends the chat with `name` on this side; tells them `tell` if given.
    fn end_chat(&mut self, name: &Name, reason: String, tell: Option<&str>) {
        let Some(state) = self.chats.remove(name) else {
            return;
        };
        self.io.timers.cancel(&Timer::ChatExpiry(name.clone()));
        if let ChatState::Asked(id) = state {
            self.questions.remove(id);
            self.io.timers.cancel(&Timer::QuestionExpiry(id));
        }
        if state == ChatState::Open {
            self.io.forget(RecordKey(chat_key(name)));
        }
        if let Some(why) = tell {
            let msg = PeerMessage::ChatClose {
                reason: Text::truncate(why),
            };
            self.links.send(&mut self.io, name, msg);
        }
        let dropped = self
            .streams
            .abandon(&mut self.io, name, &Conv::Direct)
            .len();
        self.io.event(PeerEvent::ChatClosed {
            with: name.clone(),
            reason,
        });
        if dropped > 0 {
            self.io.notice(format!(
                "{dropped} message(s) to {name} were not delivered and are dropped"
            ));
        }
    }

    pub(crate) fn cmd_chat(&mut self, name: Name) -> Result<(), CommandError> {
        if &name == self.me() {
            return Err(CommandError::Yourself(SelfAction::Chat));
        }
        match self.chats.get(&name) {
            Some(ChatState::Open) => {
                self.io.event(PeerEvent::ChatOpened { with: name });
            }
            Some(ChatState::Asking) => {
                self.io
                    .notice(format!("already waiting for {name} to answer"));
            }
            Some(ChatState::Asked(id)) => {
                self.questions.remove(id);
                self.io.timers.cancel(&Timer::QuestionExpiry(id));
                self.links
                    .send(&mut self.io, &name, PeerMessage::ChatAccept);
                self.open_chat(&name);
            }
            None => self.ask(&name),
        }
        Ok(())
    }

    /// Asks `name` for a chat, now if connected, else once connected.
    fn ask(&mut self, name: &Name) {
        self.chats.set(name, ChatState::Asking);
        let timeout = self.config.request_timeout;
        self.io.set_timer(Timer::ChatExpiry(name.clone()), timeout);
        if !self
            .links
            .send(&mut self.io, name, PeerMessage::ChatRequest)
        {
            self.ensure_link(name);
        }
    }

    pub(crate) fn cmd_answer(
        &mut self,
        id: Option<RequestId>,
        yes: bool,
    ) -> Result<(), CommandError> {
        let Some((id, q)) = self.questions.take(id) else {
            return Err(id.map_or(CommandError::NothingWaiting, CommandError::NoSuchQuestion));
        };
        self.io.timers.cancel(&Timer::QuestionExpiry(id));
        match q {
            Question::Chat(name) if yes => {
                self.links
                    .send(&mut self.io, &name, PeerMessage::ChatAccept);
                self.open_chat(&name);
            }
            Question::Chat(name) => {
                let tell = format!("{} declined the chat", self.me());
                self.end_chat(&name, "you declined".into(), Some(&tell));
            }
            Question::Group {
                group,
                from,
                members,
            } => self.answer_invite(group, from, members, yes),
            Question::File(id) => self.answer_offer(id, yes),
        }
        Ok(())
    }

    pub(crate) fn cmd_close_chat(&mut self, name: &Name) -> Result<(), CommandError> {
        if self.chats.get(name).is_none() {
            return Err(CommandError::NoChat(name.clone()));
        }
        let tell = format!("{} closed the chat", self.me());
        self.end_chat(name, "you closed it".into(), Some(&tell));
        Ok(())
    }

    pub(crate) fn cmd_message(&mut self, to: Target, text: String) -> Result<(), CommandError> {
        if text.is_empty() {
            return Err(CommandError::EmptyMessage);
        }
        let text: Text<MAX_MESSAGE_LEN> =
            Text::new(text).map_err(|e| CommandError::MessageTooLong { len: e.len })?;
        match to {
            Target::User(name) => self.message_user(name, text),
            Target::Group(group) => self.message_group(group, text),
        }
    }

    fn message_user(
        &mut self,
        name: Name,
        text: Text<MAX_MESSAGE_LEN>,
    ) -> Result<(), CommandError> {
        if &name == self.me() {
            return Err(CommandError::Yourself(SelfAction::Message));
        }
        match (self.chats.get(&name), self.friends.contains(&name)) {
            (Some(ChatState::Open | ChatState::Asking), _) | (None, true) => {}
            (Some(ChatState::Asked(id)), _) => {
                return Err(CommandError::AnswerFirst { name, id });
            }
            (None, false) => {
                return Err(CommandError::NoChatAskFirst(name));
            }
        }
        if self.streams.waiting(&name, &Conv::Direct) >= MAX_OUTBOX_PER_PEER {
            return Err(CommandError::OutboxFull(name));
        }
        let me = self.me().clone();
        self.record(Target::User(name.clone()), me, text.as_str());
        let seq = self.enqueue(&name, &Conv::Direct, None, Payload::Text(text));
        let queued = !(self.chats.is_open(&name) && self.links.is_open(&name));
        self.io.event(PeerEvent::Sent {
            to: Target::User(name),
            seq,
            queued,
        });
        Ok(())
    }

    /// After a (re)connection: remind, ask, or start asking for queued messages.
    pub(crate) fn chat_sync(&mut self, name: &Name) {
        match self.chats.get(name) {
            Some(ChatState::Open) => {
                self.links.send(&mut self.io, name, PeerMessage::ChatAccept);
            }
            Some(ChatState::Asking) => {
                self.links
                    .send(&mut self.io, name, PeerMessage::ChatRequest);
            }
            Some(ChatState::Asked(_)) => {}
            None if self.streams.waiting(name, &Conv::Direct) > 0 => self.ask(name),
            None => {}
        }
    }

    pub(crate) fn on_chat_request(&mut self, from: &Name) {
        match self.chats.get(from) {
            Some(ChatState::Open) => {
                self.links.send(&mut self.io, from, PeerMessage::ChatAccept);
            }
            Some(ChatState::Asking) => {
                // Crossed requests: both asked, so both consent.
                self.links.send(&mut self.io, from, PeerMessage::ChatAccept);
                self.open_chat(from);
            }
            Some(ChatState::Asked(_)) => {}
            None if self.friends.contains(from) => {
                self.links.send(&mut self.io, from, PeerMessage::ChatAccept);
                self.open_chat(from);
            }
            None => {
                let id = self.questions.add(Question::Chat(from.clone()));
                self.chats.set(from, ChatState::Asked(id));
                let timeout = self.config.request_timeout;
                self.io.set_timer(Timer::QuestionExpiry(id), timeout);
                self.io.event(PeerEvent::ChatRequest {
                    id,
                    from: from.clone(),
                });
            }
        }
    }

    pub(crate) fn on_chat_accept(&mut self, from: &Name) {
        match self.chats.get(from) {
            Some(ChatState::Asking) => self.open_chat(from),
            Some(ChatState::Open | ChatState::Asked(_)) => {}
            None => {
                let msg = PeerMessage::ChatClose {
                    reason: Text::truncate(&format!("{} has no chat open with you", self.me())),
                };
                self.links.send(&mut self.io, from, msg);
            }
        }
    }

    pub(crate) fn on_chat_close(&mut self, from: &Name, reason: &str) {
        self.end_chat(from, reason.to_owned(), None);
    }

    pub(crate) fn chat_expired(&mut self, name: &Name) {
        if self.chats.get(name) == Some(ChatState::Asking) {
            let why = format!("{name} did not answer within {} s", self.secs());
            let tell = format!("the chat request from {} expired", self.me());
            self.end_chat(name, why, Some(&tell));
        }
    }

    pub(crate) fn question_expired(&mut self, id: RequestId) {
        match self.questions.remove(id) {
            Some(Question::Chat(name)) if self.chats.get(&name) == Some(ChatState::Asked(id)) => {
                let why = format!("the chat request from {name} expired unanswered");
                let tell = format!("{} did not answer within {} s", self.me(), self.secs());
                self.end_chat(&name, why, Some(&tell));
            }
            Some(Question::Group { group, from, .. }) => {
                self.io.notice(format!(
                    "the invitation from {from} into {group} expired unanswered"
                ));
            }
            // An offer expires by its transfer's own deadline.
            Some(Question::Chat(_) | Question::File(_)) | None => {}
        }
    }

    /// The registry says `name` is not online.
    pub(crate) fn peer_offline(&mut self, name: &Name) {
        if self.chats.get(name) != Some(ChatState::Asking) {
            return;
        }
        if self.friends.contains(name) && self.streams.waiting(name, &Conv::Direct) > 0 {
            // Queued messages for a friend wait for them to come online.
            self.chats.remove(name);
            self.io.timers.cancel(&Timer::ChatExpiry(name.clone()));
            self.io.notice(format!(
                "{name} is not online; your messages wait until they are"
            ));
        } else {
            self.end_chat(name, format!("{name} is not online"), None);
        }
    }

    /// The registry does not know `name`.
    pub(crate) fn peer_unknown(&mut self, name: &Name, why: &str) {
        if self.chats.get(name) == Some(ChatState::Asking) {
            self.end_chat(name, why.to_owned(), None);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(s: &str) -> Name {
        Name::new(s).unwrap()
    }

    #[test]
    fn questions_oldest_first_and_by_id() {
        let mut q = Questions::default();
        let a = q.add(Question::Chat(n("a")));
        let b = q.add(Question::Chat(n("b")));
        let c = q.add(Question::Chat(n("c")));
        assert_eq!(q.take(Some(b)), Some((b, Question::Chat(n("b")))));
        assert_eq!(q.take(None), Some((a, Question::Chat(n("a")))));
        assert_eq!(q.take(Some(b)), None);
        assert_eq!(q.take(None), Some((c, Question::Chat(n("c")))));
        assert_eq!(q.take(None), None);
    }

    #[test]
    fn chat_states_and_wants() {
        let mut c = Chats::default();
        c.set(&n("a"), ChatState::Asking);
        c.set(&n("b"), ChatState::Asked(RequestId(1)));
        c.restore(n("c"));
        assert!(c.wants(&n("a")) && !c.wants(&n("b")) && c.wants(&n("c")));
        assert!(c.is_open(&n("c")) && !c.is_open(&n("a")));
        assert_eq!(c.names().len(), 2);
    }
}
