//! LAN runs (`--lan`, issue 20): peers with no registry for the whole run
//! (its host is never started), on broadcast segments, finding each other
//! by discovery and peer exchange only.
//!
//! The world, drawn from the seed:
//! - 1 to 3 **segments** (at most one per two peers), the peers split
//!   among them in order; a datagram a peer sends to the discovery group
//!   reaches every other host of its segment (the driver's [`Broadcast`]:
//!   one copy each, through the sender's datagram faults);
//! - each segment after the first is **joined** to the one before by its
//!   first peer, configured with `--join` to a peer of the segment before
//!   (drawn): its discovery asks that peer directly, they link and exchange
//!   what they know, and each relays it to its own segment; so the segment
//!   graph is always connected through peers. (A peer simply on two
//!   segments does not join them: the engine relays to its segment only
//!   what it learned over a link, never what it heard by multicast, so the
//!   other segment's entries expire behind it; tried, it fails liveness.)
//! - per host **datagram faults**: loss 0-20 %, duplication 0-10 %, delay
//!   up to 0-100 ms (which reorders);
//! - in about half the seeds, one peer **crashes** between 4 and 10 s
//!   and restarts 0.5 to 4 s later (its store kept, as a data folder);
//! - in about half the seeds (`--attacker on|off` decides), the
//!   [`LanForger`] on segment 0, forging, stripping and replaying
//!   announcements.
//!
//! Every [`WHO_EVERY`] each peer is asked `/who`; the checkers
//! ([`crate::checkers::lan`]) judge what it lists: safety throughout, and
//! liveness once the [`bound`] has passed.

use std::net::SocketAddr;
use std::rc::Rc;
use std::time::{Duration, UNIX_EPOCH};

use confab_engine::bounded::Text;
use confab_engine::peer::{DiscoveryConfig, PeerCommand};
use confab_engine::secure::StaticSecret;
use confab_engine::wire::Name;
use confab_engine::wire::registry::Password;
use confab_engine::{Peer, PeerConfig, Registry};

use crate::attacker::lan::LanForger;
use crate::checkers::lan::{LanLiveness, LanSafety};
use crate::checkers::{Checker, Checkers, View, Violation};
use crate::draw::{self, Rng};
use crate::driver::{self, Broadcast, DatagramFaults, DriverCommand, HostState};
use crate::observe::{Journal, Observed, peer_names};
use crate::run::config::SimConfig;
use crate::run::config::timing;
use crate::run::keys::Keys;
use crate::run::stats::Stats;
use crate::trace::Trace;

/// How often a peer announces itself in LAN runs (± 25 %): short, so a
/// run holds many intervals.
pub const INTERVAL: Duration = Duration::from_secs(2);
/// How long an entry not heard of is kept: three intervals and a bit, the
/// default's ratio.
pub const EXPIRY: Duration = Duration::from_millis(6_500);
/// How often each peer is asked `/who` for the checkers.
pub const WHO_EVERY: Duration = Duration::from_secs(2);
/// Mixed into the seed for the forger's key and draws.
const FORGER_STREAM: u64 = 0x6c61_6e66_6f72_0001;

/// The liveness bound: every peer knows every other this long after the
/// start. Fifteen announce intervals: a segment's peers hear each other at
/// their first announcement (a query at start is answered at once); each
/// hop to the next segment waits for a tick at both ends (relays go out on
/// the announce tick, a `--join` is asked again on it), at most two hops;
/// and with 20 % loss on each copy a few ticks are lost on the way.
pub fn bound() -> Duration {
    INTERVAL * 15
}

/// The world of one LAN run. See the module documentation.
struct LanWorld {
    sim: turmoil::Sim<'static>,
    journal: Rc<Journal>,
    /// Never started: the registry is down for the whole run.
    registry: Rc<HostState<Registry>>,
    peers: Vec<Rc<HostState<Peer>>>,
    /// Each peer's (name, fingerprint).
    real: Vec<(String, String)>,
    /// The forger's fingerprint, if the run has one.
    attacker: Option<String>,
    next_who: Vec<Duration>,
    /// The peer that crashes, when, and when it restarts.
    crash: Option<(usize, Duration, Duration)>,
    crashed: bool,
    tick: Duration,
    describe: String,
}

impl LanWorld {
    fn build(seed: u64, config: &SimConfig) -> Self {
        let mut rng = Rng::new(seed);
        let turmoil_seed = rng.next_u64();
        let max_latency = Duration::from_millis(draw::between(&mut rng, 2, 30));
        let mut sim = turmoil::Builder::new()
            .rng_seed(turmoil_seed)
            .tick_duration(config.tick)
            .simulation_duration(config.duration + config.heal + Duration::from_secs(3600))
            .min_message_latency(Duration::from_millis(1))
            .max_message_latency(max_latency)
            .fail_rate(0.0)
            .repair_rate(0.0)
            .enable_random_order()
            .epoch(UNIX_EPOCH + Duration::from_secs(1_700_000_000))
            .build();
        let journal = Rc::new(Journal::default());
        let registry = HostState::new(
            0,
            "registry".into(),
            None,
            0,
            journal.clone(),
            Rc::new(|_, _, _| -> Registry { unreachable!("no registry in a LAN run") }),
        );
        // A registry address nobody dials (`without_registry`).
        let registry_addr = SocketAddr::from(([192, 0, 2, 1], timing::REGISTRY_PORT));
        let group = DiscoveryConfig::default().group;

        let n = config.peers.max(2);
        let names = peer_names(n);
        let keys = Keys::draw(seed, n);
        let addrs: Vec<SocketAddr> = names
            .iter()
            .map(|nm| SocketAddr::new(sim.lookup(nm.as_str()), timing::PEER_PORT))
            .collect();

        // Segments: contiguous blocks; segment k > 0 joined to k - 1.
        let count = 1 + rng.below((n as u64 / 2).clamp(1, 3)) as usize;
        let seg: Vec<usize> = (0..n).map(|i| i * count / n).collect();
        let mut joins: Vec<Vec<SocketAddr>> = vec![Vec::new(); n];
        let mut links = Vec::new();
        for k in 1..count {
            let p = seg
                .iter()
                .position(|&s| s == k)
                .expect("no segment is empty");
            let before: Vec<usize> = (0..n).filter(|&j| seg[j] == k - 1).collect();
            let to = before[rng.below(before.len() as u64) as usize];
            joins[p].push(addrs[to]);
            links.push(format!("{} joins {}", names[p], names[to]));
        }
        let attack = config
            .attacker
            .unwrap_or_else(|| draw::chance(&mut rng, 0.5));
        let attacker_addr = SocketAddr::new(sim.lookup("attacker"), timing::PEER_PORT);

        let mut peers = Vec::new();
        let mut real = Vec::new();
        let mut faults_described = Vec::new();
        for (i, name) in names.iter().enumerate() {
            let mut c = PeerConfig::new(
                Name::new(name).expect("peer-NNN is a valid name"),
                Password(Text::truncate(&format!("pw-{name}"))),
                registry_addr,
                addrs[i],
            );
            c.secure = keys.peer(i);
            c.discovery = Some(DiscoveryConfig {
                group,
                interval: INTERVAL,
                expiry: EXPIRY,
            });
            c.without_registry = true;
            c.join = joins[i].clone();
            #[cfg(feature = "planted-bugs")]
            if let Some(bug) = config.plant {
                c.planted = bug.into();
            }
            let fp = c
                .secure
                .static_key
                .as_ref()
                .expect("drawn keys")
                .public()
                .fingerprint()
                .to_string();
            real.push((name.clone(), fp));
            let host = HostState::new(
                i + 1,
                name.clone(),
                Some(timing::PEER_PORT),
                rng.next_u64(),
                journal.clone(),
                Rc::new(move |records, now, seed| {
                    let mut c = c.clone();
                    c.unix_ms_at_start = crate::clock::unix_ms();
                    Peer::new(c, records, now, seed)
                }),
            );
            let mut members: Vec<SocketAddr> = (0..n)
                .filter(|&j| j != i && seg[j] == seg[i])
                .map(|j| addrs[j])
                .collect();
            if attack && seg[i] == 0 {
                members.push(attacker_addr);
            }
            host.set_broadcast(Broadcast {
                group: Some(group),
                members,
            });
            let faults = DatagramFaults {
                loss_pct: rng.below(21),
                dup_pct: rng.below(11),
                max_delay: Duration::from_millis(rng.below(101)),
            };
            faults_described.push(format!(
                "{}/{}/{}",
                faults.loss_pct,
                faults.dup_pct,
                faults.max_delay.as_millis()
            ));
            host.set_datagram_faults(faults);
            let h = host.clone();
            sim.host(name.as_str(), move || driver::run(h.clone()));
            peers.push(host);
        }

        let attacker = attack.then(|| {
            let secret = StaticSecret::generate(&mut Rng::new(seed ^ FORGER_STREAM));
            let fp = LanForger::fingerprint(&secret);
            let host = HostState::new(
                n + 1,
                "attacker".into(),
                Some(timing::PEER_PORT),
                seed ^ FORGER_STREAM,
                journal.clone(),
                Rc::new(move |_records, now, seed| {
                    LanForger::new(secret.clone(), group, crate::clock::unix_ms(), now, seed)
                }),
            );
            host.set_broadcast(Broadcast {
                group: Some(group),
                members: (0..n).filter(|&j| seg[j] == 0).map(|j| addrs[j]).collect(),
            });
            sim.host("attacker", move || driver::run(host.clone()));
            fp
        });
        let crash = draw::chance(&mut rng, 0.5).then(|| {
            let who = rng.below(n as u64) as usize;
            let at = Duration::from_millis(draw::between(&mut rng, 4_000, 10_000));
            let down = Duration::from_millis(draw::between(&mut rng, 500, 4_000));
            (who, at, at + down)
        });
        let describe = format!(
            "lan: {count} segment(s) of {n} peers ({}); latency 1-{} ms; datagram loss/dup/delay-ms per peer: {}; crash: {}; attacker: {}",
            if links.is_empty() {
                "one segment".into()
            } else {
                links.join(", ")
            },
            max_latency.as_millis(),
            faults_described.join(" "),
            crash.map_or("none".into(), |(who, at, up)| format!(
                "{} at {} ms for {} ms",
                names[who],
                at.as_millis(),
                (up - at).as_millis()
            )),
            if attack {
                "forger on segment 0"
            } else {
                "none"
            },
        );
        let next_who = (0..n)
            .map(|i| WHO_EVERY + Duration::from_millis(i as u64 * 37 % 1000))
            .collect();
        Self {
            sim,
            journal,
            registry,
            peers,
            real,
            attacker,
            next_who,
            crash,
            crashed: false,
            tick: config.tick,
            describe,
        }
    }

    /// Crashes and restarts the drawn peer; asks each peer `/who` when its
    /// turn comes.
    fn act(&mut self, now: Duration) {
        if let Some((who, at, up)) = self.crash {
            let host = &self.peers[who];
            if !self.crashed && now >= at {
                self.crashed = true;
                self.sim.crash(host.name.as_str());
                host.crashed();
                self.journal
                    .push_at(now, host.ix, Observed::Crashed { silent: false });
            } else if self.crashed && now >= up {
                self.crash = None;
                self.sim.bounce(host.name.as_str());
            }
        }
        for (i, p) in self.peers.iter().enumerate() {
            if now >= self.next_who[i] {
                self.next_who[i] += WHO_EVERY;
                if p.is_up() {
                    p.command(DriverCommand::Engine(PeerCommand::Who));
                }
            }
        }
    }

    fn view(&self) -> View<'_> {
        View {
            now: self.sim.elapsed(),
            registry: &self.registry,
            peers: &self.peers,
            clients: &[],
            heartbeat_timeout: timing::HEARTBEAT_TIMEOUT,
            slack: self.tick + Duration::from_millis(2),
            registry_addr: SocketAddr::from(([192, 0, 2, 1], timing::REGISTRY_PORT)),
        }
    }
}

/// Runs one LAN run (see `run::run`, which catches its panics).
pub(crate) fn run_inner(
    seed: u64,
    config: &SimConfig,
    trace: &mut Trace,
    stats: &mut Stats,
    describe: &mut String,
    sim_time: &mut Duration,
) -> Result<(), Violation> {
    let mut world = LanWorld::build(seed, config);
    *describe = world.describe.clone();
    trace.line(format!("seed {seed} {describe}"));
    let safety: Box<dyn Checker> =
        Box::new(LanSafety::new(world.real.clone(), world.attacker.clone()));
    let liveness: Box<dyn Checker> = Box::new(LanLiveness::new(world.real.clone(), bound()));
    let mut checkers = Checkers::of(vec![safety, liveness]);
    let end = config.duration + config.heal;
    loop {
        let now = world.sim.elapsed();
        *sim_time = now;
        if now >= end {
            break;
        }
        world.act(now);
        if let Err(e) = world.sim.step() {
            return Err(Violation {
                checker: "host",
                at: world.sim.elapsed(),
                what: format!("a host's software failed: {e}"),
            });
        }
        let observed = world.journal.drain();
        let view = world.view();
        for obs in &observed {
            trace.record(obs);
            stats.count(obs);
            checkers.observe(obs, &view)?;
        }
        checkers.after_step(&view)?;
    }
    let view = world.view();
    checkers.at_end(&view)
}
