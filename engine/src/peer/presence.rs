//! Who is online as far as this peer knows ([`Presence`]), and which of
//! those changes the user is told of. Owns the set and
//! [`Timer::PresenceGrace`]; touches nothing else.
//!
//! Only the registry knows when a session ends, so a peer is reported
//! offline only when the registry pushes that news (log-out, heartbeat
//! timeout, its connection closed) — never because this peer lost the
//! registry, or the registry stopped. When the session is back, the roster
//! (everyone online) is compared with what was believed: a name new to it is
//! reported online; a name missing from it is not yet reported offline,
//! because a registry that restarted knows only those that have logged in
//! again, and that peer may simply not have reconnected yet. It stays
//! online, unconfirmed, until it logs in again (silently: it never left) or
//! until a grace period passes, long enough for any live peer to have come
//! back (then it really is gone, and is reported offline).

use std::collections::BTreeSet;
use std::time::Duration;

use crate::peer::config::SessionConfig;
use crate::peer::event::PeerEvent;
use crate::peer::io::{Io, Timer};
use crate::wire::Name;

/// See the module documentation.
#[derive(Debug, Default)]
pub(crate) struct Presence {
    online: BTreeSet<Name>,
    /// Online before the registry was lost, missing from its roster since.
    unconfirmed: BTreeSet<Name>,
    /// A roster has been taken once: until then nothing is news.
    had_roster: bool,
}

impl Presence {
    /// Everyone believed online.
    pub fn online(&self) -> &BTreeSet<Name> {
        &self.online
    }

    /// The registry pushed that `name` came online or went offline.
    pub fn pushed(&mut self, io: &mut Io, name: &Name, online: bool) {
        let confirmed = self.unconfirmed.remove(name);
        if online {
            self.online.insert(name.clone());
            if confirmed {
                // Back after the registry's absence: it never left.
                return;
            }
        } else {
            self.online.remove(name);
        }
        let name = name.clone();
        io.event(PeerEvent::Presence { name, online });
    }

    /// The registry session is gone: what it said last stays believed, and
    /// nobody is reported offline for it.
    pub fn registry_lost(&mut self, io: &mut Io) {
        io.timers.cancel(&Timer::PresenceGrace);
        self.unconfirmed.clear();
    }

    /// Everyone online, as the registry listed it after a log-in.
    pub fn roster(&mut self, io: &mut Io, times: &SessionConfig, names: Vec<Name>) {
        let listed: BTreeSet<Name> = names.into_iter().collect();
        if self.had_roster {
            for name in listed.difference(&self.online) {
                let name = name.clone();
                io.event(PeerEvent::Presence { name, online: true });
            }
        }
        self.had_roster = true;
        self.unconfirmed = self.online.difference(&listed).cloned().collect();
        self.online.extend(listed);
        if !self.unconfirmed.is_empty() {
            io.set_timer(Timer::PresenceGrace, grace(times));
        }
    }

    /// The grace period passed: whoever has not logged in again is gone.
    pub fn on_grace_timer(&mut self, io: &mut Io) {
        for name in std::mem::take(&mut self.unconfirmed) {
            self.online.remove(&name);
            io.event(PeerEvent::Presence {
                name,
                online: false,
            });
        }
    }
}

/// How long a live peer may take to log in again after the registry is
/// back: notice the old connection is dead (a heartbeat unanswered), wait
/// out its backoff, connect and log in.
fn grace(t: &SessionConfig) -> Duration {
    t.heartbeat_interval + t.reconnect.max + 2 * t.reply_timeout
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::Output;
    use std::time::Instant;

    fn n(s: &str) -> Name {
        Name::new(s).unwrap()
    }

    /// The presence news reported so far, drained.
    fn news(io: &mut Io) -> Vec<(String, bool)> {
        io.out
            .drain(..)
            .filter_map(|o| match o {
                Output::Event(PeerEvent::Presence { name, online }) => {
                    Some((name.to_string(), online))
                }
                _ => None,
            })
            .collect()
    }

    /// After the registry is back, one missing from its roster who logs in
    /// again is not news; one who never does is reported offline once the
    /// grace period is over; one new to the roster is reported online.
    #[test]
    fn the_roster_after_a_loss_confirms_or_reports_after_the_grace() {
        let mut io = Io::new(Instant::now(), 1);
        let times = SessionConfig::default();
        let mut p = Presence::default();
        p.roster(&mut io, &times, vec![n("ann"), n("bob"), n("cy")]);
        assert!(news(&mut io).is_empty(), "the first roster is not news");
        assert!(io.timers.get(&Timer::PresenceGrace).is_none());

        p.registry_lost(&mut io);
        p.roster(&mut io, &times, vec![n("ann"), n("dee")]);
        assert_eq!(news(&mut io), vec![("dee".into(), true)]);
        assert!(p.online().contains(&n("bob")) && p.online().contains(&n("cy")));
        assert!(io.timers.get(&Timer::PresenceGrace).is_some());

        p.pushed(&mut io, &n("bob"), true);
        assert!(news(&mut io).is_empty(), "bob never left");
        p.on_grace_timer(&mut io);
        assert_eq!(news(&mut io), vec![("cy".into(), false)]);
        let online: Vec<_> = p.online().iter().map(|n| n.to_string()).collect();
        assert_eq!(online, ["ann", "bob", "dee"]);
    }

    /// Losing the registry again before the grace is over reports nobody:
    /// the next roster decides afresh.
    #[test]
    fn a_second_loss_cancels_the_grace() {
        let mut io = Io::new(Instant::now(), 1);
        let times = SessionConfig::default();
        let mut p = Presence::default();
        p.roster(&mut io, &times, vec![n("ann"), n("bob")]);
        p.registry_lost(&mut io);
        p.roster(&mut io, &times, vec![n("ann")]);
        p.registry_lost(&mut io);
        assert!(io.timers.get(&Timer::PresenceGrace).is_none());
        p.on_grace_timer(&mut io);
        assert!(news(&mut io).is_empty());
        assert!(p.online().contains(&n("bob")));
    }
}
