//! Plays an operation script ([`crate::ops`]) against any engine, as its
//! driver, and checks what every engine owes its driver.
//!
//! The driver keeps a [`Model`]: what a real driver would know from the
//! outputs alone (open connections, outstanding password jobs, persisted
//! records, transfers asked about). After each operation it drains the
//! outputs, checking each one against the model, and then hands the engine and
//! the model to the role's own checks ([`Role::check`]).
//!
//! Checked for every role:
//! - no call panics (a hostile remote never makes the engine fail);
//! - every `Send` is one frame that decodes, within every limit, and is the
//!   canonical encoding of its message; the first frame on a connection is a
//!   hello;
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
use confab_engine::wire::{Deframer, Message};
use confab_engine::{ConnId, Engine, Input, JobId, Output, Record, RecordKey, TransferId};

use crate::check;
use crate::generate::{Build, GMessage};
use crate::ops::{ConnRef, Op};

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

    /// A fresh engine (or one restarted from `records`).
    fn start(records: Vec<Record>, now: Instant) -> Self;

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

/// What the driver knows, from its own actions and the engine's outputs.
#[derive(Debug)]
pub struct Model {
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
    /// The file contract, as far as the driver has seen it.
    pub files: Files,
    /// The driver's own deframer per open connection, over what it delivered.
    inbound: BTreeMap<ConnId, Deframer>,
}

impl Model {
    fn new(now: Instant) -> Self {
        Self {
            now,
            known: Vec::new(),
            open: BTreeSet::new(),
            connecting: BTreeSet::new(),
            dialed: BTreeMap::new(),
            frames_sent: BTreeMap::new(),
            jobs: Vec::new(),
            jobs_seen: BTreeSet::new(),
            records: BTreeMap::new(),
            files: Files::default(),
            inbound: BTreeMap::new(),
        }
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

/// [`run`], showing every output to `observe` before it is checked: for tools
/// that measure which states a corpus reaches (`examples/corpus-stats.rs`).
pub fn run_observed<R: Role>(ops: &[Op], observe: &mut dyn FnMut(&Output<R::Event>)) {
    // One real instant per run; every later time is it plus input-given durations.
    let base = Instant::now();
    let mut model = Model::new(base);
    let mut engine = R::start(Vec::new(), base);
    let mut state = R::State::default();
    drain(&mut engine, &mut model, &mut state, observe);
    for op in ops {
        play(&mut engine, &mut model, &mut state, op);
        drain(&mut engine, &mut model, &mut state, observe);
        engine.check(&model);
    }
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

fn deliver_to<R: Role>(
    engine: &mut R,
    model: &mut Model,
    state: &mut R::State,
    conn: ConnId,
    split: u8,
    bytes: &[u8],
) {
    // Nothing arrives on a socket still connecting.
    if model.connecting.contains(&conn) {
        return;
    }
    let piece = if split == 0 {
        bytes.len().max(1)
    } else {
        usize::from(split)
    };
    for chunk in bytes.chunks(piece) {
        engine.handle_input(model.now, Input::Received { conn, bytes: chunk });
    }
    // What the engine read, as far as the stream makes sense; bytes for a
    // connection it does not hold are dropped, as it drops them.
    if model.open.contains(&conn) {
        let d = model.inbound.entry(conn).or_default();
        d.push(bytes);
        while let Ok(Some(msg)) = d.next_message() {
            R::on_delivered(state, conn, &msg);
        }
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
        Op::Accept { remote: r } => {
            let conn = engine.accept(now, remote(*r));
            model.mint(conn);
        }
        Op::Raw { conn, bytes } => deliver(engine, model, state, *conn, 0, bytes),
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
            *model = Model::new(now);
            model.records = keep;
            *state = R::State::default();
            *engine = R::start(records, now);
        }
        Op::Connected { conn } => {
            let conn = model.conn(*conn);
            model.connecting.remove(&conn);
            engine.handle_input(now, Input::Connected { conn });
        }
        Op::ConnectFailed { conn } => {
            let conn = model.conn(*conn);
            if model.connecting.remove(&conn) {
                model.open.remove(&conn);
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
    observe: &mut dyn FnMut(&Output<R::Event>),
) {
    while let Some(out) = engine.poll_output() {
        observe(&out);
        match out {
            Output::Send { conn, bytes } => {
                assert!(
                    model.open.contains(&conn),
                    "Send on {conn}, which is not open"
                );
                let msg = check::frame(&bytes);
                assert_eq!(
                    confab_engine::wire::encode(&msg),
                    bytes,
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
            }
            Output::Close { conn } => {
                assert!(
                    model.open.remove(&conn),
                    "Close of {conn}, which is not open"
                );
                model.connecting.remove(&conn);
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
                model.records.insert(record.key(), record);
            }
            Output::Forget(key) => {
                model.records.remove(&key);
            }
            Output::Event(e) => engine.check_event(&e, model),
            other => {
                engine.check_other_output(&other, model);
                model.files.output(&other);
            }
        }
    }
}
