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
//!
//! # Records
//!
//! [`Output::Persist`] and [`Output::Forget`] are numbered 1, 2, ... in the
//! order the driver polls them from one engine (a restarted engine starts
//! again at 1). Two levels of keeping:
//!
//! - **Written**: before the driver carries out any output polled after a
//!   record (bytes sent, an event shown), that record must survive the
//!   driver's process dying (a crash, `SIGKILL`): handed to the operating
//!   system, e.g. appended to a log, is enough.
//! - **Durable**: surviving the machine losing power (`fsync`). If
//!   [`Engine::WAITS_FOR_DURABLE`] is false the driver makes every record
//!   durable before carrying out anything polled after it (one commit per
//!   batch is fine). If it is true the driver may show events polled after
//!   a record once the record is written, but must make it durable before
//!   sending any byte polled after it (a sender's outbox and next number
//!   lost to a power cut would otherwise number new messages again, and the
//!   receiver would drop them as duplicates while acknowledging them); it
//!   reports how far records are durable with [`Input::RecordsDurable`], and
//!   the engine holds back its acknowledgements of messages until then. The
//!   mio driver syncs a write-ahead journal once per batch, before the
//!   batch's bytes, and copies it into its database later, off the loop. The
//!   report must come eventually, without further input, and never names a
//!   record not yet polled; reporting more often, or every record at once,
//!   is harmless.
//!
//! # Files
//!
//! The engine never touches a file; a transfer asks its driver through the
//! file outputs, each answered by one input naming the same [`TransferId`]
//! (and `file`, the index of the file inside a folder transfer; 0 for a
//! single file):
//!
//! | output | answer |
//! |---|---|
//! | [`Output::OpenSource`] | [`Input::SourceHashing`]* then [`Input::SourceOpened`] |
//! | [`Output::OpenPart`] | [`Input::PartOpened`] |
//! | [`Output::ReadChunk`] | [`Input::ChunkRead`] |
//! | [`Output::WriteChunk`] | [`Input::ChunkWritten`] |
//! | [`Output::FinishFile`] | [`Input::FileFinished`] |
//! | [`Output::DiscardPart`], [`Output::ReleaseFiles`] | none |
//!
//! Any of them may be answered with [`Input::StorageFailed`] instead, which
//! fails the transfer. The driver may run them on worker threads, but must
//! carry out one transfer's outputs in the order given (a `DiscardPart` after
//! a `WriteChunk` must not be overtaken by it) and may answer in any order.
//! Answers about a transfer the engine has forgotten are ignored, so a driver
//! never has to cancel work in flight. After a restart the engine asks again
//! for everything it needs (it reopens sources and parts), so handles need
//! not survive a restart.
//!
//! **Sending** ([`Source`]): a fetch names a file of the shared folder
//! ([`Source::Shared`]); an offer names what the user typed after `/send`
//! ([`Source::Local`]). For a shared name the driver opens `SHARE/name` and
//! nothing else: the name is already a plain [`FileName`] (no separator, no
//! `..`), and the driver must also refuse a symlink or anything that is not a
//! regular file or a folder (open with `O_NOFOLLOW`, check the type of the
//! handle it got), with a clear error ("no shared file named x", "x is not a
//! regular file or folder"). A shared folder is described as a folder
//! (`folder`, files `name/sub/file`) and walked as strictly as a local one
//! below, every sub-folder opened from its parent's handle with
//! `O_NOFOLLOW`, so no link at any depth is followed. Nothing outside the
//! shared folder is ever read. A local path may be a file
//! or a folder; for a folder the driver walks it (not following symlinks,
//! skipping what is not a regular file or folder), and lists each file by its
//! path relative to the folder's parent (`DIR/sub/a.txt`, `/`-separated) in a
//! stable order (sorted); the engine checks every component as strictly as a
//! shared name and refuses the transfer otherwise.
//!
//! **The shared-file index.** MD5s come from an index the driver keeps in its
//! data folder, keyed by path, size and modification time (nanoseconds): an
//! entry whose three agree is trusted, anything else is hashed again and the
//! index updated ([`crate::transfer::index::ShareIndex`] is that table, with
//! its encoding, for drivers to share). At start the driver brings the index
//! of the shared folder up to date (printing its own progress for a big
//! folder) and puts the result in the peer's configuration; answering
//! `OpenSource` it looks the file up the same way, so a file changed since is
//! hashed again and the other side learns it changed. While hashing for an
//! `OpenSource` it may report [`Input::SourceHashing`], shown as progress.
//!
//! **Receiving**: every file goes to `DOWNLOADS/path.part` first
//! ([`Output::OpenPart`]); its existing length is how a transfer resumes (the
//! engine re-reads that prefix with `ReadChunk` to rebuild its MD5 state, as
//! MD5 state is not saved). Only once the MD5 of every byte written matches the
//! sender's does the engine ask for [`Output::FinishFile`], which renames it to
//! a free final name. A failed or cancelled transfer deletes only its `.part`
//! ([`Output::DiscardPart`]), and then may remove the folders the driver
//! itself created for that `.part` if they are empty now (so a folder
//! transfer that fails leaves no empty folders); nothing the user had is
//! ever removed or replaced.

use std::fmt;
use std::net::SocketAddr;
use std::time::Instant;

pub use crate::error::CommandError;
pub use crate::ids::{ConnId, JobId, TransferId};
use crate::password::{PasswordDigest, PasswordError, PasswordWork};
use crate::record::{Record, RecordKey};
pub use crate::source::{Source, SourceFile, SourceInfo};
use crate::wire::transfer::RelPath;

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
    /// Progress of [`Output::OpenSource`] while the driver hashes (a big
    /// folder, or a file its index has not seen): `hashed` of `total` bytes.
    /// Optional; send it at most a few times a second.
    SourceHashing {
        transfer: TransferId,
        hashed: u64,
        total: u64,
    },
    /// The answer to [`Output::OpenSource`]: what the source holds now.
    SourceOpened {
        transfer: TransferId,
        source: SourceInfo,
    },
    /// The answer to [`Output::OpenPart`]: the `.part` file is open and
    /// already holds `len` bytes (0 for a new or truncated one).
    PartOpened {
        transfer: TransferId,
        file: u32,
        len: u64,
    },
    /// The answer to [`Output::ReadChunk`]: `data` is the bytes at `offset`,
    /// exactly `len` of them unless the file ends first.
    ChunkRead {
        transfer: TransferId,
        file: u32,
        offset: u64,
        data: &'a [u8],
    },
    /// The answer to [`Output::WriteChunk`]: the bytes are written (handed to
    /// the OS; `fsync` is not required per chunk).
    ChunkWritten {
        transfer: TransferId,
        file: u32,
        offset: u64,
    },
    /// The answer to [`Output::FinishFile`]: the verified file now lives at
    /// `path` (as the user should see it).
    FileFinished {
        transfer: TransferId,
        file: u32,
        path: String,
    },
    /// Any file output of this transfer failed (open, read, write, rename).
    /// `error` is shown to the user: say what and where ("no shared file
    /// named x", "disk full writing y.part"). The transfer fails.
    StorageFailed { transfer: TransferId, error: String },
    /// A UDP datagram arrived on this engine's port (call media). Hostile
    /// like any network bytes; the engine drops what it does not expect.
    Datagram { from: SocketAddr, bytes: &'a [u8] },
    /// The answer to [`Output::DerivePassword`].
    PasswordDerived {
        job: JobId,
        result: Result<PasswordDigest, PasswordError>,
    },
    /// Every record output so far up to number `upto` (see "Records" above)
    /// is durable. Only engines with [`Engine::WAITS_FOR_DURABLE`] need it;
    /// others ignore it.
    RecordsDurable { upto: u64 },
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
    /// Open what a transfer will send and describe it; answer with
    /// [`Input::SourceOpened`] (after any number of [`Input::SourceHashing`])
    /// or [`Input::StorageFailed`]. Asked again after a reconnect or restart,
    /// so a changed file is noticed. See [`Source`] for what may be opened.
    OpenSource {
        transfer: TransferId,
        source: Source,
    },
    /// Open (creating if needed) the `.part` file of `file` of a receive
    /// transfer: `DOWNLOADS/path.part`, creating the folders of `path` inside
    /// the downloads folder. `size` is the final size (the driver may
    /// preallocate). If `fresh`, truncate it to 0 first (the source changed,
    /// or its bytes failed verification). Answer with [`Input::PartOpened`]
    /// or [`Input::StorageFailed`]. `path` is already checked ([`RelPath`]):
    /// joined under the downloads folder it cannot leave it; the driver must
    /// still refuse to follow a symlink among its folders.
    OpenPart {
        transfer: TransferId,
        file: u32,
        path: RelPath,
        size: u64,
        fresh: bool,
    },
    /// Read `len` bytes at `offset` of `file`: of the source for a send
    /// transfer; of the `.part` for a receive transfer (to re-hash what is
    /// already there when resuming). Answer with [`Input::ChunkRead`] or
    /// [`Input::StorageFailed`].
    ReadChunk {
        transfer: TransferId,
        file: u32,
        offset: u64,
        len: u32,
    },
    /// Write `data` at `offset` of `file`'s `.part`; answer with
    /// [`Input::ChunkWritten`] or [`Input::StorageFailed`].
    WriteChunk {
        transfer: TransferId,
        file: u32,
        offset: u64,
        data: Vec<u8>,
    },
    /// `file`'s `.part` is complete and verified: close it and rename it to
    /// its final name, never over an existing file (if `name.ext` exists, use
    /// the first free `name (1).ext`, `name (2).ext`, ...; atomically, e.g.
    /// `link`+`unlink` or `renameat2(RENAME_NOREPLACE)`). Answer with
    /// [`Input::FileFinished`] or [`Input::StorageFailed`].
    FinishFile { transfer: TransferId, file: u32 },
    /// Close and delete `DOWNLOADS/path.part`, the `.part` of `file`
    /// (cancel or failure), whether or not it is open in this run (a
    /// transfer restored after a restart may be cancelled before it reopens
    /// it). Never touches anything but that `.part`; no answer.
    DiscardPart {
        transfer: TransferId,
        file: u32,
        path: RelPath,
    },
    /// The transfer is over: close every handle it holds. No answer; inputs
    /// about it after this are ignored.
    ReleaseFiles { transfer: TransferId },
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
    /// Send this UDP datagram from this engine's port (its listen port
    /// number) to `to`. Losing it is fine: call media never waits for it.
    SendDatagram { to: SocketAddr, bytes: Vec<u8> },
}

impl<E> Output<E> {
    /// The same output with its event (if it is one) converted by `f`.
    pub fn map_event<F>(self, f: impl FnOnce(E) -> F) -> Output<F> {
        match self {
            Output::Event(e) => Output::Event(f(e)),
            Output::Connect { conn, addr } => Output::Connect { conn, addr },
            Output::Send { conn, bytes } => Output::Send { conn, bytes },
            Output::Close { conn } => Output::Close { conn },
            Output::OpenSource { transfer, source } => Output::OpenSource { transfer, source },
            Output::OpenPart {
                transfer,
                file,
                path,
                size,
                fresh,
            } => Output::OpenPart {
                transfer,
                file,
                path,
                size,
                fresh,
            },
            Output::ReadChunk {
                transfer,
                file,
                offset,
                len,
            } => Output::ReadChunk {
                transfer,
                file,
                offset,
                len,
            },
            Output::WriteChunk {
                transfer,
                file,
                offset,
                data,
            } => Output::WriteChunk {
                transfer,
                file,
                offset,
                data,
            },
            Output::FinishFile { transfer, file } => Output::FinishFile { transfer, file },
            Output::DiscardPart {
                transfer,
                file,
                path,
            } => Output::DiscardPart {
                transfer,
                file,
                path,
            },
            Output::ReleaseFiles { transfer } => Output::ReleaseFiles { transfer },
            Output::DerivePassword { job, work } => Output::DerivePassword { job, work },
            Output::Persist(r) => Output::Persist(r),
            Output::Forget(k) => Output::Forget(k),
            Output::SendDatagram { to, bytes } => Output::SendDatagram { to, bytes },
        }
    }
}

/// The interface every role (registry, peer) offers its driver.
pub trait Engine {
    /// What a user or program can ask of this role.
    type Command;
    /// What this role reports.
    type Event: fmt::Debug;
    /// Whether this role holds back what depends on records surviving power
    /// loss until [`Input::RecordsDurable`] says they do, so its driver need
    /// not make records durable before carrying on (see "Records" above).
    const WAITS_FOR_DURABLE: bool = false;

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
