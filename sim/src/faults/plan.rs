//! The fault plan: which kinds of fault a seed injects and how often
//! ([`FaultLevel`] from the command line, [`FaultPlan`] drawn from the seed).
//! Pure data and draws; the [`Injector`](super::Injector) applies it.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use crate::draw::{self, Rng};

/// Mixed into the relay fault's own stream of draws.
const RELAY_PLAN_STREAM: u64 = 0x7265_6c61_795f_0019;

/// Every kind of fault.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum FaultKind {
    /// Two hosts cannot reach each other (both ways) for a while.
    Partition,
    /// One host's segments to another are dropped; the other way works.
    OneWay,
    /// Segments between two hosts are held, then all released at once.
    Hold,
    /// The latency of a link jumps for a while.
    Latency,
    /// One connection is dropped abruptly by one side.
    Reset,
    /// A peer or scripted client crashes (and its goodbye may be lost),
    /// restarting later from its store.
    CrashClient,
    /// The registry crashes, restarting later from its store.
    CrashRegistry,
    /// The attacker strikes: one connection that replays, sends garbage,
    /// stalls a handshake, or claims another peer's name (see
    /// `crate::attacker`). Its host exists only in runs with this on.
    Attack,
    /// The registry mangles the data it relays for a while: alters, drops,
    /// duplicates or reorders every few pieces (the engine's `RelayFault`).
    /// Drawn from a stream of its own, so the other kinds of a seed are
    /// what they were before it existed.
    RelayMangle,
}

impl FaultKind {
    /// All kinds, in report order.
    pub const ALL: [FaultKind; 9] = [
        FaultKind::Partition,
        FaultKind::OneWay,
        FaultKind::Hold,
        FaultKind::Latency,
        FaultKind::Reset,
        FaultKind::CrashClient,
        FaultKind::CrashRegistry,
        FaultKind::Attack,
        FaultKind::RelayMangle,
    ];

    /// A short name for reports.
    pub fn label(self) -> &'static str {
        match self {
            FaultKind::Partition => "partition",
            FaultKind::OneWay => "one-way",
            FaultKind::Hold => "hold",
            FaultKind::Latency => "latency",
            FaultKind::Reset => "reset",
            FaultKind::CrashClient => "crash-peer",
            FaultKind::CrashRegistry => "crash-registry",
            FaultKind::Attack => "attack",
            FaultKind::RelayMangle => "relay-mangle",
        }
    }

    fn per_client(self) -> bool {
        !matches!(
            self,
            FaultKind::CrashRegistry | FaultKind::Attack | FaultKind::RelayMangle
        )
    }

    /// Mean seconds between faults of this kind: `(light, heavy)`, and the
    /// range a swarm draws from.
    fn means(self) -> ((u64, u64), (u64, u64)) {
        match self {
            FaultKind::CrashRegistry => ((60, 15), (8, 60)),
            FaultKind::Attack => ((10, 2), (1, 15)),
            FaultKind::RelayMangle => ((30, 8), (4, 40)),
            _ => ((20, 3), (2, 30)),
        }
    }
}

/// How faulty a run is (`--faults`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum FaultLevel {
    /// No faults at all.
    None,
    /// Every kind, rarely.
    Light,
    /// Every kind, often.
    Heavy,
    /// Each kind switched on with this probability, at a rate drawn per seed.
    Swarm(f64),
}

impl Default for FaultLevel {
    fn default() -> Self {
        FaultLevel::Swarm(0.5)
    }
}

impl fmt::Display for FaultLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FaultLevel::None => f.write_str("none"),
            FaultLevel::Light => f.write_str("light"),
            FaultLevel::Heavy => f.write_str("heavy"),
            FaultLevel::Swarm(p) => write!(f, "{p}"),
        }
    }
}

impl FromStr for FaultLevel {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "none" => Ok(FaultLevel::None),
            "light" => Ok(FaultLevel::Light),
            "heavy" => Ok(FaultLevel::Heavy),
            "swarm" => Ok(FaultLevel::default()),
            p => match p.parse::<f64>() {
                Ok(p) if (0.0..=1.0).contains(&p) => Ok(FaultLevel::Swarm(p)),
                _ => Err(format!(
                    "{s:?} is not a fault level: use none, light, heavy, swarm, \
                     or a probability between 0 and 1 that each kind of fault is on"
                )),
            },
        }
    }
}

/// The per-seed fault rates: for each kind, the mean time between faults of
/// that kind (`None`: off).
#[derive(Debug, Clone)]
pub struct FaultPlan {
    intervals: Vec<(FaultKind, Option<Duration>)>,
}

impl FaultPlan {
    /// Draws a plan for `level` and `clients` clients. Attacks are drawn
    /// from `attack_rng`, so that the other kinds (and everything drawn
    /// from `rng` after them) are what they were before attacks existed.
    pub fn draw(level: FaultLevel, rng: &mut Rng, attack_rng: &mut Rng, clients: usize) -> Self {
        let scale = (clients as f64 / 10.0).max(1.0);
        // Forked without advancing `attack_rng`: see `FaultKind::RelayMangle`.
        let mut relay_rng = Rng::new(attack_rng.clone().next_u64() ^ RELAY_PLAN_STREAM);
        let intervals = FaultKind::ALL
            .iter()
            .map(|&kind| {
                let rng = match kind {
                    FaultKind::Attack => &mut *attack_rng,
                    FaultKind::RelayMangle => &mut relay_rng,
                    _ => &mut *rng,
                };
                let ((light, heavy), (lo, hi)) = kind.means();
                let secs = |s: u64| Duration::from_secs(s);
                let mean = match level {
                    FaultLevel::None => None,
                    FaultLevel::Light => Some(secs(light)),
                    FaultLevel::Heavy => Some(secs(heavy)),
                    FaultLevel::Swarm(p) => {
                        let on = draw::chance(rng, p);
                        let mean = draw::log_uniform(rng, secs(lo), secs(hi));
                        on.then_some(mean)
                    }
                };
                let mean = mean.map(|m| {
                    if kind.per_client() {
                        m.div_f64(scale)
                    } else {
                        m
                    }
                });
                (kind, mean)
            })
            .collect();
        Self { intervals }
    }

    /// Switches `kind` on (keeping a drawn mean, else `mean`) or off,
    /// whatever was drawn (`--attacker on|off`).
    pub fn force(&mut self, kind: FaultKind, on: bool, mean: Duration) {
        for (k, m) in &mut self.intervals {
            if *k == kind {
                *m = if on { Some(m.unwrap_or(mean)) } else { None };
            }
        }
    }

    /// The mean interval of `kind`, if it is on.
    pub fn interval(&self, kind: FaultKind) -> Option<Duration> {
        self.intervals
            .iter()
            .find(|(k, _)| *k == kind)
            .and_then(|(_, m)| *m)
    }

    /// The plan in one line, for the report.
    pub fn describe(&self) -> String {
        let on: Vec<String> = self
            .intervals
            .iter()
            .filter_map(|(k, m)| Some(format!("{}/{:.1}s", k.label(), (*m)?.as_secs_f64())))
            .collect();
        if on.is_empty() {
            "no faults".into()
        } else {
            on.join(" ")
        }
    }
}
