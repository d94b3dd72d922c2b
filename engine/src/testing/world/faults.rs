//! Faults of a [`World`]: cutting and partitioning links, crashing and
//! restarting hosts, loudly (the other side is told at once, as after a
//! reset that arrives) or silently (the other side is told nothing, as after
//! a crash whose FIN and RST are lost: it keeps a half-open connection whose
//! sends vanish until something times out).

use super::{HostId, LinkId, World};
use crate::api::Input;

impl World {
    /// Drops every connection between `a` and `b`, now, on both sides.
    pub fn cut(&mut self, a: HostId, b: HostId) {
        let doomed: Vec<LinkId> = self
            .links
            .iter()
            .filter(|(_, l)| {
                let (x, y) = (l.initiator.host, l.target);
                (x == a && y == b) || (x == b && y == a)
            })
            .map(|(id, _)| *id)
            .collect();
        for id in doomed {
            self.kill_link(id, None);
        }
    }

    /// Drops every connection of `host`, now, on both sides.
    pub fn cut_all(&mut self, host: HostId) {
        let doomed: Vec<LinkId> = self
            .links
            .iter()
            .filter(|(_, l)| l.initiator.host == host || l.target == host)
            .map(|(id, _)| *id)
            .collect();
        for id in doomed {
            self.kill_link(id, None);
        }
    }

    /// Keeps `a` and `b` apart: their connections drop and new ones fail.
    pub fn partition(&mut self, a: HostId, b: HostId) {
        self.blocked.insert((a, b));
        self.blocked.insert((b, a));
        self.cut(a, b);
    }

    /// Lets `a` and `b` connect again.
    pub fn heal(&mut self, a: HostId, b: HostId) {
        self.blocked.remove(&(a, b));
        self.blocked.remove(&(b, a));
    }

    /// Lifts every partition.
    pub fn heal_all(&mut self) {
        self.blocked.clear();
    }

    /// Stops `host` at once: its engine is dropped with everything in memory;
    /// its peers see their connections reset. Its records survive.
    pub fn crash(&mut self, host: HostId) {
        let doomed: Vec<LinkId> = self
            .links
            .iter()
            .filter(|(_, l)| l.initiator.host == host || l.target == host)
            .map(|(id, _)| *id)
            .collect();
        for id in doomed {
            self.kill_link(id, Some(host));
        }
        let h = &mut self.hosts[host.0];
        h.engine = None;
        h.incarnation += 1;
        h.files.crash();
    }

    /// Starts `host` again from its records (after [`World::crash`]).
    pub fn restart(&mut self, host: HostId) {
        if self.is_up(host) {
            self.crash(host);
        }
        let seed = self.rng.next_u64();
        let now = self.now;
        let h = &mut self.hosts[host.0];
        let records = h.records.values().cloned().collect();
        h.engine = Some((h.factory)(records, now, seed));
        (h.kept, h.told) = (0, 0);
        self.pump(host);
    }

    /// Crashes `host` like [`World::crash`], but its peers are told
    /// nothing: their ends stay open, and what they send is lost. Only their
    /// own timeouts (keepalives, reply deadlines) can notice. Its records
    /// survive; [`World::restart`] brings it back.
    pub fn crash_silently(&mut self, host: HostId) {
        let doomed: Vec<LinkId> = self
            .links
            .iter()
            .filter(|(_, l)| l.initiator.host == host || l.target == host)
            .map(|(id, _)| *id)
            .collect();
        for id in doomed {
            self.abandon_end(id, host);
        }
        let h = &mut self.hosts[host.0];
        h.engine = None;
        h.incarnation += 1;
        h.files.crash();
    }

    /// A close between `a` and `b` that only `a` learns of: `a` is told its
    /// connections with `b` closed, `b` keeps its ends open (its close, or
    /// the reset, never arrived) and what it sends on them is lost.
    pub fn cut_quietly(&mut self, a: HostId, b: HostId) {
        let doomed: Vec<LinkId> = self
            .links
            .iter()
            .filter(|(_, l)| {
                let (x, y) = (l.initiator.host, l.target);
                (x == a && y == b) || (x == b && y == a)
            })
            .map(|(id, _)| *id)
            .collect();
        for id in doomed {
            if let Some(end) = self.abandon_end(id, a) {
                self.input(end, |e, now| {
                    e.handle_input(now, Input::Closed { conn: end.conn })
                });
            }
        }
    }

    /// Detaches `host`'s end of link `id` (if it has one) without telling the
    /// other end; the link stays for the other end, whose sends then vanish
    /// (deliveries check the endpoint still belongs to the link). Returns the
    /// detached end.
    fn abandon_end(&mut self, id: LinkId, host: HostId) -> Option<super::Endpoint> {
        let link = self.links.get(&id)?;
        let end = [Some(link.initiator), link.acceptor]
            .into_iter()
            .flatten()
            .find(|e| e.host == host && self.endpoints.get(e) == Some(&id))?;
        self.endpoints.remove(&end);
        if link.acceptor.is_none() {
            // Not yet accepted: the connect dies with its initiator.
            self.links.remove(&id);
        } else {
            self.forget_link_if_unused(id);
        }
        Some(end)
    }

    /// Ends a link. Each surviving endpoint learns of it now; `silent` is a
    /// host that is going away and is told nothing.
    fn kill_link(&mut self, id: LinkId, silent: Option<HostId>) {
        let Some(link) = self.links.remove(&id) else {
            return;
        };
        let ends = [Some(link.initiator), link.acceptor];
        for end in ends.into_iter().flatten() {
            if self.endpoints.get(&end) != Some(&id) {
                continue;
            }
            self.endpoints.remove(&end);
            if Some(end.host) == silent {
                continue;
            }
            self.input(end, |e, now| {
                e.handle_input(now, Input::Closed { conn: end.conn })
            });
        }
    }
}
