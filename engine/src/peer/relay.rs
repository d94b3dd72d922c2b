//! [`Relays`]: this peer's streams relayed through the registry, for peers
//! it cannot connect to directly (see [`crate::wire::relay`]).
//!
//! **A relayed stream is a connection to the layers above.** Each gets a
//! [`ConnId`] minted like any other but never given to the driver: the
//! links run their handshake, the peers' end-to-end Noise channel (the
//! keyring's, exactly as on a socket) seals and opens its bytes, and
//! streams, chats and transfers see one more connection. What differs is
//! only the path: the role machine (`relay_route`) takes the sealed bytes
//! the channel queued for a relayed connection out of the output queue and
//! hands them here; they leave as `Data` on the registry connection, in
//! pieces of at most [`MAX_RELAY_PIECE`] and never beyond the credit the
//! other side granted. Bytes that arrive as `Data` are fed to the channel
//! as if read from a socket, and credited back once consumed.
//!
//! **When.** A peer whose direct dial failed (refused, unreachable, timed
//! out) is marked `unreachable`: the next attempt to reach it opens a
//! relayed stream instead. The mark is dropped when a direct connection to
//! it opens (the links prefer a direct connection over a relayed one, so a
//! later direct dial replaces the relay; streams resend what was
//! unacknowledged, receivers drop duplicates).
//!
//! Touches only its own tables; sends through the [`Io`] on the registry
//! connection it is given. Invariants: a connection is in `by_conn` exactly
//! while it is asked for (`Path::Asking`) or carried (`Path::Stream`);
//! `credit` never goes below zero; `waiting` holds only a carried
//! stream's bytes, and `waiting_len` is their sum.
//!
//! **Backpressure.** Bytes wait here only for credit. A stream holding
//! [`MAX_RELAY_WAITING`] or more is full ([`Relays::room`]): the role
//! machine then holds the transfers with that peer (see
//! `Transfers::set_room`), so the file is read no faster than the registry
//! carries it, and lets them go on once credit has let the bytes out.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use crate::api::ConnId;
use crate::bounded::{Blob, Text};
use crate::limits::{MAX_RELAY_PIECE, MAX_RELAY_WAITING, RELAY_WINDOW};
use crate::peer::io::Io;
use crate::wire::relay::RelayMessage;
use crate::wire::{Message, Name};

/// Where a relayed connection stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Path {
    /// `Open` sent with this ask, no answer yet.
    Asking(u32),
    /// Carried as this stream.
    Stream(u64),
}

#[derive(Debug)]
struct Carried {
    conn: ConnId,
    peer: Name,
    /// Bytes this peer may still send.
    credit: u64,
    /// Sealed bytes waiting for credit, oldest first.
    waiting: VecDeque<Vec<u8>>,
    /// Their length, all pieces together.
    waiting_len: u64,
    /// Bytes received and not yet credited back.
    consumed: u64,
    /// Bytes sent and received, for `/who`-style listings.
    bytes: u64,
}

/// See the module documentation.
#[derive(Debug, Default)]
pub(crate) struct Relays {
    next_ask: u32,
    asks: BTreeMap<u32, (ConnId, Name)>,
    streams: BTreeMap<u64, Carried>,
    by_conn: BTreeMap<ConnId, Path>,
    unreachable: BTreeSet<Name>,
}

impl Relays {
    /// Whether `conn` is a relayed connection (asked for or carried).
    pub fn owns(&self, conn: ConnId) -> bool {
        self.by_conn.contains_key(&conn)
    }

    /// Whether any relayed connection exists (the role machine skips its
    /// look at the output queue otherwise).
    pub fn is_empty(&self) -> bool {
        self.by_conn.is_empty()
    }

    /// Whether the next attempt to reach `name` should go through the relay.
    pub fn is_unreachable(&self, name: &Name) -> bool {
        self.unreachable.contains(name)
    }

    /// A direct dial to `name` failed.
    pub fn mark_unreachable(&mut self, name: &Name) -> bool {
        self.unreachable.insert(name.clone())
    }

    /// A direct connection to `name` is open.
    pub fn reached(&mut self, name: &Name) {
        self.unreachable.remove(name);
    }

    /// Asks the registry (on `reg`) for a stream to `to`, carrying `conn`.
    pub fn open(&mut self, io: &mut Io, reg: ConnId, conn: ConnId, to: Name) {
        self.next_ask = self.next_ask.wrapping_add(1);
        let ask = self.next_ask;
        self.asks.insert(ask, (conn, to.clone()));
        self.by_conn.insert(conn, Path::Asking(ask));
        io.send(reg, &Message::Relay(RelayMessage::Open { ask, to }));
    }

    fn carry(&mut self, stream: u64, conn: ConnId, peer: Name) {
        self.by_conn.insert(conn, Path::Stream(stream));
        self.streams.insert(
            stream,
            Carried {
                conn,
                peer,
                credit: RELAY_WINDOW,
                waiting: VecDeque::new(),
                waiting_len: 0,
                consumed: 0,
                bytes: 0,
            },
        );
    }

    /// The registry opened the stream asked for as `ask`: the connection it
    /// carries, if still wanted; `None` means close `stream` again (the
    /// connection was given up meanwhile, `Some(false)` from [`Relays::close`]).
    pub fn opened(&mut self, ask: u32, stream: u64) -> Option<ConnId> {
        let (conn, peer) = self.asks.remove(&ask)?;
        if self.by_conn.get(&conn) != Some(&Path::Asking(ask)) {
            return None;
        }
        self.carry(stream, conn, peer);
        Some(conn)
    }

    /// Whether `ask` was given up meanwhile (its answer is then closed).
    pub fn is_abandoned(&self, ask: u32) -> bool {
        !self.asks.contains_key(&ask)
    }

    /// The registry refused `ask`: the connection that waited, and for whom.
    pub fn refused(&mut self, ask: u32) -> Option<(ConnId, Name)> {
        let (conn, peer) = self.asks.remove(&ask)?;
        self.by_conn.remove(&conn);
        Some((conn, peer))
    }

    /// `from` opened `stream` to this peer, carried as `conn`.
    pub fn incoming(&mut self, stream: u64, conn: ConnId, from: Name) {
        self.carry(stream, conn, from);
    }

    /// The peer at the other end of `stream`, if it is carried.
    pub fn peer_of(&self, stream: u64) -> Option<&Name> {
        self.streams.get(&stream).map(|c| &c.peer)
    }

    /// The connection carried as `stream`, if any.
    pub fn conn_of(&self, stream: u64) -> Option<ConnId> {
        self.streams.get(&stream).map(|c| c.conn)
    }

    /// Sealed bytes for `conn`, to go out as credit allows.
    pub fn queue(&mut self, conn: ConnId, bytes: Vec<u8>) {
        if let Some(Path::Stream(s)) = self.by_conn.get(&conn)
            && let Some(c) = self.streams.get_mut(s)
        {
            c.waiting_len += bytes.len() as u64;
            if let Some(last) = c.waiting.back_mut()
                && last.len() + bytes.len() <= MAX_RELAY_PIECE
            {
                // Small sends (a burst of chat lines, acks) travel as one
                // piece: one relayed frame instead of one each.
                last.extend_from_slice(&bytes);
            } else if bytes.len() <= MAX_RELAY_PIECE {
                c.waiting.push_back(bytes);
            } else {
                // Cut once here, so sending never moves a big buffer.
                c.waiting
                    .extend(bytes.chunks(MAX_RELAY_PIECE).map(<[u8]>::to_vec));
            }
        }
        // Bytes for a connection still being asked for cannot exist: the
        // links send nothing before `Connected`, which comes with `Opened`.
    }

    /// `conn` is closed by this side: forgets it, and says what to tell
    /// the registry (a `Close` of its stream), if anything.
    pub fn close(&mut self, conn: ConnId) -> Option<RelayMessage> {
        match self.by_conn.remove(&conn)? {
            Path::Asking(ask) => {
                // Its `Opened` is answered with a `Close` when it comes.
                self.asks.remove(&ask);
                None
            }
            Path::Stream(stream) => {
                self.streams.remove(&stream);
                Some(RelayMessage::Close {
                    stream,
                    reason: Text::truncate("closed"),
                })
            }
        }
    }

    /// The registry ended `stream`: the connection it carried.
    pub fn ended(&mut self, stream: u64) -> Option<ConnId> {
        let c = self.streams.remove(&stream)?;
        self.by_conn.remove(&c.conn);
        Some(c.conn)
    }

    /// The registry session is gone, and every relayed connection with it.
    pub fn lost(&mut self) -> Vec<ConnId> {
        self.asks.clear();
        self.streams.clear();
        std::mem::take(&mut self.by_conn).into_keys().collect()
    }

    /// The other side granted `bytes` more credit on `stream`.
    pub fn credit(&mut self, stream: u64, bytes: u64) {
        if let Some(c) = self.streams.get_mut(&stream) {
            c.credit = c.credit.saturating_add(bytes).min(RELAY_WINDOW);
        }
    }

    /// `len` bytes of `stream` arrived and are being consumed: credits them
    /// back (on `reg`) once a quarter window has gathered, so the sender
    /// is never left without credit while bytes are in flight.
    pub fn received(&mut self, io: &mut Io, reg: ConnId, stream: u64, len: usize) {
        let Some(c) = self.streams.get_mut(&stream) else {
            return;
        };
        c.consumed += len as u64;
        c.bytes += len as u64;
        if c.consumed >= RELAY_WINDOW / 4 {
            let bytes = std::mem::take(&mut c.consumed);
            io.send(reg, &Message::Relay(RelayMessage::Credit { stream, bytes }));
        }
    }

    /// Sends what waits, as far as each stream's credit allows, on `reg`.
    pub fn flush(&mut self, io: &mut Io, reg: ConnId) {
        for (&stream, c) in &mut self.streams {
            while c.credit > 0
                && let Some(front) = c.waiting.front_mut()
            {
                let n = front.len().min(MAX_RELAY_PIECE).min(c.credit as usize);
                let piece: Vec<u8> = if n == front.len() {
                    c.waiting.pop_front().unwrap_or_default()
                } else {
                    front.drain(..n).collect()
                };
                if piece.is_empty() {
                    continue;
                }
                c.credit -= piece.len() as u64;
                c.waiting_len -= piece.len() as u64;
                c.bytes += piece.len() as u64;
                // At most `MAX_RELAY_PIECE` bytes: always fits.
                if let Ok(bytes) = Blob::new(piece) {
                    io.send(reg, &Message::Relay(RelayMessage::Data { stream, bytes }));
                }
            }
        }
    }

    /// For each peer with a relayed stream, the bytes it may still take
    /// before [`MAX_RELAY_WAITING`] wait for credit (0: full, its transfers
    /// are to wait).
    pub fn room(&self) -> BTreeMap<Name, u64> {
        let mut room = BTreeMap::new();
        for c in self.streams.values() {
            let r = MAX_RELAY_WAITING.saturating_sub(c.waiting_len);
            // Two streams to one peer (one being replaced): the fuller.
            let e = room.entry(c.peer.clone()).or_insert(r);
            *e = (*e).min(r);
        }
        room
    }

    /// The most bytes any relayed stream holds waiting for credit now.
    pub fn most_waiting(&self) -> u64 {
        self.streams
            .values()
            .map(|c| c.waiting_len)
            .max()
            .unwrap_or(0)
    }

    /// Relayed streams now: (peer, bytes so far).
    pub fn listing(&self) -> Vec<(Name, u64)> {
        self.streams
            .values()
            .map(|c| (c.peer.clone(), c.bytes))
            .collect()
    }
}
