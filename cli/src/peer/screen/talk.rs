//! [`Talks`]: the conversations the interface lists, each with its own
//! scrollback: the status window first (what the program and the registry
//! say), then one per person and per group, in the order they appeared.
//! Who is online, unread counts, and the delivery mark of each message sent
//! (pending until the engine took it, sent, then delivered once the other
//! side acknowledged it). Pure state.
//!
//! Invariant: every text stored here was made safe for a terminal when it
//! was stored ([`crate::safe`]), so panels draw it as it is.

use std::collections::{BTreeMap, VecDeque};

use confab_engine::peer::Target;
use confab_engine::wire::Name;

use crate::safe::{Shown, terminal_line};

/// Lines kept per conversation; the oldest go first.
pub const SCROLLBACK: usize = 5000;

/// Who wrote an entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Who {
    /// Someone else (a name checked on the wire).
    Peer(Name),
    /// This peer.
    Me,
    /// The program: a notice, an answer, an error.
    Notice,
    /// A mistake or a failure.
    Error,
}

/// Where a message this peer sent is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mark {
    /// Not a message of ours.
    None,
    /// Handed to the engine; no sequence number yet.
    Pending,
    /// Sent with this sequence number; not acknowledged yet.
    Sent(u64),
    /// Waiting for an offline friend.
    Queued(u64),
    /// The other side acknowledged it.
    Delivered,
    /// The engine refused it.
    Failed,
}

/// One line of a conversation (it may wrap on screen).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Milliseconds since the Unix epoch.
    pub at_ms: u64,
    pub who: Who,
    /// Safe for a terminal; may hold line breaks the program wrote.
    pub text: String,
    pub mark: Mark,
}

/// One conversation.
#[derive(Debug, Clone, Default)]
pub struct Talk {
    /// `None` for the status window.
    pub target: Option<Target>,
    pub entries: VecDeque<Entry>,
    pub unread: usize,
    /// Screen lines scrolled up from the bottom (0: following).
    pub scroll: usize,
    /// A chat is open with them, or this peer is in the group.
    pub open: bool,
}

impl Talk {
    fn push(&mut self, entry: Entry) {
        if self.entries.len() == SCROLLBACK {
            self.entries.pop_front();
        }
        self.entries.push_back(entry);
    }

    /// The list's label: the name, `#group`, or `status`.
    pub fn label(&self) -> String {
        match &self.target {
            None => "status".into(),
            Some(t) => t.to_string(),
        }
    }
}

/// Every conversation, and who is online.
#[derive(Debug, Clone)]
pub struct Talks {
    list: Vec<Talk>,
    selected: usize,
    online: BTreeMap<Name, bool>,
}

impl Default for Talks {
    fn default() -> Self {
        Self {
            list: vec![Talk::default()],
            selected: 0,
            online: BTreeMap::new(),
        }
    }
}

impl Talks {
    pub fn list(&self) -> &[Talk] {
        &self.list
    }

    pub fn selected(&self) -> usize {
        self.selected
    }

    pub fn current(&self) -> &Talk {
        &self.list[self.selected]
    }

    /// Where plain text typed now goes: the conversation shown.
    pub fn current_target(&self) -> Option<&Target> {
        self.current().target.as_ref()
    }

    /// Shows conversation `i` (ignored past the end) and marks it read.
    pub fn select(&mut self, i: usize) {
        if i < self.list.len() {
            self.selected = i;
            self.list[i].unread = 0;
        }
    }

    /// The next (`forward`) or previous conversation, round the list.
    pub fn step(&mut self, forward: bool) {
        let n = self.list.len();
        let i = if forward {
            (self.selected + 1) % n
        } else {
            (self.selected + n - 1) % n
        };
        self.select(i);
    }

    /// The conversation with `target`, made if new.
    pub fn index(&mut self, target: &Target) -> usize {
        if let Some(i) = self.find(target) {
            return i;
        }
        self.list.push(Talk {
            target: Some(target.clone()),
            ..Talk::default()
        });
        self.list.len() - 1
    }

    pub fn find(&self, target: &Target) -> Option<usize> {
        self.list
            .iter()
            .position(|t| t.target.as_ref() == Some(target))
    }

    pub fn talk_mut(&mut self, i: usize) -> &mut Talk {
        &mut self.list[i]
    }

    /// Adds `entry` to conversation `i`; unread unless shown.
    pub fn add(&mut self, i: usize, entry: Entry) {
        let counts = matches!(entry.who, Who::Peer(_));
        let talk = &mut self.list[i];
        talk.push(entry);
        if i != self.selected && counts {
            talk.unread += 1;
        }
        // A conversation scrolled back stays where the reader is.
        if talk.scroll > 0 {
            talk.scroll += 1;
        }
    }

    /// A notice (program words, made safe line by line) in conversation `i`.
    pub fn notice(&mut self, i: usize, at_ms: u64, who: Who, text: &str) {
        let entry = Entry {
            at_ms,
            who,
            text: terminal_line(text),
            mark: Mark::None,
        };
        self.add(i, entry);
    }

    /// A message from the network into conversation `i`.
    pub fn message(&mut self, i: usize, at_ms: u64, from: Name, text: &str) {
        let entry = Entry {
            at_ms,
            who: Who::Peer(from),
            text: Shown(text).to_string(),
            mark: Mark::None,
        };
        self.add(i, entry);
    }

    /// A message typed here, pending until the engine gives its number.
    pub fn mine(&mut self, target: &Target, at_ms: u64, text: &str) {
        let i = self.index(target);
        let entry = Entry {
            at_ms,
            who: Who::Me,
            text: Shown(text).to_string(),
            mark: Mark::Pending,
        };
        self.add(i, entry);
    }

    /// The engine took the oldest pending message to `to` as `seq`.
    pub fn sent(&mut self, to: &Target, seq: u64, queued: bool) {
        if let Some(e) = self.pending(to) {
            e.mark = if queued {
                Mark::Queued(seq)
            } else {
                Mark::Sent(seq)
            };
        }
    }

    /// The engine refused the oldest pending message to `to`.
    pub fn refused(&mut self, to: &Target) {
        if let Some(e) = self.pending(to) {
            e.mark = Mark::Failed;
        }
    }

    /// Whether a message to `to` waits for the engine's word.
    pub fn has_pending(&self, to: &Target) -> bool {
        self.find(to)
            .is_some_and(|i| self.list[i].entries.iter().any(|e| e.mark == Mark::Pending))
    }

    fn pending(&mut self, to: &Target) -> Option<&mut Entry> {
        let i = self.find(to)?;
        self.list[i]
            .entries
            .iter_mut()
            .find(|e| e.mark == Mark::Pending)
    }

    /// The other side acknowledged message `seq` to `to`.
    pub fn delivered(&mut self, to: &Target, seq: u64) {
        let Some(i) = self.find(to) else { return };
        for e in self.list[i].entries.iter_mut().rev() {
            if matches!(e.mark, Mark::Sent(s) | Mark::Queued(s) if s == seq) {
                e.mark = Mark::Delivered;
                return;
            }
        }
    }

    pub fn set_online(&mut self, name: &Name, online: bool) {
        self.online.insert(name.clone(), online);
    }

    /// Known online (`Some(true)`), known offline, or not known.
    pub fn online(&self, name: &Name) -> Option<bool> {
        self.online.get(name).copied()
    }

    /// Every name this interface has seen, for completion.
    pub fn names(&self) -> impl Iterator<Item = &Name> {
        self.online.keys()
    }

    /// Scrolls the shown conversation by `lines` (up when positive).
    pub fn scroll(&mut self, up: bool, lines: usize) {
        let t = &mut self.list[self.selected];
        t.scroll = if up {
            t.scroll.saturating_add(lines)
        } else {
            t.scroll.saturating_sub(lines)
        };
    }

    /// Keeps the shown conversation's scroll within its `max` lines.
    pub fn clamp_scroll(&mut self, max: usize) {
        let t = &mut self.list[self.selected];
        t.scroll = t.scroll.min(max);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(s: &str) -> Name {
        Name::new(s).unwrap()
    }

    #[test]
    fn marks_follow_the_engine_and_the_other_side() {
        let mut t = Talks::default();
        let bob = Target::User(n("bob"));
        t.mine(&bob, 0, "one");
        t.mine(&bob, 0, "two");
        t.sent(&bob, 7, false);
        t.sent(&bob, 8, false);
        t.delivered(&bob, 8);
        let i = t.find(&bob).unwrap();
        let marks: Vec<Mark> = t.list()[i].entries.iter().map(|e| e.mark).collect();
        assert_eq!(marks, [Mark::Sent(7), Mark::Delivered]);
    }

    #[test]
    fn unread_counts_only_what_is_not_shown() {
        let mut t = Talks::default();
        let bob = t.index(&Target::User(n("bob")));
        t.message(bob, 0, n("bob"), "hi\x1b[2J");
        t.message(bob, 0, n("bob"), "again");
        assert_eq!(t.list()[bob].unread, 2);
        assert_eq!(t.list()[bob].entries[0].text, "hi\\e[2J", "made safe");
        t.select(bob);
        assert_eq!(t.list()[bob].unread, 0);
        t.message(bob, 0, n("bob"), "seen");
        assert_eq!(t.list()[bob].unread, 0);
    }

    #[test]
    fn a_long_scrollback_drops_its_oldest() {
        let mut t = Talks::default();
        for i in 0..SCROLLBACK + 3 {
            t.notice(0, 0, Who::Notice, &i.to_string());
        }
        assert_eq!(t.list()[0].entries.len(), SCROLLBACK);
        assert_eq!(t.list()[0].entries[0].text, "3");
    }
}
