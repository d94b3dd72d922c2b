//! The links' dials: to a peer at the address the registry or its
//! announcement gave, with the backoff between attempts. A dial opens a
//! connection whose channel must prove the peer dialed (its certificate, or
//! without a registry the Noise key it announced) before anything is sent.

use std::net::SocketAddr;

use super::Links;
use super::conn::Conn;
use crate::api::Output;
use crate::peer::io::{Io, Timer};
use crate::wire::Name;
use crate::wire::identity::PublicKey;

impl Links {
    /// The lookup for a dial failed: try again later.
    pub fn lookup_failed(&mut self, io: &mut Io, name: &Name) {
        self.looking_up.remove(name);
        self.schedule_redial(io, name, true);
    }

    pub(super) fn schedule_redial(&mut self, io: &mut Io, name: &Name, dialer: bool) {
        let attempts = self.attempts.entry(name.clone()).or_insert(0);
        let wait = if dialer {
            io.backoff(
                *attempts,
                self.times.reconnect.min,
                self.times.reconnect.max,
            )
        } else {
            self.times.reconnect.max
        };
        *attempts = attempts.saturating_add(1);
        io.set_timer(Timer::Dial(name.clone()), wait);
    }

    /// Dials `name` at `addr` (its registry address).
    pub fn dial(&mut self, io: &mut Io, name: Name, addr: SocketAddr) {
        self.dial_key(io, name, addr, None);
    }

    /// Dials `name` at `addr`; with `key` (learned from its announcement,
    /// no registry) the other side must prove that Noise key.
    pub fn dial_key(&mut self, io: &mut Io, name: Name, addr: SocketAddr, key: Option<PublicKey>) {
        self.looking_up.remove(&name);
        if self.conns.values().any(|c| c.peer.as_ref() == Some(&name)) {
            return;
        }
        self.dial_now(io, name, addr, key);
    }

    /// Dials `name` at `addr`, whatever other connections to it exist.
    pub(super) fn dial_now(
        &mut self,
        io: &mut Io,
        name: Name,
        addr: SocketAddr,
        key: Option<PublicKey>,
    ) {
        let conn = io.mint_conn();
        let channel = match key {
            Some(key) => io.keys.dial_announced(conn, name.clone(), key),
            None => io.keys.dial_peer(conn, name.clone()),
        };
        if !channel {
            // No registry key to check its certificate with yet: the
            // registry session brings one, and wanted peers are dialed then.
            return;
        }
        self.conns
            .insert(conn, Conn::new(true, Some(name), io.now, addr));
        io.set_timer(Timer::Handshake(conn), self.times.handshake_timeout);
        io.out.push_back(Output::Connect { conn, addr });
    }
}
