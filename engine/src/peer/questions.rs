//! The questions waiting for the user's `/accept` or `/decline`
//! ([`Questions`]): chat requests, group invitations and file offers, on one
//! queue, oldest first. Owns the queue and each question's expiry timer
//! (`Timer::QuestionExpiry`); what an answer or an expiry means is the
//! asking room's business, so the question comes back as a value.

use std::collections::BTreeMap;
use std::time::Duration;

use crate::error::CommandError;
use crate::ids::{RequestId, TransferId};
use crate::peer::io::{Io, Timer};
use crate::wire::{GroupName, Name};

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
    /// A video call from this peer.
    Call(Name),
}

/// The questions waiting for the user, oldest first.
#[derive(Debug, Default)]
pub(crate) struct Questions {
    next: u64,
    pending: BTreeMap<RequestId, Question>,
}

impl Questions {
    /// Queues `q` without an expiry of its own (a file offer expires by its
    /// transfer's deadline).
    pub fn add(&mut self, q: Question) -> RequestId {
        self.next += 1;
        let id = RequestId(self.next);
        self.pending.insert(id, q);
        id
    }

    /// Queues `q`, which expires unanswered after `timeout`.
    pub fn ask(&mut self, io: &mut Io, q: Question, timeout: Duration) -> RequestId {
        let id = self.add(q);
        io.set_timer(Timer::QuestionExpiry(id), timeout);
        id
    }

    /// The user answers question `id`, or the oldest one: it leaves the queue.
    pub fn answer(
        &mut self,
        io: &mut Io,
        id: Option<RequestId>,
    ) -> Result<(RequestId, Question), CommandError> {
        let Some((id, q)) = self.take(id) else {
            return Err(id.map_or(CommandError::NothingWaiting, CommandError::NoSuchQuestion));
        };
        io.timers.cancel(&Timer::QuestionExpiry(id));
        Ok((id, q))
    }

    /// The question `id`, or the oldest one.
    fn take(&mut self, id: Option<RequestId>) -> Option<(RequestId, Question)> {
        let id = match id {
            Some(id) => id,
            None => *self.pending.keys().next()?,
        };
        self.pending.remove(&id).map(|q| (id, q))
    }

    /// Question `id` is moot (its asker gave up, or it expired).
    pub fn remove(&mut self, id: RequestId) -> Option<Question> {
        self.pending.remove(&id)
    }

    /// Question `id` is moot before its expiry: both go.
    pub fn withdraw(&mut self, io: &mut Io, id: RequestId) {
        self.pending.remove(&id);
        io.timers.cancel(&Timer::QuestionExpiry(id));
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
}
