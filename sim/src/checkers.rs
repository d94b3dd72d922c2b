//! Checkers: properties every run must keep, judged from the journal and the
//! engines' state.
//!
//! A [`Checker`] sees every [`Observation`] in order (`observe`), inspects the
//! world after every turmoil step (`after_step`: safety, "checked
//! throughout"), and once more after the final heal phase (`at_end`:
//! liveness). The first failure stops the run and becomes its
//! [`Violation`], printed with the seed and the command that replays it.
//!
//! The checkers:
//! - [`attribution`]: whatever a peer shows as coming from a name (a
//!   message, chat request, invitation, offer, download request, received
//!   file) was sent by that name, whatever the attacker claims; no peer
//!   takes the attacker for another peer; no replayed log-in works (first,
//!   so a forged message is reported as forged rather than as invented);
//! - [`sessions`]: the registry never lists as online a client or peer silent
//!   past its heartbeat timeout (in its directory, and in the listings
//!   clients receive); one session per name;
//! - [`replies`]: every reply answers the oldest open request, and nothing
//!   the clients hear breaks the protocol; scripted clients are never given
//!   a command they refuse;
//! - [`messages`]: chat and group messages are shown at most once, in order,
//!   exactly as sent, and acknowledged only once shown; after the heal,
//!   everything not legitimately dropped was shown (every loss fails the
//!   run: there is no list of tolerated engine bugs);
//! - [`liveness`]: after the heal, every peer is running and logged in, and
//!   the online list is exactly the running, logged-in peers and clients.
//!
//! - [`transfers`]: every chunk written is the source's, never rewritten
//!   differently; finished files are their sources, never over another;
//!   after the heal nothing is under way and no `.part` is left (added by
//!   the run with [`Checkers::push`], as it needs the run's sources);
//! - [`calls`]: a video call's frames are shown in order, exactly as sent,
//!   only while the call is up, and its statistics count what was shown;
//! - [`stalls`]: a handshake the attacker starts and never finishes is cut
//!   off by the other side within its deadline (added by the run, with the
//!   deadline);
//! - [`lan`]: in LAN runs (no registry), no peer lists a name under a key
//!   that did not sign it, and every peer knows every other within a bound
//!   (added by the run; a LAN run leaves out [`sessions`] and [`replies`],
//!   which judge the registry, and its [`liveness`] asks no log-in);
//! - [`fallback`]: in hybrid runs (registry and discovery), a `/who` taken
//!   while a peer has no registry session is answered at once from the LAN
//!   (added by the run).

pub mod attribution;
pub mod calls;
pub mod fallback;
pub mod lan;
pub mod liveness;
pub mod messages;
pub mod replies;
pub mod sessions;
pub mod stalls;
pub mod transfers;
mod view;

use std::rc::Rc;
use std::time::Duration;

use confab_engine::wire::Name;

use crate::files::Sources;
use crate::observe::Observation;

pub use self::view::{Checker, View, Violation};

/// All checkers of a run.
pub struct Checkers {
    list: Vec<Box<dyn Checker>>,
}

impl Checkers {
    /// The checkers for a run with `peers` peers on hosts `1..=peers`,
    /// whose files are `sources`, with an attacker whose account is
    /// `attacker`, if the run has one. With no `registry` (a LAN run) the
    /// registry's own checkers are left out and liveness asks no log-in.
    pub fn for_run(
        peers: usize,
        sources: Rc<Sources>,
        attacker: Option<Name>,
        registry: bool,
    ) -> Self {
        let mut list: Vec<Box<dyn Checker>> = vec![Box::new(attribution::Attribution::new(
            peers, sources, attacker,
        ))];
        if registry {
            list.push(Box::new(sessions::Sessions::default()));
            list.push(Box::new(replies::Replies));
        }
        // Liveness before messages: a peer that is not logged in explains
        // its undelivered messages.
        list.push(Box::new(if registry {
            liveness::Liveness::default()
        } else {
            liveness::Liveness::without_registry()
        }));
        list.push(Box::new(messages::Messages::new(peers)));
        list.push(Box::new(calls::Calls::new(peers)));
        Self { list }
    }

    /// Adds a checker after the others.
    pub fn push(&mut self, checker: Box<dyn Checker>) {
        self.list.push(checker);
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
