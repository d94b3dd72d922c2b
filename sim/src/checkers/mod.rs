//! Checkers: properties every run must keep, judged from the journal and the
//! engines' state.
//!
//! A [`Checker`] sees every [`Observation`] in order (`observe`), inspects the
//! world after every turmoil step (`after_step`: safety, "checked
//! throughout"), and once more after the final heal phase (`at_end`:
//! liveness). The first failure stops the run and becomes its
//! [`Violation`], printed with the seed and the command that replays it.
//!
//! Today's checkers cover the registry role:
//! - [`sessions`]: the registry never lists as online a client silent past
//!   its heartbeat timeout (in its directory, and in the listings clients
//!   receive); one session per name;
//! - [`replies`]: every reply answers the oldest open request, and nothing
//!   the clients hear breaks the protocol;
//! - [`liveness`]: after the heal, the online list is exactly the running,
//!   logged-in clients, and every client that wants to be online is.
//!
//! Adding peers: write `messages.rs` (from `PeerEvent::Sent` and
//! `PeerEvent::Message`: per sender and conversation, seqs delivered at most
//! once, in order, with the text that was sent; after the heal every
//! acknowledged and every queued friend message delivered) and
//! `transfers.rs` (from the driver's chunk store: no offset written twice
//! with different bytes; every `TransferDone` MD5 equal to the source file's;
//! after the heal every transfer done or failed with a reason), and push them
//! in [`Checkers::for_run`]. [`View`] grows a `peers` slice.

pub mod liveness;
pub mod replies;
pub mod sessions;

use std::fmt;
use std::rc::Rc;
use std::time::Duration;

use confab_engine::Registry;

use crate::client::RegistryClient;
use crate::driver::HostState;
use crate::observe::Observation;

/// What checkers may inspect between steps.
pub struct View<'a> {
    /// Simulated time now.
    pub now: Duration,
    /// The registry's host.
    pub registry: &'a HostState<Registry>,
    /// The clients' hosts, in index order (host `i + 1` is client `i`).
    pub clients: &'a [Rc<HostState<RegistryClient>>],
    /// The registry's heartbeat timeout.
    pub heartbeat_timeout: Duration,
    /// How late a timer may fire and still be on time (one tick and a bit).
    pub slack: Duration,
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

/// All checkers of a run.
pub struct Checkers {
    list: Vec<Box<dyn Checker>>,
}

impl Checkers {
    /// The checkers for a run of the registry with scripted clients.
    pub fn for_run() -> Self {
        Self {
            list: vec![
                Box::new(sessions::Sessions::default()),
                Box::new(replies::Replies),
                Box::new(liveness::Liveness),
            ],
        }
    }

    fn first(
        &mut self,
        at: Duration,
        mut f: impl FnMut(&mut dyn Checker) -> Result<(), String>,
    ) -> Result<(), Violation> {
        for c in &mut self.list {
            if let Err(what) = f(c.as_mut()) {
                return Err(Violation {
                    checker: c.name(),
                    at,
                    what,
                });
            }
        }
        Ok(())
    }

    /// Feeds one observation to every checker.
    pub fn observe(&mut self, obs: &Observation, view: &View<'_>) -> Result<(), Violation> {
        self.first(obs.at, |c| c.observe(obs, view))
    }

    /// Runs every safety check.
    pub fn after_step(&mut self, view: &View<'_>) -> Result<(), Violation> {
        self.first(view.now, |c| c.after_step(view))
    }

    /// Runs every liveness check.
    pub fn at_end(&mut self, view: &View<'_>) -> Result<(), Violation> {
        self.first(view.now, |c| c.at_end(view))
    }
}
