//! How a [`World`] carries out what its engines ask for: connections, bytes,
//! password and file work, records and events. Records are kept in the
//! host's map at once, so they are durable the moment they are carried out;
//! the engine hears so ([`Input::RecordsDurable`]) whenever it has nothing
//! more to ask.

use std::net::SocketAddr;

use super::{Delivery, HostId, Link, World};
use crate::api::{Input, Output};
use crate::testing::node::AnyEvent;

impl World {
    /// Carries out everything `host`'s engine has asked for. Its records are
    /// durable once carried out, and it is told so when it has nothing more
    /// to ask (which may release acknowledgements it held back).
    pub(super) fn pump(&mut self, host: HostId) {
        loop {
            let now = self.now;
            let h = &mut self.hosts[host.0];
            let Some(engine) = h.engine.as_mut() else {
                return;
            };
            match engine.poll_output() {
                Some(out) => self.carry_out(host, out),
                None if h.kept > h.told => {
                    h.told = h.kept;
                    engine.handle_input(now, Input::RecordsDurable { upto: h.kept });
                }
                None => return,
            }
        }
    }

    fn carry_out(&mut self, host: HostId, out: Output<AnyEvent>) {
        let now = self.now;
        let latency = self.config.latency;
        let inc = self.hosts[host.0].incarnation;
        match out {
            Output::Connect { conn, addr } => {
                let me = self.endpoint(host, conn);
                let target = self.hosts.iter().position(|h| h.listen == addr).map(HostId);
                let Some(target) = target.filter(|t| !self.blocked.contains(&(host, *t))) else {
                    return self.schedule(now + latency, Delivery::ConnectFailed { to: me });
                };
                self.next_link += 1;
                let id = self.next_link;
                self.links.insert(
                    id,
                    Link {
                        initiator: me,
                        acceptor: None,
                        target,
                        early: Vec::new(),
                        tails: [now; 2],
                    },
                );
                self.endpoints.insert(me, id);
                let h = &mut self.hosts[host.0];
                h.next_port = h.next_port.wrapping_add(1).max(40000);
                let from = SocketAddr::new(h.listen.ip(), h.next_port);
                self.schedule(now + latency, Delivery::Syn { link: id, from });
            }
            Output::Send { conn, bytes } => {
                let me = self.endpoint(host, conn);
                let Some(&id) = self.endpoints.get(&me) else {
                    return;
                };
                let Some(link) = self.links.get_mut(&id) else {
                    return;
                };
                let other = link.other_end(me);
                match other {
                    Some(other) => self.send_along(id, other, bytes),
                    None => link.early.push(bytes),
                }
            }
            Output::Close { conn } => {
                let me = self.endpoint(host, conn);
                let Some(id) = self.endpoints.remove(&me) else {
                    return;
                };
                let Some(link) = self.links.get_mut(&id) else {
                    return;
                };
                let other = link.other_end(me);
                match other {
                    Some(other) => {
                        let side = usize::from(link.acceptor == Some(other));
                        let at = (now + latency).max(link.tails[side]);
                        link.tails[side] = at;
                        self.schedule(
                            at,
                            Delivery::Closed {
                                link: id,
                                to: other,
                            },
                        );
                    }
                    // Closed before the other side saw it: it never will.
                    None => {
                        self.links.remove(&id);
                    }
                }
                self.forget_link_if_unused(id);
            }
            out @ (Output::OpenSource { .. }
            | Output::OpenPart { .. }
            | Output::ReadChunk { .. }
            | Output::WriteChunk { .. }
            | Output::FinishFile { .. }
            | Output::DiscardPart { .. }
            | Output::ReleaseFiles { .. }) => {
                // Answered as soon as the host is next fed, never inside
                // its own poll loop.
                if let Some(answer) = self.hosts[host.0].files.carry_out(out) {
                    self.schedule(now, Delivery::File { host, inc, answer });
                }
            }
            Output::DerivePassword { job, work } => {
                let result = work.run();
                let at = now + self.config.password_delay;
                self.schedule(
                    at,
                    Delivery::Password {
                        host,
                        inc,
                        job,
                        result,
                    },
                );
            }
            Output::Persist(record) => {
                let h = &mut self.hosts[host.0];
                h.kept += 1;
                h.records.insert(record.key(), record);
            }
            Output::Forget(key) => {
                let h = &mut self.hosts[host.0];
                h.kept += 1;
                h.records.remove(&key);
            }
            Output::Event(e) => self.hosts[host.0].events.push((now, e)),
            Output::SendDatagram { to, bytes } => self.send_datagram(host, to, bytes),
        }
    }
}
