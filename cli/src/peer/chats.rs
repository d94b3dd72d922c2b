//! [`Chats`]: the chats this session has seen asked for and opened, so the
//! human printer can say "no chat with dave" for a request that never
//! opened (declined, unanswered, no such name) instead of "chat with dave
//! closed", and acknowledge a `/chat` at once instead of staying silent
//! until the other side answers. Pure bookkeeping over events.

use std::collections::HashSet;

use confab_engine::peer::PeerEvent;
use confab_engine::wire::Name;

#[derive(Debug, Default)]
pub struct Chats {
    me: Option<Name>,
    /// Asked by us or asking us, not open yet.
    pending: HashSet<Name>,
    open: HashSet<Name>,
}

/// How a closed chat is to be worded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Closed {
    /// It was open (or opened before a restart, which this session cannot
    /// know): "chat with X closed".
    WasOpen,
    /// A request that never opened: "no chat with X".
    NeverOpened,
}

impl Chats {
    /// Follows `event`; for a `ChatClosed`, how to word it.
    pub fn follow(&mut self, event: &PeerEvent) -> Option<Closed> {
        match event {
            PeerEvent::Ready { name, .. } => self.me = Some(name.clone()),
            PeerEvent::ChatRequest { from, .. } => {
                self.pending.insert(from.clone());
            }
            PeerEvent::ChatOpened { with, .. } => {
                self.pending.remove(with);
                self.open.insert(with.clone());
            }
            PeerEvent::ChatClosed { with, .. } => {
                let open = self.open.remove(with);
                let pending = self.pending.remove(with);
                return Some(if pending && !open {
                    Closed::NeverOpened
                } else {
                    Closed::WasOpen
                });
            }
            _ => {}
        }
        None
    }

    /// `/chat NAME` was handed to the peer: the line that says so, unless
    /// the peer itself answers at once (a chat already open, or yourself).
    pub fn asking(&mut self, name: &Name) -> Option<String> {
        if self.open.contains(name) || self.me.as_ref() == Some(name) {
            return None;
        }
        if !self.pending.insert(name.clone()) {
            return None;
        }
        Some(format!(
            "* asked {name} for a chat; waiting for the answer (/close {name} to stop asking)"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(s: &str) -> Name {
        Name::new(s).unwrap()
    }

    fn closed(with: &str) -> PeerEvent {
        PeerEvent::ChatClosed {
            with: n(with),
            reason: "r".into(),
        }
    }

    #[test]
    fn a_request_that_never_opened_did_not_close() {
        let mut c = Chats::default();
        c.follow(&PeerEvent::Ready {
            name: n("me"),
            listen: "127.0.0.1:1".parse().unwrap(),
            fingerprint: String::new(),
        });
        assert!(c.asking(&n("dave")).unwrap().contains("waiting"));
        assert_eq!(c.asking(&n("dave")), None, "said once");
        assert_eq!(c.asking(&n("me")), None);
        assert_eq!(c.follow(&closed("dave")), Some(Closed::NeverOpened));

        c.asking(&n("bob"));
        c.follow(&PeerEvent::ChatOpened {
            with: n("bob"),
            via: confab_engine::peer::Via::Direct,
        });
        assert_eq!(c.asking(&n("bob")), None, "already open");
        assert_eq!(c.follow(&closed("bob")), Some(Closed::WasOpen));
        assert_eq!(
            c.follow(&closed("carol")),
            Some(Closed::WasOpen),
            "restored from before a restart"
        );
    }
}
