//! Liveness of sessions, after the final heal phase (faults stopped, crashed
//! hosts restarted, peers that quit started again, time to settle): every
//! peer is running and logged in, every client that wants to be online is,
//! and the registry's online list is exactly those peers and clients, at the
//! addresses they announced. In a run with no registry (`--lan`): every
//! peer is running and ready.
//!
//! Throughout: a peer stops only because it was told to quit (a peer that
//! stops for any other reason, such as a refused log-in, never comes back by
//! itself).

use std::collections::BTreeMap;
use std::net::SocketAddr;

use confab_engine::PeerEvent;
use confab_engine::wire::{ErrorCode, Name};

use super::view::{Checker, View};
use crate::observe::{HostIx, Observation, Observed, SimEvent};

/// See the module documentation.
#[derive(Debug, Default)]
pub struct Liveness {
    /// Peers whose engine reported `Stopped` since it started.
    stopped: BTreeMap<HostIx, bool>,
    /// The address each peer announced (its `Ready`).
    listen: BTreeMap<HostIx, SocketAddr>,
    /// A LAN run: no registry, so no log-in nor online list to check.
    without_registry: bool,
}

impl Liveness {
    /// Liveness in a run with no registry (`--lan`): every peer running,
    /// never stopped on its own, and ready.
    pub fn without_registry() -> Self {
        Self {
            without_registry: true,
            ..Self::default()
        }
    }
}

impl Checker for Liveness {
    fn name(&self) -> &'static str {
        "liveness"
    }

    fn observe(&mut self, obs: &Observation, _view: &View<'_>) -> Result<(), String> {
        match &obs.what {
            Observed::Started { .. } => {
                self.stopped.insert(obs.host, false);
            }
            Observed::Event(SimEvent::Peer(PeerEvent::Ready { listen, .. })) => {
                self.listen.insert(obs.host, *listen);
            }
            Observed::Event(SimEvent::Peer(PeerEvent::Stopped { code, reason })) => {
                if *code != ErrorCode::Normal {
                    return Err(format!(
                        "h{} stopped on its own: {code}: {reason}",
                        obs.host
                    ));
                }
                self.stopped.insert(obs.host, true);
            }
            _ => {}
        }
        Ok(())
    }

    fn at_end(&mut self, view: &View<'_>) -> Result<(), String> {
        let mut expected: BTreeMap<Name, SocketAddr> = BTreeMap::new();
        for host in view.peers {
            let engine = host.engine();
            let Some(peer) = engine.as_ref() else {
                return Err(format!("{} is still down after the heal", host.name));
            };
            if self.stopped.get(&host.ix).copied().unwrap_or(false) {
                return Err(format!("{} has quit and was not started again", host.name));
            }
            let Some(listen) = self.listen.get(&host.ix) else {
                return Err(format!("{} never reported Ready", host.name));
            };
            if self.without_registry {
                continue;
            }
            if !peer.is_logged_in() {
                return Err(format!(
                    "{} is not logged in after the heal ({} connection(s) to the registry, \
                     which has {} from it)",
                    host.name,
                    host.conns_with(view.registry_addr.ip()).len(),
                    view.registry.conns_with(listen.ip()).len()
                ));
            }
            expected.insert(peer.name().clone(), *listen);
        }
        for host in view.clients {
            let engine = host.engine();
            let Some(client) = engine.as_ref() else {
                return Err(format!("{} is still down after the heal", host.name));
            };
            if client.wants_online() && !client.is_logged_in() {
                return Err(format!(
                    "{} wants to be online but is not logged in after the heal",
                    client.name()
                ));
            }
            if client.is_logged_in() {
                expected.insert(client.name().clone(), client.listen());
            }
        }
        if self.without_registry {
            return Ok(());
        }
        let registry = view.registry.engine();
        let Some(registry) = registry.as_ref() else {
            return Err("the registry is still down after the heal".into());
        };
        let listed: BTreeMap<Name, SocketAddr> = registry
            .directory()
            .iter()
            .map(|(n, s)| (n.clone(), s.listen))
            .collect();
        if listed != expected {
            let differs: Vec<String> = expected
                .iter()
                .filter(|(n, a)| listed.get(*n) != Some(a))
                .map(|(n, a)| format!("{n} at {a} (listed: {:?})", listed.get(n)))
                .collect();
            let extra: Vec<String> = listed
                .keys()
                .filter(|n| !expected.contains_key(*n))
                .map(|n| n.to_string())
                .collect();
            return Err(format!(
                "after the heal the registry's online list differs from the running peers and \
                 logged-in clients: missing or moved {differs:?}, extra {extra:?} \
                 ({} listed, {} expected)",
                listed.len(),
                expected.len()
            ));
        }
        Ok(())
    }
}
