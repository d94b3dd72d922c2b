//! The driver's tuning ([`DriverConfig`]) and how it can fail
//! ([`DriverError`]). Plain values, below the loop that reads them.

use std::fmt;
use std::io;
use std::time::Duration;

use crate::store::StoreError;

/// Tuning of a driver. The defaults suit a LAN chat and file server.
#[derive(Debug, Clone)]
pub struct DriverConfig {
    /// An outgoing connect not up by then fails (`ConnectFailed`).
    pub connect_timeout: Duration,
    /// How long a closing connection, or the whole driver when stopping, may
    /// take to flush.
    pub linger: Duration,
    /// Bytes read at once.
    pub read_buffer: usize,
    /// Reads per connection per turn, for fairness.
    pub reads_per_turn: usize,
    /// A connection with this many bytes queued is not read from...
    pub high_water: usize,
    /// ...until its queue is down to this.
    pub low_water: usize,
    /// A connection with this many bytes queued is closed as too slow.
    pub hard_limit: usize,
    /// Chunk reads from disk wait while all queues together hold this much.
    pub send_budget: usize,
    /// Chunk reads served per settle, at most.
    pub chunk_reads_per_turn: usize,
}

impl Default for DriverConfig {
    fn default() -> Self {
        Self {
            connect_timeout: Duration::from_secs(5),
            linger: Duration::from_secs(3),
            read_buffer: 256 * 1024,
            reads_per_turn: 16,
            high_water: 4 * 1024 * 1024,
            low_water: 1024 * 1024,
            hard_limit: 64 * 1024 * 1024,
            send_budget: 16 * 1024 * 1024,
            chunk_reads_per_turn: 64,
        }
    }
}

/// Why a driver ended abnormally.
#[derive(Debug)]
pub enum DriverError {
    /// The event loop itself failed.
    Io(io::Error),
    /// A record could not be made durable; the driver stopped before anyone
    /// was told it was.
    Store(StoreError),
}

impl fmt::Display for DriverError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DriverError::Io(e) => write!(f, "event loop failed: {e}"),
            DriverError::Store(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for DriverError {}

impl From<io::Error> for DriverError {
    fn from(e: io::Error) -> Self {
        DriverError::Io(e)
    }
}
