//! Sessions: the registry never lists as online a client that has been
//! silent past its heartbeat timeout, and a name has one session at a time.
//!
//! Ground truth is the registry driver's tap, not the registry's own
//! bookkeeping: the last time any bytes arrived on each of its connections
//! (`Observed::Received`). That is never earlier than the registry's
//! `last_seen`, so a correct registry never trips it, while one that forgets
//! to expire sessions does, within a tick of the timeout.
//!
//! Checked throughout: after every step against `Registry::directory()`, and
//! whenever a client receives a listing: every name in it must have been heard
//! from within the timeout of the moment the request was sent.

use std::collections::BTreeMap;
use std::time::Duration;

use confab_engine::wire::Name;
use confab_engine::{ConnId, RegistryEvent};

use super::view::{Checker, View};
use crate::client::ClientEvent;
use crate::observe::{Observation, Observed, SimEvent};

/// See the module documentation.
#[derive(Debug, Default)]
pub struct Sessions {
    /// Last arrival (or accept) per open registry connection.
    last_rx: BTreeMap<ConnId, Duration>,
    /// The connection of each name's session, from the registry's events.
    session_conn: BTreeMap<Name, ConnId>,
    /// Last arrival from any connection while it carried a session of the name.
    heard: BTreeMap<Name, Duration>,
}

impl Sessions {
    fn name_on(&self, conn: ConnId) -> Option<&Name> {
        self.session_conn
            .iter()
            .find(|(_, c)| **c == conn)
            .map(|(n, _)| n)
    }

    fn registry(&mut self, obs: &Observation) -> Result<(), String> {
        match &obs.what {
            Observed::Started { .. } | Observed::Crashed { .. } => {
                self.last_rx.clear();
                self.session_conn.clear();
            }
            Observed::Accepted { conn, .. } => {
                self.last_rx.insert(*conn, obs.at);
            }
            Observed::Received { conn, .. } => {
                self.last_rx.insert(*conn, obs.at);
                if let Some(name) = self.name_on(*conn).cloned() {
                    self.heard.insert(name, obs.at);
                }
            }
            Observed::Closed { conn } | Observed::Reset { conn } => {
                self.last_rx.remove(conn);
            }
            Observed::Event(SimEvent::Registry(RegistryEvent::Online { name, conn, .. })) => {
                if let Some(old) = self.session_conn.get(name) {
                    return Err(format!(
                        "{name} has two sessions: {conn} started while {old} was still online"
                    ));
                }
                self.session_conn.insert(name.clone(), *conn);
                let rx = self.last_rx.get(conn).copied().unwrap_or(obs.at);
                self.heard.insert(name.clone(), rx);
            }
            Observed::Event(SimEvent::Registry(RegistryEvent::Offline { name, .. })) => {
                self.session_conn.remove(name);
            }
            _ => {}
        }
        Ok(())
    }
}

impl Checker for Sessions {
    fn name(&self) -> &'static str {
        "sessions"
    }

    fn observe(&mut self, obs: &Observation, view: &View<'_>) -> Result<(), String> {
        if obs.host == view.registry.ix {
            return self.registry(obs);
        }
        let Observed::Event(SimEvent::Client(ClientEvent::Users { users, waited, .. })) = &obs.what
        else {
            return Ok(());
        };
        let asked = obs.at.saturating_sub(*waited);
        let limit = view.heartbeat_timeout + view.slack;
        for u in users {
            match self.heard.get(&u.name) {
                None => {
                    return Err(format!(
                        "h{} was told {} is online, who never logged in",
                        obs.host, u.name
                    ));
                }
                Some(&heard) if heard + limit < asked => {
                    return Err(format!(
                        "h{} was told {} is online by a listing asked at {:.3} s; \
                         the registry had heard nothing from {} since {:.3} s (timeout {:.1} s)",
                        obs.host,
                        u.name,
                        asked.as_secs_f64(),
                        u.name,
                        heard.as_secs_f64(),
                        view.heartbeat_timeout.as_secs_f64()
                    ));
                }
                Some(_) => {}
            }
        }
        Ok(())
    }

    fn after_step(&mut self, view: &View<'_>) -> Result<(), String> {
        let registry = view.registry.engine();
        let Some(registry) = registry.as_ref() else {
            return Ok(());
        };
        for (name, session) in registry.directory().iter() {
            let Some(&rx) = self.last_rx.get(&session.conn) else {
                return Err(format!(
                    "the registry lists {name} online on {}, a connection that is closed",
                    session.conn
                ));
            };
            let silent = view.now.saturating_sub(rx);
            if silent > view.heartbeat_timeout + view.slack {
                return Err(format!(
                    "the registry lists {name} online, silent for {:.3} s on {} \
                     (heartbeat timeout {:.1} s)",
                    silent.as_secs_f64(),
                    session.conn,
                    view.heartbeat_timeout.as_secs_f64()
                ));
            }
            if self.session_conn.get(name) != Some(&session.conn) {
                return Err(format!(
                    "the registry lists {name} on {} but announced it on {:?}",
                    session.conn,
                    self.session_conn.get(name)
                ));
            }
        }
        Ok(())
    }
}
