//! PLANTED BUGS (feature `planted-bugs`): defects put in on purpose so that
//! the simulator's checkers can prove they catch them.
//!
//! This is the one mechanism for every role: a test names the bugs it wants
//! in a [`PlantedBugs`] set and hands it down through the role's
//! configuration (`RegistryConfig::planted`, `PeerConfig::planted`); each
//! machine that hosts a bug reads the set it was given. Nothing here is
//! global or per thread, so engines sharing a thread never leak a bug into
//! each other. Without the feature the set is empty and every check is
//! `false`, so production builds carry no defect.

/// One defect a test can switch on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum PlantedBug {
    /// Registry: the Silence timer does nothing, so a session that stops
    /// heartbeating stays online forever.
    NeverExpireHeartbeat,
    /// Peer: a receiving stream takes a resent copy of the item it has just
    /// delivered as new (an off-by-one in `peer::streams`): the message is
    /// shown twice.
    DeliverDuplicate,
    /// Transfer: a send transfer skips the read of the second chunk of
    /// whatever it streams from the start, advances its offset anyway, and
    /// sends that chunk's buffer, never filled (zeros), as if it had been read.
    SkipChunk,
    /// Channel (`secure::channel::prove`): a peer certificate is taken
    /// without any check (signer, key, name, dates), for whatever name it
    /// claims; a missing one is still refused. Reaches a channel through
    /// `Channel::with_planted`, which the peer calls with its own set.
    SkipCertificateCheck,
    /// Peer discovery (`peer::discovery`): an announcement is believed
    /// without checking its signature or its key binding, so anyone can
    /// announce any key under any name.
    AcceptUnsignedAnnouncement,
    /// Peer (`peer::lan_route`): look-ups go to discovery only when no
    /// registry is configured, never while a configured one is away, so a
    /// `/who` during an outage waits on the dead registry instead of
    /// falling back to the LAN (issue 20, item 5).
    LookupsIgnoreOutage,
}

/// A set of [`PlantedBug`]s; empty by default.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PlantedBugs {
    #[cfg(feature = "planted-bugs")]
    bits: u8,
}

impl PlantedBugs {
    /// No bug at all.
    pub const NONE: Self = Self {
        #[cfg(feature = "planted-bugs")]
        bits: 0,
    };

    /// This set with `bug` switched on. Without the feature `planted-bugs`
    /// nothing is switched on.
    #[must_use]
    pub fn with(self, bug: PlantedBug) -> Self {
        #[cfg(feature = "planted-bugs")]
        {
            Self {
                bits: self.bits | Self::bit(bug),
            }
        }
        #[cfg(not(feature = "planted-bugs"))]
        {
            let _ = bug;
            self
        }
    }

    /// Whether `bug` is on; always `false` without the feature.
    pub fn has(self, bug: PlantedBug) -> bool {
        #[cfg(feature = "planted-bugs")]
        {
            self.bits & Self::bit(bug) != 0
        }
        #[cfg(not(feature = "planted-bugs"))]
        {
            let _ = bug;
            false
        }
    }

    #[cfg(feature = "planted-bugs")]
    fn bit(bug: PlantedBug) -> u8 {
        1 << (bug as u8)
    }
}

impl From<PlantedBug> for PlantedBugs {
    fn from(bug: PlantedBug) -> Self {
        Self::NONE.with(bug)
    }
}

#[cfg(all(test, feature = "planted-bugs"))]
mod tests {
    use super::*;

    #[test]
    fn a_set_holds_exactly_what_was_put_in() {
        let set = PlantedBugs::NONE.with(PlantedBug::SkipChunk);
        assert!(set.has(PlantedBug::SkipChunk));
        assert!(!set.has(PlantedBug::DeliverDuplicate));
        assert!(!set.has(PlantedBug::NeverExpireHeartbeat));
        assert!(!set.has(PlantedBug::SkipCertificateCheck));
        assert!(
            PlantedBugs::from(PlantedBug::SkipCertificateCheck)
                .has(PlantedBug::SkipCertificateCheck)
        );
        assert!(PlantedBugs::default() == PlantedBugs::NONE);
    }
}
