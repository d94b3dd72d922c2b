//! What a call's receiver tells the sender over the link, about once a
//! second ([`CallReport`], inside `PeerMessage::CallReport`). Counts are
//! totals since the call started, so a lost or late report loses nothing.
//! Times are microseconds on the timeline of the side that measured them
//! (since its own call start): only differences on one timeline are used.

use serde::{Deserialize, Serialize};

/// See the module documentation.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallReport {
    /// Frames shown so far.
    pub shown: u64,
    /// Frames given up so far (missing, incomplete or late).
    pub lost: u64,
    /// The receiver's current jitter estimate.
    pub jitter_us: u64,
    /// When this report was sent, on its sender's timeline.
    pub sent_us: u64,
    /// The `sent_us` of the last report received from the other side (0:
    /// none yet), and how long ago it came: the other side's round trip is
    /// its now minus `echo_us` minus `held_us`.
    pub echo_us: u64,
    pub held_us: u64,
}
