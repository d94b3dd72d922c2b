//! What the simulation saw: every host's engine events and connection
//! happenings, stamped with simulated time, in one journal.
//!
//! The drivers write to the [`Journal`]; the run loop drains it after every
//! turmoil step and hands each [`Observation`] to the trace (for the replay
//! hash) and to the checkers. Nothing else flows from hosts to checkers, so
//! what a checker knows is exactly what a trace line records.
//!
//! Invariant: observations are appended in the order they happened on one
//! thread (turmoil runs every host on the caller's thread), so the journal is
//! the same, entry for entry, on every run of one seed.

use std::cell::RefCell;
use std::fmt;
use std::net::SocketAddr;
use std::time::Duration;

use confab_engine::{ConnId, PeerCommand, PeerEvent, RegistryCommand, RegistryEvent};

use crate::attacker::{AttackCommand, AttackEvent};
use crate::client::{ClientCommand, ClientEvent};
use crate::files::StorageOp;

/// A host's index in the simulation (0 is the registry; then the peers,
/// the scripted clients, and the attacker if the run has one).
pub type HostIx = usize;

/// turmoil host names of the peers, in order: the world names its hosts
/// with it and the checkers read observations back through it.
pub fn peer_names(n: usize) -> Vec<String> {
    (1..=n).map(|i| format!("peer-{i:03}")).collect()
}

/// The events of every role the simulator runs.
#[derive(Debug, Clone, PartialEq)]
pub enum SimEvent {
    /// From the registry engine.
    Registry(RegistryEvent),
    /// From a scripted registry client.
    Client(ClientEvent),
    /// From a peer engine.
    Peer(PeerEvent),
    /// From the attacker.
    Attacker(AttackEvent),
}

impl From<AttackEvent> for SimEvent {
    fn from(e: AttackEvent) -> Self {
        SimEvent::Attacker(e)
    }
}

impl From<PeerEvent> for SimEvent {
    fn from(e: PeerEvent) -> Self {
        SimEvent::Peer(e)
    }
}

/// The commands of every role the workload drives (the registry takes none).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SimCommand {
    /// To the registry (the workload gives none today).
    Registry(RegistryCommand),
    /// To a scripted registry client.
    Client(ClientCommand),
    /// To a peer engine.
    Peer(PeerCommand),
    /// To the attacker (from the run loop, when the fault plan strikes).
    Attacker(AttackCommand),
}

impl From<AttackCommand> for SimCommand {
    fn from(c: AttackCommand) -> Self {
        SimCommand::Attacker(c)
    }
}

impl From<ClientCommand> for SimCommand {
    fn from(c: ClientCommand) -> Self {
        SimCommand::Client(c)
    }
}

impl From<PeerCommand> for SimCommand {
    fn from(c: PeerCommand) -> Self {
        SimCommand::Peer(c)
    }
}

impl From<RegistryCommand> for SimCommand {
    fn from(c: RegistryCommand) -> Self {
        SimCommand::Registry(c)
    }
}

impl From<RegistryEvent> for SimEvent {
    fn from(e: RegistryEvent) -> Self {
        SimEvent::Registry(e)
    }
}

impl From<ClientEvent> for SimEvent {
    fn from(e: ClientEvent) -> Self {
        SimEvent::Client(e)
    }
}

/// One thing that happened on a host.
#[derive(Debug, Clone, PartialEq)]
pub enum Observed {
    /// The host's software (re)started with a fresh engine; connection ids
    /// start over.
    Started { incarnation: u64 },
    /// The host crashed (written by the fault injector).
    Crashed { silent: bool },
    /// An inbound connection was handed to the engine.
    Accepted { conn: ConnId, remote: SocketAddr },
    /// An outbound connection is up.
    Connected { conn: ConnId },
    /// An outbound connection could not be made.
    ConnectFailed { conn: ConnId },
    /// Bytes arrived on a connection and were handed to the engine.
    Received { conn: ConnId, len: usize },
    /// The connection broke or the remote closed it; the engine was told.
    Closed { conn: ConnId },
    /// A fault reset the connection; the engine was told it closed.
    Reset { conn: ConnId },
    /// The host's engine carried out a command of the workload, or refused
    /// it (`refused`: why). Written by the driver right after
    /// `handle_command` returns, so the events the command caused follow it;
    /// due timers ran (and their events were written) before it.
    Command {
        cmd: SimCommand,
        refused: Option<String>,
    },
    /// The workload restarted a peer that had quit (a new log-in).
    Restarted,
    /// A fault began or ended (written by the fault injector).
    Fault { what: String },
    /// The engine reported an event.
    Event(SimEvent),
    /// The host's file store carried out a file output (written by the
    /// driver as it carries it out, before the engine hears the answer).
    Storage(StorageOp),
}

/// An [`Observed`] with where and when.
#[derive(Debug, Clone, PartialEq)]
pub struct Observation {
    /// Simulated time since the start of the run.
    pub at: Duration,
    /// Which host.
    pub host: HostIx,
    /// What happened.
    pub what: Observed,
}

impl fmt::Display for Observation {
    /// A call's frame is written by its size and a hash of its bytes, and
    /// without its capture `Instant` (a host's clock, whose `Debug` shows
    /// where the real clock stood when the run began, which would make the
    /// trace of one seed differ from run to run).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:>12} h{} ", self.at.as_micros(), self.host)?;
        match &self.what {
            Observed::Command {
                cmd: SimCommand::Peer(PeerCommand::CallFrame { with, jpeg, .. }),
                refused,
            } => write!(
                f,
                "Command {{ cmd: Peer(CallFrame {{ with: {with}, bytes: {}, fnv: {:016x} }}), refused: {refused:?} }}",
                jpeg.len(),
                fnv(jpeg)
            ),
            Observed::Event(SimEvent::Peer(PeerEvent::CallFrame {
                with,
                frame,
                captured_us,
                jpeg,
            })) => write!(
                f,
                "Event(Peer(CallFrame {{ with: {with}, frame: {frame}, captured_us: {captured_us}, bytes: {}, fnv: {:016x} }}))",
                jpeg.len(),
                fnv(jpeg)
            ),
            what => write!(f, "{what:?}"),
        }
    }
}

/// FNV-1a of `bytes`.
fn fnv(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// The shared journal. See the module documentation.
#[derive(Debug, Default)]
pub struct Journal {
    entries: RefCell<Vec<Observation>>,
}

impl Journal {
    /// Appends an observation stamped with the current simulated time (the
    /// caller must be running inside a turmoil host).
    pub fn push(&self, host: HostIx, what: Observed) {
        let at = crate::clock::sim_time();
        self.push_at(at, host, what);
    }

    /// Appends an observation stamped `at` (for the run loop, outside hosts).
    pub fn push_at(&self, at: Duration, host: HostIx, what: Observed) {
        self.entries
            .borrow_mut()
            .push(Observation { at, host, what });
    }

    /// Takes everything written since the last drain.
    pub fn drain(&self) -> Vec<Observation> {
        std::mem::take(&mut *self.entries.borrow_mut())
    }
}
