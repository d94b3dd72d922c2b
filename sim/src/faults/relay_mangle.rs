//! The relay fault ([`FaultKind::RelayMangle`](super::FaultKind)): for a
//! window, the registry alters, drops, duplicates or reorders every few
//! pieces of relayed data, through the registry engine's testing hook
//! (`Registry::set_relay_fault`), and relays faithfully again at the end of
//! the window or at the heal (`Registry::clear_relay_fault`).
//!
//! Draws come from a stream of its own (not the injector's), so a seed's
//! other faults are what they were before this kind existed. At most one
//! window is open at a time. A registry crash during a window ends it early
//! (the restarted engine relays faithfully); the pieces it had mangled are
//! then not counted.

use std::rc::Rc;
use std::time::Duration;

use confab_engine::Registry;
use confab_engine::registry::RelayFault;

use crate::draw::{self, Rng};
use crate::driver::HostState;

/// Mixed into the injector's seed for the relay fault's own draws.
const RELAY_STREAM: u64 = 0x7265_6c61_795f_0119;

/// What the relay fault did over a run.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct RelayMangled {
    /// Windows opened.
    pub windows: u64,
    /// Pieces of data the registry relayed during the windows it closed.
    pub relayed: u64,
    /// Of those, pieces altered, dropped, duplicated or held back.
    pub mangled: u64,
}

/// The relay fault's windows: see the module documentation.
pub struct RelayMangler {
    rng: Rng,
    /// The fault of the open window, if one is open.
    open: Option<RelayFault>,
    done: RelayMangled,
}

impl RelayMangler {
    /// A mangler drawing from `seed`'s own stream.
    pub fn new(seed: u64) -> Self {
        Self {
            rng: Rng::new(seed ^ RELAY_STREAM),
            open: None,
            done: RelayMangled::default(),
        }
    }

    /// The stream the injector draws this kind's intervals from.
    pub fn rng(&mut self) -> &mut Rng {
        &mut self.rng
    }

    /// What was done so far.
    pub fn done(&self) -> RelayMangled {
        self.done
    }

    /// Opens a window on `registry` if none is open and it is up: answers
    /// what it does, for the journal, and how long it lasts.
    pub fn start(&mut self, registry: &Rc<HostState<Registry>>) -> Option<(String, Duration)> {
        if self.open.is_some() || !registry.is_up() {
            return None;
        }
        let every = draw::between(&mut self.rng, 1, 4);
        let fault = match self.rng.below(4) {
            0 => RelayFault::Alter { every },
            1 => RelayFault::Drop { every },
            2 => RelayFault::Duplicate { every },
            _ => RelayFault::Reorder { every },
        };
        let lasts = draw::log_uniform(
            &mut self.rng,
            Duration::from_millis(500),
            Duration::from_secs(15),
        );
        registry.with_engine(|r| r.set_relay_fault(fault))?;
        self.open = Some(fault);
        self.done.windows += 1;
        Some((format!("relay mangle {fault:?}"), lasts))
    }

    /// Closes the open window, if any: answers what it did, for the journal.
    pub fn end(&mut self, registry: &Rc<HostState<Registry>>) -> String {
        let Some(fault) = self.open.take() else {
            return "relay mangle: no window open".into();
        };
        let relayed = registry.with_engine(|r| r.clear_relay_fault()).unwrap_or(0);
        let every = match fault {
            RelayFault::Alter { every }
            | RelayFault::Drop { every }
            | RelayFault::Duplicate { every }
            | RelayFault::Reorder { every } => every,
        };
        // Every `every`-th piece is hit (a `Reorder` may skip one while it
        // holds another back: an upper bound there).
        let mangled = relayed / every.max(1);
        self.done.relayed += relayed;
        self.done.mangled += mangled;
        format!("undo relay mangle {fault:?}: {mangled} of {relayed} pieces")
    }
}
