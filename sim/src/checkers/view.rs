//! What a checker is: the [`Checker`] trait, the [`View`] of the world it
//! may inspect and the [`Violation`] it reports. Below every checker and the
//! run loop; touches only the hosts it is lent.

use std::fmt;
use std::rc::Rc;
use std::time::Duration;

use confab_engine::{Peer, Registry};

use crate::client::RegistryClient;
use crate::driver::HostState;
use crate::observe::Observation;

/// What checkers may inspect between steps.
pub struct View<'a> {
    /// Simulated time now.
    pub now: Duration,
    /// The registry's host.
    pub registry: &'a HostState<Registry>,
    /// The peers' hosts, in index order (host `i + 1` is peer `i`).
    pub peers: &'a [Rc<HostState<Peer>>],
    /// The clients' hosts, in index order (after the peers).
    pub clients: &'a [Rc<HostState<RegistryClient>>],
    /// The registry's heartbeat timeout.
    pub heartbeat_timeout: Duration,
    /// How late a timer may fire and still be on time (one tick and a bit).
    pub slack: Duration,
    /// Where the registry listens.
    pub registry_addr: std::net::SocketAddr,
}

/// A property that failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// Which checker.
    pub checker: &'static str,
    /// When (simulated).
    pub at: Duration,
    /// What broke.
    pub what: String,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "[{}] at {:.3} s: {}",
            self.checker,
            self.at.as_secs_f64(),
            self.what
        )
    }
}

/// One property. See the module documentation.
pub trait Checker {
    /// Its name, for reports.
    fn name(&self) -> &'static str;
    /// Sees one observation.
    fn observe(&mut self, _obs: &Observation, _view: &View<'_>) -> Result<(), String> {
        Ok(())
    }
    /// Inspects the world after a step.
    fn after_step(&mut self, _view: &View<'_>) -> Result<(), String> {
        Ok(())
    }
    /// Inspects the world after the heal phase.
    fn at_end(&mut self, _view: &View<'_>) -> Result<(), String> {
        Ok(())
    }
}
