//! The checkers of LAN runs (`--lan`, issue 20), from what each peer lists
//! in its `/who` (the `Found` events the run asks for every few seconds):
//!
//! - [`LanSafety`]: no peer ever lists a name under a key that did not
//!   sign it: every (name, fingerprint) listed is a real peer's own, or the
//!   attacker's own key claiming a name (a claim it signed, which peers may
//!   list, never merged with the real holder);
//! - [`LanLiveness`]: when the segment graph is connected through peers
//!   (every LAN run is built so), every running peer lists every other
//!   running real peer under its own key by `bound` (see `lan::bound`)
//!   after both are up: checked on each list that comes later than that,
//!   and at the end every pair up together long enough must have been
//!   judged. A peer that (re)starts lists nobody yet and must learn everyone
//!   again; a peer that crashed, quit or is restarting is owed nothing,
//!   and owes nothing, until it is up again (the workload quits peers). In
//!   runs whose links between peers are cut (partitions, holds), the bound
//!   counts from the heal at the earliest. In hybrid runs (`--hybrid`)
//!   lists come only while a peer's registry is away: those are judged,
//!   and none is owed at the end.
//!
//! Touches only the observations and the view it is lent.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use confab_engine::peer::PeerEvent;

use super::{Checker, View};
use crate::observe::{Observation, Observed, SimEvent};

/// (name, fingerprint) pairs.
type Pairs = BTreeSet<(String, String)>;

fn found(obs: &Observation) -> Option<Pairs> {
    match &obs.what {
        Observed::Event(SimEvent::Peer(PeerEvent::Found { peers })) => Some(
            peers
                .iter()
                .map(|p| (p.name.to_string(), p.fingerprint.clone()))
                .collect(),
        ),
        _ => None,
    }
}

/// See the module documentation.
pub struct LanSafety {
    /// Peer `i` (host `i + 1`) is `real[i]`.
    real: Vec<(String, String)>,
    attacker: Option<String>,
}

impl LanSafety {
    /// `real[i]` is peer `i`'s name and fingerprint; `attacker` the
    /// attacker's own fingerprint, if the run has one.
    pub fn new(real: Vec<(String, String)>, attacker: Option<String>) -> Self {
        Self { real, attacker }
    }
}

impl Checker for LanSafety {
    fn name(&self) -> &'static str {
        "lan-safety"
    }

    fn observe(&mut self, obs: &Observation, _view: &View<'_>) -> Result<(), String> {
        let Some(listed) = found(obs) else {
            return Ok(());
        };
        let who = obs
            .host
            .checked_sub(1)
            .and_then(|i| self.real.get(i))
            .map_or("?", |r| r.0.as_str());
        for (name, fp) in listed {
            let real = self.real.iter().any(|r| r.0 == name && r.1 == fp);
            if !real && self.attacker.as_ref() != Some(&fp) {
                return Err(format!(
                    "{who} lists {name} under key {fp}, which never signed that name"
                ));
            }
        }
        Ok(())
    }
}

/// See the module documentation.
pub struct LanLiveness {
    real: Vec<(String, String)>,
    bound: Duration,
    /// How often peers are asked `/who`.
    every: Duration,
    /// Liveness is judged from here at the earliest (the heal, in runs
    /// whose links between peers are cut).
    from: Duration,
    /// When each running peer last started (absent: down or stopped).
    up: BTreeMap<usize, Duration>,
    /// Each peer's latest list, and when it came.
    latest: BTreeMap<usize, (Duration, Pairs)>,
    /// Whether every pair up together long enough must have been judged
    /// at the end (not in hybrid runs, where lists come only while the
    /// registry is away).
    owing: bool,
}

impl LanLiveness {
    /// Every one of `real` must list every other by `bound` after both are
    /// up, and after `from`; peers are asked `/who` every `every`.
    pub fn new(
        real: Vec<(String, String)>,
        bound: Duration,
        every: Duration,
        from: Duration,
    ) -> Self {
        Self {
            real,
            bound,
            every,
            from,
            up: BTreeMap::new(),
            latest: BTreeMap::new(),
            owing: true,
        }
    }

    /// `false`: judge the lists that come, but owe none at the end.
    pub fn owing_lists(mut self, owing: bool) -> Self {
        self.owing = owing;
        self
    }

    fn peer(&self, obs: &Observation) -> Option<usize> {
        obs.host.checked_sub(1).filter(|&i| i < self.real.len())
    }

    /// Pairs of running peers up together for at least the bound, with
    /// when they both were up.
    fn pairs(&self) -> Vec<(usize, usize, Duration)> {
        let mut out = Vec::new();
        for (&i, &a) in &self.up {
            for (&j, &b) in &self.up {
                if i != j {
                    out.push((i, j, a.max(b).max(self.from)));
                }
            }
        }
        out
    }

    /// The first peer whose list, taken a bound after it and another were
    /// both up, misses that other.
    fn missing(&self) -> Option<String> {
        for (i, j, since) in self.pairs() {
            let Some((at, listed)) = self.latest.get(&i) else {
                continue;
            };
            if *at >= since + self.bound && !listed.contains(&self.real[j]) {
                return Some(format!(
                    "{} does not list {} at {:?}, though both were up since {since:?} (the \
                     bound is {:?})",
                    self.real[i].0, self.real[j].0, at, self.bound
                ));
            }
        }
        None
    }
}

impl Checker for LanLiveness {
    fn name(&self) -> &'static str {
        "lan-liveness"
    }

    fn observe(&mut self, obs: &Observation, _view: &View<'_>) -> Result<(), String> {
        let Some(i) = self.peer(obs) else {
            return Ok(());
        };
        match &obs.what {
            Observed::Started { .. } => {
                self.up.insert(i, obs.at);
                self.latest.remove(&i);
            }
            Observed::Crashed { .. }
            | Observed::Restarted
            | Observed::Event(SimEvent::Peer(PeerEvent::Stopped { .. })) => {
                self.up.remove(&i);
                self.latest.remove(&i);
            }
            _ => {}
        }
        if let Some(listed) = found(obs) {
            self.latest.insert(i, (obs.at, listed));
        }
        Ok(())
    }

    fn after_step(&mut self, _view: &View<'_>) -> Result<(), String> {
        self.missing().map_or(Ok(()), Err)
    }

    fn at_end(&mut self, view: &View<'_>) -> Result<(), String> {
        self.after_step(view)?;
        if !self.owing {
            return Ok(());
        }
        // Every pair up together long enough was judged: its list came.
        for (i, j, since) in self.pairs() {
            let judged = self
                .latest
                .get(&i)
                .is_some_and(|(at, _)| *at >= since + self.bound);
            if !judged && view.now >= since + self.bound + 2 * self.every {
                return Err(format!(
                    "{} answered no /who since {:?}, a bound after it and {} were both up",
                    self.real[i].0,
                    since + self.bound,
                    self.real[j].0
                ));
            }
        }
        Ok(())
    }
}
