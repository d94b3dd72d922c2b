//! [`TransferConfig`]: how transfers behave, the `transfer` part of a
//! peer's configuration. A plain value below both sides of a transfer.

use std::time::Duration;

use crate::limits::{DEFAULT_CHUNK_LEN, DEFAULT_WINDOW, MAX_CHUNK_LEN, MAX_WINDOW};
use crate::planted::PlantedBugs;

/// How transfers behave: the `transfer` part of a peer's
/// [`crate::peer::PeerConfig`].
#[derive(Debug, Clone)]
pub struct TransferConfig {
    /// Bytes per chunk, 1 to [`MAX_CHUNK_LEN`] (the smaller of the two
    /// sides' values is used).
    pub chunk_size: u32,
    /// Unacknowledged chunks in flight, 1 to [`MAX_WINDOW`] (the smaller of
    /// the two sides' values is used).
    pub window: u32,
    /// How long an offer waits for an answer.
    pub offer_timeout: Duration,
    /// Least time between two progress events of one transfer.
    pub progress_interval: Duration,
    /// How long the sender of a fetch waits, disconnected, for the receiver
    /// to come back and ask again before giving up (fetches are not saved,
    /// so nothing else would ever end it).
    pub idle_timeout: Duration,
    /// How long a sender waits, on each new connection, for its receiver to
    /// speak of the transfer before taking it as forgotten by the receiver
    /// (see `transfer::send::give_up`). Longer than a live connection can
    /// take to carry the receiver's first message: the receiver's first word
    /// is the first thing it sends on a connection, and a connection on which
    /// nothing arrives for the keepalive timeout is closed, so on one still
    /// open that word has arrived within about one keepalive timeout. Keep it
    /// at twice the link's `keepalive_timeout`.
    pub resume_timeout: Duration,
    /// A receiver saves its MD5 state (in its record) each time this many
    /// more bytes of a file are written, so a restart re-reads at most this
    /// much of the `.part` instead of all of it.
    pub checkpoint_every: u64,
    /// Bugs planted on purpose (tests only): the peer hands down its own
    /// set (`PeerConfig::planted`); a send transfer reads `SkipChunk`.
    pub planted: PlantedBugs,
}

impl Default for TransferConfig {
    fn default() -> Self {
        Self {
            chunk_size: DEFAULT_CHUNK_LEN,
            window: DEFAULT_WINDOW,
            offer_timeout: Duration::from_secs(60),
            progress_interval: Duration::from_millis(250),
            idle_timeout: Duration::from_secs(600),
            // Twice the link's default keepalive timeout.
            resume_timeout: Duration::from_secs(60),
            checkpoint_every: 64 * 1024 * 1024,
            planted: PlantedBugs::NONE,
        }
    }
}

impl TransferConfig {
    /// Chunk size within its limits.
    pub fn chunk(&self) -> u32 {
        self.chunk_size.clamp(1, MAX_CHUNK_LEN as u32)
    }

    /// Window within its limits.
    pub fn window(&self) -> u32 {
        self.window.clamp(1, MAX_WINDOW)
    }
}
