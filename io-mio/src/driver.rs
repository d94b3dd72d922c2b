//! [`Driver`]: runs any [`Engine`] on a mio `Poll` with real sockets, a worker
//! thread for passwords, the durable [`Store`] and the transfer files.
//!
//! One turn of the loop: wait for readiness (or the earliest deadline: engine
//! timer, connect timeout, linger), accept and finish connects, take commands
//! and password results, read from every readable connection, run due timers,
//! then *settle*: drain the engine's outputs, commit the records they asked to
//! keep, and only then write to sockets and hand events to the [`Sink`]. Reads go
//! in rounds of one read per connection, with a settle after each round, so
//! the answers to one read (a receiver's acknowledgements) are written before
//! the next read is worked through: a sender keeps sending while the receiver
//! hashes, instead of both taking turns.
//!
//! Durability: every `Persist`/`Forget` drained in a settle is kept before any
//! byte queued in that settle is written and before its events are shown.
//! For an engine that does not wait for durability itself they are committed
//! in one redb transaction (`fsync`) right there; engines emit a record before
//! the reply that acknowledges it, so nothing a remote was told about can be
//! lost by a crash. For one that does ([`Engine::WAITS_FOR_DURABLE`], the
//! peer), the batch is appended to the store's journal (survives the process
//! dying) and committed by a thread, many batches per transaction, and the
//! engine hears how far with `Input::RecordsDurable` (see `driver/keep.rs`):
//! its acknowledgements wait for that, nothing else does. If the store fails
//! the driver stops at once with an error, writing nothing more.
//!
//! Backpressure (memory never grows without bound):
//! - reads use one buffer of [`DriverConfig::read_buffer`] bytes for all
//!   connections, and at most [`DriverConfig::reads_per_turn`] reads per
//!   connection per turn, so one fast sender cannot starve the others;
//! - a connection whose write queue reaches [`DriverConfig::high_water`] is not
//!   read from until it drains to [`DriverConfig::low_water`]: a peer that does
//!   not read its answers stops being listened to, so it cannot make us queue
//!   more answers;
//! - chunk reads from disk (`ReadChunk`) wait while all write queues together
//!   hold [`DriverConfig::send_budget`] bytes or more; the engine's window
//!   bounds how many such requests exist, and at most
//!   [`DriverConfig::chunk_reads_per_turn`] are served per settle so a long
//!   re-hash of a `.part` never starves the sockets;
//! - a queue that still reaches [`DriverConfig::hard_limit`] (pushes the
//!   engine makes on its own, like presence) closes that connection as too slow.
//!
//! Files (see [`crate::TransferFiles`]): `OpenSource` is carried out on a
//! worker thread (walk, MD5 cache, hashing) and `WriteChunk` on a writer
//! thread, whose answers wake the loop; the other file outputs are carried
//! out at once, in order. A transfer's queued chunk reads are served before
//! any later file output of the same transfer (so a write, finish or discard
//! never overtakes a read asked for before it), and dropped when it releases
//! its files; likewise its chunk writes under way are waited for before any
//! later file output of it (so a finish, discard, truncation or re-read never
//! overtakes a write), and a chunk is answered `ChunkWritten` only once its
//! write returned.
//!
//! So queued memory is at most `hard_limit` per connection, and in steady state
//! about `high_water` + the answers to one read buffer.
//!
//! Cost per turn: the loop never walks every connection. It keeps three small
//! watch sets (connections that may be readable, that have something to
//! write, shut or unpause, and that have a deadline) and visits only those,
//! so a registry with 20,000 idle sessions spends its time on the ones that
//! spoke, not on the others.
//!
//! Stopping: [`DriverHandle::stop`] gives the engine its stop command, stops
//! accepting, and ends the loop once every connection is closed and flushed (or
//! after [`DriverConfig::linger`]). A [`Flow::Finish`] from the sink ends it
//! once the write queues are flushed.

use std::collections::{BTreeSet, HashMap, VecDeque};
use std::fmt;
use std::io;
use std::net::{Shutdown, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver};
use std::time::{Duration, Instant};

use confab_engine::{ConnId, Engine, Input, TransferId};
use mio::net::{TcpListener, TcpStream};
use mio::{Events, Interest, Poll, Token, Waker};

use crate::conn::{Connection, ReadOutcome, State};
use crate::files::TransferFiles;
use crate::handle::{COMMAND_QUEUE, DriverHandle};
use crate::password::PasswordWorker;
use crate::role::{Flow, Sink, Stoppable};
use crate::store::keeper::Keeper;
use crate::store::{Change, Store};

mod chunks;
mod config;
mod datagrams;
mod drain;
mod group;
mod interfaces;
mod keep;
mod udp;

pub use self::config::{DriverConfig, DriverError};
pub use self::interfaces::multicast_interface_count;
use self::udp::Datagrams;
use self::udp::canonical;

const LISTENER: Token = Token(0);
const WAKER: Token = Token(1);
const FIRST_CONN_TOKEN: usize = 2;

/// A chunk read the engine asked for and the driver has not done yet.
#[derive(Debug, Clone, Copy)]
struct ChunkRequest {
    transfer: TransferId,
    file: u32,
    offset: u64,
    len: u32,
}

/// Runs one engine. See the module documentation.
pub struct Driver<E: Engine> {
    engine: E,
    config: DriverConfig,
    poll: Poll,
    listener: Option<TcpListener>,
    local_addr: Option<SocketAddr>,
    conns: HashMap<ConnId, Connection>,
    /// Every connection whose `readable` flag may be set (a superset).
    maybe_readable: BTreeSet<ConnId>,
    /// Every connection with bytes queued, a read pause to lift, or a
    /// closing write side still to shut (a superset).
    to_write: BTreeSet<ConnId>,
    /// Every connection in `Connecting` or `Closing`, which have deadlines.
    timed: BTreeSet<ConnId>,
    store: Option<Store>,
    /// The journal and committer, for an engine that waits for durability.
    keeper: Option<Keeper>,
    files: TransferFiles,
    chunk_reads: VecDeque<ChunkRequest>,
    commands: Receiver<E::Command>,
    handle: DriverHandle<E::Command>,
    passwords: PasswordWorker,
    changes: Vec<Change>,
    /// A store commit that failed; the driver stops with it.
    store_failure: Option<DriverError>,
    events: Vec<E::Event>,
    read_buf: Vec<u8>,
    /// Stop requested: the linger deadline.
    stopping: Option<Instant>,
    /// The sink said the role is finished: the linger deadline.
    finished: Option<Instant>,
    /// Call media and LAN discovery ([`Driver::bind_udp`], [`Driver::join_group`]).
    udp: Datagrams,
}

impl<E: Engine> fmt::Debug for Driver<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Driver")
            .field("local_addr", &self.local_addr)
            .field("connections", &self.conns.len())
            .finish_non_exhaustive()
    }
}

fn token_of(conn: ConnId) -> Token {
    Token(conn.0 as usize + FIRST_CONN_TOKEN)
}

fn conn_of(token: Token) -> ConnId {
    ConnId((token.0 - FIRST_CONN_TOKEN) as u64)
}

impl<E> Driver<E>
where
    E: Engine,
    E::Command: Stoppable,
{
    /// A driver for `engine`, accepting on `listener` (if any) and keeping
    /// records in `store` (if any; without one, records are logged and lost).
    pub fn new(
        engine: E,
        listener: Option<TcpListener>,
        store: Option<Store>,
        config: DriverConfig,
    ) -> io::Result<Self> {
        let poll = Poll::new()?;
        let waker = Arc::new(Waker::new(poll.registry(), WAKER)?);
        let mut listener = listener;
        let mut local_addr = None;
        if let Some(l) = listener.as_mut() {
            local_addr = Some(l.local_addr()?);
            poll.registry().register(l, LISTENER, Interest::READABLE)?;
        }
        let (tx, commands) = mpsc::sync_channel(COMMAND_QUEUE);
        let handle = DriverHandle {
            commands: tx,
            stop: Arc::new(AtomicBool::new(false)),
            waker: waker.clone(),
        };
        let passwords = PasswordWorker::start(waker.clone())?;
        let keeper = match &store {
            Some(store) if E::WAITS_FOR_DURABLE => {
                Some(Keeper::start(store, waker.clone()).map_err(|e| io::Error::other(e.0))?)
            }
            _ => None,
        };
        let files = TransferFiles::new(waker, store.as_ref().map(Store::shared_database));
        Ok(Self {
            engine,
            read_buf: vec![0; config.read_buffer.max(1)],
            config,
            poll,
            listener,
            local_addr,
            conns: HashMap::new(),
            maybe_readable: BTreeSet::new(),
            to_write: BTreeSet::new(),
            timed: BTreeSet::new(),
            store,
            keeper,
            files,
            chunk_reads: VecDeque::new(),
            commands,
            handle,
            passwords,
            changes: Vec::new(),
            store_failure: None,
            events: Vec::new(),
            stopping: None,
            finished: None,
            udp: Datagrams::default(),
        })
    }

    /// Where the listener listens, if there is one.
    pub fn local_addr(&self) -> Option<SocketAddr> {
        self.local_addr
    }

    /// A handle for other threads.
    pub fn handle(&self) -> DriverHandle<E::Command> {
        self.handle.clone()
    }

    /// The engine, for inspection.
    pub fn engine(&self) -> &E {
        &self.engine
    }

    /// The file side of transfers; [`TransferFiles::serve`] names its folders.
    pub fn files(&self) -> &TransferFiles {
        &self.files
    }

    /// See [`Self::files`].
    pub fn files_mut(&mut self) -> &mut TransferFiles {
        &mut self.files
    }

    /// Runs until stopped or finished.
    pub fn run(mut self, sink: &mut impl Sink<E::Event>) -> Result<(), DriverError> {
        let mut events = Events::with_capacity(256);
        // An engine may ask for things from its constructor (a peer dials the
        // registry at once): carry them out before the first wait.
        self.settle(Instant::now(), sink)?;
        loop {
            let now = Instant::now();
            if self.done(now) {
                // Everything kept is durable before the driver says it ended.
                if let Some(keeper) = self.keeper.as_mut() {
                    keeper.sync().map_err(DriverError::Store)?;
                }
                return Ok(());
            }
            let timeout = self.poll_timeout(now);
            if let Err(e) = self.poll.poll(&mut events, timeout) {
                if e.kind() == io::ErrorKind::Interrupted {
                    continue;
                }
                return Err(e.into());
            }
            let now = Instant::now();
            for event in events.iter() {
                match event.token() {
                    LISTENER => self.accept_all(now),
                    WAKER => {}
                    token if self.udp_readable(token) => {}
                    token => {
                        let conn = conn_of(token);
                        let Some(c) = self.conns.get_mut(&conn) else {
                            continue;
                        };
                        if event.is_readable() || event.is_read_closed() || event.is_error() {
                            c.readable = true;
                            self.maybe_readable.insert(conn);
                        }
                        if event.is_writable() || event.is_write_closed() || event.is_error() {
                            c.writable = true;
                        }
                        if matches!(c.state, State::Connecting { .. }) {
                            self.finish_connect(now, conn);
                        }
                    }
                }
            }
            self.take_commands(now, sink);
            self.read_datagrams(now);
            while let Ok((job, result)) = self.passwords.results.try_recv() {
                self.engine
                    .handle_input(now, Input::PasswordDerived { job, result });
            }
            self.take_file_answers(now);
            self.take_durable(now)?;
            self.read_all(now, sink)?;
            self.expire(now);
            if self.engine.poll_timeout().is_some_and(|t| t <= now) {
                self.engine.handle_timeout(now);
            }
            self.settle(now, sink)?;
        }
    }

    /// Whether the loop may end.
    fn done(&self, now: Instant) -> bool {
        let deadline = match (self.stopping, self.finished) {
            (None, None) => return false,
            (a, b) => a.into_iter().chain(b).min().unwrap_or(now),
        };
        if now >= deadline {
            tracing::debug!("ending after the linger time, with data unsent");
            return true;
        }
        let flushed = self.conns.values().all(|c| c.queued() == 0);
        let released = self
            .conns
            .values()
            .all(|c| matches!(c.state, State::Closing { shut: true, .. }));
        flushed && (self.finished.is_some() || released)
    }

    fn poll_timeout(&self, now: Instant) -> Option<Duration> {
        let busy = self
            .maybe_readable
            .iter()
            .filter_map(|id| self.conns.get(id))
            .any(|c| c.readable && !c.read_paused && !matches!(c.state, State::Connecting { .. }))
            || (!self.chunk_reads.is_empty() && self.total_queued() < self.config.send_budget)
            || self.udp_busy();
        if busy {
            return Some(Duration::ZERO);
        }
        let deadlines = self
            .timed
            .iter()
            .filter_map(|id| self.conns.get(id))
            .filter_map(|c| match c.state {
                State::Connecting { deadline } | State::Closing { deadline, .. } => Some(deadline),
                State::Open => None,
            });
        deadlines
            .chain(self.engine.poll_timeout())
            .chain(self.stopping)
            .chain(self.finished)
            .min()
            .map(|t| t.saturating_duration_since(now))
    }

    fn total_queued(&self) -> usize {
        self.conns.values().map(Connection::queued).sum()
    }

    fn accept_all(&mut self, now: Instant) {
        loop {
            let Some(listener) = self.listener.as_ref() else {
                return;
            };
            match listener.accept() {
                Ok((mut stream, remote)) => {
                    // A dual-stack listener reports IPv4 peers as mapped.
                    let remote = canonical(remote);
                    let conn = self.engine.accept(now, remote);
                    if let Err(e) = self.poll.registry().register(
                        &mut stream,
                        token_of(conn),
                        Interest::READABLE | Interest::WRITABLE,
                    ) {
                        tracing::warn!(%remote, "cannot watch an accepted connection: {e}");
                        self.engine.handle_input(now, Input::Closed { conn });
                        continue;
                    }
                    let _ = stream.set_nodelay(true);
                    tracing::debug!(%conn, %remote, "accepted");
                    let mut c = Connection::new(stream, State::Open);
                    c.writable = true;
                    self.conns.insert(conn, c);
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    // Out of file descriptors and the like: try again next turn.
                    tracing::warn!("cannot accept: {e}");
                    return;
                }
            }
        }
    }

    fn start_connect(&mut self, now: Instant, conn: ConnId, addr: SocketAddr) {
        let stream = TcpStream::connect(addr).and_then(|mut s| {
            self.poll.registry().register(
                &mut s,
                token_of(conn),
                Interest::READABLE | Interest::WRITABLE,
            )?;
            Ok(s)
        });
        match stream {
            Ok(stream) => {
                let deadline = now + self.config.connect_timeout;
                self.conns.insert(
                    conn,
                    Connection::new(stream, State::Connecting { deadline }),
                );
                self.timed.insert(conn);
            }
            Err(e) => {
                tracing::debug!(%conn, %addr, "connect failed at once: {e}");
                self.engine.handle_input(now, Input::ConnectFailed { conn });
            }
        }
    }

    fn finish_connect(&mut self, now: Instant, conn: ConnId) {
        let Some(c) = self.conns.get_mut(&conn) else {
            return;
        };
        if !c.writable {
            return;
        }
        let failed = match c.stream.take_error() {
            Ok(Some(e)) | Err(e) => Some(e),
            Ok(None) => match c.stream.peer_addr() {
                Ok(_) => None,
                // Not connected yet: a spurious wake-up; wait for the next one.
                Err(e) if e.kind() == io::ErrorKind::NotConnected => return,
                Err(e) => Some(e),
            },
        };
        match failed {
            None => {
                let _ = c.stream.set_nodelay(true);
                c.state = State::Open;
                self.timed.remove(&conn);
                tracing::debug!(%conn, "connected");
                self.engine.handle_input(now, Input::Connected { conn });
            }
            Some(e) => {
                tracing::debug!(%conn, "connect failed: {e}");
                self.drop_conn(conn);
                self.engine.handle_input(now, Input::ConnectFailed { conn });
            }
        }
    }

    fn take_commands(&mut self, now: Instant, sink: &mut impl Sink<E::Event>) {
        while let Ok(cmd) = self.commands.try_recv() {
            if let Err(e) = self.engine.handle_command(now, cmd) {
                sink.refused(e);
            }
        }
        if self.handle.stop.swap(false, Ordering::SeqCst) && self.stopping.is_none() {
            tracing::debug!("stopping");
            self.stopping = Some(now + self.config.linger);
            if let Some(mut l) = self.listener.take() {
                let _ = self.poll.registry().deregister(&mut l);
            }
            if let Err(e) = self.engine.handle_command(now, E::Command::stop()) {
                sink.refused(e);
            }
        }
    }

    /// Reads from every readable connection that is not held back, feeding
    /// the engine, and drains its outputs after each read so the next pause
    /// decision sees the queue it caused. Reads go in rounds, one read per
    /// connection each, at most [`DriverConfig::reads_per_turn`] rounds; after
    /// each round the driver settles (commits, shows events, writes), so what
    /// the engine answered to one read (a transfer's acknowledgements) leaves
    /// before the next read is worked through, and the other side can go on
    /// sending meanwhile.
    fn read_all(
        &mut self,
        now: Instant,
        sink: &mut impl Sink<E::Event>,
    ) -> Result<(), DriverError> {
        let candidates = std::mem::take(&mut self.maybe_readable);
        let mut ready = Vec::with_capacity(candidates.len());
        for conn in candidates {
            let Some(c) = self.conns.get(&conn) else {
                continue;
            };
            if !c.readable {
                continue;
            }
            // Still readable: watched until a read hits `WouldBlock`.
            self.maybe_readable.insert(conn);
            if !matches!(c.state, State::Connecting { .. }) {
                ready.push(conn);
            }
        }
        for _ in 0..self.config.reads_per_turn {
            ready.retain(|&conn| self.read_once(now, conn));
            if ready.is_empty() {
                break;
            }
            self.take_file_answers(now);
            self.settle(now, sink)?;
        }
        Ok(())
    }

    /// One read from `conn` if it is readable and not held back; whether it
    /// may have more to read.
    fn read_once(&mut self, now: Instant, conn: ConnId) -> bool {
        let Some(c) = self.conns.get_mut(&conn) else {
            return false;
        };
        c.update_pause(self.config.high_water, self.config.low_water);
        if c.read_paused || !c.readable {
            return false;
        }
        let closing = matches!(c.state, State::Closing { .. });
        match c.read(&mut self.read_buf) {
            ReadOutcome::Data(n) if closing => {
                tracing::trace!(%conn, n, "dropping bytes on a closing connection");
                true
            }
            ReadOutcome::Data(n) => {
                let bytes = &self.read_buf[..n];
                self.engine
                    .handle_input(now, Input::Received { conn, bytes });
                self.drain(now);
                true
            }
            ReadOutcome::WouldBlock => false,
            ReadOutcome::Ended => {
                self.drop_conn(conn);
                if !closing {
                    tracing::debug!(%conn, "closed by the remote");
                    self.engine.handle_input(now, Input::Closed { conn });
                    self.drain(now);
                }
                false
            }
        }
    }

    /// Connects that took too long fail; closing connections past their
    /// linger are dropped.
    fn expire(&mut self, now: Instant) {
        let expired: Vec<(ConnId, bool)> = self
            .timed
            .iter()
            .filter_map(|id| Some((id, self.conns.get(id)?)))
            .filter_map(|(id, c)| match c.state {
                State::Connecting { deadline } if deadline <= now => Some((*id, true)),
                State::Closing { deadline, .. } if deadline <= now => Some((*id, false)),
                _ => None,
            })
            .collect();
        for (conn, connecting) in expired {
            self.drop_conn(conn);
            if connecting {
                tracing::debug!(%conn, "connect timed out");
                self.engine.handle_input(now, Input::ConnectFailed { conn });
            }
        }
    }

    /// Drains outputs, commits, delivers events, writes; repeats while that
    /// fed the engine something new.
    fn settle(&mut self, now: Instant, sink: &mut impl Sink<E::Event>) -> Result<(), DriverError> {
        let mut reads_left = self.config.chunk_reads_per_turn.max(1);
        loop {
            self.drain(now);
            loop {
                if self.commit_changes().is_err()
                    && let Some(e) = self.store_failure.take()
                {
                    return Err(e);
                }
                // The records just kept are durable: acknowledgements held
                // for them go out with this settle's bytes (and whatever
                // they make the engine keep is kept first).
                self.take_durable(now)?;
                self.drain(now);
                if self.changes.is_empty() {
                    break;
                }
            }
            // Bytes first, then what is shown: a message on its way does not
            // wait for a terminal (both come after the records they need).
            let broke = self.write_all(now);
            for event in std::mem::take(&mut self.events) {
                if sink.event(event) == Flow::Finish && self.finished.is_none() {
                    self.finished = Some(now + self.config.linger);
                }
            }
            self.hand_over()?;
            let read = self.serve_chunk_reads(now, &mut reads_left);
            if !broke && !read {
                return Ok(());
            }
        }
    }

    fn close(&mut self, now: Instant, conn: ConnId) {
        let Some(c) = self.conns.get_mut(&conn) else {
            return;
        };
        if matches!(c.state, State::Connecting { .. }) {
            self.drop_conn(conn);
            return;
        }
        c.state = State::Closing {
            deadline: now + self.config.linger,
            shut: false,
        };
        self.timed.insert(conn);
        self.to_write.insert(conn);
    }

    /// Flushes every queue that can take bytes; shuts closing connections
    /// that are flushed; closes broken and hopelessly slow ones. Returns
    /// whether the engine was told of a closed connection.
    fn write_all(&mut self, now: Instant) -> bool {
        let mut broken = Vec::new();
        let watched = std::mem::take(&mut self.to_write);
        for conn in &watched {
            let Some(c) = self.conns.get_mut(conn) else {
                continue;
            };
            if matches!(c.state, State::Connecting { .. }) {
                self.to_write.insert(*conn);
                continue;
            }
            if c.queued() > 0 && c.writable && c.flush().is_err() {
                broken.push(*conn);
                continue;
            }
            // A queue that drained lifts its pause now: no readiness edge
            // may ever come to tell us (the remote may be waiting for us).
            c.update_pause(self.config.high_water, self.config.low_water);
            if c.queued() >= self.config.hard_limit {
                tracing::warn!(%conn, queued = c.queued(), "closing a connection that does not read");
                broken.push(*conn);
                continue;
            }
            if let State::Closing {
                deadline,
                shut: false,
            } = c.state
                && c.queued() == 0
            {
                let _ = c.stream.shutdown(Shutdown::Write);
                c.state = State::Closing {
                    deadline,
                    shut: true,
                };
            }
            let closing_unshut = matches!(c.state, State::Closing { shut: false, .. });
            if c.queued() > 0 || c.read_paused || closing_unshut {
                self.to_write.insert(*conn);
            }
        }
        let mut told = false;
        for conn in broken {
            let open = self
                .conns
                .get(&conn)
                .is_some_and(|c| c.state == State::Open);
            self.drop_conn(conn);
            if open {
                self.engine.handle_input(now, Input::Closed { conn });
                told = true;
            }
        }
        told
    }

    fn drop_conn(&mut self, conn: ConnId) {
        self.maybe_readable.remove(&conn);
        self.to_write.remove(&conn);
        self.timed.remove(&conn);
        if let Some(mut c) = self.conns.remove(&conn) {
            let _ = self.poll.registry().deregister(&mut c.stream);
        }
    }
}
