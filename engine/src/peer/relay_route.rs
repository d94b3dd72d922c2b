//! The role machine's routing of relayed connections (see `peer::relay`):
//! choosing the path to a peer, the registry's relay messages, and moving
//! the sealed bytes of relayed connections from the output queue onto the
//! registry connection. Kept apart from `route` so the relay touches the
//! shared routing only through a few calls. May touch every field of
//! [`Peer`].
//!
//! **Order.** The registry connection's channel numbers what it seals, so
//! bytes must leave in the order they were sealed. Everything sealed for
//! the registry is sealed as it is queued; what a relayed connection's
//! channel queued is taken out of the queue at the end of each entry point
//! ([`Peer::relay_settle`]) and sealed for the registry then, after
//! everything queued before, so it goes to the back: later, never
//! earlier, than its place (harmless: a send may always come later, and a
//! record before it only gets more time).

use std::collections::VecDeque;
use std::net::SocketAddr;

use crate::api::{ConnId, Output};
use crate::peer::Peer;
use crate::peer::event::{PeerEvent, Via};
use crate::peer::io::Timer;
use crate::peer::lookups::Query;
use crate::wire::registry::RequestBody;
use crate::wire::relay::RelayMessage;
use crate::wire::{Message, Name};

impl Peer {
    /// Reaches `name` (at `addr`, its registry address): directly, or
    /// through the relay if a direct dial failed before.
    pub(super) fn dial_or_relay(&mut self, name: Name, addr: SocketAddr) {
        // Port 0: it takes no incoming connections (`--listen off`).
        let listens = addr.port() != 0;
        let i_listen = self.config.listen.port() != 0;
        if self.links.is_relayed(&name) {
            if listens {
                self.links.dial_beside_relay(&mut self.io, name, addr);
            } else {
                self.links.set_looking_up(&name, false);
                if i_listen {
                    self.relay_send(RelayMessage::DialMe { to: name });
                }
            }
            return;
        }
        if !listens
            && i_listen
            && !self.relays.is_unreachable(&name)
            && let Some(reg) = self.reg.session_conn()
        {
            // It takes no connections, this peer does: ask it to dial us;
            // if no connection opens in time, the relay (the dial timer
            // finds the peer marked).
            self.links.set_looking_up(&name, false);
            self.relays.mark_unreachable(&name);
            let to = name.clone();
            self.io
                .send(reg, &Message::Relay(RelayMessage::DialMe { to }));
            self.io
                .set_timer(Timer::Dial(name), self.config.link.handshake_timeout);
            return;
        }
        match self.reg.session_conn() {
            Some(reg) if self.relays.is_unreachable(&name) || !listens => {
                let conn = self.io.mint_conn();
                let remote = self.config.registry;
                if self
                    .links
                    .dial_relayed(&mut self.io, conn, name.clone(), remote)
                {
                    self.relays.open(&mut self.io, reg, conn, name);
                }
            }
            _ => self.links.dial(&mut self.io, name, addr),
        }
    }

    /// A direct dial to `name` failed: the next attempt, at once, goes
    /// through the registry's relay (if there is a registry session).
    pub(super) fn direct_failed(&mut self, name: &Name) {
        if self.reg.session_conn().is_none() {
            return;
        }
        if self.relays.mark_unreachable(name) {
            self.io.notice(format!(
                "{name} cannot be reached directly; going through the registry's relay"
            ));
        }
        self.io.timers.cancel(&Timer::Dial(name.clone()));
        self.ensure_link(name);
    }

    /// A connection to `name` opened: a direct one means the relay is no
    /// longer needed for it; over a relayed one, a direct connection is
    /// tried again from time to time.
    pub(super) fn relay_link_opened(&mut self, name: &Name) {
        let t = Timer::DirectRetry(name.clone());
        let via = if self.links.is_relayed(name) {
            if self.io.timers.get(&t).is_none() {
                self.io.set_timer(t, self.config.link.direct_retry);
            }
            Via::Relay
        } else {
            self.relays.reached(name);
            self.io.timers.cancel(&t);
            Via::Direct
        };
        self.transfers.set_via(name, via);
        let with = name.clone();
        self.io.event(PeerEvent::Path { with, via });
    }

    /// The path the connection to `name` takes now: `Direct` also while
    /// none is open (the next one is tried directly first).
    pub(super) fn via_to(&self, name: &Name) -> Via {
        if self.links.is_relayed(name) {
            Via::Relay
        } else {
            Via::Direct
        }
    }

    /// `/transfers`: every transfer, with the path its bytes take now.
    pub(super) fn report_transfers(&mut self) {
        let mut transfers = self.transfers.statuses();
        for t in &mut transfers {
            t.via = self.via_to(&t.peer);
        }
        self.io.event(PeerEvent::Transfers { transfers });
    }

    /// `Timer::DirectRetry`: while `name` is reached through the relay,
    /// looks it up again and dials it directly beside the relay.
    pub(super) fn direct_retry(&mut self, name: &Name) {
        if !self.links.is_relayed(name) || !self.wants(name) {
            return;
        }
        let body = RequestBody::Lookup { name: name.clone() };
        if self
            .reg
            .request(&mut self.io, Query::Dial(name.clone()), body)
        {
            self.links.set_looking_up(name, true);
        }
        let t = Timer::DirectRetry(name.clone());
        self.io.set_timer(t, self.config.link.direct_retry);
    }

    /// Whether the open connection to `name` goes through the registry's
    /// relay (`via` in events).
    pub fn is_relayed_to(&self, name: &Name) -> bool {
        self.links.is_relayed(name)
    }

    /// The most sealed bytes any relayed stream of this peer holds waiting
    /// for credit now (see [`crate::limits::MAX_RELAY_WAITING`]).
    pub fn relay_waiting(&self) -> u64 {
        self.relays.most_waiting()
    }

    /// The streams this peer has relayed through the registry now: the
    /// other peer (as the registry named it) and the bytes so far.
    pub fn relayed_streams(&self) -> Vec<(Name, u64)> {
        self.relays.listing()
    }

    /// A relay message from the registry.
    pub(super) fn on_relay(&mut self, msg: RelayMessage) {
        match msg {
            RelayMessage::Opened { ask, stream } => match self.relays.opened(ask, stream) {
                Some(conn) => {
                    self.io.keys.start(conn, &mut self.io.out);
                    self.links.on_connected(&mut self.io, conn);
                }
                None if self.relays.is_abandoned(ask) => self.relay_send(RelayMessage::Close {
                    stream,
                    reason: crate::bounded::Text::truncate("no longer wanted"),
                }),
                None => {}
            },
            RelayMessage::Refused { ask, reason } => {
                self.relay_move();
                if let Some((conn, name)) = self.relays.refused(ask) {
                    self.io.keys.remove(conn);
                    self.io.notice(format!(
                        "could not reach {name} through the registry's relay: {reason}"
                    ));
                    // Try directly again next time: the relay said no.
                    self.relays.reached(&name);
                    self.links.on_closed(&mut self.io, conn);
                }
            }
            RelayMessage::Incoming { stream, from } => {
                let conn = self.io.mint_conn();
                self.relays.incoming(stream, conn, from);
                let remote = self.config.registry;
                self.links.accept_relayed(&mut self.io, conn, remote);
            }
            RelayMessage::Data { stream, bytes } => {
                let (Some(conn), Some(reg)) =
                    (self.relays.conn_of(stream), self.reg.session_conn())
                else {
                    return;
                };
                self.relays.received(&mut self.io, reg, stream, bytes.len());
                self.on_bytes(conn, &bytes);
            }
            RelayMessage::Credit { stream, bytes } => self.relays.credit(stream, bytes),
            RelayMessage::Capped { stream, reason } => {
                if let Some(name) = self.relays.peer_of(stream) {
                    self.io.notice(format!(
                        "the relay to {name} is slowed down: {reason}; messages wait and \
                         transfers go on at that pace, nothing is lost"
                    ));
                }
            }
            RelayMessage::Close { stream, .. } => {
                self.relay_move();
                if let Some(conn) = self.relays.ended(stream) {
                    self.io.keys.remove(conn);
                    self.links.on_closed(&mut self.io, conn);
                }
            }
            RelayMessage::DialBack { from, addr } => {
                // Someone this peer cannot be dialed by asks to be dialed:
                // an ordinary direct dial (the channel proves who answers).
                if from == *self.me() {
                } else if self.links.is_relayed(&from) {
                    self.links.dial_beside_relay(&mut self.io, from, addr);
                } else if !self.links.is_underway(&from) {
                    self.links.dial(&mut self.io, from, addr);
                }
            }
            // The registry's own words; a registry that sends them to a
            // peer is ignored rather than obeyed.
            RelayMessage::Open { .. } | RelayMessage::DialMe { .. } => {}
        }
    }

    fn relay_send(&mut self, msg: RelayMessage) {
        if let Some(reg) = self.reg.session_conn() {
            self.io.send(reg, &Message::Relay(msg));
        }
    }

    /// The registry session is gone: every relayed connection with it.
    pub(super) fn relay_lost(&mut self) {
        // What the links already queued for these connections (a `Close`,
        // bytes) is taken while they are still known to be relayed: once
        // forgotten it would reach the driver, which never heard of them
        // (found by the `peer` fuzz target).
        self.relay_move();
        for conn in self.relays.lost() {
            self.io.keys.remove(conn);
            self.links.on_closed(&mut self.io, conn);
        }
    }

    /// At the end of every entry point: what the channels of relayed
    /// connections queued leaves on the registry connection, as credit
    /// allows (see the module documentation for the order).
    pub(super) fn relay_settle(&mut self) {
        // Transfers held by a full stream that credit has emptied go on,
        // and what they send moves too, until the stream is full again or
        // they have nothing more (each turn moves bytes out on credit, and
        // a transfer's window bounds what it has; the bound is a backstop).
        for _ in 0..64 {
            self.relay_move();
            let room = self.relays.room();
            let outs = self.transfers.set_room(&mut self.io, room);
            if outs.is_empty() {
                break;
            }
            self.apply_transfer(outs);
        }
    }

    fn relay_move(&mut self) {
        if self.relays.is_empty() {
            return;
        }
        let scanned = self.durable.scanned();
        let mut front_taken = 0;
        let mut kept = VecDeque::with_capacity(self.io.out.len());
        let mut sends: Vec<(ConnId, Vec<u8>)> = Vec::new();
        let mut closes: Vec<ConnId> = Vec::new();
        for (i, o) in std::mem::take(&mut self.io.out).into_iter().enumerate() {
            match o {
                Output::Send { conn, bytes } if self.relays.owns(conn) => {
                    front_taken += usize::from(i < scanned);
                    sends.push((conn, bytes));
                }
                Output::Close { conn } if self.relays.owns(conn) => {
                    front_taken += usize::from(i < scanned);
                    closes.push(conn);
                }
                o => kept.push_back(o),
            }
        }
        self.io.out = kept;
        self.durable.unqueued(front_taken);
        for (conn, bytes) in sends {
            self.relays.queue(conn, bytes);
        }
        let reg = self.reg.session_conn();
        if let Some(reg) = reg {
            self.relays.flush(&mut self.io, reg);
        }
        for conn in closes {
            self.io.keys.remove(conn);
            if let Some(msg) = self.relays.close(conn) {
                self.relay_send(msg);
            }
        }
    }
}
