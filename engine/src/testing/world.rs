//! [`World`]: the in-memory driver for many engines. See the module
//! documentation of [`crate::testing`].
//!
//! Connections are modelled as links between two endpoints (host, incarnation,
//! connection id). Bytes on a link arrive after the configured latency, in
//! order per direction, optionally split into random pieces. A delivery checks
//! that its endpoint still belongs to the link, so anything in flight toward a
//! closed, cut or crashed endpoint simply vanishes, as on a real network.

use crate::testing::wall::{keep_keys, wall_ms_since};
use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::{Duration, Instant};

use crate::api::{ConnId, Input, JobId};
use crate::password::{PasswordDigest, PasswordError};
use crate::record::{Record, RecordKey};
use crate::registry::{Registry, RegistryConfig};
use crate::rng::Rng;
use crate::testing::files::{FileAnswer, MemFiles};
use crate::testing::node::{AnyEvent, Node};
use crate::testing::script::{ScriptClient, ScriptCommand};

mod carry;
mod faults;
mod transport;

/// Port every host listens on (hosts differ by IP address).
pub const LISTEN_PORT: u16 = 7000;

/// A host in a [`World`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct HostId(pub usize);

/// How the world's network behaves.
#[derive(Debug, Clone)]
pub struct WorldConfig {
    /// One-way latency of every link.
    pub latency: Duration,
    /// Split every write into random pieces (delivered in order).
    pub split: bool,
    /// How long password work takes.
    pub password_delay: Duration,
}

impl Default for WorldConfig {
    fn default() -> Self {
        Self {
            latency: Duration::from_millis(1),
            split: true,
            password_delay: Duration::from_millis(2),
        }
    }
}

/// Builds (or rebuilds, after a crash) a host's engine from its records.
pub type Factory = Box<dyn FnMut(Vec<Record>, Instant, u64) -> Box<dyn Node>>;

struct Host {
    label: String,
    listen: SocketAddr,
    engine: Option<Box<dyn Node>>,
    factory: Factory,
    incarnation: u64,
    records: BTreeMap<RecordKey, Record>,
    /// Records of this incarnation carried out, and how many of them its
    /// engine was told are durable (they are, once carried out).
    kept: u64,
    told: u64,
    events: Vec<(Instant, AnyEvent)>,
    next_port: u16,
    /// The host's files; they survive a crash (only open handles do not).
    files: MemFiles,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Endpoint {
    host: HostId,
    inc: u64,
    conn: ConnId,
}

type LinkId = u64;

struct Link {
    initiator: Endpoint,
    acceptor: Option<Endpoint>,
    target: HostId,
    /// Bytes the initiator sent before the connection reached the acceptor.
    early: Vec<Vec<u8>>,
    /// Latest scheduled arrival toward the initiator (0) and acceptor (1).
    tails: [Instant; 2],
}

impl Link {
    /// The end that is not `me` (`None`: the acceptor has not seen it yet).
    fn other_end(&self, me: Endpoint) -> Option<Endpoint> {
        if self.initiator == me {
            self.acceptor
        } else {
            Some(self.initiator)
        }
    }
}

enum Delivery {
    Syn {
        link: LinkId,
        from: SocketAddr,
    },
    Connected {
        link: LinkId,
        to: Endpoint,
    },
    ConnectFailed {
        to: Endpoint,
    },
    Data {
        link: LinkId,
        to: Endpoint,
        bytes: Vec<u8>,
    },
    Closed {
        link: LinkId,
        to: Endpoint,
    },
    Password {
        host: HostId,
        inc: u64,
        job: JobId,
        result: Result<PasswordDigest, PasswordError>,
    },
    File {
        host: HostId,
        inc: u64,
        answer: FileAnswer,
    },
    /// A UDP datagram toward a host's listen port (see `transport`).
    Datagram(HostId, u64, SocketAddr, Vec<u8>),
}

/// See the module documentation.
pub struct World {
    config: WorldConfig,
    now: Instant,
    start: Instant,
    rng: Rng,
    hosts: Vec<Host>,
    links: BTreeMap<LinkId, Link>,
    endpoints: BTreeMap<Endpoint, LinkId>,
    next_link: LinkId,
    queue: BTreeMap<(Instant, u64), Delivery>,
    next_seq: u64,
    blocked: std::collections::BTreeSet<(HostId, HostId)>,
    /// Datagram loss, in percent (see `transport`).
    datagram_loss: u64,
    /// Each host's LAN segment for multicast (absent: segment 0; see
    /// `transport`).
    segments: BTreeMap<HostId, u32>,
    /// Datagrams each host sent: how many, how many bytes.
    datagrams_sent: BTreeMap<HostId, (u64, u64)>,
}

impl World {
    /// An empty world whose clock starts at `start` (any instant: only
    /// differences matter) and whose randomness is all drawn from `seed`.
    pub fn new(seed: u64, config: WorldConfig, start: Instant) -> Self {
        Self {
            config,
            now: start,
            start,
            rng: Rng::new(seed),
            hosts: Vec::new(),
            links: BTreeMap::new(),
            endpoints: BTreeMap::new(),
            next_link: 0,
            queue: BTreeMap::new(),
            next_seq: 0,
            blocked: Default::default(),
            datagram_loss: 0,
            segments: BTreeMap::new(),
            datagrams_sent: BTreeMap::new(),
        }
    }

    /// The current virtual time.
    pub fn now(&self) -> Instant {
        self.now
    }

    /// Virtual time since the world began.
    pub fn elapsed(&self) -> Duration {
        self.now - self.start
    }

    /// Adds a host whose engine `factory` builds from its persisted records,
    /// the current time and a seed; the engine is built at once.
    pub fn add_host(
        &mut self,
        label: &str,
        factory: impl FnMut(Vec<Record>, Instant, u64) -> Box<dyn Node> + 'static,
    ) -> HostId {
        let id = HostId(self.hosts.len());
        let i = self.hosts.len();
        let ip = IpAddr::V4(Ipv4Addr::new(10, (i / 250) as u8, 0, (i % 250) as u8 + 1));
        let mut factory: Factory = Box::new(factory);
        let seed = self.rng.next_u64();
        let engine = factory(Vec::new(), self.now, seed);
        self.hosts.push(Host {
            label: label.to_owned(),
            listen: SocketAddr::new(ip, LISTEN_PORT),
            engine: Some(engine),
            factory,
            incarnation: 0,
            records: BTreeMap::new(),
            kept: 0,
            told: 0,
            events: Vec::new(),
            next_port: 40000,
            files: MemFiles::new(),
        });
        self.pump(id);
        id
    }

    /// Adds a registry host. Its `unix_ms_at_start` is taken as the wall
    /// clock at the world's start, and moved on by the world's time at each
    /// (re)start, so certificates it issues agree with the peers' clocks.
    /// Keys not given are drawn now, once: a restarted registry keeps them,
    /// as a real one keeps its key file.
    pub fn add_registry(&mut self, label: &str, mut config: RegistryConfig) -> HostId {
        let start = self.start;
        keep_keys(&mut config, &mut self.rng);
        self.add_host(label, move |records, now, seed| {
            let mut config = config.clone();
            config.unix_ms_at_start += wall_ms_since(start, now);
            Box::new(Registry::new(config, records, now, seed))
        })
    }

    /// When this world's clock started.
    pub fn start(&self) -> Instant {
        self.start
    }

    /// Adds a [`ScriptClient`] host.
    pub fn add_script(&mut self, label: &str) -> HostId {
        self.add_host(label, |_, _, _| Box::new(ScriptClient::new()))
    }

    /// The address `host` listens on.
    pub fn addr(&self, host: HostId) -> SocketAddr {
        self.hosts[host.0].listen
    }

    /// The label given to `host`.
    pub fn label(&self, host: HostId) -> &str {
        &self.hosts[host.0].label
    }

    /// All hosts.
    pub fn hosts(&self) -> impl Iterator<Item = HostId> + use<> {
        (0..self.hosts.len()).map(HostId)
    }

    /// Whether `host` is running.
    pub fn is_up(&self, host: HostId) -> bool {
        self.hosts[host.0].engine.is_some()
    }

    /// `host`'s engine as its concrete type.
    ///
    /// # Panics
    /// If the host is down or runs another kind of engine: a bug in the test.
    pub fn engine<E: 'static>(&self, host: HostId) -> &E {
        let engine = self.hosts[host.0].engine.as_ref().expect("host is down");
        engine
            .as_any()
            .downcast_ref()
            .expect("host runs another kind of engine")
    }

    /// Runs `f` on `host`'s engine at the current time, then carries out
    /// whatever it asked for.
    ///
    /// # Panics
    /// As [`World::engine`].
    pub fn with<E: 'static, R>(&mut self, host: HostId, f: impl FnOnce(&mut E, Instant) -> R) -> R {
        let now = self.now;
        let engine = self.hosts[host.0].engine.as_mut().expect("host is down");
        let engine = engine
            .as_any_mut()
            .downcast_mut()
            .expect("host runs another kind of engine");
        let r = f(engine, now);
        self.pump(host);
        r
    }

    /// Gives a [`ScriptClient`] host a command.
    pub fn script(&mut self, host: HostId, cmd: ScriptCommand) {
        self.with(host, |c: &mut ScriptClient, now| {
            crate::Engine::handle_command(c, now, cmd).expect("script commands always succeed")
        })
    }

    /// Everything `host` reported, with when.
    pub fn events(&self, host: HostId) -> &[(Instant, AnyEvent)] {
        &self.hosts[host.0].events
    }

    /// Takes (and clears) everything `host` reported.
    pub fn take_events(&mut self, host: HostId) -> Vec<AnyEvent> {
        std::mem::take(&mut self.hosts[host.0].events)
            .into_iter()
            .map(|(_, e)| e)
            .collect()
    }

    /// `host`'s file store.
    pub fn files(&self, host: HostId) -> &MemFiles {
        &self.hosts[host.0].files
    }

    /// `host`'s file store, to put files in or corrupt them.
    pub fn files_mut(&mut self, host: HostId) -> &mut MemFiles {
        &mut self.hosts[host.0].files
    }

    /// What `host` has persisted.
    pub fn records(&self, host: HostId) -> &BTreeMap<RecordKey, Record> {
        &self.hosts[host.0].records
    }

    /// How many connections are open or opening, counting each once.
    pub fn connection_count(&self) -> usize {
        self.links.len()
    }

    /// A random number from the world's seed, for tests that choose at random.
    pub fn random(&mut self, below: u64) -> u64 {
        self.rng.below(below)
    }

    // ---- running -------------------------------------------------------

    /// Does the next thing due at or before `limit`: one delivery, or one
    /// host's timers. Returns `false`, with the clock moved to `limit`, when
    /// nothing is due by then.
    pub fn step(&mut self, limit: Instant) -> bool {
        let next_delivery = self.queue.keys().next().map(|(t, _)| *t);
        let next_timer = self
            .hosts
            .iter()
            .enumerate()
            .filter_map(|(i, h)| Some((h.engine.as_ref()?.poll_timeout()?, i)))
            .min();
        let delivery_first = match (next_delivery, next_timer) {
            (None, None) => {
                self.now = self.now.max(limit);
                return false;
            }
            (Some(d), Some((t, _))) => d <= t,
            (Some(_), None) => true,
            (None, Some(_)) => false,
        };
        let at = if delivery_first {
            next_delivery.unwrap_or(limit)
        } else {
            next_timer.map_or(limit, |t| t.0)
        };
        if at > limit {
            self.now = self.now.max(limit);
            return false;
        }
        self.now = self.now.max(at);
        if delivery_first {
            if let Some((_, d)) = self.queue.pop_first() {
                self.deliver(d);
            }
        } else if let Some((_, i)) = next_timer {
            let now = self.now;
            if let Some(e) = self.hosts[i].engine.as_mut() {
                e.handle_timeout(now);
            }
            self.pump(HostId(i));
        }
        true
    }

    /// Runs for `d` of virtual time.
    pub fn run_for(&mut self, d: Duration) {
        let limit = self.now + d;
        while self.step(limit) {}
    }

    /// Runs until `done` holds (checked after every step) or `max` of virtual
    /// time has passed; returns whether `done` held.
    pub fn run_until(&mut self, max: Duration, mut done: impl FnMut(&World) -> bool) -> bool {
        let limit = self.now + max;
        loop {
            if done(self) {
                return true;
            }
            if !self.step(limit) {
                return done(self);
            }
        }
    }

    /// Removes a link once neither endpoint belongs to it any more.
    fn forget_link_if_unused(&mut self, id: LinkId) {
        let Some(link) = self.links.get(&id) else {
            return;
        };
        let used = [Some(link.initiator), link.acceptor]
            .into_iter()
            .flatten()
            .any(|e| self.endpoints.get(&e) == Some(&id));
        if !used {
            self.links.remove(&id);
        }
    }

    // ---- the driver --------------------------------------------------------

    fn endpoint(&self, host: HostId, conn: ConnId) -> Endpoint {
        Endpoint {
            host,
            inc: self.hosts[host.0].incarnation,
            conn,
        }
    }

    fn alive(&self, host: HostId, inc: u64) -> bool {
        let h = &self.hosts[host.0];
        h.engine.is_some() && h.incarnation == inc
    }

    fn schedule(&mut self, at: Instant, d: Delivery) {
        self.next_seq += 1;
        self.queue.insert((at, self.next_seq), d);
    }

    /// Feeds an endpoint's engine, if it is still the same incarnation, and
    /// carries out what it asks.
    fn input(&mut self, to: Endpoint, f: impl FnOnce(&mut dyn Node, Instant)) {
        if !self.alive(to.host, to.inc) {
            return;
        }
        let now = self.now;
        if let Some(e) = self.hosts[to.host.0].engine.as_mut() {
            f(e.as_mut(), now);
        }
        self.pump(to.host);
    }

    fn deliver(&mut self, d: Delivery) {
        match d {
            Delivery::Syn { link: id, from } => {
                let Some(link) = self.links.get(&id) else {
                    return;
                };
                let (initiator, target) = (link.initiator, link.target);
                let target_inc = self.hosts[target.0].incarnation;
                if !self.is_up(target) || self.blocked.contains(&(initiator.host, target)) {
                    self.links.remove(&id);
                    self.endpoints.remove(&initiator);
                    let at = self.now + self.config.latency;
                    return self.schedule(at, Delivery::ConnectFailed { to: initiator });
                }
                let now = self.now;
                let Some(engine) = self.hosts[target.0].engine.as_mut() else {
                    return;
                };
                let conn = engine.accept(now, from);
                let acceptor = Endpoint {
                    host: target,
                    inc: target_inc,
                    conn,
                };
                self.endpoints.insert(acceptor, id);
                let early = match self.links.get_mut(&id) {
                    Some(link) => {
                        link.acceptor = Some(acceptor);
                        std::mem::take(&mut link.early)
                    }
                    None => Vec::new(),
                };
                let at = self.now + self.config.latency;
                self.schedule(
                    at,
                    Delivery::Connected {
                        link: id,
                        to: initiator,
                    },
                );
                for bytes in early {
                    self.send_along(id, acceptor, bytes);
                }
                self.pump(target);
            }
            Delivery::Connected { link, to } => {
                if self.endpoints.get(&to) == Some(&link) {
                    self.input(to, |e, now| {
                        e.handle_input(now, Input::Connected { conn: to.conn })
                    });
                }
            }
            Delivery::ConnectFailed { to } => {
                self.input(to, |e, now| {
                    e.handle_input(now, Input::ConnectFailed { conn: to.conn })
                });
            }
            Delivery::Data { link, to, bytes } => {
                if self.endpoints.get(&to) == Some(&link) {
                    self.input(to, |e, now| {
                        e.handle_input(
                            now,
                            Input::Received {
                                conn: to.conn,
                                bytes: &bytes,
                            },
                        )
                    });
                }
            }
            Delivery::Closed { link, to } => {
                if self.endpoints.get(&to) == Some(&link) {
                    self.endpoints.remove(&to);
                    self.input(to, |e, now| {
                        e.handle_input(now, Input::Closed { conn: to.conn })
                    });
                }
                self.forget_link_if_unused(link);
            }
            Delivery::Password {
                host,
                inc,
                job,
                result,
            } => {
                let to = Endpoint {
                    host,
                    inc,
                    conn: ConnId(0),
                };
                self.input(to, |e, now| {
                    e.handle_input(now, Input::PasswordDerived { job, result })
                });
            }
            Delivery::Datagram(to, inc, from, bytes) => self.deliver_datagram(to, inc, from, bytes),
            Delivery::File { host, inc, answer } => {
                let to = Endpoint {
                    host,
                    inc,
                    conn: ConnId(0),
                };
                self.input(to, |e, now| e.handle_input(now, answer.as_input()));
            }
        }
    }
}
