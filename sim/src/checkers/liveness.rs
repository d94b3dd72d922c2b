//! Liveness, after the final heal phase (faults stopped, crashed hosts
//! restarted, time to settle): every running client that wants to be online
//! is logged in, and the registry's online list is exactly those clients, at
//! the addresses they announced.

use std::collections::BTreeMap;
use std::net::SocketAddr;

use confab_engine::wire::Name;

use super::{Checker, View};

/// See the module documentation.
#[derive(Debug, Default)]
pub struct Liveness;

impl Checker for Liveness {
    fn name(&self) -> &'static str {
        "liveness"
    }

    fn at_end(&mut self, view: &View<'_>) -> Result<(), String> {
        let mut expected: BTreeMap<Name, SocketAddr> = BTreeMap::new();
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
            let missing: Vec<String> = expected
                .keys()
                .filter(|n| !listed.contains_key(*n))
                .map(|n| n.to_string())
                .collect();
            let extra: Vec<String> = listed
                .keys()
                .filter(|n| !expected.contains_key(*n))
                .map(|n| n.to_string())
                .collect();
            return Err(format!(
                "after the heal the registry's online list differs from the logged-in clients: \
                 missing {missing:?}, extra {extra:?} ({} listed, {} logged in)",
                listed.len(),
                expected.len()
            ));
        }
        Ok(())
    }
}
