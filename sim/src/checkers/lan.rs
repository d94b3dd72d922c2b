//! The checkers of LAN runs (`--lan`, issue 20), from what each peer lists
//! in its `/who` (the `Found` events the run asks for every few seconds):
//!
//! - [`LanSafety`]: no peer ever lists a name under a key that did not
//!   sign it: every (name, fingerprint) listed is a real peer's own, or the
//!   attacker's own key claiming a name (a claim it signed, which peers may
//!   list, never merged with the real holder);
//! - [`LanLiveness`]: when the segment graph is connected through peers
//!   (every LAN run is built so), every peer lists every other real peer
//!   under its own key by `bound` (see `lan::bound`); checked at every step
//!   once the bound has passed, on the latest list of each peer, and at the
//!   end. A peer that (re)starts lists nobody yet: it must learn everyone
//!   again by the same bound.
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
    /// Each peer's latest list (by peer index).
    latest: BTreeMap<usize, Pairs>,
    /// When every peer first listed every other.
    reached: Option<Duration>,
}

impl LanLiveness {
    /// Every one of `real` must list every other by `bound`.
    pub fn new(real: Vec<(String, String)>, bound: Duration) -> Self {
        Self {
            real,
            bound,
            latest: BTreeMap::new(),
            reached: None,
        }
    }

    /// The first peer that misses another, and whom.
    fn missing(&self) -> Option<(String, Vec<String>)> {
        for (i, (who, _)) in self.real.iter().enumerate() {
            let empty = Pairs::new();
            let listed = self.latest.get(&i).unwrap_or(&empty);
            let missing: Vec<String> = self
                .real
                .iter()
                .filter(|r| r.0 != *who && !listed.contains(*r))
                .map(|r| r.0.clone())
                .collect();
            if !missing.is_empty() {
                return Some((who.clone(), missing));
            }
        }
        None
    }

    /// When every peer first knew every other, if it happened.
    pub fn reached(&self) -> Option<Duration> {
        self.reached
    }
}

impl Checker for LanLiveness {
    fn name(&self) -> &'static str {
        "lan-liveness"
    }

    fn observe(&mut self, obs: &Observation, _view: &View<'_>) -> Result<(), String> {
        if let Observed::Started { .. } = obs.what
            && let Some(i) = obs.host.checked_sub(1)
            && i < self.real.len()
        {
            self.latest.remove(&i);
            self.reached = None;
        }
        if let Some(listed) = found(obs)
            && let Some(i) = obs.host.checked_sub(1)
            && i < self.real.len()
        {
            self.latest.insert(i, listed);
            if self.reached.is_none() && self.missing().is_none() {
                self.reached = Some(obs.at);
            }
        }
        Ok(())
    }

    fn after_step(&mut self, view: &View<'_>) -> Result<(), String> {
        if self.reached.is_some() || view.now < self.bound {
            return Ok(());
        }
        match self.missing() {
            Some((who, missing)) => Err(format!(
                "{who} still does not know {missing:?} after {:?} (the bound)",
                self.bound
            )),
            None => Ok(()),
        }
    }

    fn at_end(&mut self, view: &View<'_>) -> Result<(), String> {
        self.after_step(view)
    }
}
