//! The shape every confab engine shares, after quinn-proto and str0m.
//!
//! A driver (the mio event loop, the turmoil simulator, the in-memory test
//! harness, a fuzzer) owns the sockets, files, clock and threads. It feeds the
//! engine [`Input`]s and commands, each with the current time, and drains
//! [`Output`]s with `while let Some(o) = engine.poll_output()`. It calls
//! [`Engine::handle_timeout`] once the time from [`Engine::poll_timeout`] has
//! come. The engine does nothing on its own.
//!
//! Rules a driver can rely on:
//! - Time passed in never has to be exact: extra `handle_timeout` calls are
//!   harmless, and every handler first runs whatever timers are due.
//! - Inputs about a connection or job the engine no longer knows are ignored;
//!   they happen in every real driver when a close races an arrival.
//! - A misbehaving remote never makes a call fail or panic: the engine closes
//!   that connection and reports it as an event. `Err` from
//!   [`Engine::handle_command`] means the *caller* asked for something invalid.

use std::fmt;
use std::net::SocketAddr;
use std::time::Instant;

use crate::password::{PasswordDigest, PasswordError, PasswordWork};
use crate::record::{Record, RecordKey};

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident, $prefix:literal) => {
        $(#[$doc])*
        #[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
        pub struct $name(pub u64);

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, concat!($prefix, "{}"), self.0)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Display::fmt(self, f)
            }
        }
    };
}

id_type!(
    /// A connection, minted by the engine (for accepted and for outgoing
    /// connections alike) and never reused by that engine.
    ConnId,
    "c"
);
id_type!(
    /// A file transfer, minted by the engine that owns it.
    TransferId,
    "t"
);
id_type!(
    /// A piece of slow work (password hashing) the engine asked the driver for.
    JobId,
    "j"
);

/// Something that happened outside the engine.
#[derive(Debug)]
pub enum Input<'a> {
    /// The connection asked for with [`Output::Connect`] is up.
    Connected { conn: ConnId },
    /// The connection asked for with [`Output::Connect`] could not be made.
    ConnectFailed { conn: ConnId },
    /// Bytes arrived, split anywhere.
    Received { conn: ConnId, bytes: &'a [u8] },
    /// The connection is gone (closed by the remote, reset, or failed).
    Closed { conn: ConnId },
    /// The answer to [`Output::ReadChunk`].
    ChunkRead {
        transfer: TransferId,
        offset: u64,
        data: &'a [u8],
    },
    /// The answer to [`Output::WriteChunk`]: the bytes are written.
    ChunkWritten { transfer: TransferId, offset: u64 },
    /// A chunk read or write failed.
    StorageFailed { transfer: TransferId, error: String },
    /// The answer to [`Output::DerivePassword`].
    PasswordDerived {
        job: JobId,
        result: Result<PasswordDigest, PasswordError>,
    },
}

/// Something the engine asks its driver to do, or tells it.
#[derive(Debug)]
pub enum Output<E> {
    /// Open a connection to `addr`; answer with `Connected` or `ConnectFailed`.
    Connect { conn: ConnId, addr: SocketAddr },
    /// Write these bytes to the connection, in order after earlier ones.
    Send { conn: ConnId, bytes: Vec<u8> },
    /// Flush what was sent, then close. The engine has forgotten the connection.
    Close { conn: ConnId },
    /// Read up to `len` bytes at `offset` of the transfer's source.
    ReadChunk {
        transfer: TransferId,
        offset: u64,
        len: u32,
    },
    /// Write `data` at `offset` of the transfer's destination.
    WriteChunk {
        transfer: TransferId,
        offset: u64,
        data: Vec<u8>,
    },
    /// Run slow password work (on a worker thread if the driver likes) and
    /// answer with [`Input::PasswordDerived`]. See [`PasswordWork::run`].
    DerivePassword { job: JobId, work: PasswordWork },
    /// Store this record durably, replacing any with the same key. Hand every
    /// stored record back to the engine's constructor after a restart.
    Persist(Record),
    /// Delete the record with this key.
    Forget(RecordKey),
    /// Tell the user (or a log, or a checker).
    Event(E),
}

impl<E> Output<E> {
    /// The same output with its event (if it is one) converted by `f`.
    pub fn map_event<F>(self, f: impl FnOnce(E) -> F) -> Output<F> {
        match self {
            Output::Event(e) => Output::Event(f(e)),
            Output::Connect { conn, addr } => Output::Connect { conn, addr },
            Output::Send { conn, bytes } => Output::Send { conn, bytes },
            Output::Close { conn } => Output::Close { conn },
            Output::ReadChunk {
                transfer,
                offset,
                len,
            } => Output::ReadChunk {
                transfer,
                offset,
                len,
            },
            Output::WriteChunk {
                transfer,
                offset,
                data,
            } => Output::WriteChunk {
                transfer,
                offset,
                data,
            },
            Output::DerivePassword { job, work } => Output::DerivePassword { job, work },
            Output::Persist(r) => Output::Persist(r),
            Output::Forget(k) => Output::Forget(k),
        }
    }
}

/// A command the caller could not have meant: the engine's state is unchanged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommandError(pub String);

impl fmt::Display for CommandError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for CommandError {}

/// The interface every role (registry, peer) offers its driver.
pub trait Engine {
    /// What a user or program can ask of this role.
    type Command;
    /// What this role reports.
    type Event: fmt::Debug;

    /// Registers an inbound connection from `remote` and returns its id.
    fn accept(&mut self, now: Instant, remote: SocketAddr) -> ConnId;
    /// Feeds something that happened.
    fn handle_input(&mut self, now: Instant, input: Input<'_>);
    /// Feeds a command from the user.
    fn handle_command(&mut self, now: Instant, cmd: Self::Command) -> Result<(), CommandError>;
    /// Runs the timers that are due at `now`.
    fn handle_timeout(&mut self, now: Instant);
    /// The next thing to do, if any.
    fn poll_output(&mut self) -> Option<Output<Self::Event>>;
    /// When [`Engine::handle_timeout`] should next be called.
    fn poll_timeout(&self) -> Option<Instant>;
}
