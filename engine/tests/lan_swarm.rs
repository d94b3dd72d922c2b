//! A swarm with no registry (issue 20) over many seeds, with checkers: LAN
//! segments (a datagram to the group reaches every host of the sender's
//! segment, with loss) joined by a few peers (`--join`), the registry down
//! for the whole run, and an attacker host that forges, strips and replays
//! announcements and claims other peers' names under its own key.
//!
//! - **liveness**: the segment graph is connected through peers, so every
//!   peer learns every other (name and key) within [`BOUND`];
//! - **safety**: no peer ever lists a key under a name that key did not
//!   sign (checked every few seconds, on every peer);
//! - the planted bug `AcceptUnsignedAnnouncement` is caught by the safety
//!   checker.
//!
//! Runs in the engine's deterministic [`World`] (virtual time; every seed
//! replays). `figures` (ignored by default) prints the benchmark: time for
//! N peers to all know each other from a cold start, and discovery traffic
//! per peer per minute at steady state, next to the registry path's.

mod peer_support;

use std::any::Any;
use std::cell::Cell;
use std::collections::{BTreeSet, VecDeque};
use std::net::SocketAddr;
use std::rc::Rc;
use std::time::{Duration, Instant};

use confab_engine::Peer;
use confab_engine::api::{ConnId, Input, Output};
use confab_engine::peer::{DiscoveryConfig, FoundPeer, PeerCommand, PeerConfig, PeerEvent};
use confab_engine::planted::{PlantedBug, PlantedBugs};
use confab_engine::rng::Rng;
use confab_engine::secure::StaticSecret;
use confab_engine::testing::{AnnouncementForger, AnyEvent, HostId, Node};
use peer_support::{Net, UNIX_MS_AT_START, name};

const S: Duration = Duration::from_secs(1);

/// Every peer knows every other within this, from the last one's start:
/// ten announce intervals, for up to three segments (each hop of a chain
/// waits for a tick at both ends) and up to 20 % of datagrams lost.
const BOUND: Duration = Duration::from_secs(300);

fn lan(c: &mut PeerConfig) {
    c.discovery = Some(DiscoveryConfig::default());
    c.without_registry = true;
}

fn planted(c: &mut PeerConfig) {
    lan(c);
    c.planted = PlantedBugs::from(PlantedBug::AcceptUnsignedAnnouncement);
}

/// The attacker: the shared [`AnnouncementForger`] (forged, unsigned,
/// replayed and relayed announcements, and claims under its own key) in
/// this harness's node, striking every 2 s.
struct Forger {
    forger: AnnouncementForger,
    group: SocketAddr,
    out: VecDeque<Output<AnyEvent>>,
    next: Instant,
    start: Instant,
}

impl Forger {
    fn new(now: Instant, seed: u64, start: Instant) -> Self {
        let mut rng = Rng::new(seed);
        let secret = StaticSecret::generate(&mut rng);
        Self {
            forger: AnnouncementForger::new(secret, rng.next_u64()),
            group: DiscoveryConfig::default().group,
            out: VecDeque::new(),
            next: now + 2 * S,
            start,
        }
    }
}

impl Node for Forger {
    fn accept(&mut self, _: Instant, _: SocketAddr) -> ConnId {
        ConnId(u64::MAX)
    }
    fn handle_input(&mut self, now: Instant, input: Input<'_>) {
        if let Input::Datagram { bytes, .. } = input {
            self.forger.hear(bytes);
        }
        self.handle_timeout(now);
    }
    fn handle_timeout(&mut self, now: Instant) {
        while now >= self.next {
            let unix = UNIX_MS_AT_START + (now - self.start).as_millis() as u64;
            for d in self.forger.strike(unix) {
                self.out.push_back(Output::SendDatagram {
                    to: self.group,
                    bytes: d.to_bytes(),
                });
            }
            self.next += 2 * S;
        }
    }
    fn poll_output(&mut self) -> Option<Output<AnyEvent>> {
        self.out.pop_front()
    }
    fn poll_timeout(&self) -> Option<Instant> {
        Some(self.next)
    }
    fn as_any_mut(&mut self) -> &mut dyn Any {
        self
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
}

/// One run's world: peers on segments, the attacker, what is legitimate.
struct Swarm {
    net: Net,
    names: Vec<String>,
    /// (name, fingerprint) of every real peer.
    real: BTreeSet<(String, String)>,
    attacker: String,
}

/// Builds a run from `seed`: 1 to 3 segments of 2 to 4 peers; the first
/// peer of each segment after the first joins a peer of the one before;
/// datagram loss 0 to 20 %; the attacker on segment 0.
fn swarm(seed: u64, tweak: fn(&mut PeerConfig)) -> Swarm {
    let mut net = Net::bare(seed, tweak);
    net.world.crash(net.registry);
    let mut rng = Rng::new(seed);
    net.world.set_datagram_loss(rng.below(21));
    let segments = 1 + rng.below(3) as u32;
    let mut names = Vec::new();
    let mut previous: Vec<SocketAddr> = Vec::new();
    for seg in 0..segments {
        let count = 2 + rng.below(3);
        let mut here = Vec::new();
        for i in 0..count {
            let n = format!("p{seg}x{i}");
            let next = HostId(net.world.hosts().count());
            net.world.set_segment(next, seg);
            let join = if i == 0 && !previous.is_empty() {
                vec![previous[rng.below(previous.len() as u64) as usize]]
            } else {
                Vec::new()
            };
            let host = net.add_peer_with(&n, &n, move |c| c.join = join);
            here.push(net.world.addr(host));
            names.push(n);
        }
        previous = here;
    }
    let next = HostId(net.world.hosts().count());
    net.world.set_segment(next, 0);
    let start = net.world.start();
    net.world.add_host("attacker", move |_, now, seed| {
        Box::new(Forger::new(now, seed, start))
    });
    let real = names
        .iter()
        .map(|n| {
            let fp = net.peer(n).public_key().fingerprint().to_string();
            (n.clone(), fp)
        })
        .collect();
    let attacker = {
        let f: &Forger = net.world.engine(next);
        f.forger.fingerprint()
    };
    Swarm {
        net,
        names,
        real,
        attacker,
    }
}

impl Swarm {
    /// What `who` lists now (its `/who`).
    fn found(&mut self, who: &str) -> Vec<FoundPeer> {
        self.net.ok(who, PeerCommand::Who);
        self.net
            .events(who)
            .into_iter()
            .rev()
            .find_map(|e| match e {
                PeerEvent::Found { peers } => Some(peers),
                _ => None,
            })
            .unwrap_or_default()
    }

    /// The safety checker: every listed (name, key) was signed by that
    /// key. Returns the first violation.
    fn unsafe_entry(&mut self) -> Option<String> {
        for who in self.names.clone() {
            for p in self.found(&who) {
                let pair = (p.name.to_string(), p.fingerprint.clone());
                if !self.real.contains(&pair) && p.fingerprint != self.attacker {
                    return Some(format!(
                        "{who} lists {} under key {}, which never signed that",
                        p.name, p.fingerprint
                    ));
                }
            }
        }
        None
    }

    /// The liveness checker: whether every peer lists every other real
    /// peer under its own key.
    fn everyone_knows_everyone(&mut self) -> bool {
        for who in self.names.clone() {
            let listed: BTreeSet<(String, String)> = self
                .found(&who)
                .into_iter()
                .map(|p| (p.name.to_string(), p.fingerprint))
                .collect();
            let missing: Vec<_> = self
                .real
                .iter()
                .filter(|r| r.0 != who && !listed.contains(*r))
                .map(|r| r.0.clone())
                .collect();
            if !missing.is_empty() {
                if std::env::var_os("LAN_SWARM_DEBUG").is_some() {
                    eprintln!("{who} misses {missing:?}");
                }
                return false;
            }
        }
        true
    }
}

#[test]
fn every_peer_learns_every_other_and_nobody_is_listed_under_a_key_it_did_not_sign() {
    // LAN_SWARM_SEEDS=N runs more (the default keeps `cargo test` quick).
    let seeds: u64 = std::env::var("LAN_SWARM_SEEDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(16);
    for seed in 1..=seeds {
        let mut s = swarm(seed, lan);
        let mut waited = Duration::ZERO;
        loop {
            s.net.run_for(5 * S);
            waited += 5 * S;
            if let Some(v) = s.unsafe_entry() {
                panic!("seed {seed}: safety: {v}");
            }
            if s.everyone_knows_everyone() {
                break;
            }
            assert!(
                waited < BOUND,
                "seed {seed}: liveness: not everyone knew everyone within {BOUND:?}"
            );
        }
        // And it stays so, with the attacker at it, for a while longer.
        for _ in 0..6 {
            s.net.run_for(10 * S);
            if let Some(v) = s.unsafe_entry() {
                panic!("seed {seed}: safety: {v}");
            }
        }
        let victim = name(&s.names[0]);
        assert!(
            !s.net.events(&s.names[0]).iter().any(|e| matches!(e,
                PeerEvent::Presence { name, .. } if *name == victim)),
            "seed {seed}: a peer never hears of itself"
        );
    }
}

#[cfg(feature = "planted-bugs")]
#[test]
fn the_planted_unsigned_announcement_bug_is_caught_by_the_safety_checker() {
    let mut caught = Vec::new();
    for seed in 1..=6u64 {
        let mut s = swarm(seed, planted);
        for _ in 0..12 {
            s.net.run_for(5 * S);
            if let Some(v) = s.unsafe_entry() {
                caught.push((seed, v));
                break;
            }
        }
    }
    assert!(!caught.is_empty(), "the planted bug went unnoticed");
}

/// One peer's engine, counting what it writes to the registry: every
/// `Send` on a connection it opened to `registry` (a write may carry more
/// than one frame). Transparent otherwise, also to `World::engine`.
struct Counted {
    inner: Box<dyn Node>,
    registry: SocketAddr,
    conns: BTreeSet<ConnId>,
    /// (writes, bytes) so far, shared with the figures.
    sent: Rc<Cell<(u64, u64)>>,
}

impl Node for Counted {
    fn accept(&mut self, now: Instant, remote: SocketAddr) -> ConnId {
        self.inner.accept(now, remote)
    }
    fn handle_input(&mut self, now: Instant, input: Input<'_>) {
        self.inner.handle_input(now, input)
    }
    fn handle_timeout(&mut self, now: Instant) {
        self.inner.handle_timeout(now)
    }
    fn poll_output(&mut self) -> Option<Output<AnyEvent>> {
        let out = self.inner.poll_output();
        match &out {
            Some(Output::Connect { conn, addr }) if *addr == self.registry => {
                self.conns.insert(*conn);
            }
            Some(Output::Send { conn, bytes }) if self.conns.contains(conn) => {
                let (w, b) = self.sent.get();
                self.sent.set((w + 1, b + bytes.len() as u64));
            }
            Some(Output::Close { conn }) => {
                self.conns.remove(conn);
            }
            _ => {}
        }
        out
    }
    fn poll_timeout(&self) -> Option<Instant> {
        self.inner.poll_timeout()
    }
    fn as_any_mut(&mut self) -> &mut dyn Any {
        self.inner.as_any_mut()
    }
    fn as_any(&self) -> &dyn Any {
        self.inner.as_any()
    }
}

/// `net.add_peer(me)`, its engine wrapped in [`Counted`]: returns what it
/// has written to the registry so far, as it goes.
fn add_counted_peer(net: &mut Net, me: &str) -> Rc<Cell<(u64, u64)>> {
    let registry = net.world.addr(net.registry);
    let i = net.world.hosts().count();
    let listen = SocketAddr::from(([10, (i / 250) as u8, 0, (i % 250) as u8 + 1], 7000));
    let mut cfg = peer_support::config(me, registry, listen);
    (net.tweak)(&mut cfg);
    let mut key = [0u8; 32];
    for (i, b) in key.iter_mut().enumerate() {
        *b = net.world.random(256) as u8 ^ i as u8;
    }
    cfg.secure.static_key = Some(StaticSecret::from_bytes(key));
    let start = net.world.start();
    let sent = Rc::new(Cell::new((0, 0)));
    let counter = sent.clone();
    let host = net.world.add_host(me, move |records, now, seed| {
        let mut cfg = cfg.clone();
        cfg.unix_ms_at_start += confab_engine::testing::wall_ms_since(start, now);
        Box::new(Counted {
            inner: Box::new(Peer::new(cfg, records, now, seed)),
            registry,
            conns: BTreeSet::new(),
            sent: counter.clone(),
        })
    });
    assert_eq!(net.world.addr(host), listen);
    net.peers.insert(me.to_owned(), host);
    sent
}

/// One row of the figures.
struct Row {
    /// Until every peer has heard every other (discovery).
    lan_time: Duration,
    /// Datagrams and bytes each peer sends per minute at steady state.
    lan_datagrams: f64,
    lan_bytes: f64,
    /// Until every peer is logged in (registry path).
    registry_time: Duration,
    /// Writes and bytes each peer sends to the registry per minute at
    /// steady state (heartbeats, over its TCP connection).
    registry_writes: f64,
    registry_bytes: f64,
}

/// How long until N peers on one segment all know each other (discovery),
/// or are all logged in to the registry (registry); and what each peer
/// sends per minute afterwards, over 10 virtual minutes: datagrams on the
/// discovery path, writes to the registry on the registry path.
fn figures_for(n: usize) -> Row {
    // Discovery.
    let mut net = Net::bare(n as u64, lan);
    net.world.crash(net.registry);
    let names: Vec<String> = (0..n).map(|i| format!("n{i}")).collect();
    let t0 = net.world.elapsed();
    for nm in &names {
        net.add_peer(nm);
    }
    let all = |net: &Net| {
        names.iter().all(|nm| {
            net.events(nm)
                .iter()
                .filter(|e| matches!(e, PeerEvent::Presence { online: true, .. }))
                .count()
                >= n - 1
        })
    };
    assert!(net.run_until(Duration::from_secs(300), all), "n={n}");
    let lan_time = net.world.elapsed() - t0;
    let before: Vec<(u64, u64)> = names
        .iter()
        .map(|nm| net.world.datagrams_sent(net.host(nm)))
        .collect();
    net.run_for(STEADY);
    let (mut count, mut bytes) = (0u64, 0u64);
    for (nm, b) in names.iter().zip(before) {
        let a = net.world.datagrams_sent(net.host(nm));
        count += a.0 - b.0;
        bytes += a.1 - b.1;
    }
    let per_min = |x: u64| x as f64 / n as f64 / (STEADY.as_secs_f64() / 60.0);

    // The registry path, in the same run: every peer logged in.
    let mut reg = Net::bare(n as u64, |_| {});
    let t0 = reg.world.elapsed();
    let sent: Vec<_> = names
        .iter()
        .map(|nm| add_counted_peer(&mut reg, nm))
        .collect();
    let ready = |net: &Net| {
        names.iter().all(|nm| {
            net.events(nm)
                .iter()
                .any(|e| matches!(e, PeerEvent::Ready { .. }))
        })
    };
    assert!(reg.run_until(Duration::from_secs(300), ready), "n={n}");
    let registry_time = reg.world.elapsed() - t0;
    let before: Vec<(u64, u64)> = sent.iter().map(|s| s.get()).collect();
    reg.run_for(STEADY);
    let (mut writes, mut reg_bytes) = (0u64, 0u64);
    for (s, b) in sent.iter().zip(before) {
        let a = s.get();
        writes += a.0 - b.0;
        reg_bytes += a.1 - b.1;
    }
    Row {
        lan_time,
        lan_datagrams: per_min(count),
        lan_bytes: per_min(bytes),
        registry_time,
        registry_writes: per_min(writes),
        registry_bytes: per_min(reg_bytes),
    }
}

/// The window steady traffic is measured over (virtual time).
const STEADY: Duration = Duration::from_secs(600);

#[test]
#[ignore = "benchmark: prints figures (cargo test --release -p confab-engine --test lan_swarm figures -- --ignored --nocapture)"]
fn figures() {
    println!(
        "peers | all know all (lan) | datagrams/peer/min | bytes/peer/min | all logged in (registry) | writes to registry/peer/min | bytes to registry/peer/min"
    );
    for n in [10, 50, 200] {
        let r = figures_for(n);
        println!(
            "{n:>5} | {:>18.1?} | {:>18.2} | {:>14.0} | {:>24.1?} | {:>27.2} | {:>26.0}",
            r.lan_time,
            r.lan_datagrams,
            r.lan_bytes,
            r.registry_time,
            r.registry_writes,
            r.registry_bytes
        );
    }
}
