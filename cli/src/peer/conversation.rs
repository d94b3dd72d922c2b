//! [`Conversation`]: whom a plain line of text goes to.
//!
//! Shared by the input thread (which reads it to address plain text, and sets
//! it on `/msg`) and the driver thread (which sets it when a chat opens). A
//! group joined, or an incoming message, becomes current only when no
//! conversation is, so nothing arriving while you type redirects your line
//! to someone else; a chat that closes stops being current.

use std::sync::{Arc, Mutex};

use confab_engine::peer::{PeerEvent, Target};

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

    /// Follows what the peer reports; true when `event` made its
    /// conversation the current one.
    pub fn follow(&self, event: &PeerEvent) -> bool {
        let Ok(mut c) = self.0.lock() else {
            return false;
        };
        let new = match event {
            PeerEvent::ChatOpened { with } => Target::User(with.clone()),
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
    use confab_engine::wire::Name;

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
        c.follow(&PeerEvent::ChatOpened { with: n("dave") });
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
}
