//! confab-engine: the sans-IO heart of confab.
//!
//! Everything confab decides lives here: the wire format ([`wire`]), the
//! registry role ([`registry`]), and the shape every role offers its driver
//! ([`Engine`], [`Input`], [`Output`]). Nothing in this crate reads a clock,
//! opens a socket or a file, spawns a thread or draws unseeded randomness:
//! time is an argument, randomness comes from a seed, and every effect is an
//! [`Output`] for the driver to carry out. That is what lets the same engine
//! run on real sockets, inside a deterministic simulator, and under a fuzzer.
//!
//! The in-memory harness in [`testing`] (feature `testing`, always on for this
//! crate's own tests) runs several engines against each other with latency,
//! split byte streams, dropped connections and a virtual clock.

pub mod api;
pub mod bounded;
pub mod call;
pub mod error;
pub mod ids;
pub mod limits;
pub mod password;
pub mod peer;
pub mod planted;
pub mod record;
pub mod registry;
pub mod rng;
pub mod secure;
pub mod source;
pub mod timers;
pub mod transfer;
pub mod wall;
pub mod wire;

#[cfg(any(test, feature = "testing"))]
pub mod testing;

pub use api::{
    CommandError, ConnId, Engine, Input, JobId, Output, Source, SourceFile, SourceInfo, TransferId,
};
pub use peer::{Peer, PeerCommand, PeerConfig, PeerEvent};
pub use record::{Record, RecordKey};
pub use registry::{Registry, RegistryCommand, RegistryConfig, RegistryEvent};
