//! The links' side of relayed connections (see `peer::relay`): a
//! connection carried through the registry is dialed and accepted like any
//! other, minus the socket, and loses to a direct one.
//!
//! A relayed connection and a direct one to the same peer, both alive at
//! both ends (the same epoch), are settled for the direct one on both
//! sides, whoever dialed either: both sides know which of the two is
//! relayed, so they reach the same verdict, and a conversation moves from
//! the relay to a direct path as soon as one opens.

use std::net::SocketAddr;

use super::{Conn, Links};
use crate::api::ConnId;
use crate::peer::io::{Io, Timer};
use crate::wire::Name;

impl Links {
    /// Starts a connection to `name` through the relay, as `conn`: like
    /// [`Links::dial`], but the "connected" comes from the registry's
    /// `Opened` (then [`Links::on_connected`]). `false` if none is needed
    /// (one is under way) or none can be checked (no registry key yet).
    pub fn dial_relayed(
        &mut self,
        io: &mut Io,
        conn: ConnId,
        name: Name,
        remote: SocketAddr,
    ) -> bool {
        self.looking_up.remove(&name);
        if self.conns.values().any(|c| c.peer.as_ref() == Some(&name)) {
            return false;
        }
        if !io.keys.dial_peer(conn, name.clone()) {
            return false;
        }
        let mut c = Conn::new(true, Some(name), io.now, remote);
        c.relayed = true;
        self.conns.insert(conn, c);
        io.set_timer(Timer::Handshake(conn), self.times.handshake_timeout);
        true
    }

    /// Dials `name` directly at `addr` while it is reached through the
    /// relay (and no direct dial is under way): one that opens replaces the
    /// relayed connection.
    pub fn dial_beside_relay(&mut self, io: &mut Io, name: Name, addr: SocketAddr) {
        self.looking_up.remove(&name);
        let mut to = self
            .conns
            .values()
            .filter(|c| c.peer.as_ref() == Some(&name));
        if to.all(|c| c.relayed) {
            self.dial_now(io, name, addr, None);
        }
    }

    /// Takes a relayed connection another peer opened, as `conn`.
    pub fn accept_relayed(&mut self, io: &mut Io, conn: ConnId, remote: SocketAddr) {
        self.accept(io, conn, remote);
        if let Some(c) = self.conns.get_mut(&conn) {
            c.relayed = true;
        }
    }

    /// If `conn` is a direct dial that has not opened, the peer it was for:
    /// its failure makes that peer one to reach through the relay.
    pub fn unopened_dial(&self, conn: ConnId) -> Option<Name> {
        let c = self.conns.get(&conn)?;
        let unopened = c.dialed && !c.relayed && c.stage != super::Stage::Open;
        unopened.then(|| c.peer.clone()).flatten()
    }

    /// Whether the open connection to `name` is relayed.
    pub fn is_relayed(&self, name: &Name) -> bool {
        self.open
            .get(name)
            .and_then(|c| self.conns.get(c))
            .is_some_and(|c| c.relayed)
    }
}
