//! One connection of [`super::Links`]: where its handshake stands
//! ([`Stage`]) and what is known of it ([`Conn`]), and how one is closed
//! ([`bye`]). Plain values; touches only the [`Io`] it is given.

use std::net::SocketAddr;
use std::time::Instant;

use crate::api::{ConnId, Output};
use crate::peer::io::Io;
use crate::wire::{Deframer, ErrorCode, Name};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Stage {
    /// Dialer: waiting for `Connected`.
    Connecting,
    /// Waiting for the other side's hello.
    AwaitHello,
    /// Acceptor: the claimed name checks out, but the dialer's `Session` has
    /// not arrived yet.
    AwaitSession,
    /// Dialer: waiting for `Verified`.
    AwaitVerified,
    Open,
}

impl Stage {
    /// Its name, as a violation reports it.
    pub(super) fn name(self) -> &'static str {
        match self {
            Stage::Connecting => "Connecting",
            Stage::AwaitHello => "AwaitHello",
            Stage::AwaitSession => "AwaitSession",
            Stage::AwaitVerified => "AwaitVerified",
            Stage::Open => "Open",
        }
    }
}

#[derive(Debug)]
pub(super) struct Conn {
    /// Dialed by this peer (else accepted).
    pub(super) dialed: bool,
    /// Who is (or claims to be) at the other end.
    pub(super) peer: Option<Name>,
    /// The name the channel's handshake proved, once it has.
    pub(super) proven: Option<Name>,
    pub(super) stage: Stage,
    pub(super) deframer: Deframer,
    /// The other side's epoch for us (its `Session`), once known.
    pub(super) epoch: Option<u64>,
    /// When anything last arrived (for the keepalive).
    pub(super) heard: Instant,
    /// The other end's address (a call's media goes to its IP).
    pub(super) remote: SocketAddr,
    /// Carried through the registry's relay (see `relayed`).
    pub(super) relayed: bool,
}

impl Conn {
    pub(super) fn new(dialed: bool, peer: Option<Name>, now: Instant, remote: SocketAddr) -> Self {
        Self {
            dialed,
            peer,
            proven: None,
            stage: if dialed {
                Stage::Connecting
            } else {
                Stage::AwaitHello
            },
            deframer: Deframer::new(),
            epoch: None,
            heard: now,
            remote,
            relayed: false,
        }
    }
}

/// Closes `conn`, saying goodbye first unless it is still connecting: the
/// first frame on every connection is a hello, and one that is not up yet
/// has carried nothing (found by the `peer` fuzz target).
pub(super) fn bye(io: &mut Io, conn: ConnId, stage: Stage, code: ErrorCode, reason: &str) {
    if stage == Stage::Connecting {
        io.out.push_back(Output::Close { conn });
    } else {
        io.goodbye(conn, code, reason);
    }
}
