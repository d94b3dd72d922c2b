//! PLUG-IN POINT for the peer engine (`confab_engine::peer::Peer`, issue 3).
//!
//! Everything around `confab peer` (folders, password, registry discovery,
//! embedded registry, store, shared index, listener, driver, input thread,
//! printers, signals) is written against [`PeerEngine`]. Until the engine is
//! merged, [`PeerEngine`] is [`Missing`], a type with no values, and `confab
//! peer` stops with [`unavailable`]. To connect the real engine:
//!
//! 1. set `AVAILABLE` to `true` and `pub type PeerEngine = confab_engine::peer::Peer;`
//! 2. make [`build`] return `Ok(Peer::new(config, records, now, seed))` (or
//!    whatever the constructor's final shape is);
//! 3. delete [`Missing`] and its `Engine` impl.

use std::net::SocketAddr;
use std::time::Instant;

use confab_engine::peer::{PeerCommand, PeerConfig, PeerEvent};
use confab_engine::{CommandError, ConnId, Engine, Input, Output, Record};

use crate::fail::Fail;

/// Whether this build has a peer engine.
pub const AVAILABLE: bool = false;

/// The engine `confab peer` runs.
pub type PeerEngine = Missing;

/// Builds the engine from its configuration and the records kept last time.
pub fn build(
    config: PeerConfig,
    records: Vec<Record>,
    now: Instant,
    seed: u64,
) -> Result<PeerEngine, Fail> {
    let _ = (config, records, now, seed);
    Err(unavailable())
}

/// The error `confab peer` stops with while there is no engine.
pub fn unavailable() -> Fail {
    Fail(
        "`confab peer` is not available in this build: the peer engine is not merged yet \
         (`confab registry` works)"
            .into(),
    )
}

/// Stands in for the peer engine; has no values, so none of this runs.
#[derive(Debug)]
pub enum Missing {}

impl Engine for Missing {
    type Command = PeerCommand;
    type Event = PeerEvent;

    fn accept(&mut self, _: Instant, _: SocketAddr) -> ConnId {
        match *self {}
    }
    fn handle_input(&mut self, _: Instant, _: Input<'_>) {
        match *self {}
    }
    fn handle_command(&mut self, _: Instant, _: PeerCommand) -> Result<(), CommandError> {
        match *self {}
    }
    fn handle_timeout(&mut self, _: Instant) {
        match *self {}
    }
    fn poll_output(&mut self) -> Option<Output<PeerEvent>> {
        match *self {}
    }
    fn poll_timeout(&self) -> Option<Instant> {
        match *self {}
    }
}
