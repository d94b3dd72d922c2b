//! Applies a [`FaultPlan`] to a running turmoil simulation and undoes each
//! fault when its time is up; [`Injector::heal`] undoes all of them at once
//! and stops new ones. An attack (when the plan has them) is a command to
//! the attacker's host to strike once; the heal retires it. A relay mangle
//! (see `relay_mangle.rs`) sets the registry engine's `RelayFault` for a
//! window; its undo, or the heal, clears it.
//!
//! Invariants: a link (pair of hosts that talk) carries at most one fault at
//! a time, because turmoil does not support holding a one-way-partitioned
//! link; every fault has exactly one pending undo (repair, release, restore
//! latency, restart), so after `heal` the network is exactly as configured
//! and every host is up.

use std::collections::BTreeMap;
use std::rc::Rc;
use std::time::Duration;

use turmoil::Sim;

use super::plan::{FaultKind, FaultPlan};
use crate::attacker::{AttackCommand, Attacker};
use crate::draw::{self, Rng};
use crate::driver::{DriverCommand, HostControl, HostState};
use crate::observe::{HostIx, Journal, Observed};
use confab_engine::Registry;

use super::relay_mangle::{RelayMangled, RelayMangler};

/// Mixed into the injector's seed for the attacks' own stream.
const ATTACK_STREAM: u64 = 0x6174_7461_636b_0005;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum LinkFault {
    Partition,
    OneWay { from: HostIx },
    Hold,
    Latency,
}

#[derive(Debug, Clone, Copy)]
enum Undo {
    Link(HostIx, HostIx),
    Restart(HostIx),
    /// The registry relays faithfully again.
    MendRelay,
}

/// See the module documentation.
pub struct Injector {
    plan: FaultPlan,
    rng: Rng,
    hosts: Vec<Rc<dyn HostControl>>,
    pairs: Vec<Vec<(HostIx, HostIx)>>,
    base_latency: (Duration, Duration),
    /// When the attacker strikes next, drawn apart from `rng` so that the
    /// other faults of a seed are the same with attacks as without.
    attack_rng: Rng,
    next_at: BTreeMap<FaultKind, Duration>,
    links: BTreeMap<(HostIx, HostIx), LinkFault>,
    undo: BTreeMap<(Duration, u64), Undo>,
    next_undo: u64,
    counts: BTreeMap<FaultKind, u64>,
    healed: bool,
    journal: Rc<Journal>,
    /// The attacker's host, in runs with [`FaultKind::Attack`] on.
    attacker: Option<Rc<HostState<Attacker>>>,
    /// The registry, whose relay a [`FaultKind::RelayMangle`] corrupts.
    registry: Option<Rc<HostState<Registry>>>,
    /// The relay fault's windows and what they did.
    relay: RelayMangler,
    /// How long a crashed registry stays down, when not the ordinary
    /// draw (hybrid runs: outages of several seconds).
    registry_down: Option<(Duration, Duration)>,
}

impl Injector {
    /// An injector over `hosts` (host 0 is the registry), whose links are
    /// `pairs` (`(a, b)` with `a < b`), in groups: a link fault picks a group
    /// with links free of faults, uniformly, then a link in it; with turmoil's
    /// latency range `base_latency`.
    pub fn new(
        plan: FaultPlan,
        seed: u64,
        hosts: Vec<Rc<dyn HostControl>>,
        pairs: Vec<Vec<(HostIx, HostIx)>>,
        base_latency: (Duration, Duration),
        journal: Rc<Journal>,
    ) -> Self {
        let mut rng = Rng::new(seed);
        let mut attack_rng = Rng::new(seed ^ ATTACK_STREAM);
        let mut relay = RelayMangler::new(seed);
        let next_at = FaultKind::ALL
            .iter()
            .filter_map(|&k| {
                let rng = match k {
                    FaultKind::Attack => &mut attack_rng,
                    FaultKind::RelayMangle => relay.rng(),
                    _ => &mut rng,
                };
                Some((k, draw::exponential(rng, plan.interval(k)?)))
            })
            .collect();
        Self {
            plan,
            rng,
            attack_rng,
            hosts,
            pairs,
            base_latency,
            next_at,
            links: BTreeMap::new(),
            undo: BTreeMap::new(),
            next_undo: 0,
            counts: BTreeMap::new(),
            healed: false,
            journal,
            attacker: None,
            registry: None,
            relay,
            registry_down: None,
        }
    }

    /// Crashes the registry first at `first` (if the plan has registry
    /// crashes) and keeps it down between `down.0` and `down.1` each time
    /// (see `crate::hybrid`).
    pub fn with_registry_outages(mut self, first: Duration, down: (Duration, Duration)) -> Self {
        if self.plan.interval(FaultKind::CrashRegistry).is_some() {
            self.next_at.insert(FaultKind::CrashRegistry, first);
        }
        self.registry_down = Some(down);
        self
    }

    /// Corrupts `registry`'s relay when [`FaultKind::RelayMangle`] is due.
    pub fn with_registry(mut self, registry: Rc<HostState<Registry>>) -> Self {
        self.registry = Some(registry);
        self
    }

    /// What the relay fault did: see [`RelayMangled`].
    pub fn relay_mangled(&self) -> RelayMangled {
        self.relay.done()
    }

    /// Strikes with `attacker` when [`FaultKind::Attack`] is due, and
    /// retires it at the heal.
    pub fn with_attacker(mut self, attacker: Option<Rc<HostState<Attacker>>>) -> Self {
        self.attacker = attacker;
        self
    }

    /// How many faults of each kind were injected.
    pub fn counts(&self) -> &BTreeMap<FaultKind, u64> {
        &self.counts
    }

    /// Undoes the faults whose time is up, then injects those that are due.
    pub fn tick(&mut self, sim: &mut Sim<'_>, now: Duration) {
        while let Some((&(at, seq), _)) = self.undo.first_key_value() {
            if at > now {
                break;
            }
            if let Some(u) = self.undo.remove(&(at, seq)) {
                self.apply_undo(sim, now, u);
            }
        }
        if self.healed {
            return;
        }
        let due: Vec<FaultKind> = self
            .next_at
            .iter()
            .filter(|(_, at)| **at <= now)
            .map(|(k, _)| *k)
            .collect();
        for kind in due {
            if let Some(mean) = self.plan.interval(kind) {
                let rng = match kind {
                    FaultKind::Attack => &mut self.attack_rng,
                    FaultKind::RelayMangle => self.relay.rng(),
                    _ => &mut self.rng,
                };
                let wait = draw::exponential(rng, mean);
                self.next_at.insert(kind, now + wait);
            }
            if self.inject(sim, now, kind) {
                *self.counts.entry(kind).or_default() += 1;
            }
        }
    }

    /// Stops new faults and undoes every fault now: links repaired, released
    /// and restored, crashed hosts restarted.
    pub fn heal(&mut self, sim: &mut Sim<'_>, now: Duration) {
        self.healed = true;
        if let Some(a) = &self.attacker {
            a.command(DriverCommand::Engine(AttackCommand::Retire));
        }
        for (_, u) in std::mem::take(&mut self.undo) {
            self.apply_undo(sim, now, u);
        }
    }

    fn schedule(&mut self, at: Duration, u: Undo) {
        self.next_undo += 1;
        self.undo.insert((at, self.next_undo), u);
    }

    fn note(&self, now: Duration, host: HostIx, what: String) {
        self.journal.push_at(now, host, Observed::Fault { what });
    }

    fn name(&self, h: HostIx) -> &str {
        self.hosts[h].name()
    }

    fn inject(&mut self, sim: &mut Sim<'_>, now: Duration, kind: FaultKind) -> bool {
        match kind {
            FaultKind::Partition | FaultKind::OneWay | FaultKind::Hold | FaultKind::Latency => {
                self.link_fault(sim, now, kind)
            }
            FaultKind::Reset => self.reset(now),
            FaultKind::CrashClient => {
                let up: Vec<HostIx> = (1..self.hosts.len())
                    .filter(|&h| self.hosts[h].is_up())
                    .collect();
                if up.is_empty() {
                    return false;
                }
                let h = up[self.rng.below(up.len() as u64) as usize];
                self.crash(sim, now, h)
            }
            FaultKind::CrashRegistry => {
                let first = !self.counts.contains_key(&FaultKind::CrashRegistry);
                if self.registry_down.is_some() && !first && draw::chance(&mut self.rng, 0.5) {
                    self.partition_away(sim, now)
                } else {
                    self.hosts[0].is_up() && self.crash(sim, now, 0)
                }
            }
            FaultKind::RelayMangle => {
                let Some(registry) = &self.registry else {
                    return false;
                };
                let Some((what, lasts)) = self.relay.start(registry) else {
                    return false;
                };
                self.note(now, 0, format!("{what} for {} ms", lasts.as_millis()));
                self.schedule(now + lasts, Undo::MendRelay);
                true
            }
            FaultKind::Attack => match &self.attacker {
                Some(a) if a.is_up() => {
                    a.command(DriverCommand::Engine(AttackCommand::Strike));
                    true
                }
                _ => false,
            },
        }
    }

    fn link_fault(&mut self, sim: &mut Sim<'_>, now: Duration, kind: FaultKind) -> bool {
        let groups: Vec<Vec<(HostIx, HostIx)>> = self
            .pairs
            .iter()
            .map(|g| {
                g.iter()
                    .copied()
                    .filter(|p| !self.links.contains_key(p))
                    .collect::<Vec<_>>()
            })
            .filter(|g| !g.is_empty())
            .collect();
        if groups.is_empty() {
            return false;
        }
        let free = &groups[self.rng.below(groups.len() as u64) as usize];
        let (a, b) = free[self.rng.below(free.len() as u64) as usize];
        let (na, nb) = (self.name(a).to_owned(), self.name(b).to_owned());
        let secs = Duration::from_secs;
        if matches!(kind, FaultKind::Partition | FaultKind::OneWay) {
            self.cut(sim, now, a, b);
        }
        let (fault, lasts, what) = match kind {
            FaultKind::Partition => {
                sim.partition(na.as_str(), nb.as_str());
                let lasts = draw::log_uniform(&mut self.rng, secs(1) / 2, secs(20));
                (LinkFault::Partition, lasts, format!("partition {na} {nb}"))
            }
            FaultKind::OneWay => {
                let (from, nf, nt) = if draw::chance(&mut self.rng, 0.5) {
                    (a, &na, &nb)
                } else {
                    (b, &nb, &na)
                };
                sim.partition_oneway(nf.as_str(), nt.as_str());
                let lasts = draw::log_uniform(&mut self.rng, secs(1) / 2, secs(20));
                (
                    LinkFault::OneWay { from },
                    lasts,
                    format!("one-way {nf} -> {nt}"),
                )
            }
            FaultKind::Hold => {
                sim.hold(na.as_str(), nb.as_str());
                let lasts = draw::log_uniform(&mut self.rng, secs(1) / 5, secs(8));
                (LinkFault::Hold, lasts, format!("hold {na} {nb}"))
            }
            _ => {
                let spike = draw::log_uniform(&mut self.rng, Duration::from_millis(50), secs(2));
                sim.set_link_latency(na.as_str(), nb.as_str(), spike);
                let lasts = draw::log_uniform(&mut self.rng, secs(1), secs(10));
                let ms = spike.as_millis();
                (
                    LinkFault::Latency,
                    lasts,
                    format!("latency {na} {nb} {ms} ms"),
                )
            }
        };
        self.note(now, a, format!("{what} for {} ms", lasts.as_millis()));
        self.links.insert((a, b), fault);
        self.schedule(now + lasts, Undo::Link(a, b));
        true
    }

    /// Hybrid runs' other outage: the registry, still running, is cut off
    /// from every host whose link to it has no fault, for as long as a
    /// crash would keep it down. Nothing is reset at the start (peers
    /// learn of it by their reply timeouts, the registry by its heartbeat
    /// timeout); each link's undo is a partition's (reset what is left,
    /// repair), so it comes back link by link, in one tick.
    fn partition_away(&mut self, sim: &mut Sim<'_>, now: Duration) -> bool {
        let Some((lo, hi)) = self.registry_down else {
            return false;
        };
        let down = draw::log_uniform(&mut self.rng, lo, hi);
        let partners: Vec<HostIx> = self
            .pairs
            .iter()
            .flatten()
            .filter(|&&(a, b)| a == 0 && !self.links.contains_key(&(a, b)))
            .map(|&(_, b)| b)
            .collect();
        if partners.is_empty() {
            return false;
        }
        let registry = self.name(0).to_owned();
        for &p in &partners {
            sim.partition(registry.as_str(), self.name(p));
            self.links.insert((0, p), LinkFault::Partition);
            self.schedule(now + down, Undo::Link(0, p));
        }
        self.note(
            now,
            0,
            format!(
                "partition-away {registry} from {} hosts for {} ms",
                partners.len(),
                down.as_millis()
            ),
        );
        true
    }

    /// Resets every connection between `a` and `b`, on both sides. A
    /// partition begins and ends with this: turmoil drops segments for good
    /// (no retransmission), which would leave the streams across it stalled
    /// forever where real TCP would resume them or, after a long outage,
    /// break them. Breaking them is the fault the engines must survive.
    fn cut(&mut self, sim: &mut Sim<'_>, now: Duration, a: HostIx, b: HostIx) {
        for (h, other) in [(a, b), (b, a)] {
            let ip = sim.lookup(self.name(other));
            for conn in self.hosts[h].conns_with(ip) {
                self.note(now, h, format!("reset {conn} (partition)"));
                self.hosts[h].reset(conn);
            }
        }
    }

    fn reset(&mut self, now: Duration) -> bool {
        let candidates: Vec<(HostIx, confab_engine::ConnId)> = self
            .hosts
            .iter()
            .enumerate()
            .flat_map(|(h, host)| host.open_conns().into_iter().map(move |c| (h, c)))
            .collect();
        if candidates.is_empty() {
            return false;
        }
        let (h, conn) = candidates[self.rng.below(candidates.len() as u64) as usize];
        self.note(now, h, format!("reset {conn}"));
        self.hosts[h].reset(conn);
        true
    }

    /// Crashes `h`. If none of its links has a fault, the crash is silent half
    /// the time: its FINs are lost, so the other side only learns of it by
    /// timeouts.
    fn crash(&mut self, sim: &mut Sim<'_>, now: Duration, h: HostIx) -> bool {
        let partners: Vec<HostIx> = self
            .pairs
            .iter()
            .flatten()
            .filter_map(|&(a, b)| {
                if a == h {
                    Some(b)
                } else if b == h {
                    Some(a)
                } else {
                    None
                }
            })
            .collect();
        let quiet_links = partners
            .iter()
            .all(|&p| !self.links.contains_key(&(h.min(p), h.max(p))));
        let silent = quiet_links && draw::chance(&mut self.rng, 0.5);
        let name = self.name(h).to_owned();
        if silent {
            for &p in &partners {
                sim.partition(name.as_str(), self.name(p));
            }
        }
        sim.crash(name.as_str());
        if silent {
            for &p in &partners {
                sim.repair(name.as_str(), self.name(p));
            }
        }
        self.hosts[h].crashed();
        self.journal.push_at(now, h, Observed::Crashed { silent });
        let (lo, hi) = match self.registry_down {
            Some(range) if h == 0 => range,
            _ => (Duration::from_millis(300), Duration::from_secs(15)),
        };
        let down = draw::log_uniform(&mut self.rng, lo, hi);
        self.note(now, h, format!("crash {name} for {} ms", down.as_millis()));
        self.schedule(now + down, Undo::Restart(h));
        true
    }

    fn apply_undo(&mut self, sim: &mut Sim<'_>, now: Duration, u: Undo) {
        match u {
            Undo::Link(a, b) => {
                let Some(fault) = self.links.remove(&(a, b)) else {
                    return;
                };
                let (na, nb) = (self.name(a).to_owned(), self.name(b).to_owned());
                match fault {
                    LinkFault::Partition => {
                        self.cut(sim, now, a, b);
                        sim.repair(na.as_str(), nb.as_str());
                    }
                    LinkFault::OneWay { from } => {
                        // turmoil completes a connect across a one-way
                        // partition (real TCP would not: no SYN-ACK), leaving
                        // a stream with a dead direction: break those too.
                        self.cut(sim, now, a, b);
                        let to = if from == a { &nb } else { &na };
                        sim.repair_oneway(self.name(from), to.as_str());
                    }
                    LinkFault::Hold => sim.release(na.as_str(), nb.as_str()),
                    LinkFault::Latency => {
                        sim.set_link_latency(na.as_str(), nb.as_str(), self.base_latency.0);
                        sim.set_link_max_message_latency(
                            na.as_str(),
                            nb.as_str(),
                            self.base_latency.1,
                        );
                    }
                }
                self.note(now, a, format!("undo {fault:?} {na} {nb}"));
            }
            Undo::MendRelay => {
                if let Some(registry) = &self.registry {
                    let what = self.relay.end(registry);
                    self.note(now, 0, what);
                }
            }
            Undo::Restart(h) => {
                let name = self.name(h).to_owned();
                sim.bounce(name.as_str());
                self.note(now, h, format!("restart {name}"));
            }
        }
    }
}
