//! LAN runs (`--lan`, issue 20) as a configuration of the one world
//! ([`crate::run::world`]): no registry for the whole run (its host is
//! never started and no peer dials it), peers on broadcast segments
//! finding each other by discovery and peer exchange only, and the
//! ordinary workload (chats with consent, groups, file offers and
//! fetches, calls) running on what they found, judged by the ordinary
//! checkers (less those about the registry) and the LAN ones.
//!
//! What this adds to the world, drawn from a stream of its own (the seed
//! mixed with [`LAN_STREAM`]):
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
//! - per host **datagram faults** (announcements and call media alike):
//!   loss 0-20 %, duplication 0-10 %, delay up to 0-100 ms (which reorders);
//! - in about half the seeds, one peer **crashes** between 4 and 10 s
//!   and restarts 0.5 to 4 s later (its store kept, as a data folder), on
//!   top of the workload's own quits and restarts;
//! - in about half the seeds (`--attacker on|off` decides), the
//!   [`LanForger`] on segment 0, forging, stripping and replaying
//!   announcements (the ordinary attacker needs a registry account: a LAN
//!   run has none).
//!
//! The workload runs from the start, not after discovery settles: a peer
//! asked to chat with a name it has not heard of yet is refused or its
//! request expires, as a user typing early would see, and the checkers
//! allow both; what is accepted must then be delivered once, in order.
//!
//! The fault injector runs too, on links between peers (partitions,
//! one-way cuts, holds, latency spikes, resets) and peer crashes, as
//! `--faults` draws them; it has no registry to crash.
//!
//! Every [`WHO_EVERY`] each peer is asked `/who`; the checkers
//! ([`crate::checkers::lan`]) judge what it lists: safety throughout, and
//! liveness [`bound`] after each pair of peers is up (and, in runs whose
//! injector cuts links, after the heal).

use std::net::SocketAddr;
use std::rc::Rc;
use std::time::Duration;

use confab_engine::peer::{DiscoveryConfig, PeerCommand};
use confab_engine::secure::StaticSecret;
use confab_engine::{Peer, PeerConfig};

use crate::attacker::lan::LanForger;
use crate::checkers::Checker;
use crate::checkers::fallback::Fallback;
use crate::checkers::lan::{LanLiveness, LanSafety};
use crate::draw::{self, Rng};
use crate::driver::{self, Broadcast, DatagramFaults, DriverCommand, HostState};
use crate::observe::{Journal, Observed};
use crate::run::config::timing;

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
/// Mixed into the seed for the LAN's own draws (segments, joins, datagram
/// faults, the crash, the forger).
const LAN_STREAM: u64 = 0x6c61_6e77_6f72_0002;

/// The liveness bound: every peer knows every other this long after both
/// are up. Fifteen announce intervals: a segment's peers hear each other at
/// their first announcement (a query at start is answered at once); each
/// hop to the next segment waits for a tick at both ends (relays go out on
/// the announce tick, a `--join` is asked again on it), at most two hops;
/// and with 20 % loss on each copy a few ticks are lost on the way.
pub fn bound() -> Duration {
    INTERVAL * 15
}

/// A registry address nobody dials (every peer is `without_registry`).
pub fn registry_addr() -> SocketAddr {
    SocketAddr::from(([192, 0, 2, 1], timing::REGISTRY_PORT))
}

/// The LAN part of one run's world. See the module documentation.
pub struct Lan {
    group: SocketAddr,
    /// Each peer's segment.
    seg: Vec<usize>,
    segments: usize,
    /// (joiner, joined): peer indices.
    joins: Vec<(usize, usize)>,
    faults: Vec<DatagramFaults>,
    /// The peer that crashes, when, and when it restarts.
    crash: Option<(usize, Duration, Duration)>,
    crashed: bool,
    attack: bool,
    /// The forger's fingerprint, once it is added.
    attacker: Option<String>,
    /// Each peer's (name, fingerprint).
    real: Vec<(String, String)>,
    next_who: Vec<Duration>,
    /// Until when the injector may cut links between peers.
    link_faults_until: Duration,
    /// A hybrid run (`crate::hybrid`): peers keep their registry, and
    /// `/who` lists come only while it is away.
    registry: bool,
}

impl Lan {
    /// Draws the LAN of `seed` for `n` peers; `attacker` forces the forger
    /// on or off.
    pub fn draw(seed: u64, n: usize, attacker: Option<bool>) -> Self {
        let mut rng = Rng::new(seed ^ LAN_STREAM);
        let segments = 1 + rng.below((n as u64 / 2).clamp(1, 3)) as usize;
        let seg: Vec<usize> = (0..n).map(|i| i * segments / n).collect();
        let mut joins = Vec::new();
        for k in 1..segments {
            let p = seg
                .iter()
                .position(|&s| s == k)
                .expect("no segment is empty");
            let before: Vec<usize> = (0..n).filter(|&j| seg[j] == k - 1).collect();
            joins.push((p, before[rng.below(before.len() as u64) as usize]));
        }
        let attack = attacker.unwrap_or_else(|| draw::chance(&mut rng, 0.5));
        let faults = (0..n)
            .map(|_| DatagramFaults {
                loss_pct: rng.below(21),
                dup_pct: rng.below(11),
                max_delay: Duration::from_millis(rng.below(101)),
            })
            .collect();
        let crash = draw::chance(&mut rng, 0.5).then(|| {
            let who = rng.below(n as u64) as usize;
            let at = Duration::from_millis(draw::between(&mut rng, 4_000, 10_000));
            let down = Duration::from_millis(draw::between(&mut rng, 500, 4_000));
            (who, at, at + down)
        });
        Self {
            group: DiscoveryConfig::default().group,
            seg,
            segments,
            joins,
            faults,
            crash,
            crashed: false,
            attack,
            attacker: None,
            real: Vec::new(),
            next_who: (0..n)
                .map(|i| WHO_EVERY + Duration::from_millis(i as u64 * 37 % 1000))
                .collect(),
            link_faults_until: Duration::ZERO,
            registry: false,
        }
    }

    /// The LAN of a hybrid run (`crate::hybrid`): peers keep their
    /// registry (and discovery on), no forger.
    pub fn with_registry(mut self) -> Self {
        self.registry = true;
        self.attack = false;
        self
    }

    /// The fault injector may partition or hold links between peers (and
    /// their datagrams) until `heal`: discovery's liveness is judged from
    /// then (a partition outlasting the bound is no engine's fault), its
    /// safety throughout.
    pub fn link_faults_until(&mut self, heal: Duration) {
        self.link_faults_until = heal;
    }

    /// Makes peer `i`'s configuration a LAN peer's: discovery on, no
    /// registry (unless hybrid), `--join` where it joins a segment to the one before.
    pub fn configure(&mut self, i: usize, c: &mut PeerConfig, addrs: &[SocketAddr]) {
        c.discovery = Some(DiscoveryConfig {
            group: self.group,
            interval: INTERVAL,
            expiry: EXPIRY,
        });
        c.without_registry = !self.registry;
        c.join = self
            .joins
            .iter()
            .filter(|(p, _)| *p == i)
            .map(|(_, to)| addrs[*to])
            .collect();
        let fp = c
            .secure
            .static_key
            .as_ref()
            .expect("drawn keys")
            .public()
            .fingerprint()
            .to_string();
        self.real.push((c.name.to_string(), fp));
    }

    /// Puts peer `i`'s host on its segment, with its datagram faults.
    pub fn install(
        &self,
        i: usize,
        host: &HostState<Peer>,
        addrs: &[SocketAddr],
        attacker: SocketAddr,
    ) {
        let mut members: Vec<SocketAddr> = (0..addrs.len())
            .filter(|&j| j != i && self.seg[j] == self.seg[i])
            .map(|j| addrs[j])
            .collect();
        if self.attack && self.seg[i] == 0 {
            members.push(attacker);
        }
        host.set_broadcast(Broadcast {
            group: Some(self.group),
            members,
        });
        host.set_datagram_faults(self.faults[i]);
    }

    /// Adds the forger (host `ix`, at `addr`) on segment 0, if the run has
    /// one.
    pub fn add_forger(
        &mut self,
        seed: u64,
        ix: usize,
        sim: &mut turmoil::Sim<'static>,
        journal: &Rc<Journal>,
        addrs: &[SocketAddr],
    ) {
        if !self.attack {
            return;
        }
        let secret = StaticSecret::generate(&mut Rng::new(seed ^ FORGER_STREAM));
        self.attacker = Some(LanForger::fingerprint(&secret));
        let group = self.group;
        let host = HostState::new(
            ix,
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
            members: (0..addrs.len())
                .filter(|&j| self.seg[j] == 0)
                .map(|j| addrs[j])
                .collect(),
        });
        sim.host("attacker", move || driver::run(host.clone()));
    }

    /// Crashes and restarts the drawn peer; asks each peer `/who` when its
    /// turn comes.
    pub fn act(
        &mut self,
        now: Duration,
        sim: &mut turmoil::Sim<'static>,
        peers: &[Rc<HostState<Peer>>],
        journal: &Journal,
    ) {
        if let Some((who, at, up)) = self.crash {
            let host = &peers[who];
            if !self.crashed && now >= at {
                self.crashed = true;
                if host.is_up() {
                    sim.crash(host.name.as_str());
                    host.crashed();
                    journal.push_at(now, host.ix, Observed::Crashed { silent: false });
                } else {
                    // Already down (the workload restarting it): nothing to crash.
                    self.crash = None;
                }
            } else if self.crashed && now >= up {
                self.crash = None;
                // Unless the workload or the injector restarted it already.
                if !host.is_up() {
                    sim.bounce(host.name.as_str());
                }
            }
        }
        for (i, p) in peers.iter().enumerate() {
            if now >= self.next_who[i] {
                self.next_who[i] += WHO_EVERY;
                if p.is_up() {
                    p.command(DriverCommand::Engine(PeerCommand::Who));
                }
            }
        }
    }

    /// The LAN checkers: safety and liveness of what peers list, and in
    /// hybrid runs the fallback of look-ups to the LAN.
    pub fn checkers(&self) -> Vec<Box<dyn Checker>> {
        let mut list: Vec<Box<dyn Checker>> = vec![
            Box::new(LanSafety::new(self.real.clone(), self.attacker.clone())),
            Box::new(
                LanLiveness::new(
                    self.real.clone(),
                    bound(),
                    WHO_EVERY,
                    self.link_faults_until,
                )
                .owing_lists(!self.registry),
            ),
        ];
        if self.registry {
            list.push(Box::new(Fallback::new(self.real.len())));
        }
        list
    }

    /// The LAN's draws in one line, for the report.
    pub fn describe(&self) -> String {
        let name = |i: usize| self.real.get(i).map_or("?", |r| r.0.as_str());
        let links: Vec<String> = self
            .joins
            .iter()
            .map(|&(p, to)| format!("{} joins {}", name(p), name(to)))
            .collect();
        let faults: Vec<String> = self
            .faults
            .iter()
            .map(|f| format!("{}/{}/{}", f.loss_pct, f.dup_pct, f.max_delay.as_millis()))
            .collect();
        format!(
            "lan: {} segment(s) of {} peers ({}); datagram loss/dup/delay-ms per peer: {}; \
             crash: {}; attacker: {}",
            self.segments,
            self.seg.len(),
            if links.is_empty() {
                "one segment".into()
            } else {
                links.join(", ")
            },
            faults.join(" "),
            self.crash.map_or("none".into(), |(who, at, up)| format!(
                "{} at {} ms for {} ms",
                name(who),
                at.as_millis(),
                (up - at).as_millis()
            )),
            if self.attack {
                "forger on segment 0"
            } else {
                "none"
            },
        )
    }
}
