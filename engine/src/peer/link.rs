//! [`Links`]: the direct connections between this peer and others.
//!
//! One connection per pair of peers carries everything between them. Each
//! connection is encrypted ([`crate::secure::Channel`], through the
//! peer's keyring) and, inside that, goes through a handshake before it
//! carries anything else:
//!
//! ```text
//! dialer                               acceptor
//!   (Noise XX: each proves its certified name; see `secure::channel`)
//!   Hello{Peer, Some(dialer)}   ->
//!   Session{epoch}              ->
//!                               <-     Hello{Peer, Some(acceptor)}
//!                               <-     Session{epoch}
//!                               <-     Verified
//! ```
//!
//! (The acceptor's hello goes out on accept, its `Session` once the dialer's
//! hello says who it claims to be; the dialer's `Session` follows its hello.
//! Both are held by the channel until its handshake ends.)
//!
//! **Identity.** Nothing arrives here before the channel's handshake has
//! proven the other side's name: a certificate from the registry this peer
//! trusts, for the Noise key of this very connection, and (for the dialer)
//! for the name it dialed ([`Links::on_proven`]). A hello must then claim
//! exactly the proven name, or the connection is closed as a violation.
//! A channel that fails closes the connection with its reason
//! ([`Links::on_channel_failed`]); nothing from it is delivered.
//!
//! **Crossed dials.** When both peers dial each other at once, two
//! connections open. Each side keeps the one *dialed by the smaller name*
//! and says goodbye on the other, so both keep the same one; between two
//! connections dialed by the same side (a redial racing the old connection's
//! close), the newer wins. Whatever was unacknowledged on the loser is resent
//! on the winner when it opens (see `streams`).
//!
//! **Stale connections.** That rule assumes both connections are alive at
//! both ends. After a silent crash, or a close that never arrived, one side
//! still holds a connection the other has forgotten, and the rule would turn
//! away the other's fresh dials for as long as it held it. So each side keeps
//! a random *epoch* per peer, drawn from the seeded randomness when a
//! connection to that peer begins while none exists, and dropped when its
//! last connection to that peer is gone; it sends it in `Session` on every
//! connection. Two connections from one peer with the same epoch were both
//! alive at its end together (a crossed dial, or a redial racing a close):
//! the rule above decides. A new connection with a *different* epoch than the
//! open one means the other side has since lost every connection with us (it
//! restarted, or lost this one): the new one replaces the stale one at once.
//! Both sides reach the same verdict: the side that lost the old connection
//! holds only the new one.
//!
//! **Keepalive.** A half-open connection with nothing to send is never
//! noticed by TCP. An open connection silent for `keepalive_interval` is sent
//! a `Ping` (answered by `Pong`), again every interval while silent; one
//! silent for `keepalive_timeout` is closed. Anything received counts.
//!
//! **Redial.** When the open connection to a peer drops, the side that had
//! dialed it redials after a backoff; the other side only waits
//! `reconnect_max` before dialing itself, as a fallback for a dialer that has
//! crashed or given up. The role machine decides whether a peer is still
//! wanted when the dial timer fires.
//!
//! Invariants: `open[name]` is a connection in `conns` whose stage is `Open`
//! and whose peer is `name`; every connection not open has a handshake timer,
//! every open one a keepalive timer; `epochs` has an entry for a name only
//! while some connection has that peer.

use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;

use self::conn::{Conn, Stage, bye};
use crate::api::{ConnId, Output};
use crate::peer::config::LinkConfig;
use crate::peer::io::{Io, Timer};
use crate::peer::misbehaved::LinkViolation;
use crate::secure::{ChannelError, Proven};
use crate::wire::peer::PeerMessage;
use crate::wire::transfer::TransferMessage;
use crate::wire::{ErrorCode, Hello, Message, Name, PROTOCOL_VERSION, Role};

/// What the links tell the role machine.
#[derive(Debug)]
pub(crate) enum LinkOut {
    /// `name` is reachable on a (new) open connection.
    Open { name: Name },
    /// A message from `name` on an open connection.
    Message { name: Name, msg: PeerMessage },
    /// A transfer message from `name` on an open connection (a verified
    /// link only: before `Verified` it is a protocol violation).
    Transfer { name: Name, msg: TransferMessage },
}

/// See the module documentation.
#[derive(Debug)]
pub(crate) struct Links {
    me: Name,
    times: LinkConfig,
    conns: BTreeMap<ConnId, Conn>,
    /// Our epoch for each peer we have a connection with (see the module
    /// documentation).
    epochs: BTreeMap<Name, u64>,
    open: BTreeMap<Name, ConnId>,
    attempts: BTreeMap<Name, u32>,
    /// Peers whose address is being looked up for a dial.
    looking_up: BTreeSet<Name>,
    /// How many times a connection has opened (for tests and statistics).
    opened: u64,
}

impl Links {
    pub fn new(me: Name, times: LinkConfig) -> Self {
        Self {
            me,
            times,
            conns: BTreeMap::new(),
            epochs: BTreeMap::new(),
            open: BTreeMap::new(),
            attempts: BTreeMap::new(),
            looking_up: BTreeSet::new(),
            opened: 0,
        }
    }

    /// How many times a connection has opened.
    pub fn opened(&self) -> u64 {
        self.opened
    }

    pub fn owns(&self, conn: ConnId) -> bool {
        self.conns.contains_key(&conn)
    }

    pub fn is_open(&self, name: &Name) -> bool {
        self.open.contains_key(name)
    }

    /// Whether a connection to `name` is open, being made, or being looked up.
    pub fn is_underway(&self, name: &Name) -> bool {
        self.looking_up.contains(name) || self.conns.values().any(|c| c.peer.as_ref() == Some(name))
    }

    pub fn set_looking_up(&mut self, name: &Name, on: bool) {
        if on {
            self.looking_up.insert(name.clone());
        } else {
            self.looking_up.remove(name);
        }
    }

    fn hello(&self) -> Message {
        Message::Hello(Hello {
            version: PROTOCOL_VERSION,
            role: Role::Peer,
            name: Some(self.me.clone()),
        })
    }

    /// Our `Session` for `name`, drawing a new epoch if no connection to
    /// `name` had one.
    fn session(&mut self, io: &mut Io, name: &Name) -> Message {
        let epoch = *self
            .epochs
            .entry(name.clone())
            .or_insert_with(|| io.rng.next_u64());
        Message::Peer(PeerMessage::Session { epoch })
    }

    pub fn accept(&mut self, io: &mut Io, conn: ConnId, remote: SocketAddr) {
        if let Err(why) = io.keys.accept_peer(conn) {
            io.notice(format!("turned away a connection from {remote}: {why}"));
            io.out.push_back(Output::Close { conn });
            return;
        }
        self.conns
            .insert(conn, Conn::new(false, None, io.now, remote));
        io.set_timer(Timer::Handshake(conn), self.times.handshake_timeout);
        io.keys.start(conn, &mut io.out);
        io.send(conn, &self.hello());
    }

    /// The channel of `conn` proved who is at the other end.
    pub fn on_proven(&mut self, conn: ConnId, proven: Proven) {
        if let (Some(c), Proven::Peer { name, .. } | Proven::Claimed { name, .. }) =
            (self.conns.get_mut(&conn), proven)
        {
            c.proven = Some(name);
        }
    }

    /// The channel of `conn` failed (a forged or missing certificate, a
    /// tampered record, another version): closes it, saying why to the user.
    pub fn on_channel_failed(&mut self, io: &mut Io, conn: ConnId, e: ChannelError) {
        let Some(c) = self.conns.get(&conn) else {
            return;
        };
        match (&c.peer, c.dialed) {
            (Some(name), true) => io.notice(format!("could not reach {name} securely: {e}")),
            (Some(name), false) => io.notice(format!("closed the connection with {name}: {e}")),
            (None, _) => io.notice(format!("refused a connection: {e}")),
        }
        io.out.push_back(Output::Close { conn });
        self.forget(io, conn);
    }

    pub fn on_connected(&mut self, io: &mut Io, conn: ConnId) {
        let hello = self.hello();
        if let Some(c) = self.conns.get_mut(&conn)
            && c.stage == Stage::Connecting
            && let Some(name) = c.peer.clone()
        {
            c.stage = Stage::AwaitHello;
            c.heard = io.now;
            io.send(conn, &hello);
            let session = self.session(io, &name);
            io.send(conn, &session);
        }
    }

    /// The connection failed or closed under us.
    pub fn on_closed(&mut self, io: &mut Io, conn: ConnId) {
        self.forget(io, conn);
    }

    /// Drops `conn` (already closed or closing); schedules a redial if it was
    /// the last connection to its peer.
    fn forget(&mut self, io: &mut Io, conn: ConnId) {
        let Some(c) = self.conns.remove(&conn) else {
            return;
        };
        io.timers.cancel(&Timer::Handshake(conn));
        io.timers.cancel(&Timer::Keepalive(conn));
        let Some(name) = c.peer else { return };
        if self.open.get(&name) == Some(&conn) {
            self.open.remove(&name);
        }
        let others = self.conns.values().any(|o| o.peer.as_ref() == Some(&name));
        if !others {
            // The next connection to `name` starts a new epoch: the other
            // side will know this one is gone at our end.
            self.epochs.remove(&name);
            if c.dialed || c.stage == Stage::Open {
                self.schedule_redial(io, &name, c.dialed);
            }
        }
    }

    /// Closes `conn` with a goodbye and forgets it.
    pub fn close(&mut self, io: &mut Io, conn: ConnId, code: ErrorCode, reason: &str) {
        if let Some(c) = self.conns.get(&conn) {
            bye(io, conn, c.stage, code, reason);
            self.forget(io, conn);
        }
    }

    fn violation(&mut self, io: &mut Io, conn: ConnId, reason: LinkViolation) {
        let reason = reason.to_string();
        let who = self
            .conns
            .get(&conn)
            .and_then(|c| c.peer.clone())
            .map_or_else(|| format!("connection {conn}"), |n| n.to_string());
        io.notice(format!("closed the connection with {who}: {reason}"));
        self.close(io, conn, ErrorCode::ProtocolViolation, &reason);
    }

    /// The handshake timer of `conn` fired.
    pub fn on_handshake_timer(&mut self, io: &mut Io, conn: ConnId) {
        if self
            .conns
            .get(&conn)
            .is_some_and(|c| c.stage != Stage::Open)
        {
            self.close(io, conn, ErrorCode::TimedOut, "the handshake took too long");
        }
    }

    /// The keepalive timer of `conn` fired: ping it if it has been silent
    /// for an interval, close it if for the whole timeout.
    pub fn on_keepalive_timer(&mut self, io: &mut Io, conn: ConnId) {
        let Some(c) = self.conns.get(&conn) else {
            return;
        };
        if c.stage != Stage::Open {
            return;
        }
        let (interval, timeout) = (self.times.keepalive_interval, self.times.keepalive_timeout);
        let silent = io.now.saturating_duration_since(c.heard);
        if silent >= timeout {
            let who = c.peer.clone().map_or_else(String::new, |n| n.to_string());
            let why = format!("nothing heard for {} s", timeout.as_secs_f64());
            io.notice(format!("closed the connection with {who}: {why}"));
            self.close(io, conn, ErrorCode::TimedOut, &why);
            return;
        }
        let next = if silent >= interval {
            io.send(conn, &Message::Peer(PeerMessage::Ping));
            (io.now + interval).min(c.heard + timeout)
        } else {
            c.heard + interval
        };
        io.timers.set(Timer::Keepalive(conn), next);
    }

    /// Acceptor: the claimed name checks out and the dialer's epoch is known.
    fn accept_checked(&mut self, io: &mut Io, conn: ConnId, name: Name) -> Vec<LinkOut> {
        if !self.wins(conn, &name) {
            self.close(io, conn, ErrorCode::Normal, "duplicate connection");
            return Vec::new();
        }
        io.send(conn, &Message::Peer(PeerMessage::Verified));
        self.make_open(io, conn, name)
    }

    /// Whether `conn` should replace the current open connection to `name`.
    fn wins(&self, conn: ConnId, name: &Name) -> bool {
        let Some(&old) = self.open.get(name) else {
            return true;
        };
        let epoch = |id: ConnId| self.conns.get(&id).and_then(|c| c.epoch);
        if epoch(conn) != epoch(old) {
            // `name` has lost every connection with us since `old` opened
            // (it restarted, or `old`'s close never reached us): `old` is
            // dead at its end, whoever dialed it.
            return true;
        }
        // A direct connection beats a relayed one (see `relayed`).
        let relayed = |id: ConnId| self.conns.get(&id).is_some_and(|c| c.relayed);
        if relayed(conn) != relayed(old) {
            return relayed(old);
        }
        let smaller = if self.me < *name { &self.me } else { name };
        let smaller_dialed = |id: ConnId| {
            let dialed = self.conns.get(&id).is_some_and(|c| c.dialed);
            let dialer = if dialed { &self.me } else { name };
            dialer == smaller
        };
        match (smaller_dialed(conn), smaller_dialed(old)) {
            (true, false) => true,
            (false, true) => false,
            _ => conn > old,
        }
    }

    fn make_open(&mut self, io: &mut Io, conn: ConnId, name: Name) -> Vec<LinkOut> {
        if let Some(c) = self.conns.get_mut(&conn) {
            c.stage = Stage::Open;
        }
        self.opened += 1;
        io.timers.cancel(&Timer::Handshake(conn));
        io.set_timer(Timer::Keepalive(conn), self.times.keepalive_interval);
        io.timers.cancel(&Timer::Dial(name.clone()));
        self.attempts.remove(&name);
        self.looking_up.remove(&name);
        if let Some(old) = self.open.insert(name.clone(), conn)
            && old != conn
        {
            self.close(io, old, ErrorCode::Normal, "duplicate connection");
        }
        vec![LinkOut::Open { name }]
    }

    /// Sends `msg` to `name` if a connection is open; `false` if not.
    pub fn send(&mut self, io: &mut Io, name: &Name, msg: PeerMessage) -> bool {
        match self.open.get(name) {
            Some(&conn) => {
                io.send(conn, &Message::Peer(msg));
                true
            }
            None => false,
        }
    }

    /// [`Links::send`] of a whole message the caller keeps.
    pub fn send_message(&mut self, io: &mut Io, name: &Name, msg: &Message) -> bool {
        match self.open.get(name) {
            Some(&conn) => {
                io.send(conn, msg);
                true
            }
            None => false,
        }
    }

    /// The address of the open connection to `name`, if any.
    pub fn remote_of(&self, name: &Name) -> Option<SocketAddr> {
        self.conns.get(self.open.get(name)?).map(|c| c.remote)
    }

    /// The open connection to `name`, if any.
    pub fn conn_of(&self, name: &Name) -> Option<ConnId> {
        self.open.get(name).copied()
    }

    /// Sends a transfer message to `name` if a connection is open; `false`
    /// if not (the transfer learns of the loss and asks again later).
    pub fn send_transfer(&mut self, io: &mut Io, name: &Name, msg: TransferMessage) -> bool {
        match self.open.get(name) {
            Some(&conn) => {
                io.send(conn, &Message::Transfer(msg));
                true
            }
            None => false,
        }
    }

    /// Each peer with an open connection, and the address at its other end.
    pub fn open_remotes(&self) -> Vec<(Name, SocketAddr)> {
        let remote = |c: &ConnId| self.conns.get(c).map(|c| c.remote);
        self.open
            .iter()
            .filter_map(|(n, c)| Some((n.clone(), remote(c)?)))
            .collect()
    }

    /// Says goodbye on every connection (for `/quit`).
    pub fn close_all(&mut self, io: &mut Io, code: ErrorCode, reason: &str) {
        for (conn, c) in std::mem::take(&mut self.conns) {
            io.timers.cancel(&Timer::Handshake(conn));
            io.timers.cancel(&Timer::Keepalive(conn));
            bye(io, conn, c.stage, code, reason);
        }
        self.open.clear();
        self.epochs.clear();
        self.looking_up.clear();
    }

    pub fn on_received(&mut self, io: &mut Io, conn: ConnId, bytes: &[u8]) -> Vec<LinkOut> {
        let Some(c) = self.conns.get_mut(&conn) else {
            return Vec::new();
        };
        c.heard = io.now;
        let mut rest = bytes;
        let mut outs = Vec::new();
        loop {
            let Some(c) = self.conns.get_mut(&conn) else {
                return outs;
            };
            // Whole frames are decoded in place; only a cut one is buffered.
            match c.deframer.next_from(&mut rest) {
                // What `on_message` does with the messages of a chat line,
                // without a `Vec` of its own per message.
                Ok(Some(Message::Peer(
                    msg @ (PeerMessage::Data { .. } | PeerMessage::Ack { .. }),
                ))) if c.stage == Stage::Open => {
                    if let Some(name) = c.peer.clone() {
                        outs.push(LinkOut::Message { name, msg });
                    }
                }
                Ok(Some(msg)) => outs.extend(self.on_message(io, conn, msg)),
                Ok(None) => return outs,
                Err(e) => {
                    self.violation(io, conn, LinkViolation::BadBytes(e));
                    return outs;
                }
            }
        }
    }

    fn on_message(&mut self, io: &mut Io, conn: ConnId, msg: Message) -> Vec<LinkOut> {
        let Some(c) = self.conns.get_mut(&conn) else {
            return Vec::new();
        };
        match (c.stage, msg) {
            (_, Message::Goodbye(g)) => {
                let who = c.peer.clone();
                io.out.push_back(Output::Close { conn });
                if g.code != ErrorCode::Normal
                    && let Some(who) = who
                {
                    io.notice(format!(
                        "{who} closed the connection: {} ({})",
                        g.reason, g.code
                    ));
                }
                self.forget(io, conn);
                Vec::new()
            }
            (Stage::AwaitHello, Message::Hello(h)) => self.on_hello(io, conn, h),
            (
                Stage::AwaitVerified | Stage::AwaitSession,
                Message::Peer(PeerMessage::Session { epoch }),
            ) if c.epoch.is_none() => {
                c.epoch = Some(epoch);
                match (c.stage, c.peer.clone()) {
                    (Stage::AwaitSession, Some(name)) => self.accept_checked(io, conn, name),
                    _ => Vec::new(),
                }
            }
            (Stage::AwaitVerified, Message::Peer(PeerMessage::Verified)) if c.epoch.is_some() => {
                let Some(name) = c.peer.clone() else {
                    return Vec::new();
                };
                // The acceptor may have opened it before seeing our other
                // connection: the same rule on both sides settles it.
                if self.wins(conn, &name) {
                    self.make_open(io, conn, name)
                } else {
                    self.close(io, conn, ErrorCode::Normal, "duplicate connection");
                    Vec::new()
                }
            }
            (Stage::Open, Message::Peer(PeerMessage::Verified)) => {
                self.violation(io, conn, LinkViolation::SecondVerified);
                Vec::new()
            }
            (Stage::Open, Message::Peer(PeerMessage::Session { .. })) => {
                self.violation(io, conn, LinkViolation::SecondSession);
                Vec::new()
            }
            (Stage::Open, Message::Peer(PeerMessage::Ping)) => {
                io.send(conn, &Message::Peer(PeerMessage::Pong));
                Vec::new()
            }
            // Liveness only: `heard` is already up to date.
            (Stage::Open, Message::Peer(PeerMessage::Pong)) => Vec::new(),
            (Stage::Open, Message::Peer(msg)) => match c.peer.clone() {
                Some(name) => vec![LinkOut::Message { name, msg }],
                None => Vec::new(),
            },
            (Stage::Open, Message::Transfer(msg)) => match c.peer.clone() {
                Some(name) => vec![LinkOut::Transfer { name, msg }],
                None => Vec::new(),
            },
            (stage, other) => {
                let why = LinkViolation::Unexpected {
                    kind: other.kind(),
                    stage: stage.name(),
                };
                self.violation(io, conn, why);
                Vec::new()
            }
        }
    }

    fn on_hello(&mut self, io: &mut Io, conn: ConnId, h: Hello) -> Vec<LinkOut> {
        if h.version != PROTOCOL_VERSION {
            let why = format!(
                "this peer speaks confab protocol {PROTOCOL_VERSION}, you speak {}",
                h.version
            );
            self.close(io, conn, ErrorCode::VersionMismatch, &why);
            return Vec::new();
        }
        let claimed = match (h.role, h.name) {
            (Role::Peer, Some(n)) if n != self.me => n,
            (role, name) => {
                self.violation(io, conn, LinkViolation::BadHello { role, name });
                return Vec::new();
            }
        };
        let Some(c) = self.conns.get_mut(&conn) else {
            return Vec::new();
        };
        if c.proven.as_ref() != Some(&claimed) {
            let why = LinkViolation::NotProven {
                claimed,
                proven: c.proven.clone(),
            };
            self.violation(io, conn, why);
            return Vec::new();
        }
        if c.dialed {
            // The channel proved the name dialed; the hello agrees.
            c.stage = Stage::AwaitVerified;
            return Vec::new();
        }
        c.peer = Some(claimed.clone());
        c.stage = Stage::AwaitSession;
        let session = self.session(io, &claimed);
        io.send(conn, &session);
        match self.conns.get(&conn) {
            Some(c) if c.epoch.is_some() => self.accept_checked(io, conn, claimed),
            _ => Vec::new(),
        }
    }
}

mod conn;
mod dial;
mod relayed;
#[cfg(test)]
mod tests;
