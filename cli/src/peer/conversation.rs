//! [`Conversation`]: whom a plain line of text goes to.
//!
//! Shared by the input thread (which reads it to address plain text, and sets
//! it on `/msg`) and the driver thread (which sets it when a chat opens). A
//! group joined, or an incoming message, becomes current only when no
//! conversation is, so nothing arriving while you type redirects your line
//! to someone else; a chat that closes stops being current.

use std::sync::{Arc, Mutex};

use confab_engine::Record;
use confab_engine::peer::{PeerEvent, PeerRecord, Target};
use confab_engine::wire::Name;

/// The current conversation, shared between threads.
#[derive(Debug, Clone, Default)]
pub struct Conversation(Arc<Mutex<Option<Target>>>);

impl Conversation {
    /// The current conversation, if any.
    pub fn current(&self) -> Option<Target> {
        self.0.lock().map(|c| c.clone()).unwrap_or(None)
    }

    /// Makes `target` current (the user chose it).
    pub fn choose(&self, target: Target) {
        if let Ok(mut c) = self.0.lock() {
            *c = Some(target);
        }
    }

    /// Picks up where the last run left off: with exactly one chat still
    /// open in `records`, plain lines go to it, as they did. Returns what to
    /// tell the user, if anything.
    pub fn restore(&self, records: &[Record]) -> Option<String> {
        let chats: Vec<&Name> = records
            .iter()
            .filter_map(|r| match r {
                Record::Peer(PeerRecord::Chat(n)) => Some(n),
                _ => None,
            })
            .collect();
        match chats.as_slice() {
            [] => None,
            [one] => {
                self.choose(Target::User((*one).clone()));
                Some(format!(
                    "your chat with {one} is still open; plain lines go to {one}"
                ))
            }
            many => {
                let names: Vec<&str> = many.iter().map(|n| n.as_str()).collect();
                Some(format!(
                    "your chats with {} are still open; /msg NAME TEXT writes to one",
                    names.join(", ")
                ))
            }
        }
    }

    /// Follows what the peer reports; true when `event` made its
    /// conversation the current one.
    pub fn follow(&self, event: &PeerEvent) -> bool {
        let Ok(mut c) = self.0.lock() else {
            return false;
        };
        let new = match event {
            PeerEvent::ChatOpened { with, .. } => Target::User(with.clone()),
            PeerEvent::GroupJoined { group, .. } if c.is_none() => Target::Group(group.clone()),
            PeerEvent::ChatClosed { with, .. } if *c == Some(Target::User(with.clone())) => {
                *c = None;
                return false;
            }
            PeerEvent::Message { from, to, .. } if c.is_none() => match to {
                Target::Group(g) => Target::Group(g.clone()),
                Target::User(_) => Target::User(from.clone()),
            },
            _ => return false,
        };
        *c = Some(new);
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(s: &str) -> Name {
        Name::new(s).unwrap()
    }

    #[test]
    fn follows_chats_but_never_steals_the_current_one() {
        let c = Conversation::default();
        let msg = |from: &str| PeerEvent::Message {
            from: n(from),
            to: Target::User(n("me")),
            text: "x".into(),
        };
        c.follow(&msg("bob"));
        assert_eq!(c.current(), Some(Target::User(n("bob"))));
        c.follow(&msg("carol"));
        assert_eq!(c.current(), Some(Target::User(n("bob"))), "not stolen");
        c.follow(&PeerEvent::ChatOpened {
            with: n("dave"),
            via: confab_engine::peer::Via::Direct,
        });
        assert_eq!(c.current(), Some(Target::User(n("dave"))));
        let g = confab_engine::wire::GroupName::new("#g").unwrap();
        let joined = PeerEvent::GroupJoined {
            group: g.clone(),
            members: vec![],
        };
        assert!(
            !c.follow(&joined),
            "a group joined does not take the open chat's place"
        );
        assert_eq!(c.current(), Some(Target::User(n("dave"))));
        c.follow(&PeerEvent::ChatClosed {
            with: n("bob"),
            reason: String::new(),
        });
        assert_eq!(
            c.current(),
            Some(Target::User(n("dave"))),
            "another chat closed"
        );
        c.follow(&PeerEvent::ChatClosed {
            with: n("dave"),
            reason: String::new(),
        });
        assert_eq!(c.current(), None);
        assert!(c.follow(&joined), "with nothing open, it does");
        assert_eq!(c.current(), Some(Target::Group(g)));
    }

    #[test]
    fn a_chat_left_open_last_time_is_current_again() {
        let c = Conversation::default();
        assert_eq!(c.restore(&[]), None);
        let chat = |s: &str| Record::Peer(PeerRecord::Chat(n(s)));
        let said = c.restore(&[chat("bob")]).unwrap();
        assert!(said.contains("plain lines go to bob"), "{said}");
        assert_eq!(c.current(), Some(Target::User(n("bob"))));

        let c = Conversation::default();
        let said = c.restore(&[chat("bob"), chat("carol")]).unwrap();
        assert!(said.contains("bob, carol"), "{said}");
        assert_eq!(c.current(), None, "which one is not ours to guess");
    }
}
