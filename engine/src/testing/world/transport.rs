//! How bytes travel in a [`World`]: along a link (in order per direction,
//! optionally split into random pieces) or as UDP datagrams toward a
//! host's listen address (each on its own: lost at the configured rate,
//! and dropped by partitions and crashes, never split or merged). A
//! datagram to a multicast address reaches every other host of the
//! sender's LAN segment.

use std::net::SocketAddr;

use super::{Delivery, Endpoint, HostId, LinkId, World};
use crate::api::Input;

impl World {
    /// Schedules bytes along a link toward `to`, in order after earlier ones.
    pub(super) fn send_along(&mut self, id: LinkId, to: Endpoint, bytes: Vec<u8>) {
        let latency = self.config.latency;
        let split = self.config.split;
        let pieces = if split && bytes.len() > 1 {
            let n = 1 + self.rng.below(3) as usize;
            let mut cuts: Vec<usize> = (0..n)
                .map(|_| 1 + self.rng.below(bytes.len() as u64 - 1) as usize)
                .collect();
            cuts.sort_unstable();
            cuts.dedup();
            let mut out = Vec::new();
            let mut last = 0;
            for c in cuts {
                out.push(bytes[last..c].to_vec());
                last = c;
            }
            out.push(bytes[last..].to_vec());
            out
        } else {
            vec![bytes]
        };
        let Some(link) = self.links.get_mut(&id) else {
            return;
        };
        let side = usize::from(link.acceptor == Some(to));
        let at = (self.now + latency).max(link.tails[side]);
        link.tails[side] = at;
        for piece in pieces {
            self.schedule(
                at,
                Delivery::Data {
                    link: id,
                    to,
                    bytes: piece,
                },
            );
        }
    }

    /// Puts `host` on LAN segment `segment` (all start on 0): a datagram to
    /// a multicast group reaches only the hosts of the sender's segment.
    /// Unicast is not affected (a segment is a broadcast domain, not a
    /// partition).
    pub fn set_segment(&mut self, host: HostId, segment: u32) {
        self.segments.insert(host, segment);
    }

    /// Datagrams `host` has sent so far (a multicast one counts once): how
    /// many, and their bytes.
    pub fn datagrams_sent(&self, host: HostId) -> (u64, u64) {
        self.datagrams_sent.get(&host).copied().unwrap_or_default()
    }

    fn segment(&self, host: HostId) -> u32 {
        self.segments.get(&host).copied().unwrap_or(0)
    }

    /// Loses this percentage of datagrams from now on (0 to 100).
    pub fn set_datagram_loss(&mut self, pct: u64) {
        self.datagram_loss = pct.min(100);
    }

    /// A datagram from `host` toward `to`, which is some host's listen
    /// address; it arrives from `host`'s listen address after the latency.
    pub(super) fn send_datagram(&mut self, host: HostId, to: SocketAddr, bytes: Vec<u8>) {
        let sent = self.datagrams_sent.entry(host).or_default();
        *sent = (sent.0 + 1, sent.1 + bytes.len() as u64);
        if to.ip().is_multicast() {
            // One broadcast domain: every other host hears the group, each
            // copy lost on its own.
            let segment = self.segment(host);
            for target in 0..self.hosts.len() {
                if target != host.0 && self.segment(HostId(target)) == segment {
                    self.datagram_to(host, HostId(target), bytes.clone());
                }
            }
            return;
        }
        let Some(target) = self.hosts.iter().position(|h| h.listen == to).map(HostId) else {
            return;
        };
        self.datagram_to(host, target, bytes);
    }

    fn datagram_to(&mut self, host: HostId, target: HostId, bytes: Vec<u8>) {
        if self.blocked.contains(&(host, target)) || self.rng.below(100) < self.datagram_loss {
            return;
        }
        let from = self.hosts[host.0].listen;
        let inc = self.hosts[target.0].incarnation;
        let at = self.now + self.config.latency;
        self.schedule(at, Delivery::Datagram(target, inc, from, bytes));
    }

    pub(super) fn deliver_datagram(
        &mut self,
        to: HostId,
        inc: u64,
        from: SocketAddr,
        bytes: Vec<u8>,
    ) {
        let to = Endpoint {
            host: to,
            inc,
            conn: crate::api::ConnId(0),
        };
        self.input(to, |e, now| {
            e.handle_input(
                now,
                Input::Datagram {
                    from,
                    bytes: &bytes,
                },
            )
        });
    }
}
