//! The fallback checker of hybrid runs (`--hybrid`, issue 20 item 5:
//! "presence and look-ups fall back to discovery and exchange within
//! seconds"): a `/who` a peer takes while it has no registry session (it
//! started and has not logged in yet, or it lost the session and has not
//! restored it) is answered at once from what it heard on the LAN (a
//! `Found`), never refused and never sent to a registry that is away.
//!
//! The session's state comes from the peer's own events: `Ready` (first
//! log-in) and `RegistryBack` bring it up, `RegistryLost` and a (re)start
//! take it down, as the engine's `lan_lookups` decides; a peer that quit
//! or crashed owes nothing until it starts again. Touches only the
//! observations it is given.

use std::collections::BTreeMap;
use std::time::Duration;

use confab_engine::peer::{PeerCommand, PeerEvent};

use super::{Checker, View};
use crate::observe::{Observation, Observed, SimCommand, SimEvent};

/// How long an answer may take: it is given in the same step as the
/// command; a second is plenty of slack.
const ANSWER_WITHIN: Duration = Duration::from_secs(1);

/// See the module documentation.
#[derive(Debug, Default)]
pub struct Fallback {
    /// Peers (by host) with no registry session.
    away: BTreeMap<usize, bool>,
    /// `/who`s taken while away and not answered yet: when.
    pending: BTreeMap<usize, Duration>,
}

impl Fallback {
    /// Peers are hosts `1..=peers`.
    pub fn new(peers: usize) -> Self {
        Self {
            away: (1..=peers).map(|h| (h, true)).collect(),
            ..Self::default()
        }
    }
}

impl Checker for Fallback {
    fn name(&self) -> &'static str {
        "lan-fallback"
    }

    fn observe(&mut self, obs: &Observation, _view: &View<'_>) -> Result<(), String> {
        let h = obs.host;
        let Some(away) = self.away.get_mut(&h) else {
            return Ok(());
        };
        match &obs.what {
            Observed::Started { .. } => {
                *away = true;
                self.pending.remove(&h);
            }
            Observed::Crashed { .. } | Observed::Restarted => {
                // Owed nothing until it starts again.
                *away = false;
                self.pending.remove(&h);
            }
            Observed::Event(SimEvent::Peer(e)) => match e {
                PeerEvent::Ready { .. } | PeerEvent::RegistryBack => *away = false,
                PeerEvent::RegistryLost { .. } => *away = true,
                PeerEvent::Found { .. } => {
                    self.pending.remove(&h);
                }
                PeerEvent::Stopped { .. } => {
                    // It quit: it refuses everything until it starts again.
                    *away = false;
                    self.pending.remove(&h);
                }
                _ => {}
            },
            Observed::Command {
                cmd: SimCommand::Peer(PeerCommand::Who),
                refused,
            } if *away => match refused {
                None => {
                    self.pending.insert(h, obs.at);
                }
                Some(why) => {
                    return Err(format!(
                        "h{h} refused /who while its registry was away: {why}"
                    ));
                }
            },
            _ => {}
        }
        Ok(())
    }

    fn after_step(&mut self, view: &View<'_>) -> Result<(), String> {
        for (h, at) in &self.pending {
            if view.now > *at + ANSWER_WITHIN {
                return Err(format!(
                    "h{h} took /who at {:.3} s with its registry away and did not answer it \
                     from the LAN",
                    at.as_secs_f64()
                ));
            }
        }
        Ok(())
    }
}
