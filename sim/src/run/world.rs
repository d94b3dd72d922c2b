//! The simulated world of one run: the turmoil simulation, its hosts (host 0
//! the registry, then one per peer, then the scripted registry clients, then
//! the attacker if the fault plan has attacks), the workload and the fault
//! injector.
//!
//! A LAN run (`--lan`) is this world configured by [`Lan`]: the registry's
//! host is never started, there are no scripted clients (they need the
//! registry), the peers have discovery on and no registry, sit on broadcast
//! segments, and the attacker is the announcement forger; the fault
//! injector faults only links between peers and crashes only peers (its
//! registry crashes, relay mangling and registry attacker are off), on top
//! of the LAN's own crash and datagram faults.
//!
//! A hybrid run (`--hybrid`, see [`crate::hybrid`]) is the ordinary world
//! plus the LAN's segments and discovery on every peer (no forger), with
//! registry crashes forced on and kept down for seconds.
//!
//! Peers listen on their turmoil address and dial each other directly; the
//! injector faults registry links and peer-to-peer links alike (half of its
//! link faults each, so a large mesh does not starve the registry links).
//!
//! Each peer's files ([`Sources`]) and disk latency, and the transfer
//! workload, are drawn from streams of their own (the seed mixed with a
//! constant), so adding transfers left every other draw of a seed as it was.

use std::net::SocketAddr;
use std::rc::Rc;
use std::time::{Duration, UNIX_EPOCH};

use confab_engine::bounded::Text;
use confab_engine::password::PasswordCost;
use confab_engine::peer::{Backoff, LinkConfig, PeerCommand, SessionConfig, TransferConfig};
use confab_engine::wire::registry::Password;
use confab_engine::wire::registry::SharedFile;
use confab_engine::wire::{FileName, Name};
use confab_engine::{Peer, PeerConfig, Registry, RegistryConfig};

use super::config::{SimConfig, timing};
use super::keys::Keys;
use crate::attacker::{Attacker, AttackerConfig, Victim};
use crate::checkers::View;
use crate::client::{ClientConfig, RegistryClient};
use crate::draw::{self, Rng};
use crate::driver::{self, DriverCommand, HostControl, HostState, Stamp};
use crate::faults::{FaultKind, FaultPlan, Injector};
use crate::files::{HostFiles, Sources};
use crate::hybrid;
use crate::lan::{self, Lan};
use crate::observe::{Journal, Observed, peer_names};
use crate::workload::{Action, ActorState, Workload};

/// Mixed into the seed for the stream that draws the peers' files.
const FILES_STREAM: u64 = 0x6669_6c65_7300_0001;
/// Mixed into the seed for the stream that draws the transfer workload.
const TRANSFERS_STREAM: u64 = 0x7866_6572_7300_0002;
/// Mixed into the seed for the attacker host's own draws.
const ATTACKER_STREAM: u64 = 0x6174_7461_636b_0004;
/// Mixed into the seed for whether and how often the attacker strikes (a
/// stream of its own: the rest of a seed's fault plan is as it was).
const ATTACK_PLAN_STREAM: u64 = 0x6174_7461_636b_0006;
/// The attacker's own account (no peer's or client's name).
const ATTACKER: &str = "mallory";

/// See the module documentation.
pub struct World {
    pub sim: turmoil::Sim<'static>,
    pub journal: Rc<Journal>,
    pub registry: Rc<HostState<Registry>>,
    pub peers: Vec<Rc<HostState<Peer>>>,
    pub clients: Vec<Rc<HostState<RegistryClient>>>,
    /// The attacker, in runs whose fault plan has attacks.
    pub attacker: Option<Rc<HostState<Attacker>>>,
    pub workload: Workload,
    pub injector: Injector,
    /// Every peer's files, for the checkers.
    pub sources: Rc<Sources>,
    /// The LAN configuration, in LAN runs.
    pub lan: Option<Lan>,
    plan: FaultPlan,
    max_latency: Duration,
    tick: Duration,
    registry_addr: SocketAddr,
}

impl World {
    /// Builds the world of `seed`.
    pub fn build(seed: u64, config: &SimConfig) -> Self {
        let mut rng = Rng::new(seed);
        let mut files_rng = Rng::new(seed ^ FILES_STREAM);
        let sources = Rc::new(Sources::draw(
            &mut files_rng,
            config.peers,
            config.same_names,
        ));
        let turmoil_seed = rng.next_u64();
        let min_latency = Duration::from_millis(1);
        let max_latency = draw::log_uniform(
            &mut rng,
            Duration::from_millis(2),
            Duration::from_millis(60),
        );
        let max_latency = Duration::from_millis(max_latency.as_millis().max(2) as u64);
        let mut sim = turmoil::Builder::new()
            .rng_seed(turmoil_seed)
            .tick_duration(config.tick)
            .simulation_duration(config.duration + config.heal + Duration::from_secs(3600))
            .min_message_latency(min_latency)
            .max_message_latency(max_latency)
            .fail_rate(0.0)
            .repair_rate(0.0)
            .enable_random_order()
            .epoch(UNIX_EPOCH + Duration::from_secs(1_700_000_000))
            .build();
        let journal = Rc::new(Journal::default());
        let mut lan = if config.hybrid {
            Some(Lan::draw(seed, config.peers, Some(false)).with_registry())
        } else {
            config
                .lan
                .then(|| Lan::draw(seed, config.peers, config.attacker))
        };
        let client_count = if config.lan { 0 } else { config.clients };

        let keys = Keys::draw(seed, config.peers);
        #[allow(unused_mut)]
        let mut registry_config = RegistryConfig {
            heartbeat_timeout: timing::HEARTBEAT_TIMEOUT,
            hello_timeout: timing::HELLO_TIMEOUT,
            password_cost: PasswordCost::TESTING,
            secure: keys.registry.clone(),
            ..RegistryConfig::default()
        };
        #[cfg(feature = "planted-bugs")]
        let plant = config.plant;
        #[cfg(feature = "planted-bugs")]
        if let Some(bug) = plant {
            registry_config.planted = bug.into();
        }
        let registry = HostState::new(
            0,
            "registry".into(),
            Some(timing::REGISTRY_PORT),
            rng.next_u64(),
            journal.clone(),
            Rc::new(move |records, now, seed| {
                let mut c = registry_config.clone();
                // The same simulated wall clock as the peers': certificates
                // are dated by it and checked against theirs.
                c.unix_ms_at_start = crate::clock::unix_ms();
                Registry::new(c, records, now, seed)
            }),
        );
        let registry_addr = if config.lan {
            // Never started: the registry is down for the whole run.
            lan::registry_addr()
        } else {
            let r = registry.clone();
            sim.host("registry", move || driver::run(r.clone()));
            SocketAddr::new(sim.lookup("registry"), timing::REGISTRY_PORT)
        };

        let names = peer_names(config.peers);
        // turmoil assigns addresses on first lookup, in order: deterministic.
        let addrs: Vec<SocketAddr> = names
            .iter()
            .map(|name| SocketAddr::new(sim.lookup(name.as_str()), timing::PEER_PORT))
            .collect();
        let lan_attacker = lan
            .as_ref()
            .map(|_| SocketAddr::new(sim.lookup("attacker"), timing::PEER_PORT));
        let mut peers = Vec::new();
        for (i, name) in names.iter().enumerate() {
            let listen = addrs[i];
            let mut peer_config = PeerConfig::new(
                Name::new(name).expect("peer-NNN is a valid name"),
                Password(Text::truncate(&format!("pw-{name}"))),
                registry_addr,
                listen,
            );
            let reconnect = Backoff {
                min: timing::RECONNECT_MIN,
                max: timing::RECONNECT_MAX,
            };
            peer_config.request_timeout = timing::REQUEST_TIMEOUT;
            peer_config.session = SessionConfig {
                heartbeat_interval: timing::HEARTBEAT_INTERVAL,
                reply_timeout: timing::PEER_REPLY_TIMEOUT,
                reconnect,
            };
            peer_config.link = LinkConfig {
                handshake_timeout: timing::HANDSHAKE_TIMEOUT,
                reconnect,
                keepalive_interval: timing::KEEPALIVE_INTERVAL,
                keepalive_timeout: timing::KEEPALIVE_TIMEOUT,
                retransmit_interval: timing::RETRANSMIT_INTERVAL,
                direct_retry: LinkConfig::default().direct_retry,
            };
            peer_config.transfer = TransferConfig {
                chunk_size: sources.chunk,
                window: sources.window,
                offer_timeout: timing::REQUEST_TIMEOUT,
                resume_timeout: timing::KEEPALIVE_TIMEOUT.saturating_mul(2),
                ..TransferConfig::default()
            };
            peer_config.secure = keys.peer(i);
            #[cfg(feature = "planted-bugs")]
            if let Some(bug) = config.plant {
                peer_config.planted = bug.into();
            }
            peer_config.shared = sources
                .of_peer(i)
                .iter()
                .map(|f| SharedFile {
                    kind: Default::default(),
                    name: FileName::new(&f.name).expect("drawn names are valid"),
                    size: f.bytes.len() as u64,
                    md5: f.md5,
                })
                .collect();
            if let Some(lan) = &mut lan {
                lan.configure(i, &mut peer_config, &addrs);
            }
            let host = HostState::new(
                i + 1,
                name.clone(),
                Some(timing::PEER_PORT),
                rng.next_u64(),
                journal.clone(),
                Rc::new(move |records, now, seed| {
                    let mut c = peer_config.clone();
                    c.unix_ms_at_start = crate::clock::unix_ms();
                    Peer::new(c, records, now, seed)
                }),
            );
            let latency = Duration::from_micros(if draw::chance(&mut files_rng, 0.5) {
                0
            } else {
                draw::between(&mut files_rng, 1, 5000)
            });
            host.install_files(HostFiles::with_sources(sources.of_peer(i)), latency);
            if let (Some(lan), Some(attacker)) = (&lan, lan_attacker) {
                lan.install(i, &host, &addrs, attacker);
            }
            let h = host.clone();
            sim.host(name.as_str(), move || driver::run(h.clone()));
            peers.push(host);
        }

        let client_names: Vec<String> = (1..=client_count)
            .map(|i| format!("client-{i:02}"))
            .collect();
        let mut clients = Vec::new();
        for (i, name) in client_names.iter().enumerate() {
            let listen = SocketAddr::new(sim.lookup(name.as_str()), timing::PEER_PORT);
            let client_config = ClientConfig {
                name: Name::new(name).expect("client-NN is a valid name"),
                password: Password(Text::truncate(&format!("pw-{name}"))),
                registry: registry_addr,
                listen,
                heartbeat_interval: timing::HEARTBEAT_INTERVAL,
                reply_timeout: timing::REPLY_TIMEOUT,
                reconnect_min: timing::RECONNECT_MIN,
                reconnect_max: timing::RECONNECT_MAX,
                unix_ms_at_start: 0,
                registry_pin: keys.pin_for(i),
            };
            let host = HostState::new(
                config.peers + i + 1,
                name.clone(),
                None,
                rng.next_u64(),
                journal.clone(),
                Rc::new(move |_records, now, seed| {
                    let mut c = client_config.clone();
                    c.unix_ms_at_start = crate::clock::unix_ms();
                    RegistryClient::new(c, now, seed)
                }),
            );
            let h = host.clone();
            sim.host(name.as_str(), move || driver::run(h.clone()));
            clients.push(host);
        }

        let peer_names: Vec<Name> = names
            .iter()
            .map(|n| Name::new(n).expect("peer-NNN is a valid name"))
            .collect();
        let mut workload = Workload::new(rng.next_u64(), 1, peer_names, client_names);
        workload.add_transfers(seed ^ TRANSFERS_STREAM, &sources, config.same_names);
        if !config.calls {
            workload.without_calls();
        }
        if lan.is_none() {
            for p in &peers {
                p.set_datagram_faults(workload.datagram_faults());
            }
        }
        let mut attack_rng = Rng::new(seed ^ ATTACK_PLAN_STREAM);
        let hosts = config.peers + client_count;
        let mut plan = FaultPlan::draw(config.faults, &mut rng, &mut attack_rng, hosts);
        if let Some(lan) = lan.as_mut().filter(|_| config.lan) {
            // No registry to crash or to relay through; the attacker is
            // the forger.
            for kind in [
                FaultKind::CrashRegistry,
                FaultKind::RelayMangle,
                FaultKind::Attack,
            ] {
                plan.force(kind, false, Duration::ZERO);
            }
            lan.add_forger(seed, config.peers + 1, &mut sim, &journal, &addrs);
            if [FaultKind::Partition, FaultKind::OneWay, FaultKind::Hold]
                .iter()
                .any(|&k| plan.interval(k).is_some())
            {
                // Links between peers are cut off (datagrams too) until
                // the heal: discovery is judged from then.
                lan.link_faults_until(config.duration);
            }
        } else {
            if let Some(on) = config.attacker {
                plan.force(FaultKind::Attack, on, timing::ATTACK_INTERVAL);
            }
            if let Some(lan) = lan.as_mut() {
                // Hybrid: the registry goes away, and links between peers
                // (datagrams too) may be cut until the heal, as in LAN runs.
                plan.force(FaultKind::CrashRegistry, true, hybrid::EVERY);
                if [FaultKind::Partition, FaultKind::OneWay, FaultKind::Hold]
                    .iter()
                    .any(|&k| plan.interval(k).is_some())
                {
                    lan.link_faults_until(config.duration);
                }
            }
        }
        if let Some(on) = config.relay_fault
            && !config.lan
        {
            plan.force(FaultKind::RelayMangle, on, timing::RELAY_FAULT_INTERVAL);
        }
        let attacker = plan.interval(FaultKind::Attack).map(|_| {
            let victims = names
                .iter()
                .enumerate()
                .map(|(i, name)| Victim {
                    name: Name::new(name).expect("peer-NNN is a valid name"),
                    addr: SocketAddr::new(sim.lookup(name.as_str()), timing::PEER_PORT),
                    file: sources
                        .of_peer(i)
                        .first()
                        .and_then(|f| FileName::new(&f.name).ok()),
                })
                .collect();
            let attacker_config = AttackerConfig {
                name: Name::new(ATTACKER).expect("a valid name"),
                password: Password(Text::truncate("pw-mallory")),
                registry: registry_addr,
                listen: SocketAddr::new(sim.lookup("attacker"), timing::PEER_PORT),
                peers: victims,
                unix_ms_at_start: 0,
            };
            let host = HostState::new(
                config.peers + client_count + 1,
                "attacker".into(),
                None,
                seed ^ ATTACKER_STREAM,
                journal.clone(),
                Rc::new(move |_records, now, seed| {
                    let mut c = attacker_config.clone();
                    c.unix_ms_at_start = crate::clock::unix_ms();
                    Attacker::new(c, now, seed)
                }),
            );
            let h = host.clone();
            sim.host("attacker", move || driver::run(h.clone()));
            host
        });
        let mut hosts: Vec<Rc<dyn HostControl>> = vec![registry.clone()];
        hosts.extend(peers.iter().map(|p| p.clone() as Rc<dyn HostControl>));
        hosts.extend(clients.iter().map(|c| c.clone() as Rc<dyn HostControl>));
        let registry_pairs = (1..hosts.len()).map(|h| (0, h)).collect();
        let peer_pairs = (1..=config.peers)
            .flat_map(|a| (a + 1..=config.peers).map(move |b| (a, b)))
            .collect();
        let pairs = if config.lan {
            vec![peer_pairs]
        } else {
            vec![registry_pairs, peer_pairs]
        };
        let mut injector = Injector::new(
            plan.clone(),
            rng.next_u64(),
            hosts,
            pairs,
            (min_latency, max_latency),
            journal.clone(),
        )
        .with_attacker(attacker.clone())
        .with_registry(registry.clone());
        if config.hybrid {
            injector = injector
                .with_registry_outages(hybrid::first_outage(seed, config.duration), hybrid::DOWN);
        }
        Self {
            sim,
            journal,
            registry,
            peers,
            clients,
            attacker,
            workload,
            injector,
            sources,
            lan,
            plan,
            max_latency,
            tick: config.tick,
            registry_addr,
        }
    }

    /// The attacker's account name, if the run has an attacker.
    pub fn attacker_name(&self) -> Option<Name> {
        self.attacker.as_ref().and(Name::new(ATTACKER).ok())
    }

    /// The seed's draws in one line, for the report and the trace.
    pub fn describe(&self) -> String {
        let lan = self
            .lan
            .as_ref()
            .map_or_else(String::new, |lan| format!("{}; ", lan.describe()));
        format!(
            "{lan}latency 1-{} ms; files: {} of {} bytes, chunk {}, window {}; faults: {}; workload: {}",
            self.max_latency.as_millis(),
            self.sources.count(),
            self.sources.total_bytes(),
            self.sources.chunk,
            self.sources.window,
            self.plan.describe(),
            self.workload.describe()
        )
    }

    /// Injects and undoes faults, and hands out the workload's actions.
    pub fn act(&mut self, now: Duration, settling: bool) {
        self.injector.tick(&mut self.sim, now);
        if let Some(lan) = &mut self.lan {
            lan.act(now, &mut self.sim, &self.peers, &self.journal);
        }
        let peers_up: Vec<bool> = self.peers.iter().map(|p| p.is_up()).collect();
        let clients: Vec<ActorState> = self
            .clients
            .iter()
            .map(|c| match c.engine().as_ref() {
                None => ActorState::Down,
                Some(e) => ActorState::Up {
                    wants_online: e.wants_online(),
                },
            })
            .collect();
        let mut restarted = Vec::new();
        if settling {
            // Every peer that quit starts again, so that after the heal every
            // peer is running (a quit may land just after the heal began).
            for (peer, &up) in peers_up.iter().enumerate() {
                if up && !self.workload.views().get(peer).running {
                    restarted.push(peer);
                    self.restart(now, peer);
                }
            }
        }
        for action in self.workload.due(now, &peers_up, &clients, settling) {
            match action {
                Action::Client { client, cmd } => {
                    self.clients[client].command(DriverCommand::Engine(cmd));
                }
                Action::Peer { peer, cmd } => {
                    self.peers[peer].command(DriverCommand::Engine(cmd));
                }
                Action::Restart { peer } if !restarted.contains(&peer) => {
                    restarted.push(peer);
                    self.restart(now, peer);
                }
                Action::Restart { .. } => {}
                Action::Frame { peer, with, jpeg } => {
                    let frame = move |now| PeerCommand::CallFrame {
                        with,
                        jpeg,
                        captured: now,
                    };
                    self.peers[peer].command(DriverCommand::Stamped(Stamp(Box::new(frame))));
                }
            }
        }
    }

    /// Starts a peer that quit again: a fresh engine from its store.
    fn restart(&mut self, now: Duration, peer: usize) {
        let host = &self.peers[peer];
        self.journal.push_at(now, host.ix, Observed::Restarted);
        host.crashed();
        self.sim.bounce(host.name.as_str());
    }

    /// Stops the faults and undoes them all.
    pub fn heal(&mut self, now: Duration) {
        self.injector.heal(&mut self.sim, now);
    }

    /// Keeps the workload's picture of the peers up to date.
    pub fn observe(&mut self, obs: &crate::observe::Observation) {
        self.workload.observe(obs);
    }

    /// What the checkers may look at.
    pub fn view(&self) -> View<'_> {
        View {
            now: self.sim.elapsed(),
            registry: &self.registry,
            peers: &self.peers,
            clients: &self.clients,
            heartbeat_timeout: timing::HEARTBEAT_TIMEOUT,
            slack: self.tick + Duration::from_millis(2),
            registry_addr: self.registry_addr,
        }
    }
}
