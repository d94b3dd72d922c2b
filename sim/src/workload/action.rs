//! [`Action`]: what the workload hands the run loop. Below the workload's
//! generators (which make them) and the run loop (which performs them).

use confab_engine::PeerCommand;
use confab_engine::wire::Name;

use crate::client::ClientCommand;

/// One thing an actor is asked to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// A scripted registry client's command.
    Client { client: usize, cmd: ClientCommand },
    /// A peer's command.
    Peer { peer: usize, cmd: PeerCommand },
    /// Start a peer that quit again (it logs in as it starts).
    Restart { peer: usize },
    /// A video frame for the peer's call with `with`, captured when the
    /// peer's driver hands it over (`PeerCommand::CallFrame`).
    Frame {
        peer: usize,
        with: Name,
        jpeg: Vec<u8>,
    },
}
