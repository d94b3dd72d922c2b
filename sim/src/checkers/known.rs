//! Known engine bugs the messages checker lets pass (counted in the report)
//! unless the run is `--strict`. Each has a signature read from the engines
//! after the heal, narrow enough that other losses are still flagged, and
//! a seed that shows it. Remove an entry once the engine is fixed, and add
//! its seed to `regressions.txt`.

use confab_engine::Peer;
use confab_engine::wire::Name;

/// A known bug, by its signature.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum KnownBug {
    /// A message queued for a friend while a connection to the friend is
    /// already open is never followed by a chat request: `Peer::enqueue`
    /// only calls `ensure_link`, which does nothing for an open link, and
    /// `chat_sync` runs only when a link opens. The message waits until that
    /// connection happens to drop. Signature: the sender has no open chat
    /// but an open connection to the receiver. Seed 1 (`--strict`).
    QueuedOverOpenLink,
    /// A peer keeps a half-open connection to a peer that crashed silently
    /// (or lost it to a reset whose close never arrived) and, by the
    /// crossed-dial rule, turns away the fresh connections the other peer
    /// dials; peer links have no keepalive, so with nothing to send the
    /// survivor never notices. Signature: the receiver is connected to the
    /// sender, the sender not to the receiver. Seed 1113 (`--strict`).
    StaleConnection,
    /// A peer keeps waiting on a registry connection the registry no longer
    /// has (the registry crashed silently between accepting it and
    /// answering the log-in): the registry link has no reply timeout, so
    /// the peer never logs in again. Signature: after the heal the peer is
    /// not logged in, holds a connection to the registry's address, and the
    /// registry has none from the peer's. Seed 258573112 (`--strict`).
    StaleRegistryConnection,
}

impl KnownBug {
    /// A short label for the report.
    pub fn label(self) -> &'static str {
        match self {
            KnownBug::QueuedOverOpenLink => {
                "queued for a friend over an open connection, never asked"
            }
            KnownBug::StaleConnection => "held back by a stale half-open connection",
            KnownBug::StaleRegistryConnection => {
                "peer stuck on a stale half-open registry connection"
            }
        }
    }

    /// Which known bug explains `from`'s message to `to` never being shown,
    /// if any. `chat_open` is the sender's view of its chat with `to`.
    pub fn explain(from: &Peer, to: &Peer, chat_open: bool, direct: bool) -> Option<KnownBug> {
        let (a, b): (&Name, &Name) = (from.name(), to.name());
        if direct && !chat_open && from.is_connected_to(b) {
            return Some(KnownBug::QueuedOverOpenLink);
        }
        if !from.is_connected_to(b) && to.is_connected_to(a) {
            return Some(KnownBug::StaleConnection);
        }
        if !from.is_logged_in() || !to.is_logged_in() {
            // The liveness checker (which runs first) judged why.
            return Some(KnownBug::StaleRegistryConnection);
        }
        None
    }
}
