//! The turmoil driver: runs any [`Engine`] as the software of one turmoil
//! host, over `turmoil::net` TCP, on the host's simulated tokio clock.
//!
//! It is the simulator's counterpart of the mio driver: it carries out every
//! [`Output`] (connect, send, close, password work inline, persist into the
//! host's [`Store`], file outputs on the host's [`HostFiles`] through its
//! [`disk`], events into the [`Journal`]) and feeds back every [`Input`]
//! (accepted, connected, received, closed, file answers, and that records
//! are durable: at once, as the host's store keeps them when carried out).
//!
//! The engine lives in the host's [`HostState`], shared with the run loop,
//! which reads it between steps (checkers) and queues commands for it in the
//! inbox. The driver never holds a borrow across an `.await`.
//!
//! Determinism: one task per host plus one reader and one writer task per
//! connection, all on turmoil's seeded single-threaded runtime; every
//! `select!` is `biased`; connections live in a `BTreeMap`.

mod conn;
mod disk;
mod udp;

use std::cell::{Cell, Ref, RefCell};
use std::collections::{BTreeMap, VecDeque};
use std::net::{IpAddr, SocketAddr};
use std::rc::Rc;
use std::time::{Duration, Instant};

use confab_engine::{ConnId, Engine, Input, Output, Record};
use tokio::sync::{Notify, mpsc};
use turmoil::net::{TcpListener, TcpStream};

pub use self::conn::CONNECT_TIMEOUT;
use self::conn::{ConnIo, NetEvent};
use self::disk::Disk;
pub use self::udp::{Broadcast, DatagramFaults};
use crate::clock;
use crate::draw::Rng;
use crate::files::HostFiles;
use crate::observe::{HostIx, Journal, Observed, SimCommand, SimEvent};
use crate::store::Store;

/// Builds a host's engine from its records, the time and a seed.
pub type Factory<E> = Rc<dyn Fn(Vec<Record>, Instant, u64) -> E>;

/// Something the run loop asks of a host's driver.
#[derive(Debug)]
pub enum DriverCommand<C> {
    /// Give the engine this command.
    Engine(C),
    /// Drop this connection abruptly (a fault) and tell the engine it closed.
    Reset(ConnId),
    /// Give the engine the command this builds from the host's `now` (a
    /// call's frame carries its capture time, on the host's own clock).
    Stamped(Stamp<C>),
}

/// Builds a command from the host's `now`.
pub struct Stamp<C>(pub Box<dyn FnOnce(Instant) -> C>);

impl<C> std::fmt::Debug for Stamp<C> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Stamp")
    }
}

/// A host as the run loop and the driver share it. See the module docs.
pub struct HostState<E: Engine> {
    /// Index in the simulation.
    pub ix: HostIx,
    /// turmoil host name.
    pub name: String,
    /// The port the engine accepts connections on, if any.
    pub listen_port: Option<u16>,
    engine: RefCell<Option<E>>,
    inbox: RefCell<VecDeque<DriverCommand<E::Command>>>,
    kick: Notify,
    store: RefCell<Store>,
    files: RefCell<HostFiles>,
    disk_latency: Cell<Duration>,
    rng: RefCell<Rng>,
    incarnation: Cell<u64>,
    open: RefCell<Vec<(ConnId, IpAddr)>>,
    journal: Rc<Journal>,
    factory: Factory<E>,
    /// What happens to the datagrams this host sends (call media).
    datagram_faults: Cell<DatagramFaults>,
    /// Where a datagram to the discovery group goes (LAN runs).
    broadcast: RefCell<Broadcast>,
}

impl<E: Engine> HostState<E> {
    /// A host that will run engines built by `factory`, seeded from `seed`.
    pub fn new(
        ix: HostIx,
        name: String,
        listen_port: Option<u16>,
        seed: u64,
        journal: Rc<Journal>,
        factory: Factory<E>,
    ) -> Rc<Self> {
        Rc::new(Self {
            ix,
            name,
            listen_port,
            engine: RefCell::new(None),
            inbox: RefCell::new(VecDeque::new()),
            kick: Notify::new(),
            store: RefCell::new(Store::default()),
            files: RefCell::new(HostFiles::default()),
            disk_latency: Cell::new(Duration::ZERO),
            rng: RefCell::new(Rng::new(seed)),
            incarnation: Cell::new(0),
            open: RefCell::new(Vec::new()),
            journal,
            factory,
            datagram_faults: Cell::new(DatagramFaults::default()),
            broadcast: RefCell::new(Broadcast::default()),
        })
    }

    /// The running engine, if the host is up.
    pub fn engine(&self) -> Ref<'_, Option<E>> {
        self.engine.borrow()
    }

    /// Runs `f` on the running engine, if the host is up (the run loop's
    /// faults that act inside an engine, between steps).
    pub fn with_engine<R>(&self, f: impl FnOnce(&mut E) -> R) -> Option<R> {
        self.engine.borrow_mut().as_mut().map(f)
    }

    /// Whether the host's software is running.
    pub fn is_up(&self) -> bool {
        self.engine.borrow().is_some()
    }

    /// The host's durable store.
    pub fn store(&self) -> Ref<'_, Store> {
        self.store.borrow()
    }

    /// Gives the host its files (before it first starts), answered after
    /// `latency`.
    pub fn install_files(&self, files: HostFiles, latency: Duration) {
        *self.files.borrow_mut() = files;
        self.disk_latency.set(latency);
    }

    /// Faults for the datagrams this host sends from now on.
    pub fn set_datagram_faults(&self, faults: DatagramFaults) {
        self.datagram_faults.set(faults);
    }

    /// The broadcast domain of this host's datagrams to the group.
    pub fn set_broadcast(&self, broadcast: Broadcast) {
        *self.broadcast.borrow_mut() = broadcast;
    }

    /// The host's files.
    pub fn files(&self) -> Ref<'_, HostFiles> {
        self.files.borrow()
    }

    /// Queues a command for the driver and wakes it.
    pub fn command(&self, cmd: DriverCommand<E::Command>) {
        self.inbox.borrow_mut().push_back(cmd);
        self.kick.notify_one();
    }

    /// Connections open now, in id order.
    pub fn open_conns(&self) -> Vec<ConnId> {
        self.open.borrow().iter().map(|(c, _)| *c).collect()
    }

    /// Connections open now to or from `ip`, in id order.
    pub fn conns_with(&self, ip: IpAddr) -> Vec<ConnId> {
        self.open
            .borrow()
            .iter()
            .filter(|(_, i)| *i == ip)
            .map(|(c, _)| *c)
            .collect()
    }

    /// The host crashed: its engine and everything in memory are gone (turmoil
    /// has dropped the driver task); the store survives.
    pub fn crashed(&self) {
        *self.engine.borrow_mut() = None;
        self.inbox.borrow_mut().clear();
        self.open.borrow_mut().clear();
        self.files.borrow_mut().crash();
    }
}

/// The host's software: builds an engine from the store and drives it until
/// the host crashes. Pass to `turmoil::Sim::host` (it is called again on every
/// bounce).
pub async fn run<E>(host: Rc<HostState<E>>) -> turmoil::Result
where
    E: Engine + 'static,
    E::Event: Into<SimEvent>,
    E::Command: Clone + Into<SimCommand>,
{
    let seed = host.rng.borrow_mut().next_u64();
    let records = host.store.borrow().records();
    let engine = (host.factory)(records, clock::now(), seed);
    *host.engine.borrow_mut() = Some(engine);
    host.incarnation.set(host.incarnation.get() + 1);
    host.open.borrow_mut().clear();
    host.journal.push(
        host.ix,
        Observed::Started {
            incarnation: host.incarnation.get(),
        },
    );
    let listener = match host.listen_port {
        Some(port) => Some(TcpListener::bind(("0.0.0.0", port)).await?),
        None => None,
    };
    let udp = match host.listen_port {
        Some(port) => Some(udp::bind(port).await?),
        None => None,
    };
    let mut driver = Driver {
        host: host.clone(),
        conns: BTreeMap::new(),
        ips: BTreeMap::new(),
        net: mpsc::unbounded_channel(),
        disk: Disk::new(host.disk_latency.get()),
        kept: 0,
        told: 0,
        udp,
    };
    loop {
        driver.pump();
        let deadline = match (driver.with(|e| e.poll_timeout()), driver.disk.next_at()) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        tokio::select! {
            biased;
            () = host.kick.notified() => driver.commands(),
            Some(ev) = driver.net.1.recv() => driver.net_event(ev),
            got = udp::recv(driver.udp.as_ref()) => {
                let (bytes, from) = got?;
                let now = clock::now();
                driver.with(|e| e.handle_input(now, Input::Datagram { from, bytes: &bytes }));
            }
            accepted = accept(listener.as_ref()) => {
                let (stream, remote) = accepted?;
                driver.accepted(stream, remote);
            }
            // Extra timeouts are harmless; `pump` delivers due file answers.
            () = sleep_until(deadline) => driver.with(|e| e.handle_timeout(clock::now())),
        }
    }
}

async fn accept(listener: Option<&TcpListener>) -> std::io::Result<(TcpStream, SocketAddr)> {
    match listener {
        Some(l) => l.accept().await,
        None => std::future::pending().await,
    }
}

async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(at) => tokio::time::sleep_until(at.into()).await,
        None => std::future::pending().await,
    }
}

struct Driver<E: Engine> {
    host: Rc<HostState<E>>,
    conns: BTreeMap<ConnId, ConnIo>,
    /// The remote host of each connection in `conns` (for partitions).
    ips: BTreeMap<ConnId, IpAddr>,
    net: (
        mpsc::UnboundedSender<NetEvent>,
        mpsc::UnboundedReceiver<NetEvent>,
    ),
    disk: Disk,
    /// Records this incarnation's engine output, and how many of them it was
    /// told are durable (numbered as in the driver rules of `api.rs`).
    kept: u64,
    told: u64,
    udp: Option<Rc<turmoil::net::UdpSocket>>,
}

impl<E> Driver<E>
where
    E: Engine + 'static,
    E::Event: Into<SimEvent>,
    E::Command: Clone + Into<SimCommand>,
{
    fn with<R>(&self, f: impl FnOnce(&mut E) -> R) -> R {
        let mut engine = self.host.engine.borrow_mut();
        f(engine.as_mut().expect("a running driver has an engine"))
    }

    fn observe(&self, what: Observed) {
        self.host.journal.push(self.host.ix, what);
    }

    fn sync_open(&mut self) {
        let conns = &self.conns;
        self.ips.retain(|c, _| conns.contains_key(c));
        *self.host.open.borrow_mut() = self
            .conns
            .iter()
            .filter(|(_, io)| io.is_open())
            .map(|(c, _)| (*c, self.ips[c]))
            .collect();
    }

    /// Carries out everything the engine asked for, and delivers the file
    /// answers due, until there is nothing left to do now.
    fn pump(&mut self) {
        loop {
            self.drain();
            if self.kept > self.told {
                // The host's store keeps a record the moment it is carried
                // out: it is durable, and the engine may send what waited.
                self.told = self.kept;
                let (now, upto) = (clock::now(), self.kept);
                self.with(|e| e.handle_input(now, Input::RecordsDurable { upto }));
                continue;
            }
            let Some(answer) = self.disk.pop_due(clock::now()) else {
                break;
            };
            let now = clock::now();
            self.with(|e| e.handle_input(now, answer.as_input()));
        }
        self.sync_open();
    }

    fn drain(&mut self) {
        while let Some(out) = self.with(|e| e.poll_output()) {
            match out {
                Output::Connect { conn, addr } => {
                    let io = ConnIo::connect(conn, addr, self.net.0.clone());
                    self.conns.insert(conn, io);
                    self.ips.insert(conn, addr.ip());
                }
                Output::Send { conn, bytes } => {
                    if let Some(io) = self.conns.get_mut(&conn) {
                        io.send(bytes);
                    }
                }
                Output::Close { conn } => {
                    if let Some(io) = self.conns.remove(&conn) {
                        io.close();
                    }
                }
                Output::DerivePassword { job, work } => {
                    let result = work.run();
                    let now = clock::now();
                    self.with(|e| e.handle_input(now, Input::PasswordDerived { job, result }));
                }
                out @ (Output::ReadChunk { .. }
                | Output::WriteChunk { .. }
                | Output::OpenSource { .. }
                | Output::OpenPart { .. }
                | Output::FinishFile { .. }
                | Output::DiscardPart { .. }
                | Output::ReleaseFiles { .. }) => {
                    let op = self.disk.carry_out(&self.host.files, clock::now(), out);
                    if let Some(op) = op {
                        self.observe(Observed::Storage(op));
                    }
                }
                Output::Persist(record) => {
                    self.kept += 1;
                    self.host.store.borrow_mut().persist(record);
                }
                Output::Forget(key) => {
                    self.kept += 1;
                    self.host.store.borrow_mut().forget(&key);
                }
                Output::Event(event) => self.observe(Observed::Event(event.into())),
                Output::SendDatagram { to, bytes } => {
                    if let Some(s) = &self.udp {
                        let faults = self.host.datagram_faults.get();
                        let mut rng = self.host.rng.borrow_mut();
                        let broadcast = self.host.broadcast.borrow();
                        if broadcast.group == Some(to) {
                            // Each host of the segment loses, doubles or
                            // delays its copy on its own draw.
                            for m in &broadcast.members {
                                udp::send(s, faults, &mut rng, *m, bytes.clone());
                            }
                        } else {
                            udp::send(s, faults, &mut rng, to, bytes);
                        }
                    }
                }
            }
        }
    }

    fn commands(&mut self) {
        loop {
            let Some(cmd) = self.host.inbox.borrow_mut().pop_front() else {
                return;
            };
            let now = clock::now();
            let cmd = match cmd {
                DriverCommand::Stamped(build) => DriverCommand::Engine((build.0)(now)),
                other => other,
            };
            match cmd {
                DriverCommand::Stamped(_) => unreachable!("built above"),
                DriverCommand::Engine(cmd) => {
                    // Due timers first, with their events, so the journal
                    // shows the command after what happened before it.
                    self.with(|e| e.handle_timeout(now));
                    self.pump();
                    let shown = cmd.clone().into();
                    let refused = self.with(|e| e.handle_command(now, cmd)).err();
                    self.observe(Observed::Command {
                        cmd: shown,
                        refused: refused.map(|e| e.to_string()),
                    });
                }
                DriverCommand::Reset(conn) => {
                    if let Some(io) = self.conns.remove(&conn) {
                        io.reset();
                        self.observe(Observed::Reset { conn });
                        self.with(|e| e.handle_input(now, Input::Closed { conn }));
                    }
                }
            }
            self.pump();
        }
    }

    fn accepted(&mut self, stream: TcpStream, remote: SocketAddr) {
        let conn = self.with(|e| e.accept(clock::now(), remote));
        self.observe(Observed::Accepted { conn, remote });
        let io = ConnIo::open(conn, stream, self.net.0.clone());
        self.conns.insert(conn, io);
        self.ips.insert(conn, remote.ip());
    }

    fn net_event(&mut self, ev: NetEvent) {
        let now = clock::now();
        match ev {
            NetEvent::Connected { conn, stream } => {
                let Some(io) = self.conns.get_mut(&conn) else {
                    return; // closed while connecting: dropping the stream closes it
                };
                io.connected(conn, stream, self.net.0.clone());
                self.observe(Observed::Connected { conn });
                self.with(|e| e.handle_input(now, Input::Connected { conn }));
            }
            NetEvent::ConnectFailed { conn } => {
                if self.conns.remove(&conn).is_some() {
                    self.observe(Observed::ConnectFailed { conn });
                    self.with(|e| e.handle_input(now, Input::ConnectFailed { conn }));
                }
            }
            NetEvent::Received { conn, bytes } => {
                if self.conns.contains_key(&conn) {
                    self.observe(Observed::Received {
                        conn,
                        len: bytes.len(),
                    });
                    self.with(|e| {
                        e.handle_input(
                            now,
                            Input::Received {
                                conn,
                                bytes: &bytes,
                            },
                        )
                    });
                }
            }
            NetEvent::Closed { conn } => {
                if let Some(io) = self.conns.remove(&conn) {
                    io.reset();
                    self.observe(Observed::Closed { conn });
                    self.with(|e| e.handle_input(now, Input::Closed { conn }));
                }
            }
        }
    }
}

/// What the fault injector needs of a host, whatever engine it runs.
pub trait HostControl {
    /// The turmoil host name.
    fn name(&self) -> &str;
    /// Whether the software is running.
    fn is_up(&self) -> bool;
    /// Connections open now.
    fn open_conns(&self) -> Vec<ConnId>;
    /// Connections open now to or from `ip`.
    fn conns_with(&self, ip: IpAddr) -> Vec<ConnId>;
    /// Drops `conn` abruptly.
    fn reset(&self, conn: ConnId);
    /// turmoil crashed the host: forget what was in memory.
    fn crashed(&self);
}

impl<E: Engine> HostControl for HostState<E> {
    fn name(&self) -> &str {
        &self.name
    }
    fn is_up(&self) -> bool {
        HostState::is_up(self)
    }
    fn open_conns(&self) -> Vec<ConnId> {
        HostState::open_conns(self)
    }
    fn conns_with(&self, ip: IpAddr) -> Vec<ConnId> {
        HostState::conns_with(self, ip)
    }
    fn reset(&self, conn: ConnId) {
        self.command(DriverCommand::Reset(conn));
    }
    fn crashed(&self) {
        HostState::crashed(self)
    }
}
