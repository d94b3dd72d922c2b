//! Plays an operation script ([`crate::ops`]) against any engine, as its
//! driver, and checks what every engine owes its driver.
//!
//! The driver keeps a [`Model`]: what a real driver would know from the
//! outputs alone (open connections, outstanding password jobs, persisted
//! records, transfers asked about). After each operation it drains the
//! outputs, checking each one against the model, and then hands the engine and
//! the model to the role's own checks ([`Role::check`]).
//!
//! Every connection has a [`Remote`]: the far end, speaking through a
//! client-side encrypted channel of its own (or none), chosen by the role
//! ([`Role::remote`]). The remote's handshake runs by itself: whatever its
//! channel answers is delivered at once, until the conversation settles.
//! What the script sends on a connection is sealed by the remote; raw bytes
//! and attacks ([`Op::Raw`], [`Op::Tamper`]) go below the channel.
//!
//! Checked for every role:
//! - no call panics (a hostile remote never makes the engine fail);
//! - what the engine sends is what its remote's channel accepts (see
//!   [`crate::remote`]); inside, the stream is frames that decode, within
//!   every limit, each the canonical encoding of its message, and the first
//!   frame on a connection is a hello;
//! - a replay of what a remote sent on an established connection ends that
//!   connection at once (it cannot decrypt);
//! - nothing is sent on, or closed twice for, a connection the engine does not
//!   hold open (one it closed, one the remote closed, one it never had);
//! - connection and job ids are fresh (never reused by one engine instance);
//! - no output the role never gives (a registry asking for file work);
//! - after `handle_timeout(now)` the next deadline, if any, is after `now`
//!   (otherwise a driver would spin);
//! - the file contract of `confab_engine::api` ("Files"), from the driver's
//!   side ([`Files`]): a `ReadChunk` only of a source whose `OpenSource` was
//!   answered, or of a `.part` whose `OpenPart` was, and within the size the
//!   driver reported; a `WriteChunk` only to an open `.part`, within the size
//!   announced in its `OpenPart`, and not after its `FinishFile`; a
//!   `FinishFile` only of an open `.part`; nothing after `ReleaseFiles` until
//!   the transfer opens its files again.
//!
//! File work is answered by [`Op::File`] in any order, correctly or not
//! (short and corrupted reads, a wrong offset written, a `.part` longer than
//! its file, a failure): every file holds [`generate::content`], so a
//! transfer whose answers are all correct verifies.

use std::collections::{BTreeMap, BTreeSet};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Instant;

use arbitrary::{Arbitrary, Unstructured};
use confab_engine::password::{PasswordError, PasswordWork};
use confab_engine::secure::{ChannelError, Side};
use confab_engine::wire::{Deframer, Message};
use confab_engine::{ConnId, Engine, Input, JobId, Output, Record, RecordKey, TransferId};

use crate::check;
use crate::generate::{Build, GMessage};
use crate::ops::{ConnRef, Op};
use crate::remote::{Remote, RemoteSpec};

mod files;

pub use self::files::{Files, Part, Work};

/// An engine role the driver can play scripts against.
pub trait Role: Engine + Sized {
    /// What a [`Op::Command`]'s bytes are decoded into.
    type GenCommand: for<'a> Arbitrary<'a>;

    /// What the role's checks remember between outputs (reset on restart).
    type State: Default;

    /// Sees each message the engine must have read from `conn`: the driver
    /// deframes what it delivers on an open connection, as the engine does.
    fn on_delivered(state: &mut Self::State, conn: ConnId, msg: &Message) {
        let _ = (state, conn, msg);
    }

    /// Checks one message the engine sent on `conn`, as it is drained.
    fn check_sent(&self, state: &mut Self::State, conn: ConnId, msg: &Message, model: &Model) {
        let _ = (state, conn, msg, model);
    }

    /// A fresh engine (or one restarted from `records`), whose wall clock
    /// reads `unix_ms` at `now`.
    fn start(records: Vec<Record>, now: Instant, unix_ms: u64) -> Self;

    /// The role of this engine, as its first frame says.
    const ROLE: confab_engine::wire::Role;

    /// The far end of a new connection: accepted from remote number
    /// `remote` (`dialed` `None`), or dialed to `dialed`; `mode` (from the
    /// script) picks an honest end or a forged one.
    fn remote(&self, model: &Model, remote: u8, dialed: Option<SocketAddr>, mode: u8)
    -> RemoteSpec;

    /// Whether an honest remote's channel may refuse what this engine sent
    /// with `error` (by default never).
    fn tolerated(error: &ChannelError) -> bool {
        let _ = error;
        false
    }

    /// The command `g` stands for, if any in this state.
    fn command(&self, g: &Self::GenCommand, model: &Model) -> Option<Self::Command>;

    /// Checks one event as it is drained; `model` reflects every output before it.
    fn check_event(&self, event: &Self::Event, model: &Model);

    /// Checks the role's invariants after an operation's outputs are drained.
    fn check(&self, model: &Model);

    /// Checks a file output before the driver models it ([`Files`]): by
    /// default, one the role must never give.
    fn check_other_output(&self, output: &Output<Self::Event>, model: &Model) {
        let _ = model;
        panic!("an unexpected output: {output:?}");
    }

    /// The role plays the other end of a connection: answers thing number
    /// `pick` among those the engine sent that it can answer, in the manner
    /// `how`. Returns the messages to deliver, each on its connection.
    fn respond(
        &self,
        state: &mut Self::State,
        model: &Model,
        pick: u8,
        how: u8,
    ) -> Vec<(ConnId, Message)> {
        let _ = (state, model, pick, how);
        Vec::new()
    }
}

/// The wall clock at the start of every run (Unix milliseconds, late 2023):
/// certificates are dated from it.
pub const UNIX_MS_AT_START: u64 = 1_700_000_000_000;

/// What the driver knows, from its own actions and the engine's outputs.
#[derive(Debug)]
pub struct Model {
    /// The start of the run (kept across restarts), at [`UNIX_MS_AT_START`].
    pub start: Instant,
    /// The time of the operation being played; never goes backwards.
    pub now: Instant,
    /// Connection ids in the order the engine handed them out (accepted or
    /// connected), since the last restart; [`ConnRef`]s index into it.
    pub known: Vec<ConnId>,
    /// Connections the engine holds open: accepted or asked for, and neither
    /// closed by the engine (`Output::Close`) nor by the remote (`Op::Close`).
    pub open: BTreeSet<ConnId>,
    /// Outgoing connections asked for and not yet answered.
    pub connecting: BTreeSet<ConnId>,
    /// Every outgoing connection asked for, since the last restart, and where to.
    pub dialed: BTreeMap<ConnId, SocketAddr>,
    /// Frames sent per connection.
    pub frames_sent: BTreeMap<ConnId, usize>,
    /// Password work asked for and not yet answered.
    pub jobs: Vec<(JobId, PasswordWork)>,
    /// Every job id ever asked for, since the last restart.
    pub jobs_seen: BTreeSet<JobId>,
    /// Durable records, as the engine asked them to be kept.
    pub records: BTreeMap<RecordKey, Record>,
    /// Records output since the last restart, and how many of them the
    /// engine was told are durable (all, whenever it has nothing to say).
    kept: u64,
    told: u64,
    /// The file contract, as far as the driver has seen it.
    pub files: Files,
    /// Connections whose remote's handshake completed: the engine proved
    /// itself to it, and it to the engine (unless the engine refused it).
    pub secure: BTreeSet<ConnId>,
    /// The far end of each connection.
    remotes: BTreeMap<ConnId, Remote>,
    /// Bytes the remotes' channels answered with, still to deliver.
    pending: Vec<(ConnId, Vec<u8>)>,
    /// Handshakes begun since the start (each remote's entropy).
    handshakes: u64,
    /// A connection the last operation replayed onto: the engine must have
    /// closed it once the operation settled.
    must_close: Option<ConnId>,
    /// The driver's own deframer per open connection, over the stream it
    /// sealed toward the engine.
    inbound: BTreeMap<ConnId, Deframer>,
}

impl Model {
    fn new(start: Instant, now: Instant) -> Self {
        Self {
            start,
            now,
            known: Vec::new(),
            open: BTreeSet::new(),
            connecting: BTreeSet::new(),
            dialed: BTreeMap::new(),
            frames_sent: BTreeMap::new(),
            jobs: Vec::new(),
            jobs_seen: BTreeSet::new(),
            records: BTreeMap::new(),
            kept: 0,
            told: 0,
            files: Files::default(),
            secure: BTreeSet::new(),
            remotes: BTreeMap::new(),
            pending: Vec::new(),
            handshakes: 0,
            must_close: None,
            inbound: BTreeMap::new(),
        }
    }

    /// The wall clock now, in Unix seconds (as the engine's reads).
    pub fn unix_now(&self) -> u64 {
        (UNIX_MS_AT_START + (self.now - self.start).as_millis() as u64) / 1000
    }

    /// The wall clock now, in Unix milliseconds.
    fn unix_ms(&self) -> u64 {
        UNIX_MS_AT_START + (self.now - self.start).as_millis() as u64
    }

    /// Whether `conn`'s remote still speaks through a live channel.
    pub fn has_channel(&self, conn: ConnId) -> bool {
        self.remotes.get(&conn).is_some_and(Remote::has_channel)
    }

    /// Entropy for the next remote's handshake: distinct per handshake,
    /// the same on every run of one input.
    fn entropy(&mut self) -> [u8; 32] {
        self.handshakes += 1;
        let mut e = [0x3c; 32];
        e[..8].copy_from_slice(&self.handshakes.to_le_bytes());
        e
    }

    /// A remote for `conn`, started: its first bytes are delivered as the
    /// conversation settles.
    fn add_remote(
        &mut self,
        conn: ConnId,
        spec: RemoteSpec,
        side: Side,
        role: confab_engine::wire::Role,
    ) {
        let entropy = self.entropy();
        let mut r = Remote::new(spec, side, entropy, role);
        let first = r.start();
        if !first.is_empty() {
            self.pending.push((conn, first));
        }
        self.remotes.insert(conn, r);
    }

    fn forget(&mut self, conn: ConnId) {
        self.remotes.remove(&conn);
        self.secure.remove(&conn);
        self.inbound.remove(&conn);
    }

    /// The connection `r` refers to (an id never minted for [`ConnRef::UNKNOWN`]
    /// or when none were).
    pub fn conn(&self, r: ConnRef) -> ConnId {
        if r == ConnRef::UNKNOWN || self.known.is_empty() {
            return ConnId(u64::MAX - u64::from(r.0));
        }
        self.known[r.0 as usize % self.known.len()]
    }

    fn mint(&mut self, conn: ConnId) {
        assert!(
            !self.known.contains(&conn),
            "the engine handed out {conn} twice"
        );
        self.known.push(conn);
        self.open.insert(conn);
    }
}

/// Remote addresses of accepted connections: a few hosts and ports, so that
/// two connections from one host happen.
fn remote(i: u8) -> SocketAddr {
    SocketAddr::new(
        IpAddr::V4(Ipv4Addr::new(10, 0, 0, i % 8)),
        40000 + u16::from(i / 8),
    )
}

/// A frame holding `body`, however long (the engine must refuse oversized ones).
fn framed(body: &[u8]) -> Vec<u8> {
    let mut f = (body.len() as u32).to_be_bytes().to_vec();
    f.extend_from_slice(body);
    f
}

/// Plays `ops` against a fresh engine of role `R`, checking as it goes.
pub fn run<R: Role>(ops: &[Op]) {
    run_observed::<R>(ops, &mut |_| {});
}

/// What [`run_observed`] shows: every output, and every message the engine
/// sent as its remote read it (`Output::Send` holds only ciphertext).
#[derive(Debug)]
pub enum Seen<'a, E> {
    Output(&'a Output<E>),
    Sent(ConnId, &'a Message),
}

/// [`run`], showing every output (and message sent) to `observe` before it
/// is checked: for tools that measure which states a corpus reaches
/// (`examples/corpus-stats.rs`).
pub fn run_observed<R: Role>(ops: &[Op], observe: &mut dyn FnMut(Seen<'_, R::Event>)) {
    // One real instant per run; every later time is it plus input-given durations.
    let base = Instant::now();
    let mut model = Model::new(base, base);
    let mut engine = R::start(Vec::new(), base, UNIX_MS_AT_START);
    let mut state = R::State::default();
    settle(&mut engine, &mut model, &mut state, observe);
    for op in ops {
        play(&mut engine, &mut model, &mut state, op);
        settle(&mut engine, &mut model, &mut state, observe);
        if let Some(conn) = model.must_close.take() {
            assert!(
                !model.open.contains(&conn),
                "{conn} stayed open after a replay of what its remote sent"
            );
        }
        engine.check(&model);
    }
}

/// Most rounds of remote answers one operation may cause: a handshake
/// takes three; a conversation that never settles is a finding.
const MAX_ROUNDS: usize = 64;

/// Drains the engine, delivers what the remotes' channels answered, and
/// again, until nothing is left to deliver.
fn settle<R: Role>(
    engine: &mut R,
    model: &mut Model,
    state: &mut R::State,
    observe: &mut dyn FnMut(Seen<'_, R::Event>),
) {
    for _ in 0..MAX_ROUNDS {
        drain(engine, model, state, observe);
        let pending = std::mem::take(&mut model.pending);
        if pending.is_empty() {
            return;
        }
        for (conn, bytes) in pending {
            deliver_bytes(engine, model, conn, 0, &bytes);
        }
    }
    panic!("the engine and its remotes did not settle in {MAX_ROUNDS} rounds");
}

fn deliver<R: Role>(
    engine: &mut R,
    model: &mut Model,
    state: &mut R::State,
    conn: ConnRef,
    split: u8,
    bytes: &[u8],
) {
    let conn = model.conn(conn);
    deliver_to(engine, model, state, conn, split, bytes);
}

/// Stream bytes (frames, or garbage) from `conn`'s remote: sealed by its
/// channel, or as they are from a remote without one.
fn deliver_to<R: Role>(
    engine: &mut R,
    model: &mut Model,
    state: &mut R::State,
    conn: ConnId,
    split: u8,
    bytes: &[u8],
) {
    // Nothing is sent on a socket still connecting, or gone.
    if model.connecting.contains(&conn) || !model.open.contains(&conn) {
        return;
    }
    let now = model.now;
    let Some(remote) = model.remotes.get_mut(&conn) else {
        return;
    };
    let channel = remote.has_channel();
    let Some(wire) = remote.seal(bytes, now) else {
        return;
    };
    // What the engine will read once it opens the records, as far as the
    // stream makes sense (a remote without a channel reaches nothing).
    if channel {
        let d = model.inbound.entry(conn).or_default();
        d.push(bytes);
        while let Ok(Some(msg)) = d.next_message() {
            R::on_delivered(state, conn, &msg);
        }
    }
    deliver_bytes(engine, model, conn, split, &wire);
}

/// Bytes on the wire of `conn`, as they are, in pieces of `split`.
fn deliver_bytes<R: Role>(engine: &mut R, model: &Model, conn: ConnId, split: u8, bytes: &[u8]) {
    if model.connecting.contains(&conn) || bytes.is_empty() {
        return;
    }
    let piece = if split == 0 {
        bytes.len()
    } else {
        usize::from(split)
    };
    for chunk in bytes.chunks(piece) {
        engine.handle_input(model.now, Input::Received { conn, bytes: chunk });
    }
}

fn after_timeout<R: Role>(engine: &mut R, model: &Model) {
    engine.handle_timeout(model.now);
    if let Some(t) = engine.poll_timeout() {
        assert!(
            t > model.now,
            "after handle_timeout the next deadline is {:?} in the past",
            model.now - t
        );
    }
}

fn play<R: Role>(engine: &mut R, model: &mut Model, state: &mut R::State, op: &Op) {
    let now = model.now;
    match op {
        Op::Accept { remote: r, mode } => {
            let spec = engine.remote(model, *r, None, *mode);
            let conn = engine.accept(now, remote(*r));
            model.mint(conn);
            model.add_remote(conn, spec, Side::Initiator, R::ROLE);
        }
        Op::Raw { conn, bytes } => {
            let conn = model.conn(*conn);
            if let Some(r) = model.remotes.get_mut(&conn) {
                r.mark_tampered();
            }
            deliver_bytes(engine, model, conn, 0, bytes);
        }
        Op::Plain { conn, bytes } => deliver(engine, model, state, *conn, 0, bytes),
        Op::Tamper { conn, how } => {
            let conn = model.conn(*conn);
            let Some(r) = model.remotes.get_mut(&conn) else {
                return;
            };
            let (bytes, kill) = r.tamper(*how);
            deliver_bytes(engine, model, conn, 0, &bytes);
            if kill {
                model.must_close = Some(conn);
            }
        }
        Op::Frame { conn, split, body } => {
            deliver(engine, model, state, *conn, *split, &framed(body))
        }
        Op::Message { conn, split, seed } => {
            let Ok(g) = GMessage::arbitrary_take_rest(Unstructured::new(seed)) else {
                return;
            };
            let msg = g.build();
            check::limits(&msg);
            let frame = check::round_trip(&msg);
            deliver(engine, model, state, *conn, *split, &frame);
        }
        Op::Close { conn } => {
            let conn = model.conn(*conn);
            // The socket is gone whatever the engine thought of it.
            model.open.remove(&conn);
            model.connecting.remove(&conn);
            model.forget(conn);
            engine.handle_input(now, Input::Closed { conn });
        }
        Op::Password { job, fail } => {
            if model.jobs.is_empty() || *job == u8::MAX >> 1 {
                // An answer to a job the engine never asked for: ignored.
                let job = JobId(u64::MAX - u64::from(*job));
                let result = Err(PasswordError("no such job".into()));
                return engine.handle_input(now, Input::PasswordDerived { job, result });
            }
            let (job, work) = model.jobs.remove(*job as usize % model.jobs.len());
            let result = if *fail {
                Err(PasswordError("the worker failed".into()))
            } else {
                work.run()
            };
            engine.handle_input(now, Input::PasswordDerived { job, result });
        }
        Op::Advance { by } => {
            model.now += *by;
            after_timeout(engine, model);
        }
        Op::Tick => {
            if let Some(t) = engine.poll_timeout() {
                model.now = model.now.max(t);
            }
            after_timeout(engine, model);
        }
        Op::Command { seed } => {
            let Ok(g) = R::GenCommand::arbitrary_take_rest(Unstructured::new(seed)) else {
                return;
            };
            if let Some(cmd) = engine.command(&g, model) {
                // `Err` is the caller's mistake, allowed here; the role's
                // checks see whether the state stayed sound.
                let _ = engine.handle_command(now, cmd);
            }
        }
        Op::Restart => {
            // Everything but the records is lost; the new engine mints ids anew.
            let records = model.records.values().cloned().collect();
            let keep = std::mem::take(&mut model.records);
            let unix_ms = model.unix_ms();
            let handshakes = model.handshakes;
            *model = Model::new(model.start, now);
            model.records = keep;
            model.handshakes = handshakes;
            *state = R::State::default();
            *engine = R::start(records, now, unix_ms);
        }
        Op::Connected { conn, mode } => {
            let conn = model.conn(*conn);
            if model.connecting.remove(&conn) {
                let addr = model.dialed.get(&conn).copied();
                let spec = engine.remote(model, 0, addr, *mode);
                model.add_remote(conn, spec, Side::Responder, R::ROLE);
            }
            engine.handle_input(now, Input::Connected { conn });
        }
        Op::ConnectFailed { conn } => {
            let conn = model.conn(*conn);
            if model.connecting.remove(&conn) {
                model.open.remove(&conn);
                model.forget(conn);
            } else if let Some(r) = model.remotes.get_mut(&conn) {
                // Said of a connection that is up: a peer takes it as the
                // socket gone and forgets the connection (a registry ignores
                // it), so a later replay need not end it.
                r.mark_tampered();
            }
            engine.handle_input(now, Input::ConnectFailed { conn });
        }
        Op::StorageFailed { transfer } => {
            let named = &model.files.named;
            let transfer = if *transfer == u8::MAX || named.is_empty() {
                TransferId(u64::MAX - u64::from(*transfer))
            } else {
                named[usize::from(*transfer) % named.len()]
            };
            let error = "disk full".to_owned();
            engine.handle_input(now, Input::StorageFailed { transfer, error });
        }
        Op::Respond { pick, how } => {
            for (conn, msg) in engine.respond(state, model, *pick, *how) {
                check::limits(&msg);
                let frame = check::round_trip(&msg);
                deliver_to(engine, model, state, conn, 0, &frame);
            }
        }
        Op::File { work, how } => {
            let mut files = std::mem::take(&mut model.files);
            files.answer(engine, now, *work, *how);
            model.files = files;
        }
    }
}

/// Drains the engine's outputs, checking each against the model and updating it.
fn drain<R: Role>(
    engine: &mut R,
    model: &mut Model,
    state: &mut R::State,
    observe: &mut dyn FnMut(Seen<'_, R::Event>),
) {
    loop {
        drain_once(engine, model, state, observe);
        if model.kept == model.told {
            return;
        }
        // Records are durable as soon as the model holds them.
        model.told = model.kept;
        let upto = model.kept;
        engine.handle_input(model.now, Input::RecordsDurable { upto });
    }
}

fn drain_once<R: Role>(
    engine: &mut R,
    model: &mut Model,
    state: &mut R::State,
    observe: &mut dyn FnMut(Seen<'_, R::Event>),
) {
    while let Some(out) = engine.poll_output() {
        if show_outputs() {
            let s = format!("{out:?}");
            eprintln!("  out: {}", s.chars().take(200).collect::<String>());
        }
        observe(Seen::Output(&out));
        match out {
            Output::Send { conn, bytes } => {
                assert!(
                    model.open.contains(&conn),
                    "Send on {conn}, which is not open"
                );
                assert!(!bytes.is_empty(), "an empty Send on {conn}");
                let (now, unix) = (model.now, model.unix_now());
                let Some(remote) = model.remotes.get_mut(&conn) else {
                    // A connection the remote closed and the engine has not
                    // heard of yet: the bytes go nowhere.
                    continue;
                };
                let got = remote.read(&bytes, now, unix, R::tolerated);
                if got.secured {
                    model.secure.insert(conn);
                }
                if !got.reply.is_empty() {
                    model.pending.push((conn, got.reply));
                }
                for frame in got.frames {
                    let msg = sent_frame(engine, model, state, conn, &frame);
                    observe(Seen::Sent(conn, &msg));
                }
            }
            Output::Close { conn } => {
                assert!(
                    model.open.remove(&conn),
                    "Close of {conn}, which is not open"
                );
                model.connecting.remove(&conn);
                model.forget(conn);
            }
            Output::Connect { conn, addr } => {
                model.dialed.insert(conn, addr);
                model.mint(conn);
                model.connecting.insert(conn);
            }
            Output::DerivePassword { job, work } => {
                assert!(model.jobs_seen.insert(job), "job {job} asked for twice");
                model.jobs.push((job, work));
            }
            Output::Persist(record) => {
                model.kept += 1;
                model.records.insert(record.key(), record);
            }
            Output::Forget(key) => {
                model.kept += 1;
                model.records.remove(&key);
            }
            Output::Event(e) => engine.check_event(&e, model),
            // Call media: the scripts place no calls, and a datagram is
            // never owed an answer.
            Output::SendDatagram { .. } => {}
            other => {
                engine.check_other_output(&other, model);
                model.files.output(&other);
            }
        }
    }
}

/// Checks one frame of the engine's decrypted stream on `conn`.
fn sent_frame<R: Role>(
    engine: &R,
    model: &mut Model,
    state: &mut R::State,
    conn: ConnId,
    frame: &[u8],
) -> Message {
    let msg = check::frame(frame);
    assert_eq!(
        confab_engine::wire::encode(&msg),
        frame,
        "a sent frame is not the canonical encoding of its message"
    );
    let n = model.frames_sent.entry(conn).or_default();
    if *n == 0 {
        assert!(
            matches!(msg, Message::Hello(_)),
            "the first frame on {conn} is a {}, not a hello",
            msg.kind()
        );
    }
    *n += 1;
    engine.check_sent(state, conn, &msg, model);
    msg
}

/// `CONFAB_FUZZ_SHOW` set: print every output polled (for `show-ops`), read
/// once so fuzzing does not pay for it per output.
fn show_outputs() -> bool {
    static SHOW: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *SHOW.get_or_init(|| std::env::var_os("CONFAB_FUZZ_SHOW").is_some())
}
