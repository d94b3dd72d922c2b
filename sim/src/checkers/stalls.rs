//! Stalls: a connection that starts a handshake and then says nothing is
//! closed by the other side within its handshake deadline (the registry's
//! hello timeout, a peer's handshake timeout), so a handshake held open
//! costs bounded time.
//!
//! Ground truth is the attacker's reports: it holds a stalled handshake far
//! longer than any deadline, so one it had to close itself (or one closed
//! late) was not cut off in time. Excused: a target that crashed or
//! restarted during the strike (a silent crash closes nothing).

use std::collections::BTreeMap;
use std::time::Duration;

use confab_engine::ConnId;

use super::view::{Checker, View};
use crate::attacker::AttackEvent;
use crate::observe::{HostIx, Observation, Observed, SimEvent, peer_names};

/// See the module documentation.
#[derive(Debug)]
pub struct Stalls {
    deadline: Duration,
    hosts: BTreeMap<String, HostIx>,
    /// Stalls under way: their target and when they began.
    open: BTreeMap<ConnId, (HostIx, Duration)>,
    /// When each host last crashed or started.
    bounced: BTreeMap<HostIx, Duration>,
}

impl Stalls {
    /// A checker for a run with `peers` peers on hosts `1..=peers` and the
    /// registry on host 0, whose longest handshake deadline, with slack for
    /// the network and the tick, is `deadline`.
    pub fn new(peers: usize, deadline: Duration) -> Self {
        let mut hosts: BTreeMap<String, HostIx> = peer_names(peers)
            .into_iter()
            .enumerate()
            .map(|(i, n)| (n, i + 1))
            .collect();
        hosts.insert("registry".into(), 0);
        Self {
            deadline,
            hosts,
            open: BTreeMap::new(),
            bounced: BTreeMap::new(),
        }
    }

    fn attack(&mut self, at: Duration, e: &AttackEvent) -> Result<(), String> {
        match e {
            AttackEvent::Struck {
                conn,
                kind: "stall",
                to,
                ..
            } => {
                if let Some(&h) = self.hosts.get(to) {
                    self.open.insert(*conn, (h, at));
                }
            }
            AttackEvent::Ended { conn, how, after } => {
                let Some((h, began)) = self.open.remove(conn) else {
                    return Ok(());
                };
                let excused = self.bounced.get(&h).is_some_and(|&b| b >= began)
                    || how.starts_with("could not connect")
                    || how == "retired";
                let in_time =
                    how.starts_with("closed by the other side") && *after <= self.deadline;
                if !excused && !in_time {
                    return Err(format!(
                        "h{h} kept a stalled handshake ({conn} of the attacker) open for \
                         {:.3} s ({how}); its deadline is {:.1} s",
                        after.as_secs_f64(),
                        self.deadline.as_secs_f64()
                    ));
                }
            }
            _ => {}
        }
        Ok(())
    }
}

impl Checker for Stalls {
    fn name(&self) -> &'static str {
        "stalls"
    }

    fn observe(&mut self, obs: &Observation, _view: &View<'_>) -> Result<(), String> {
        match &obs.what {
            Observed::Started { .. } | Observed::Crashed { .. } => {
                self.bounced.insert(obs.host, obs.at);
            }
            Observed::Event(SimEvent::Attacker(e)) => self.attack(obs.at, e)?,
            _ => {}
        }
        Ok(())
    }
}
